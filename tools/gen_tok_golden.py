#!/usr/bin/env python3
"""tools/gen_tok_golden.py - reference token ids for tests/check_tokenizer.c.

Encodes a few hundred varied strings (hand-written edge cases plus seeded random mixtures of
words, digits, punctuation, whitespace runs, several scripts, emoji and special-token text) with
Hugging Face `tokenizers` and writes them with the ids as JSON:

    tests/data/tok/lfm2.json     LFM2 tokenizer.json (byte-level BPE, Split regex + ByteLevel)
    tests/data/tok/minilm.json   all-MiniLM-L6-v2 tokenizer.json (WordPiece, BertNormalizer)
    tests/data/tok/smollm2.json  SmolLM2's GGUF vocabulary and merges in a `tokenizers` BPE with
                                 SmolLM2's pre-tokenizer, when the GGUF is present

Each case has two encodings, both without the post-processor's specials
(add_special_tokens=False): "ids", `tokenizers`' default, where every added token written in
the text matches (the C test encodes with LM_TOK_PARSE_SPECIAL), and "plain", with
encode_special_tokens = True, where special tokens are plain text but added tokens that are not
special ("special": false: LFM2's "python", "Mathias") still match (the C test encodes with
flags 0: lmrt.h follows `tokenizers` and llama.cpp there).
Usage: python3 tools/gen_tok_golden.py [models dir, default build/models]
"""
import json
import os
import random
import sys

FIXED = [
    "", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\t\n", "a", "Hello world",
    " Hello world", "Hello World!", "Hello, world!", "  leading and trailing  ",
    "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like tea? We'Ve a'lL",
    "don't DON'T Don'T it's IT'S", "3333333333 1234567 12 1.5 -42 0x1F 1,000,000 3.14159e-10",
    "int main(void) { return printf(\"%d\\n\", x[i++]); }", "    def f(x):\n        return x ** 2\n",
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", "<|startoftext|>text<|endoftext|>",
    "I like python and Mathias likes Python", "[CLS] python [SEP] [MASK]x[PAD] [UNK]", "naïve café résumé Ünïcödé", "Привет, мир! Как дела?",
    "你好，世界！这是一个测试。", "こんにちは世界、カタカナとひらがな", "안녕하세요 세계",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "ελληνικά γράμματα", "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅",
    "e\u0301 combining a\u0308 marks", "\u00a0nbsp\u2003em space\u3000ideographic", "zero\u200bwidth",
    "!!!!!!????...... ''''''```````\"\"\"\"", "----==== ____ ****", "a\tb\tc\t\td", "line1\nline2\r\nline3\n\n\nline4",
    "http://example.com/path?q=1&r=2#frag", "user@example.org", "C:\\Windows\\System32", "$HOME/.config",
    "ÅÆØ åæø ß ẞ ſ K", "ﬁ ﬂ ligatures", "\U0001F600\U0001F601\U0001F602", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "       \n\n       \t\t", "123abc456def", "ABCdefGHI", "x" * 300, "ab " * 50,
]

WORDS = ("the quick brown fox jumps over lazy dog tokenizer merge byte level regex pattern "
         "Hello World Python JSON model attention layer token encode decode stream UTF").split()
POOLS = [
    WORDS, ["0", "7", "42", "123", "2024", "99999", "3.5", "1e9"],
    [".", ",", "!", "?", ";", ":", "'", "\"", "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "-",
     "_", "=", "+", "*", "&", "^", "%", "$", "#", "@", "~", "`", "|", "...", "'s", "'ll", "'RE"],
    [" ", "  ", "   ", "\n", "\n\n", "\t", " \n", "\r\n", "\u00a0", "\u3000"],
    ["日本", "語", "中文", "测试", "한국어", "Ελλάδα", "Россия", "العربية", "עברית", "हिन्दी", "ไทย"],
    ["😀", "🚀", "👍🏽", "❤️", "🇫🇷", "😶‍🌫️", "✅", "™", "©", "€", "½", "∑", "√"],
    ["é", "ñ", "ü", "ø", "ç", "e\u0301", "Å", "ß"],
    ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "python", "Mathias"],
]


def cases(seed=1234, n_random=280):
    rng = random.Random(seed)
    out = list(FIXED)
    for _ in range(n_random):
        k = rng.randint(1, 24)
        parts = []
        for _ in range(k):
            pool = POOLS[rng.choices(range(len(POOLS)), weights=[8, 3, 4, 5, 2, 2, 2, 1])[0]]
            parts.append(rng.choice(pool))
        out.append("".join(parts))
    return out


def write(path, texts, tok):
    def enc(t, split_special):
        tok.encode_special_tokens = split_special
        return tok.encode(t, add_special_tokens=False).ids
    rows = [{"text": t, "ids": enc(t, False), "plain": enc(t, True)} for t in texts]
    with open(path, "w", encoding="utf-8") as f:  # one case a line, plain ASCII
        f.write("[\n" + ",\n".join(json.dumps(r, ensure_ascii=True) for r in rows) + "\n]\n")
    print(f"{path}: {len(rows)} cases")


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else "build/models"
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.join(here, "..", "tests", "data", "tok")
    os.makedirs(data, exist_ok=True)
    texts = cases()

    from tokenizers import Tokenizer
    lfm2 = Tokenizer.from_file(os.path.join(models, "lfm2", "tokenizer.json"))
    write(os.path.join(data, "lfm2.json"), texts, lfm2)

    minilm = Tokenizer.from_file(os.path.join(models, "minilm", "tokenizer.json"))
    minilm.no_truncation()
    minilm.no_padding()
    write(os.path.join(data, "minilm.json"), texts, minilm)

    gguf = os.path.join(models, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    if os.path.exists(gguf):
        smol = smollm2_from_gguf(gguf)
        write(os.path.join(data, "smollm2.json"), texts, smol)


def smollm2_from_gguf(path):
    """An HF tokenizer rebuilt from the GGUF's vocabulary and merges with SmolLM2's own
    pre-tokenizer (digits split one by one, then ByteLevel with the GPT-2 regex): transformers'
    GGUF loader needs torch, which is not installed here."""
    import gguf
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    r = gguf.GGUFReader(path)

    def strs(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tokens, merges = strs("tokenizer.ggml.tokens"), strs("tokenizer.ggml.merges")
    tt = r.fields["tokenizer.ggml.token_type"]
    types = [int(tt.parts[i][0]) for i in tt.data]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges]))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(tokens, types) if ty == 3])
    return tok


if __name__ == "__main__":
    main()
