/* models/chat.c - chat templates of the families lmrt runs, written in C (no Jinja engine).
 *
 * Contract (rt/lmrt.h, "chat templates"): lm_chat_render appends exactly the text that Hugging
 * Face transformers' apply_chat_template(messages, add_generation_prompt=..., tokenize=False)
 * gives with the family's template (tests/check_chat.c compares byte for byte against
 * tools/gen_chat_golden.py's renders), and refuses (LM_EINVAL, out untouched) what that call
 * refuses: an empty conversation, and the roles a template raises on. The result holds the BOS
 * text where the template writes it (lfm2, mistral, llama3): tokenize it with
 * LM_TOK_PARSE_SPECIAL and without LM_TOK_ADD_SPECIAL, as transformers does, or BOS comes twice.
 * BOS / EOS text comes from the tokenizer when one is given and has the token, else from the
 * family's own model.
 *
 * Families:
 *   chatml   <|im_start|>role\ncontent<|im_end|>\n per message; no default system message.
 *   smollm2  chatml plus SmolLM2's rule: when the first message is not "system", the template
 *            puts its default system message first. A separate name, so that a plain ChatML
 *            template never gets SmolLM's system prompt and SmolLM2 never loses it.
 *   lfm2     BOS, the first message's content as a system turn if it is a non-empty system
 *            message, then chatml turns; "tool" content is wrapped in <|tool_response_start|>
 *            .. <|tool_response_end|>.
 *   mistral  Mistral-7B-Instruct v0.1 / v0.2: BOS, " [INST] user [/INST]", " answer</s>"; a
 *            leading system message goes before the first user message with "\n\n"; roles must
 *            alternate user/assistant; add_generation_prompt changes nothing (as there).
 *   llama3   Llama 3.1 / 3.2 / 3.3 without tools: BOS, a system header that always carries
 *            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n" and the
 *            (trimmed) system message, then one header per message with its trimmed content;
 *            "tool" / "ipython" messages become an ipython turn with the content as a JSON string.
 *            The date is the one 3.1 and 3.3 always print; 3.2's template prints today's date
 *            under transformers (its strftime_now) and 26 Jul 2024 where that is missing: lmrt
 *            prints 26 Jul 2024 for all three, so a prompt does not change with the clock.
 *
 * Detection: each family has markers that must all occur in the Jinja source and markers that
 * must not (default system prompts, tool blocks, BOS handling, filters that change the text),
 * so a template that would render differently is LM_ENOTFOUND rather than a near miss. Qwen2.5
 * is ChatML-shaped but has its own default system message and tool blocks: it is not claimed
 * (its "You are Qwen" prompt would be lost), nor are Gemma, Phi, Mistral Nemo / v0.3 / old
 * templates without system handling, DeepSeek, Hermes, Command R and the functionary / firefunction
 * Llama derivatives (tests/data/chat/detect.json lists them).
 */
#include <string.h>

#include "tokenizer/tok.h"

struct render {
    struct lm_text *out;
    const char *bos, *eos;
    lm_status st;
};

static void put(struct render *r, const char *s, size_t n) {
    if (r->st == LM_OK) r->st = lm_text_append(r->out, s, n);
}

static void puts_(struct render *r, const char *s) { put(r, s, strlen(s)); }

static bool is(const char *a, const char *b) { return !strcmp(a, b); }

/* ---- Python's str.strip() (Jinja's trim): Unicode whitespace at both ends ---- */

static bool py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* The code point of the valid character at s[0..n) and its length, or 0. */
static int decode(const unsigned char *s, size_t n, uint32_t *cp) {
    int need, len = tok_utf8_char(s, n, &need);
    if (len == 1) *cp = s[0];
    if (len == 2) *cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    if (len == 3)
        *cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    if (len == 4)
        *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
              (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
    return len;
}

static void put_trimmed(struct render *r, const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    size_t a = 0, b = strlen(text);
    uint32_t cp;
    int len;
    while (a < b && (len = decode(s + a, b - a, &cp)) > 0 && py_space(cp))
        a += (size_t)len;
    while (b > a) {
        size_t c = b - 1; /* start of the last character: back over continuation bytes */
        while (c > a && b - c < 4 && (s[c] & 0xc0) == 0x80)
            c--;
        if ((len = decode(s + c, b - c, &cp)) == 0 || (size_t)len != b - c || !py_space(cp)) break;
        b = c;
    }
    put(r, text + a, b - a);
}

/* Python's json.dumps(s, ensure_ascii=False) (transformers' tojson filter) of a string. */
static void put_json(struct render *r, const char *s) {
    puts_(r, "\"");
    size_t run = 0, i = 0;
    for (; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *e = NULL;
        char u[8];
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        default:
            if (c < 0x20) {
                static const char hex[] = "0123456789abcdef";
                memcpy(u, "\\u00", 4), u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = '\0';
                e = u;
            }
        }
        if (!e) continue;
        put(r, s + run, i - run);
        puts_(r, e);
        run = i + 1;
    }
    put(r, s + run, i - run);
    puts_(r, "\"");
}

