/* tests/check_registry.c - the model registry of `lmrt pull` without a network: the cache
 * directory, MODEL resolution (paths as they are, known names to their cached paths, defaults,
 * unknown names listing the known ones), $LMRT_REGISTRY entries and their checks, and the
 * plumbing under pulling (SHA-256 and git-blob SHA-1 against known vectors, zip members with
 * their CRC checked, relative URLs). Every test points Hugging Face and PyPI at a closed local
 * port, so a test that tried the network would fail instead of fetching.
 * The downloads themselves are tested against a local server by tests/cli_pull.sh.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "../tools/fetch.h"
#include "../tools/registry.h"
#include "testutil.h"

static char root[64];

/* A fresh cache under /tmp, with the network pointed nowhere. */
static void setup(void) {
    snprintf(root, sizeof root, "/tmp/lmrt_registry_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    setenv("LMRT_CACHE", root, 1);
    setenv("LMRT_HF_URL", "http://127.0.0.1:1", 1);
    setenv("LMRT_PYPI_URL", "http://127.0.0.1:1", 1);
    unsetenv("LMRT_REGISTRY");
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *rel, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    ck_assert_int_eq(cli_mkdirs(p, true), LM_OK);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static const char *minilm_files[] = {"config.json",
                                     "config_sentence_transformers.json",
                                     "data_config.json",
                                     "model.safetensors",
                                     "modules.json",
                                     "sentence_bert_config.json",
                                     "special_tokens_map.json",
                                     "tokenizer.json",
                                     "tokenizer_config.json",
                                     "vocab.txt",
                                     "1_Pooling/config.json",
                                     "README.md"};

START_TEST(cache_dir_precedence) {
    char buf[256];
    setenv("LMRT_CACHE", "/somewhere/cache//", 1);
    ck_assert_int_eq(cli_cache_dir(buf, sizeof buf), LM_OK);
    ck_assert_str_eq(buf, "/somewhere/cache");
    unsetenv("LMRT_CACHE");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    setenv("HOME", "/home/u", 1);
    ck_assert_int_eq(cli_cache_dir(buf, sizeof buf), LM_OK);
    ck_assert_str_eq(buf, "/xdg/lmrt");
    setenv("XDG_CACHE_HOME", "relative", 1); /* the XDG spec says to ignore relative paths */
    ck_assert_int_eq(cli_cache_dir(buf, sizeof buf), LM_OK);
    ck_assert_str_eq(buf, "/home/u/.cache/lmrt");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    ck_assert_int_eq(cli_cache_dir(buf, sizeof buf), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "LMRT_CACHE"));
    setenv("LMRT_CACHE", "/a/long/cache/directory", 1);
    ck_assert_int_eq(cli_cache_dir(buf, 8), LM_ERANGE);
}
END_TEST

START_TEST(paths_are_used_as_they_are) {
    char out[512], p[256];
    write_file("some/model.gguf", "GGUF");
    snprintf(p, sizeof p, "%s/some/model.gguf", root);
    ck_assert_int_eq(cli_resolve_model(p, CLI_MODEL_TEXT, out, sizeof out), LM_OK);
    ck_assert_str_eq(out, p);
    snprintf(p, sizeof p, "%s/some", root); /* a directory too (an HF model directory) */
    ck_assert_int_eq(cli_resolve_model(p, CLI_MODEL_EMBEDDING, out, sizeof out), LM_OK);
    ck_assert_str_eq(out, p);
    ck_assert_int_eq(cli_resolve_model(p, CLI_MODEL_TEXT, out, 4), LM_ERANGE);
}
END_TEST

START_TEST(unknown_names_list_the_known_ones) {
    char out[512];
    ck_assert_int_eq(cli_resolve_model("no-such-model", CLI_MODEL_TEXT, out, sizeof out),
                     LM_ENOTFOUND);
    const char *e = lm_last_error();
    ck_assert_ptr_nonnull(strstr(e, "'no-such-model'"));
    ck_assert_ptr_nonnull(strstr(e, "smollm2-135m-instruct"));
    ck_assert_ptr_nonnull(strstr(e, "all-minilm-l6-v2"));
    ck_assert_ptr_nonnull(strstr(e, "mistral-tokenizer-v1"));
    ck_assert_ptr_nonnull(strstr(e, "lfm2-350m"));
    ck_assert_int_eq(cli_pull("no-such-model", false, out, sizeof out), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "known: smollm2-135m-instruct"));
    /* a path that does not exist is not fetched either: the message says what it is not */
    ck_assert_int_eq(cli_resolve_model("/nonexistent/x.gguf", CLI_MODEL_TEXT, out, sizeof out),
                     LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "neither an existing file or directory"));
}
END_TEST

