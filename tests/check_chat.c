/* tests/check_chat.c - chat templates (models/chat.c): rendering, detection, names, errors.
 *
 * References: tests/data/chat/<family>.json, written by tools/gen_chat_golden.py with Hugging
 * Face transformers' apply_chat_template over the real templates (SmolLM2's GGUF, LFM2's as
 * shipped, Mistral-7B-Instruct v0.1/v0.2's, Llama 3.1/3.2/3.3's): 20 conversations (system or
 * not, multi-turn, empty contents, Unicode, text that looks like template syntax or special
 * tokens, whitespace at the ends, control characters, tool turns, a misplaced system message,
 * roles out of turn, none at all), each with and without the generation prompt. lm_chat_render
 * must give the same bytes, or refuse where transformers raised (LM_EINVAL, out untouched).
 * tests/data/chat/detect.json holds every template source the generator saw, ours and the
 * other models' in the shared peer vectors (Qwen2.5, Gemma 2, Phi 3.5, Mistral Nemo, DeepSeek
 * R1, Hermes, Command R, functionary, firefunction): detection must name ours and refuse the rest.
 * The real tokenizers supply BOS/EOS text, and tokenizing a rendered prompt shows why it must be
 * tokenized without LM_TOK_ADD_SPECIAL (one BOS, not two).
 */
#define _GNU_SOURCE
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../models/tokenizer/tok.h"
#include "testutil.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: run from the repository root", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    p[len] = '\0';
    return p;
}

static cJSON *load_json(const char *path) {
    char *text = slurp(path);
    cJSON *j = cJSON_Parse(text);
    ck_assert_msg(j != NULL, "%s: not JSON", path);
    free(text);
    return j;
}

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Messages of a case as lm_chat_msg (pointers into the JSON). */
static int messages(const cJSON *c, struct lm_chat_msg *m, int cap) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(c, "messages"), *e;
    int n = 0;
    cJSON_ArrayForEach(e, arr) {
        ck_assert_int_lt(n, cap);
        m[n].role = str(e, "role"), m[n].content = str(e, "content");
        ck_assert(m[n].role && m[n].content);
        n++;
    }
    return n;
}

/* Every case of a family's golden file, rendered with tok (NULL = the family's own BOS/EOS). */
static int run_golden(const char *family, const struct lm_tokenizer *tok) {
    char path[128];
    snprintf(path, sizeof path, "tests/data/chat/%s.json", family);
    cJSON *j = load_json(path), *c;
    ck_assert_str_eq(str(j, "family"), family);
    int n_cases = 0, n_errors = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cases")) {
        struct lm_chat_msg m[16];
        int n = messages(c, m, 16);
        bool gen = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "add_generation_prompt"));
        const char *want = str(c, "output");
        /* out already holds text: render appends, and leaves it alone on a refusal */
        struct lm_text out = {strdup("PREFIX"), 6, 7};
        lm_status s = lm_chat_render(family, m, n, gen, tok, &out);
        if (want) {
            ck_assert_msg(s == LM_OK, "%s case %d: %s", family, n_cases, lm_last_error());
            ck_assert_msg(out.n == 6 + strlen(want) && !memcmp(out.s + 6, want, out.n - 6) &&
                              !memcmp(out.s, "PREFIX", 6) && out.s[out.n] == '\0',
                          "%s case %d (gen %d):\n got: %s\nwant: %s", family, n_cases, gen,
                          out.s + 6, want);
        } else {
            ck_assert_msg(s == LM_EINVAL, "%s case %d: rendered what transformers refused (%s)",
                          family, n_cases, str(c, "error"));
            ck_assert(out.n == 6 && !strcmp(out.s, "PREFIX"));
            ck_assert(*lm_last_error());
            n_errors++;
        }
        lm_text_free(&out);
        n_cases++;
    }
    cJSON_Delete(j);
    ck_assert_int_eq(n_cases, 40);
    return n_errors;
}

START_TEST(golden_chatml) { ck_assert_int_eq(run_golden("chatml", NULL), 2); }
END_TEST
START_TEST(golden_smollm2) { ck_assert_int_eq(run_golden("smollm2", NULL), 2); }
END_TEST
START_TEST(golden_lfm2) { ck_assert_int_eq(run_golden("lfm2", NULL), 2); }
END_TEST
START_TEST(golden_mistral) { ck_assert_int_eq(run_golden("mistral", NULL), 12); }
END_TEST
START_TEST(golden_llama3) { ck_assert_int_eq(run_golden("llama3", NULL), 2); }
END_TEST

