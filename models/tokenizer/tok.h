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
#include "hash.h"

/* GGUF token types (tokenizer.ggml.token_type) */
enum tok_type {
    TOK_NORMAL = 1,
    TOK_UNKNOWN = 2,
    TOK_CONTROL = 3,
    TOK_USER = 4, /* user-defined / added token */
    TOK_UNUSED = 5,
    TOK_BYTE = 6,
};

/* Per-token matching flags of added tokens (tokenizer.json added_tokens) */
enum {
    TOK_F_LSTRIP = 1,      /* swallows the whitespace before it */
    TOK_F_RSTRIP = 2,      /* swallows the whitespace after it */
    TOK_F_SINGLE_WORD = 4, /* matches only between non-word characters */
};

/* Most ids a loader accepts: bounds every allocation sized by a count read from a file. */
#define TOK_MAX_VOCAB (1 << 24)

struct lm_tokenizer {
    enum lm_tok_kind kind;
    char pre[32];    /* pre-tokenizer name: "gpt2", "smollm", "llama3", "lfm2", ... */
    int32_t n_vocab; /* ids 0..n_vocab-1 */
    char **piece;    /* (n_vocab) NUL-terminated vocab strings, as stored in the file */
    uint32_t *piece_len;
    /* the longest piece_len (tok_finish sets it; 0 = not set, wpm.c then finds it) */
    uint32_t max_piece_len;
    float *score;                          /* (n_vocab) SPM scores (0 when the file has none) */
    uint8_t *type;                         /* (n_vocab) enum tok_type */
    uint8_t *flags;                        /* (n_vocab) TOK_F_* */
    struct tok_piece_map index;            /* piece bytes -> id */
    int32_t special[LM_TOK_SPECIAL_COUNT]; /* -1 when the model has none */
    bool add_bos, add_eos;                 /* LM_TOK_ADD_SPECIAL: BOS first / EOS last */
    bool add_sep;                          /* WPM: [CLS] text [SEP] */
    /* BPE / SPM */
    struct tok_pair_map merges; /* BPE: pair of ids -> (rank, merged id) */
    void *pretok;               /* bpe.c's compiled PCRE2 pre-tokenizer */
    bool add_space_prefix;      /* SPM: a space before the text */
    void *spm;                  /* spm.c's piece table (tok_spm_prepare) */
    bool byte_fallback;         /* SPM: unknown chars as <0xXX> tokens */
    int32_t byte_token[256];    /* SPM <0xXX> ids / BPE byte-level char ids, -1 if absent */
    bool ignore_merges;         /* BPE: a pre-token that is itself in the vocab is one id */
    bool nfc;                   /* BPE: NFC normalizer before pre-tokenization */
    int64_t n_merges;
    /* WPM */
    bool lowercase, strip_accents, split_cjk;
    bool wpm_gguf_form; /* pieces use a leading U+2581 for word starts instead of "##" */
    int32_t max_input_chars_per_word; /* 100 in BERT */
    /* tokens matched in text, longest first: user-defined ones always, control and unknown
     * ones under LM_TOK_PARSE_SPECIAL */
    int32_t *matchable;
    int64_t n_matchable, n_user_matchable;
    int32_t match_start[257]; /* matchable[match_start[b]..match_start[b+1]) begin with byte b */
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

/* ---- for the loaders (tokenizer.c) ---- */

/* A zeroed tokenizer of kind with room for n_vocab pieces (all empty, TOK_NORMAL), every
 * special id -1; LM_ERANGE naming what when n_vocab is outside 1..TOK_MAX_VOCAB. */
lm_status tok_new(enum lm_tok_kind kind, int64_t n_vocab, const char *what,
                  struct lm_tokenizer **out);
/* Copy s[0..n) into piece id (replacing what was there). */
lm_status tok_set_piece(struct lm_tokenizer *t, int32_t id, const char *s, size_t n);
/* After the pieces, types and flags are set: the piece index, the byte tables, the list of
 * matchable tokens, and (BPE) the byte-level check. what names the source in errors. */
lm_status tok_finish(struct lm_tokenizer *t, const char *what);

/* ---- bpe.c ---- */

/* Compile the pre-tokenizer: patterns applied one after another, each splitting every piece
 * into its matches and the gaps between them (HF Split "Isolated"). prefix_level >= 0: every
 * piece about to meet pattern prefix_level (n: the end) gets a space in front unless it starts
 * with one (HF ByteLevel add_prefix_space, which acts on each piece the splits before it
 * made); -1: no prefix space. */
lm_status tok_bpe_set_pretok(struct lm_tokenizer *t, const char *const *patterns, int n,
                             int prefix_level);
/* Patterns for a GGUF tokenizer.ggml.pre name; NULL if the name is unknown. Sets *ignore_merges
 * and *add_bos to the defaults llama.cpp uses for that name. */
const char *const *tok_bpe_pre_patterns(const char *pre, int *n, bool *ignore_merges,
                                        bool *add_bos);
extern const char *const tok_gpt2_pattern; /* HF ByteLevel's own regex */
/* Add merge "left right" with the next rank; LM_EFORMAT naming index when a part or the joined
 * piece is not in the vocabulary. */
lm_status tok_bpe_add_merge(struct lm_tokenizer *t, const char *left, size_t nl, const char *right,
                            size_t nr, int64_t index, const char *what);
void tok_bpe_free(struct lm_tokenizer *t);

/* ---- spm.c ---- */

/* SPM (tok_finish calls it once the pieces and types are final): the piece table and the
 * check that merges never cross a word start. */
lm_status tok_spm_prepare(struct lm_tokenizer *t, const char *what);
void tok_spm_free(struct lm_tokenizer *t);
/* GPT-2 byte <-> unicode char map: codepoint of byte b; byte of codepoint c or -1. */
uint32_t tok_byte_to_cp(uint8_t b);
int tok_cp_to_byte(uint32_t c);

/* ---- utf8 (tokenizer.c) ---- */

/* Length of the valid UTF-8 character at s[0..n), 0 if invalid; *need > 0 when s is a valid
 * but incomplete prefix of a character (need more bytes). */
int tok_utf8_char(const unsigned char *s, size_t n, int *need);
/* Append s[0..n) to out with invalid sequences as U+FFFD. With !final, a valid but incomplete
 * character at the end is left unconsumed: returns how many bytes were consumed. */
size_t tok_utf8_sanitize(struct lm_text *out, const char *s, size_t n, bool final, lm_status *st);

/* ---- load_json.c: the tokenizer.json loader on memory (config may be NULL) ---- */
lm_status tok_from_json_mem(const char *json, size_t n, const char *config, size_t config_n,
                            struct lm_tokenizer **out);

#endif