/* ---- the families ---- */

static void chatml_turn(struct render *r, const char *role, const char *content) {
    puts_(r, "<|im_start|>"), puts_(r, role), puts_(r, "\n"), puts_(r, content);
    puts_(r, "<|im_end|>\n");
}

static lm_status chatml(struct render *r, const struct lm_chat_msg *m, int n, bool gen) {
    for (int i = 0; i < n; i++)
        chatml_turn(r, m[i].role, m[i].content);
    if (gen) puts_(r, "<|im_start|>assistant\n");
    return r->st;
}

static lm_status smollm2(struct render *r, const struct lm_chat_msg *m, int n, bool gen) {
    if (!is(m[0].role, "system"))
        puts_(r, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
                 "Hugging Face<|im_end|>\n");
    return chatml(r, m, n, gen);
}

static lm_status lfm2(struct render *r, const struct lm_chat_msg *m, int n, bool gen) {
    puts_(r, r->bos);
    int i = 0;
    if (is(m[0].role, "system")) {
        if (m[0].content[0]) chatml_turn(r, "system", m[0].content);
        i = 1;
    }
    for (; i < n; i++) {
        if (!is(m[i].role, "tool")) {
            chatml_turn(r, m[i].role, m[i].content);
            continue;
        }
        puts_(r, "<|im_start|>tool\n<|tool_response_start|>"), puts_(r, m[i].content);
        puts_(r, "<|tool_response_end|><|im_end|>\n");
    }
    if (gen) puts_(r, "<|im_start|>assistant\n");
    return r->st;
}

static lm_status mistral(struct render *r, const struct lm_chat_msg *m, int n, bool gen) {
    const char *sys = is(m[0].role, "system") ? m[0].content : NULL;
    const struct lm_chat_msg *loop = sys ? m + 1 : m;
    int nl = sys ? n - 1 : n;
    puts_(r, r->bos);
    for (int i = 0; i < nl; i++) {
        bool user = is(loop[i].role, "user");
        if (user != (i % 2 == 0))
            return lm_error(LM_EINVAL,
                            "chat mistral: message %d is '%s': after the optional system "
                            "message, roles must alternate user/assistant",
                            i + (sys ? 1 : 0), loop[i].role);
        if (user) {
            puts_(r, " [INST] ");
            if (i == 0 && sys) puts_(r, sys), puts_(r, "\n\n");
            puts_(r, loop[i].content), puts_(r, " [/INST]");
        } else if (is(loop[i].role, "assistant")) {
            puts_(r, " "), puts_(r, loop[i].content), puts_(r, r->eos);
        } else {
            return lm_error(LM_EINVAL,
                            "chat mistral: message %d: role '%s' (user and assistant only, after "
                            "an optional first system message)",
                            i + (sys ? 1 : 0), loop[i].role);
        }
    }
    (void)gen; /* the template ends on [/INST] either way */
    return r->st;
}

static void llama3_header(struct render *r, const char *role) {
    puts_(r, "<|start_header_id|>"), puts_(r, role), puts_(r, "<|end_header_id|>\n\n");
}

static lm_status llama3(struct render *r, const struct lm_chat_msg *m, int n, bool gen) {
    int i = 0;
    puts_(r, r->bos);
    llama3_header(r, "system");
    puts_(r, "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n");
    if (is(m[0].role, "system")) put_trimmed(r, m[0].content), i = 1;
    puts_(r, "<|eot_id|>");
    for (; i < n; i++) {
        if (is(m[i].role, "tool") || is(m[i].role, "ipython")) {
            llama3_header(r, "ipython");
            put_json(r, m[i].content);
        } else {
            llama3_header(r, m[i].role);
            put_trimmed(r, m[i].content);
        }
        puts_(r, "<|eot_id|>");
    }
    if (gen) llama3_header(r, "assistant");
    return r->st;
}

/* ---- the table ---- */