static struct lm_tokenizer *load_gguf(const char *rel, struct lm_gguf **keep) {
    struct lm_gguf *g;
    const char *path = tu_model_path(rel);
    ck_assert_msg(lm_gguf_open(path, &g) == LM_OK, "%s: %s", path, lm_last_error());
    struct lm_tokenizer *t;
    ck_assert_msg(lm_tokenizer_from_gguf(g, &t) == LM_OK, "%s: %s", path, lm_last_error());
    if (keep)
        *keep = g;
    else
        lm_gguf_close(g);
    return t;
}

/* The real models' tokenizers give the same BOS/EOS text the goldens were made with, and the
 * SmolLM2 GGUF's own template is detected as smollm2. */
START_TEST(real_tokenizers) {
    struct lm_gguf *g;
    struct lm_tokenizer *smol = load_gguf("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", &g);
    const char *src, *name;
    ck_assert_int_eq(lm_gguf_get_str(g, "tokenizer.chat_template", &src), LM_OK);
    ck_assert_int_eq(lm_chat_detect(src, &name), LM_OK);
    ck_assert_str_eq(name, "smollm2");
    run_golden("smollm2", smol);
    run_golden("chatml", smol);
    lm_gguf_close(g);

    struct lm_tokenizer *lfm;
    ck_assert_int_eq(lm_tokenizer_from_json(tu_model_path("lfm2/tokenizer.json"), &lfm), LM_OK);
    run_golden("lfm2", lfm);
    struct lm_tokenizer *spm = load_gguf("peer-vectors/ggml-vocab-llama-spm.gguf", NULL);
    run_golden("mistral", spm);

    /* BOS comes from the tokenizer: SmolLM2's BOS is <|im_start|> */
    struct lm_chat_msg m[] = {{"user", "hi"}, {"assistant", "yo"}};
    struct lm_text out = {0};
    ck_assert_int_eq(lm_chat_render("mistral", m, 2, true, smol, &out), LM_OK);
    ck_assert_str_eq(out.s, "<|im_start|> [INST] hi [/INST] yo<|im_end|>");
    lm_text_free(&out);

    /* one BOS: the prompt carries it, so it is tokenized without ADD_SPECIAL */
    ck_assert_int_eq(lm_chat_render("lfm2", m, 1, true, lfm, &out), LM_OK);
    struct lm_tokens ids = {0}, twice = {0};
    ck_assert_int_eq(lm_tokenize(lfm, out.s, out.n, LM_TOK_PARSE_SPECIAL, &ids), LM_OK);
    ck_assert_int_eq(
        lm_tokenize(lfm, out.s, out.n, LM_TOK_PARSE_SPECIAL | LM_TOK_ADD_SPECIAL, &twice), LM_OK);
    int32_t bos = lm_tokenizer_special(lfm, LM_TOK_BOS);
    ck_assert_int_ge(bos, 0);
    ck_assert(ids.n > 5 && ids.ids[0] == bos && ids.ids[1] != bos);
    ck_assert(twice.n == ids.n + 1 && twice.ids[0] == bos && twice.ids[1] == bos);
    lm_tokens_free(&ids), lm_tokens_free(&twice);
    lm_text_free(&out);

    /* SmolLM2: <|im_start|> and <|im_end|> are single control tokens of the prompt */
    ck_assert_int_eq(lm_chat_render("smollm2", m, 1, true, smol, &out), LM_OK);
    ck_assert_int_eq(lm_tokenize(smol, out.s, out.n, LM_TOK_PARSE_SPECIAL, &ids), LM_OK);
    int n_start = 0;
    for (int64_t i = 0; i < ids.n; i++)
        n_start += ids.ids[i] == 1;
    ck_assert_int_eq(n_start, 3); /* default system, user, assistant */
    lm_tokens_free(&ids);
    lm_text_free(&out);
    lm_tokenizer_free(smol), lm_tokenizer_free(lfm), lm_tokenizer_free(spm);
}
END_TEST