START_TEST(cached_names_resolve_without_network) {
    char out[512], want[512];
    write_file("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "GGUF");
    snprintf(want, sizeof want, "%s/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", root);
    ck_assert_int_eq(cli_resolve_model("smollm2-135m-instruct", CLI_MODEL_TEXT, out, sizeof out),
                     LM_OK);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(cli_resolve_model("SmolLM2-135M-Instruct", CLI_MODEL_TEXT, out, sizeof out),
                     LM_OK); /* names match without regard to case */
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(cli_resolve_model(NULL, CLI_MODEL_TEXT, out, sizeof out), LM_OK);
    ck_assert_str_eq(out, want);
    /* the embedding default is a directory, and every one of its files must be there */
    char rel[128];
    for (int i = 0; i < 12; i++) {
        snprintf(rel, sizeof rel, "minilm/%s", minilm_files[i]);
        write_file(rel, "{}");
    }
    snprintf(want, sizeof want, "%s/minilm", root);
    ck_assert_int_eq(cli_resolve_model(NULL, CLI_MODEL_EMBEDDING, out, sizeof out), LM_OK);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(cli_pull("all-minilm-l6-v2", false, out, sizeof out), LM_OK);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(cli_resolve_model(NULL, CLI_MODEL_TOKENIZER, out, sizeof out), LM_EINVAL);
}
END_TEST

START_TEST(missing_models_fail_cleanly_offline) {
    char out[512], p[512];
    /* one file of eleven missing: the pull is attempted, both sources fail */
    char rel[128];
    for (int i = 0; i < 11; i++) {
        snprintf(rel, sizeof rel, "minilm/%s", minilm_files[i]);
        write_file(rel, "{}");
    }
    ck_assert_int_eq(cli_resolve_model("all-minilm-l6-v2", CLI_MODEL_EMBEDDING, out, sizeof out),
                     LM_EIO);
    const char *e = lm_last_error();
    ck_assert_msg(strstr(e, "Hugging Face:") && strstr(e, "PyPI:") && strstr(e, "127.0.0.1"), "%s",
                  e);
    snprintf(p, sizeof p, "%s/minilm/config.json", root); /* what was there stays */
    ck_assert_int_eq(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/minilm/README.md.part", root);
    ck_assert_int_ne(access(p, F_OK), 0);
    /* an HF-only model says so; its directory is not left behind */
    ck_assert_int_eq(cli_pull("lfm2-350m", false, out, sizeof out), LM_EIO);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "only on Hugging Face"));
    snprintf(p, sizeof p, "%s/lfm2", root);
    ck_assert_int_ne(access(p, F_OK), 0);
}
END_TEST

static void registry_file(const char *json) {
    write_file("reg.json", json);
    char p[256];
    snprintf(p, sizeof p, "%s/reg.json", root);
    setenv("LMRT_REGISTRY", p, 1);
}

#define SHA_A "0000000000000000000000000000000000000000000000000000000000000000"