#define MARKERS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct family {
    const char *name;
    const char *bos, *eos; /* the family's own, when the tokenizer has none */
    lm_status (*render)(struct render *, const struct lm_chat_msg *, int, bool);
    const char *const *need;  /* all of these occur in the source */
    const char *const *avoid; /* none of these does */
} families[] = {
    {"smollm2", "<|im_start|>", "<|im_end|>", smollm2,
     MARKERS("<|im_start|>", "<|im_end|>", "add_generation_prompt", "!=",
             "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>"),
     MARKERS("tool", "bos_token", "<think>", "trim", "namespace")},
    {"lfm2", "<|startoftext|>", "<|im_end|>", lfm2,
     MARKERS("<|im_start|>", "<|im_end|>", "bos_token", "add_generation_prompt",
             "<|tool_list_start|>", "<|tool_response_start|>"),
     MARKERS("You are", "<think>", "trim", "loop.first", "eos_token")},
    {"chatml", "<|im_start|>", "<|im_end|>", chatml,
     MARKERS("<|im_start|>", "<|im_end|>", "<|im_start|>assistant", "add_generation_prompt", "role",
             "content"),
     MARKERS("You are", "bos_token", "eos_token", "tool", "<think>", "messages[0]", "loop.first",
             "loop.index", "loop.last", "namespace", "system_message", "[INST]",
             "<|start_header_id|>", "trim", "strip", "replace", "split", "tojson", "lower",
             "upper")},
    {"mistral", "<s>", "</s>", mistral,
     MARKERS("[INST]", "[/INST]", " [INST] ", "system_message", "loop.first", "bos_token",
             "eos_token", "raise_exception"),
     MARKERS("<<SYS>>", "[AVAILABLE_TOOLS]", "[TOOL_CALLS]", "[SYSTEM_PROMPT]", "loop.last", "trim",
             "<|im_start|>")},
    {"llama3", "<|begin_of_text|>", "<|eot_id|>", llama3,
     MARKERS("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "bos_token",
             "Cutting Knowledge Date: December 2023", "Today Date: ", "date_string", "26 Jul 2024",
             "system_message", "add_generation_prompt"),
     MARKERS("functools", "<function=", "<think>", "<|im_start|>", "[INST]")},
};

#define N_FAMILIES (int)(sizeof families / sizeof families[0])

static bool all_in(const char *src, const char *const *m) {
    for (; *m; m++)
        if (!strstr(src, *m)) return false;
    return true;
}

static bool none_in(const char *src, const char *const *m) {
    for (; *m; m++)
        if (strstr(src, *m)) return false;
    return true;
}

lm_status lm_chat_detect(const char *src, const char **name) {
    if (!name) return lm_error(LM_EINVAL, "chat_detect: null name");
    *name = NULL;
    if (!src) return lm_error(LM_ENOTFOUND, "chat template: the model has none");
    for (int i = 0; i < N_FAMILIES; i++)
        if (all_in(src, families[i].need) && none_in(src, families[i].avoid)) {
            *name = families[i].name;
            return LM_OK;
        }
    return lm_error(LM_ENOTFOUND,
                    "chat template: not one lmrt renders (chatml, smollm2, lfm2, mistral, "
                    "llama3); choose one by name");
}

static const struct family *find(const char *name) {
    for (int i = 0; name && i < N_FAMILIES; i++)
        if (is(name, families[i].name)) return &families[i];
    return NULL;
}

lm_status lm_chat_check_name(const char *name) {
    if (find(name)) return LM_OK;
    return lm_error(LM_EINVAL,
                    "chat template '%s' is not known (chatml, smollm2, lfm2, mistral, llama3)",
                    name ? name : "(null)");
}

static const char *special_text(const struct lm_tokenizer *tok, enum lm_tok_special which,
                                const char *fallback) {
    int32_t id = tok ? lm_tokenizer_special(tok, which) : -1;
    const char *p = id >= 0 ? lm_tokenizer_piece(tok, id) : NULL;
    return p && p[0] ? p : fallback;
}

lm_status lm_chat_render(const char *name, const struct lm_chat_msg *msgs, int n,
                         bool add_assistant, const struct lm_tokenizer *tok, struct lm_text *out) {
    lm_status st = lm_chat_check_name(name);
    if (st != LM_OK) return st;
    if (!out) return lm_error(LM_EINVAL, "chat_render: null out");
    if (n < 1 || !msgs)
        return lm_error(LM_EINVAL, "chat_render: %d messages (a conversation needs one)", n);
    for (int i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return lm_error(LM_EINVAL, "chat_render: message %d has a null %s", i,
                            msgs[i].role ? "content" : "role");
    const struct family *f = find(name);
    struct render r = {out, special_text(tok, LM_TOK_BOS, f->bos),
                       special_text(tok, LM_TOK_EOS, f->eos), LM_OK};
    size_t n0 = out->n;
    if ((st = f->render(&r, msgs, n, add_assistant)) != LM_OK) {
        out->n = n0; /* refused or out of memory: out as it was */
        if (out->s) out->s[n0] = '\0';
    }
    return st;
}