START_TEST(detect) {
    cJSON *j = load_json("tests/data/chat/detect.json"), *e;
    int ours = 0, others = 0;
    cJSON_ArrayForEach(e, j) {
        const char *src = str(e, "template"), *want = str(e, "family"), *got = "x";
        ck_assert_ptr_nonnull(src);
        lm_status s = lm_chat_detect(src, &got);
        if (want) {
            ck_assert_msg(s == LM_OK && got && !strcmp(got, want), "%s: detected %s, want %s",
                          str(e, "name"), s == LM_OK ? got : "nothing", want);
            ck_assert_int_eq(lm_chat_check_name(got), LM_OK);
            ours++;
        } else {
            ck_assert_msg(s == LM_ENOTFOUND && got == NULL, "%s: taken for %s", str(e, "name"),
                          s == LM_OK ? got : "?");
            ck_assert_ptr_nonnull(strstr(lm_last_error(), "llama3"));
            others++;
        }
    }
    cJSON_Delete(j);
    ck_assert_int_eq(ours, 7);
    ck_assert_int_ge(others, 12);
    const char *name = "x";
    ck_assert_int_eq(lm_chat_detect(NULL, &name), LM_ENOTFOUND);
    ck_assert_ptr_null(name);
    ck_assert_int_eq(lm_chat_detect("", &name), LM_ENOTFOUND);
    ck_assert_int_eq(lm_chat_detect("x", NULL), LM_EINVAL);
}
END_TEST

/* Detection follows meaning: change what a family renders and it is no longer claimed. */
START_TEST(detect_mutations) {
    cJSON *j = load_json("tests/data/chat/detect.json"), *e;
    const char *smol = NULL, *chatml = NULL, *mistral = NULL, *llama = NULL;
    cJSON_ArrayForEach(e, j) {
        const char *f = str(e, "family");
        if (!f) continue;
        if (!strcmp(f, "smollm2")) smol = str(e, "template");
        if (!strcmp(f, "chatml")) chatml = str(e, "template");
        if (!strcmp(f, "mistral")) mistral = str(e, "template");
        if (!strcmp(f, "llama3")) llama = str(e, "template");
    }
    ck_assert(smol && chatml && mistral && llama);
    struct {
        const char *src, *from, *to, *want; /* want NULL: not detected */
    } cases[] = {
        {smol, "named SmolLM", "named Bob", NULL},         /* another default system prompt */
        {smol, "", "", "smollm2"},                         /* unchanged */
        {chatml, "{% for", "{{ bos_token }}{% for", NULL}, /* a BOS we would not write */
        {chatml, "message['content']", "message['content'] | trim", NULL},
        {chatml, "<|im_end|>", "<|im_end|>", "chatml"},
        {mistral, "' [INST] '", "'[INST] '", NULL}, /* the spacing of the old template */
        {mistral, "loop.first", "loop.last", NULL}, /* system on the last turn (v0.3 / Nemo) */
        {llama, "26 Jul 2024", "01 Jan 2025", NULL},
        {llama, "Cutting Knowledge", "Knowledge", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* every occurrence of from becomes to */
        struct lm_text buf = {0};
        const char *src = cases[i].src, *at;
        size_t nf = strlen(cases[i].from);
        ck_assert(!nf || strstr(src, cases[i].from));
        while (nf && (at = strstr(src, cases[i].from))) {
            ck_assert_int_eq(lm_text_append(&buf, src, (size_t)(at - src)), LM_OK);
            ck_assert_int_eq(lm_text_append(&buf, cases[i].to, strlen(cases[i].to)), LM_OK);
            src = at + nf;
        }
        ck_assert_int_eq(lm_text_append(&buf, src, strlen(src)), LM_OK);
        const char *got = NULL;
        lm_status s = lm_chat_detect(buf.s, &got);
        lm_text_free(&buf);
        if (cases[i].want) {
            ck_assert_msg(s == LM_OK && !strcmp(got, cases[i].want), "case %zu", i);
        } else {
            ck_assert_msg(s == LM_ENOTFOUND, "case %zu: taken for %s", i, got);
        }
    }
    cJSON_Delete(j);
}
END_TEST

START_TEST(names_and_errors) {
    const char *names[] = {"chatml", "smollm2", "lfm2", "mistral", "llama3"};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(lm_chat_check_name(names[i]), LM_OK);
    ck_assert_int_eq(lm_chat_check_name("jinja"), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "jinja"));
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "chatml, smollm2, lfm2, mistral, llama3"));
    ck_assert_int_eq(lm_chat_check_name(NULL), LM_EINVAL);
    ck_assert_int_eq(lm_chat_check_name("ChatML"), LM_EINVAL);

    struct lm_chat_msg m[] = {{"user", "hi"}, {"assistant", NULL}, {NULL, "x"}};
    struct lm_text out = {0};
    ck_assert_int_eq(lm_chat_render("nope", m, 1, true, NULL, &out), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "nope"));
    ck_assert_int_eq(lm_chat_render("chatml", m, 2, true, NULL, &out), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "message 1 has a null content"));
    ck_assert_int_eq(lm_chat_render("chatml", m + 1, 2, true, NULL, &out), LM_EINVAL);
    ck_assert_int_eq(lm_chat_render("chatml", m, 0, true, NULL, &out), LM_EINVAL);
    ck_assert_int_eq(lm_chat_render("chatml", NULL, 1, true, NULL, &out), LM_EINVAL);
    ck_assert_int_eq(lm_chat_render("chatml", m, 1, true, NULL, NULL), LM_EINVAL);
    ck_assert_uint_eq(out.n, 0);
    /* the role at fault is named */
    struct lm_chat_msg bad[] = {{"user", "a"}, {"tool", "b"}};
    ck_assert_int_eq(lm_chat_render("mistral", bad, 2, true, NULL, &out), LM_EINVAL);
    ck_assert_ptr_nonnull(strstr(lm_last_error(), "'tool'"));
    ck_assert_uint_eq(out.n, 0);
    /* render appends */
    ck_assert_int_eq(lm_chat_render("chatml", m, 1, false, NULL, &out), LM_OK);
    ck_assert_int_eq(lm_chat_render("chatml", m, 1, true, NULL, &out), LM_OK);
    ck_assert_str_eq(out.s, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                            "<|im_start|>assistant\n");
    lm_text_free(&out);
}
END_TEST