START_TEST(extra_registry_entries) {
    char out[512], want[512];
    registry_file("{\"models\": [{\"name\": \"tiny\", \"kind\": \"embedding\", \"dir\": \"tiny\","
                  " \"entry\": \"\", \"wheel\": {\"package\": \"tiny-pkg\", \"version\": \"1.0\","
                  " \"sha256\": \"" SHA_A "\", \"prefix\": \"tiny_pkg/m/\"},"
                  " \"files\": [\"a.json\", {\"path\": \"sub/b.bin\", \"sha256\": \"" SHA_A
                  "\"}]}]}");
    write_file("tiny/a.json", "{}");
    write_file("tiny/sub/b.bin", "b");
    snprintf(want, sizeof want, "%s/tiny", root);
    ck_assert_int_eq(cli_resolve_model("tiny", CLI_MODEL_EMBEDDING, out, sizeof out), LM_OK);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(cli_resolve_model("nope", CLI_MODEL_TEXT, out, sizeof out), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "lfm2-350m, tiny)"));
    /* an entry with a built-in name replaces it */
    registry_file("{\"models\": [{\"name\": \"smollm2-135m-instruct\", \"dir\": \"mine\","
                  " \"entry\": \"m.gguf\", \"hf_repo\": \"me/m\", \"files\": [\"m.gguf\"]}]}");
    write_file("mine/m.gguf", "GGUF");
    snprintf(want, sizeof want, "%s/mine/m.gguf", root);
    ck_assert_int_eq(cli_resolve_model(NULL, CLI_MODEL_TEXT, out, sizeof out), LM_OK);
    ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(bad_registry_entries_are_named) {
    char out[256];
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"models\": 3}", "models array"},
        {"not json", "models array"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"x\", \"hf_repo\": \"a/b\","
         " \"files\": [\"../escape\"]}]}",
         "file 0 is not a safe relative path"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"x\", \"hf_repo\": \"a/b\","
         " \"files\": [\"/abs\"]}]}",
         "file 0"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"../up\", \"hf_repo\": \"a/b\","
         " \"files\": [\"f\"]}]}",
         "dir is not one safe path component"},
        {"{\"models\": [{\"name\": \"bad name\", \"dir\": \"x\", \"hf_repo\": \"a/b\","
         " \"files\": [\"f\"]}]}",
         "name 'bad name'"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"x\", \"hf_repo\": \"a/b\","
         " \"files\": [{\"path\": \"f\", \"sha256\": \"abc\"}]}]}",
         "sha256 is not 64 hex digits"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"x\", \"files\": [\"f\"]}]}", "no source"},
        {"{\"models\": [{\"name\": \"x\", \"kind\": \"llm\", \"dir\": \"x\", \"hf_repo\":"
         " \"a/b\", \"files\": [\"f\"]}]}",
         "kind 'llm'"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"x\", \"hf_repo\": \"a/b\", \"files\": [7]}]}",
         "file 0"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"x\", \"files\": [\"f\"], \"wheel\":"
         " {\"package\": \"p\", \"version\": \"1\", \"sha256\": \"" SHA_A
         "\", \"prefix\": \"../\"}}]}",
         "a wheel needs"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"x\", \"hf_repo\": \"noslash\","
         " \"files\": [\"f\"]}]}",
         "owner/name"},
        {"{\"models\": [{\"name\": \"x\", \"dir\": \"x\", \"hf_repo\": \"a/b\", \"files\": []}]}",
         "0 files"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        registry_file(bad[i].json);
        lm_status s = cli_resolve_model("x", CLI_MODEL_TEXT, out, sizeof out);
        ck_assert_msg(s != LM_OK && strstr(lm_last_error(), bad[i].msg) &&
                          strstr(lm_last_error(), "reg.json"),
                      "case %zu: status %d, message '%s'", i, s, lm_last_error());
    }
    setenv("LMRT_REGISTRY", "/nonexistent/reg.json", 1);
    ck_assert_int_eq(cli_pull("x", false, out, sizeof out), LM_EIO);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "/nonexistent/reg.json"));
}
END_TEST

START_TEST(digests_match_known_vectors) {
    char hex[65], p[256];
    write_file("empty", "");
    snprintf(p, sizeof p, "%s/empty", root);
    ck_assert_int_eq(cli_sha256_file(p, hex), LM_OK);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    write_file("abc", "abc"); /* FIPS 180-2 example */
    snprintf(p, sizeof p, "%s/abc", root);
    ck_assert_int_eq(cli_sha256_file(p, hex), LM_OK);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    write_file("hello", "hello\n"); /* `git hash-object` of "hello\n" */
    snprintf(p, sizeof p, "%s/hello", root);
    ck_assert_int_eq(cli_git_sha1_file(p, hex), LM_OK);
    ck_assert_str_eq(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
    /* a million 'a' (FIPS 180-2), across read chunks */
    snprintf(p, sizeof p, "%s/million", root);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 1000000; i++)
        fputc('a', f);
    fclose(f);
    ck_assert_int_eq(cli_sha256_file(p, hex), LM_OK);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    snprintf(p, sizeof p, "%s/absent", root);
    ck_assert_int_eq(cli_sha256_file(p, hex), LM_EIO);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "absent"));
}
END_TEST

