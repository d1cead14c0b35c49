/* models/tokenizer/tok.h - the tokenizer's internal shape, shared by its files (not installed).
 *
 * One struct lm_tokenizer holds the vocabulary and the settings of all three kinds; the
 * framework (tokenizer.c) splits text on special/added tokens, adds BOS/EOS or CLS/SEP and
 * hands each plain fragment to the kind's encoder, which appends ids:
 *   bpe.c  byte-level BPE (GPT-2): PCRE2 pre-tokenizer regexes, bytes -> unicode chars, merges
 *   spm.c  SentencePiece BPE: space prefix, ' ' -> U+2581, merges by score, byte fallback
 *   wpm.c  WordPiece: basic tokenizer (utf8proc), longest-match-first, [UNK]
 * Loaders (load_gguf.c, load_json.c) fill the struct; decode.c turns ids back into bytes.
 * Fragments reaching an encoder are valid UTF-8 (the framework replaces invalid sequences with
 * U+FFFD first, maximal-subpart rule, as Python's bytes.decode(errors="replace") does).
 */
#ifndef LMRT_TOK_H
#define LMRT_TOK_H

#include "../../rt/lmrt.h"

/* GGUF token types (tokenizer.ggml.token_type) */
enum tok_type {
    TOK_NORMAL = 1,
    TOK_UNKNOWN = 2,
    TOK_CONTROL = 3,
    TOK_USER = 4, /* user-defined / added token */
    TOK_UNUSED = 5,
    TOK_BYTE = 6,
};

struct tok_index_entry; /* stb_ds string map piece -> id (tokenizer.c) */

struct lm_tokenizer {
    enum lm_tok_kind kind;
    char pre[32];    /* pre-tokenizer name: "gpt2", "smollm", "llama3", "lfm2", ... */
    int32_t n_vocab; /* ids 0..n_vocab-1 */
    char **piece;    /* (n_vocab) NUL-terminated vocab strings, as stored in the file */
    uint32_t *piece_len;
    uint32_t max_piece_len; /* longest piece_len; 0 = not set (wpm.c then finds it) */
    float *score;  /* (n_vocab) SPM scores (0 when the file has none) */
    uint8_t *type; /* (n_vocab) enum tok_type */
    struct tok_index_entry *index;
    int32_t special[LM_TOK_SPECIAL_COUNT]; /* -1 when the model has none */
    bool add_bos, add_eos;                 /* LM_TOK_ADD_SPECIAL: BOS first / EOS last */
    bool add_sep;                          /* WPM: [CLS] text [SEP] */
    /* BPE / SPM */
    void *merges;          /* bpe.c's rank map (pair of ids -> rank) */
    void *pretok;          /* bpe.c's compiled PCRE2 pre-tokenizer */
    bool add_space_prefix; /* SPM: a space before the text */
    bool byte_fallback;    /* SPM: unknown chars as <0xXX> tokens */
    int32_t byte_token[256]; /* SPM <0xXX> ids / BPE byte-level char ids, -1 if absent */
    /* WPM */
    bool lowercase, strip_accents, split_cjk;
    bool wpm_gguf_form; /* pieces use a leading U+2581 for word starts instead of "##" */
    int32_t max_input_chars_per_word; /* 100 in BERT */
    /* tokens matched in text under LM_TOK_PARSE_SPECIAL, longest first */
    int32_t *matchable;
    int64_t n_matchable;
};

/* id of the piece s[0..n), or -1 */
int32_t tok_find(const struct lm_tokenizer *t, const char *s, size_t n);

/* Encoders: append the ids of the valid-UTF-8 fragment s[0..n) (no special tokens in it). */
lm_status tok_bpe_encode(const struct lm_tokenizer *t, const char *s, size_t n,
                         struct lm_tokens *out);
lm_status tok_spm_encode(const struct lm_tokenizer *t, const char *s, size_t n,
                         struct lm_tokens *out);
lm_status tok_wpm_encode(const struct lm_tokenizer *t, const char *s, size_t n,
                         struct lm_tokens *out);
/* Append one id (grows out; LM_ENOMEM) */
lm_status tok_push(struct lm_tokens *out, int32_t id);

#endif