/* llama3 trims as Python's str.strip() does: Unicode spaces go, other characters stay, and
 * bytes that are not UTF-8 are kept as they are. */
START_TEST(llama3_trim) {
    struct {
        const char *in, *want;
    } cases[] = {
        {"\xe3\x80\x80x\xc2\xa0", "x"},                             /* U+3000, U+00A0 */
        {"\xe2\x80\x8bx\xe2\x80\x8b", "\xe2\x80\x8bx\xe2\x80\x8b"}, /* U+200B is not a space */
        {"\x1c\x1d x \x1e\x1f", "x"},
        {"\xc2\x85 x\xe2\x80\xa8", "x"}, /* U+0085, U+2028 */
        {" \xff x \xff ", "\xff x \xff"},
        {" \xe3\x80", "\xe3\x80"}, /* a cut character stays */
        {"   ", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lm_chat_msg m = {"user", cases[i].in};
        struct lm_text out = {0};
        ck_assert_int_eq(lm_chat_render("llama3", &m, 1, false, NULL, &out), LM_OK);
        const char *body = strstr(out.s, "user<|end_header_id|>\n\n");
        ck_assert_ptr_nonnull(body);
        body += strlen("user<|end_header_id|>\n\n");
        size_t len = strlen(body) - strlen("<|eot_id|>");
        ck_assert_msg(len == strlen(cases[i].want) && !memcmp(body, cases[i].want, len),
                      "case %zu: '%.*s'", i, (int)len, body);
        lm_text_free(&out);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("chat");
    TCase *tc = tcase_create("chat");
    tcase_add_test(tc, golden_chatml);
    tcase_add_test(tc, golden_smollm2);
    tcase_add_test(tc, golden_lfm2);
    tcase_add_test(tc, golden_mistral);
    tcase_add_test(tc, golden_llama3);
    tcase_add_test(tc, real_tokenizers);
    tcase_add_test(tc, detect);
    tcase_add_test(tc, detect_mutations);
    tcase_add_test(tc, names_and_errors);
    tcase_add_test(tc, llama3_trim);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
