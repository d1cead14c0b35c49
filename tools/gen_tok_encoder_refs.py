#!/usr/bin/env python3
"""tools/gen_tok_encoder_refs.py - reference ids for tests/check_tok_encoders.c.

Encodes one fixed set of strings (hand-picked cases plus seeded random mixes: accents and
combining marks, CJK, kana, Hangul, punctuation, emoji, whitespace runs and odd spaces, control
and format characters, long words around the 100-character WordPiece limit, digits) with
  - Hugging Face tokenizers, all-MiniLM-L6-v2's tokenizer.json (WordPiece), no special tokens;
  - sentencepiece, Mistral 7B v0.1's tokenizer.model (SentencePiece BPE), no BOS/EOS;
and writes tests/data/tok/{minilm,mistral-v1}.tsv: one case per line, the UTF-8 input as
lowercase hex, a tab, the ids separated by spaces.

    python3 tools/gen_tok_encoder_refs.py [build/models]
"""
import random
import sys

import sentencepiece as spm
from tokenizers import Tokenizer

CASES = [
    "", " ", "  ", "   ", "\t", "\n", "\n\n", "\t\n", " \n ", "Hello world", " Hello world",
    "Hello World!", "Hello, world!", "  Hello", "    Hello\n    Hello", "Hello   ", "hello  world",
    "I'm sure it's fine, isn't it?", "don't  DON'T Don't", "The quick brown fox jumps over the lazy dog.",
    "ied 4 ½ months", "Führer", "café", "cafe\u0301", "naïve", "Ångström", "résumé", "Cửa Việt",
    "ΟΔΥΣΣΕΥΣ", "Ελληνικά κείμενα", "İstanbul", "ıi İI", "Straße STRASSE", "ǅemal ǲ",
    "a\u0316\u0301b", "a\u0301\u0316b", "e\u0301\u0301\u0301", "o\u0308\u0304", "\u0301abc",
    "Zalgo: Z\u0351\u036b\u0343a\u0352l\u0313g\u0300o\u0341", "ﬁnance ﬂow", "Ⅻ ⅻ ㎏ ℌ",
    "我想在apple工作1314151天～", "日本語のテキストです。", "カタカナとひらがな", "한국어 텍스트입니다",
    "中文，标点。“引号”", "𠀀𠀁 𪜀", "豈更車", "ＡＢＣ１２３ｱｲｳ", "漢字kanji混じり", "丁\u3000丂",
    "!!!!!!", "?!?!", "...", "…", "—–-", "«quote» „Anführung“", "¿Qué? ¡Sí!", "$5.00 €3,50 £2",
    "a+b=c", "x^2 ~y `z` |w| <v> {u} [t] (s) @r #q %p &o *n _m", "C++ and C# and F#",
    "e-mail user@example.com", "https://example.com/a?b=c&d=e#f", "#hashtag @user 100%",
    "\\backslash\\ /slash/", "'single' \"double\"", "semi;colon:colon", "under_score__double",
    "🦙.cpp", "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅", "👍🏽👨‍👩‍👧‍👦🇺🇸🇯🇵", "1️⃣ #️⃣",
    "☃ ♥ ★ ☺", "Hello, y'all! How are you 😁 ?", "\U0001f970\U0001fae0", "\U0001f600" * 5,
    "a\u00a0b", "a\u3000b", "a\u2028b\u2029c", "a\r\nb", "a\vb\fc", "a\x85b", "a\u200bb",
    "a\u200db", "\ufeffBOM", "soft\u00adhyphen", "a\x01b\x7fc", "\ue000private\uf8ff",
    "a\ufffdb", "\u0890\u08e2x\U000110cd", "\u166d\u061d\u2e43", "\u0e3a\u1734", "\U00011938",
    "\u1c89\ua7cb", "\u17b4\u17b5", "a\u2060b\u2061c", "\u00a0\u00a0", "\u2003em\u2002en",
    "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
    "Donaudampfschifffahrtsgesellschaftskapitän", "pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 99, "a" * 100, "a" * 101, "b" * 150, "ab" * 60, "x" * 99 + "é", "é" * 101,
    "unaffable unbelievable unhappiness", "tokenization tokenizer tokenize",
    "3", "33", "333", "3333", "33333", "333333", "3333333", "33333333", "333333333",
    "12345678901234567890", "3.14159", "1,000,000", "0x1F 0b1010 1e-9", "٣٤٥ ४५६ ๓๔๕", "½ ¼ ² ³",
    "2023-11-22T21:52:00Z", "v1.2.3-rc.4", "+1 (555) 123-4567",
    "нещо на Български", "Привет, мир!", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
    "สวัสดีชาวโลก", "កាន់តែពិសេសអាចខលចេញ", "வணக்கம் உலகம்", "Γειά σου Κόσμε", "Xin chào thế giới",
    "<s>", "</s>", "<unk>", "<0x41>", "x<s>y</s>z", "▁", "▁▁ hello", "▁hello", "a▁b",
    "  leading and trailing  ", "\t\tindented", "line1\nline2\r\nline3", "\n =", "' era",
    "}\n\n\n\n{", "   \n   \n", "\t \t", "\\n\\t", "😀 a 😀", "a😀b😀c",
    "\U000f0000\U0010fffd", "\u0600\u0601", "\u2066isolate\u2069", "\u0f39\u0f71\u0f72",
    "\U0001d165\U0001d16d\U0001d16e", "\u0915\u093c\u094d", "ñ Ñ ñ N\u0303", "ǰ J\u030c",
    "\u1e9e\u00df", "\u03a3\u03c3\u03c2", "\u0130\u0131", "\u212a\u212b", "\u0345\u0399",
]

POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    "      ",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿĀāĂăĄąĆćČčĎďĒēĖėĘęĚěŁłŃńŇňŐőŒœŘřŚśŠšŤťŮůŰűŸŹźŻżŽž",
    "\u0300\u0301\u0302\u0303\u0308\u030a\u030c\u0316\u0323\u0327\u0328\u0345\u0591\u05b0\u064b\u093c",
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会",
    "あいうえおかきくけこさしすせそたちつてとアイウエオカキクケコー",
    "가나다라마바사아자차카타파하한국어글",
    "😀😁😂🤣😃😄🦙🚀✅❤️👍🏽🇺🇸",
    "\t\n\r\u00a0\u2003\u3000\u2028",
    "\x01\x07\x1b\x7f\u200b\u200d\ufeff\u00ad\ue000",
    "“”‘’«»¿¡–—…·•†‡§¶",
    "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГД",
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΖΗΘ",
]


def random_cases(n, seed=20261122):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        k = rnd.randint(1, 3)
        pools = rnd.sample(POOLS, k)
        length = rnd.choice([1, 2, 3, 5, 8, 13, 21, 34, 55])
        out.append("".join(rnd.choice(rnd.choice(pools)) for _ in range(length)))
    # long words of letters with a few marks (around the WordPiece limit)
    for length in (98, 99, 100, 101, 102):
        out.append("".join(rnd.choice(POOLS[0]) for _ in range(length)))
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "build/models"
    cases = CASES + random_cases(230)
    seen, uniq = set(), []
    for c in cases:
        if c not in seen and "\0" not in c:
            seen.add(c)
            uniq.append(c)
    hf = Tokenizer.from_file(f"{root}/minilm/tokenizer.json")
    hf.no_padding()  # the file pads and truncates to 128 for the model; we want the raw ids
    hf.no_truncation()
    for tok in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"):
        assert not any(tok in c for c in uniq), tok  # HF would match them as added tokens
    sp = spm.SentencePieceProcessor(model_file=f"{root}/mistral/tokenizer.model.v1")
    with open("tests/data/tok/minilm.tsv", "w") as f:
        for c in uniq:
            ids = hf.encode(c, add_special_tokens=False).ids
            f.write(c.encode().hex() + "\t" + " ".join(map(str, ids)) + "\n")
    with open("tests/data/tok/mistral-v1.tsv", "w") as f:
        for c in uniq:
            ids = sp.encode(c)
            f.write(c.encode().hex() + "\t" + " ".join(map(str, ids)) + "\n")
    print(f"{len(uniq)} cases")


if __name__ == "__main__":
    main()