START_TEST(zip_members_are_checked) {
    char zp[256], dest[256];
    static const char payload[] = "member payload: the CRC of these bytes is in the archive";
    snprintf(zp, sizeof zp, "%s/w.whl", root);
    int err;
    zip_t *z = zip_open(zp, ZIP_CREATE | ZIP_TRUNCATE, &err);
    ck_assert_ptr_nonnull(z);
    zip_source_t *src = zip_source_buffer(z, payload, sizeof payload - 1, 0);
    zip_int64_t idx = zip_file_add(z, "pkg/model/a.txt", src, ZIP_FL_ENC_UTF_8);
    ck_assert_int_ge(idx, 0);
    ck_assert_int_eq(zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0), 0);
    ck_assert_int_eq(zip_close(z), 0);

    snprintf(dest, sizeof dest, "%s/out.txt", root);
    ck_assert_int_eq(cli_unzip_member(zp, "pkg/model/a.txt", dest), LM_OK);
    size_t len;
    char *got = NULL;
    FILE *f = fopen(dest, "rb");
    ck_assert_ptr_nonnull(f);
    got = calloc(1, 256);
    len = fread(got, 1, 255, f);
    fclose(f);
    ck_assert_uint_eq(len, sizeof payload - 1);
    ck_assert_str_eq(got, payload);
    free(got);

    ck_assert_int_eq(cli_unzip_member(zp, "pkg/model/b.txt", dest), LM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "pkg/model/b.txt"));
    /* flip one stored byte: the CRC check must refuse the member and leave no file */
    remove(dest);
    f = fopen(zp, "r+b");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    char *at = memmem(buf, n, "payload", 7);
    ck_assert_ptr_nonnull(at);
    fseek(f, at - buf, SEEK_SET);
    fputc('P', f);
    fclose(f);
    ck_assert_int_eq(cli_unzip_member(zp, "pkg/model/a.txt", dest), LM_EFORMAT);
    ck_assert_int_ne(access(dest, F_OK), 0);
    write_file("notzip.whl", "this is not a zip archive");
    snprintf(zp, sizeof zp, "%s/notzip.whl", root);
    ck_assert_int_eq(cli_unzip_member(zp, "a", dest), LM_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "notzip.whl"));
}
END_TEST

START_TEST(relative_urls_resolve) {
    char out[256];
    ck_assert_int_eq(cli_url_resolve("https://pypi.org/pypi/mistral-common/json",
                                     "../../packages/e5/9c/m-1.0-py3-none-any.whl", out,
                                     sizeof out),
                     LM_OK);
    ck_assert_str_eq(out, "https://pypi.org/packages/e5/9c/m-1.0-py3-none-any.whl");
    ck_assert_int_eq(cli_url_resolve("https://pypi.org/pypi/p/json", "https://files.example/p.whl",
                                     out, sizeof out),
                     LM_OK);
    ck_assert_str_eq(out, "https://files.example/p.whl");
    ck_assert_int_eq(cli_url_resolve("https://pypi.org/pypi/p/json", "/x.whl", out, 10), LM_ERANGE);
}
END_TEST

static Suite *registry_suite(void) {
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, cache_dir_precedence);
    tcase_add_test(tc, paths_are_used_as_they_are);
    tcase_add_test(tc, unknown_names_list_the_known_ones);
    tcase_add_test(tc, cached_names_resolve_without_network);
    tcase_add_test(tc, missing_models_fail_cleanly_offline);
    tcase_add_test(tc, extra_registry_entries);
    tcase_add_test(tc, bad_registry_entries_are_named);
    tcase_add_test(tc, digests_match_known_vectors);
    tcase_add_test(tc, zip_members_are_checked);
    tcase_add_test(tc, relative_urls_resolve);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(registry_suite()); }
