#!/usr/bin/env python3
"""Regenerate the real-tokenizer reference data in tests/data/tok/ (seeded, deterministic).

tests/check_tokenizer_real.c encodes every record of the corpus and the bulk text with lmrt's
tokenizers and compares the ids with the ones written here by independent implementations:

  smollm2  `tokenizers` built from the vocabulary and merges of SmolLM2-135M-Instruct.Q4_1.gguf
           with the pre-tokenizer that pre = "smollm" names (every \p{N} character split off
           alone, then the GPT-2 byte-level regex: SmolLM2's own tokenizer.json and llama.cpp
           both do this), cross-checked against transformers' own GGUF -> `tokenizers`
           conversion (transformers.integrations.gguf.convert_gguf_tokenizer). That conversion
           ignores pre = "smollm" and uses the plain GPT-2 regex, so it differs exactly on
           records where a numeric character follows whitespace or another numeric character
           of a multi-character run (" ½", "  12"); they must agree on every other record.
  minilm   `tokenizers` on build/models/minilm/tokenizer.json (truncation and padding off)
  lfm2     `tokenizers` on build/models/lfm2/tokenizer.json
  mistral  `sentencepiece` on build/models/mistral/tokenizer.model.v1

Invalid UTF-8 contract (lmrt follows it): a record's bytes are decoded with Python's
bytes.decode("utf-8", errors="replace") (each maximal invalid subpart becomes U+FFFD) and the
reference tokenizer sees that string.

Files (all under tests/data/tok/):
  corpus.bin           records: u32 little-endian length, then that many bytes
  bulk.txt             ~1 MB of generated multilingual prose, code and numbers (valid UTF-8)
  ref_<name>.ids       one line per record: space-separated ids; flags 0 (no BOS/CLS, the
                       strings of special tokens are plain text, user-defined added tokens
                       still match: lmrt.h's contract, which is the peers'; see
                       ADDED_ALWAYS_MATCH)
  ref_<name>.special.ids   LM_TOK_PARSE_SPECIAL (special token strings match): lines "i: ids"
                       for the records whose ids differ from ref_<name>.ids; every record not
                       listed has the same ids as there
  ref_<name>.add.ids   LM_TOK_ADD_SPECIAL | LM_TOK_PARSE_SPECIAL (what `encode(s)` gives by
                       default in `tokenizers`; for mistral ADD_SPECIAL alone: sentencepiece's
                       add_bos), as "i: ids" lines for a sample of the records (every 8th, the
                       empty one, and all that hold '<' or '[' or start or end with whitespace);
                       only for tokenizers that add tokens (not smollm2: add_bos_token = false)
  ref_<name>.rt        one line per record: 1 when the record is valid UTF-8 and the reference
                       decodes its flags-0 ids back to exactly the record (lossless), else 0;
                       not written for minilm (WordPiece lower-cases: never lossless)
  ref_<name>.meta      "kind bpe|wpm|spm n_vocab N" as the reference reports them
  ref_<name>.bulk      "ids N block B rt R" then one FNV-1a 64 hash (hex) per block of B ids
                       of the flags-0 encoding of the whole of bulk.txt (ids as u32 LE bytes);
                       R = 1 when the reference decodes them back to bulk.txt exactly

mistral has no PARSE_SPECIAL reference: sentencepiece never matches control tokens in text.

Usage: python3 tools/gen_tokenizer_refs.py [--models DIR] [--show-bulk NAME BLOCK]
(needs tokenizers, sentencepiece, gguf, transformers; DIR defaults to $LMRT_MODELS or
build/models; --show-bulk prints the reference ids and text of one bulk block, for debugging a
failure of check_tokenizer_real).
"""
import argparse
import json
import os
import random
import struct
import sys
import unicodedata

SEED = 20261122
# Without LM_TOK_PARSE_SPECIAL, `tokenizers` and llama.cpp still match added tokens that are
# not special (tokenizer.json "special": false, GGUF type USER_DEFINED; LFM2 has two: "python"
# and "Mathias"), and lmrt.h follows them. False writes references in which no added token
# matches without PARSE_SPECIAL (lmrt's contract before it followed the peers).
ADDED_ALWAYS_MATCH = True
OUT = "tests/data/tok"
BULK_BYTES = 1_000_000
BULK_BLOCK = 1024

# ---- corpus -------------------------------------------------------------------------------

SENTENCES = [
    # Latin with accents
    "Le cœur a ses raisons que la raison ne connaît point.",
    "Où est la bibliothèque ? À côté de l'église, près du marché.",
    "Größere Straßen führen über die Brücke nach Köln.",
    "El niño comió piña y jalapeños en el año pasado; ¿qué más?",
    "A pé, ação e coração: não há solução sem atenção.",
    "Zażółć gęślą jaźń. Źdźbło trawy.",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Tiếng Việt có dấu: Hà Nội, Đà Nẵng, thành phố Hồ Chí Minh.",
    "İstanbul'da ılık bir gün; şehir, ağaçlar ve çiçekler.",
    "Ærøskøbing og Århus ligger i Danmark; smørrebrød er godt.",
    "Fußgängerübergänge sind überall, naïve café, résumé, coöperate.",
    # Greek
    "Η γρήγορη καφετιά αλεπού πηδά πάνω από το τεμπέλικο σκυλί.",
    "Καλημέρα κόσμε· τι κάνεις; Ἐν ἀρχῇ ἦν ὁ λόγος.",
    # Cyrillic
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Привет, мир! Ёжик в тумане. Україна, Київ, їжак, ґанок.",
    "Сербия: Београд, Ђорђе, Љубљана, Њујорк, Џеф.",
    # Arabic
    "مرحبا بالعالم! كيف حالك اليوم؟",
    "اللغة العربية جميلة، وتكتب من اليمين إلى اليسار.",
    "السَّلَامُ عَلَيْكُمْ وَرَحْمَةُ اللهِ",
    # Hebrew
    "שלום עולם! מה שלומך היום?",
    "עִבְרִית נִכְתֶּבֶת מִימִין לִשְׂמֹאל.",
    # Devanagari
    "नमस्ते दुनिया! आप कैसे हैं?",
    "हिन्दी देवनागरी लिपि में लिखी जाती है। क्षत्रिय, ज्ञान, श्री।",
    "संस्कृतम् जगतः एकतमा अतिप्राचीना समृद्धा शास्त्रीया च भाषा।",
    # Thai
    "สวัสดีชาวโลก ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "กรุงเทพมหานคร อมรรัตนโกสินทร์ มหินทรายุธยา",
    # CJK
    "你好，世界！今天天气很好。",
    "中华人民共和国成立于一九四九年。北京是首都。",
    "日本語のテキスト：ひらがな、カタカナ、漢字を混ぜて書きます。",
    "東京タワーは３３３メートルです。ｶﾀｶﾅ半角もある。",
    "繁體中文：臺灣、香港、澳門。",
    # Hangul
    "안녕하세요, 세계! 한국어는 한글로 씁니다.",
    "대한민국의 수도는 서울입니다. ㄱㄴㄷㄹ ㅏㅑㅓㅕ",
    # Emoji
    "I ❤️ emoji 😀😃😄😁 and 🎉🎊!",
    "Family: 👨‍👩‍👧‍👦, couple: 👩‍❤️‍👨, rainbow flag: 🏳️‍🌈, pirate: 🏴‍☠️",
    "Flags: 🇫🇷 🇯🇵 🇺🇸 🇩🇪 🇧🇷 🇮🇳 and a subdivision 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "Skin tones: 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿; keycaps 1️⃣ 2️⃣ #️⃣",
    "🧑‍💻👩🏽‍🚀🤷‍♂️🙋‍♀️",
    # mixed scripts
    "English, Français, Deutsch, Русский, العربية, עברית, हिन्दी, ไทย, 中文, 日本語, 한국어.",
    "Math: ∀x∈ℝ, x² ≥ 0; ∑ᵢ aᵢ = ∞; α + β = γ; ½ ⅓ ¼; √2 ≈ 1.414.",
    "Symbols: © ® ™ € £ ¥ ₹ ₿ § ¶ † ‡ • … ‰ ′ ″ ← → ↑ ↓ ⇒ ⇔",
    "Quotes: “double” ‘single’ «guillemets» „German“ 「Japanese」 『nested』",
    "Dashes: hyphen-minus - en – em — minus − figure ‒ and soft\u00adhyphen",
    "Ligatures ﬁ ﬂ ﬀ, full-width ＡＢＣ１２３, circled ①②③, roman Ⅻ",
    "Combining: e\u0301 a\u0300 o\u0308 n\u0303 vs precomposed é à ö ñ",
    "Zero width: a\u200bb c\u200cd e\u200df \ufeffBOM in the middle",
    "Right-to-left mark \u200f and left-to-right \u200e and isolate \u2066x\u2069",
]

CONTRACTIONS = [
    "it's", "IT'S", "It'S", "don't", "DON'T", "Don'T", "we're", "WE'RE", "We'Re", "I've",
    "I'VE", "I'm", "I'M", "you'll", "YOU'LL", "he'd", "HE'D", "'s", "'S", "'t", "'T", "'re",
    "'RE", "'ve", "'m", "'ll", "'d", "rock 'n' roll", "''", "'''", "' s", "it’s (curly)",
    "The cat's toy isn't the dog's, they're sure.", "THEY'RE SURE IT'S FINE, WE'VE CHECKED.",
    "She said 'hello' and 'goodbye'.", "'tis the season, y'all'd've known.",
    "O'Neill's", "l'homme d'affaires", "qu'il", "rock'n'roll's", "1990's", "'90s",
]

WHITESPACE = [
    " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\r", " \n",
    "\n ", " \t \n", "\u00a0", "\u00a0\u00a0", "\u3000", "\u3000\u3000", "\u2009", "\u2002",
    "\u202f", "\u2028", "\u2029", "\u000b", "\u000c", "\u0085", "\u1680", "\u205f",
    "hello world", "hello  world", "hello   world", "hello\tworld", "hello\nworld",
    "hello\r\nworld", "hello\u00a0world", "hello\u3000world", " hello", "  hello", "hello ",
    "hello  ", " hello ", "\thello\t", "\nhello\n", "a \n b", "a\n\n\nb", "a \t\n\r b",
    "line one\r\nline two\r\nline three\r\n", "    indented four\n        eight\n",
    "trailing spaces   \nnext", "\n\n\nleading newlines", "end with newlines\n\n\n",
    "中文\u3000全角空格", "NBSP\u00a0between\u00a0words", " " * 17, "\t" * 9, "\n" * 12,
    " \u00a0 \u3000 \t \n ",
]

DIGITS = [
    "0", "7", "42", "123", "1234", "12345", "123456", "1234567", "12345678901234567890",
    "3.14159265358979323846", "2.718281828", "-42", "+1", "1e10", "6.022e23", "1,000,000",
    "1.000.000,50", "1 000 000", "0x1F3A", "0b101010", "0o777", "007", "2026-11-22",
    "12:34:56", "+1 (555) 123-4567", "192.168.0.1", "v1.2.3", "3rd 21st 42nd 100th",
    "$19.99", "€5,00", "50%", "1/2", "10^9", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "１２３４５",
    "¹²³", "₁₂₃", "Ⅰ Ⅱ Ⅲ", "๑๒๓", "一二三四五", "9" * 100, "1234567890" * 10,
    "pi is 3.14 and e is 2.72, 1000 apples", "in 1999 and 2000 and 20000",
]

CODE = [
    '#include <stdio.h>\n\nint main(void) {\n    printf("Hello, %s!\\n", "world");\n    return 0;\n}\n',
    "static inline int32_t clamp(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : x > hi ? hi : x; }",
    "for (size_t i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
    "#define MAX(a, b) ((a) > (b) ? (a) : (b))\n/* comment */ // line comment",
    "def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "class Foo(Bar):\n    \"\"\"Docstring.\"\"\"\n\n    def __init__(self, x=None, *args, **kwargs):\n        super().__init__()\n        self._x = x or {}\n",
    "import numpy as np\nx = np.arange(10)[::2] ** 2  # squares\nprint(f\"{x!r:>10}\")",
    "lambda x: [y for y in range(x) if y % 3 == 0]",
    '{"name": "lmrt", "version": 1, "tags": ["c", "llm"], "nested": {"a": null, "b": true, "c": -1.5e-3}}',
    '[\n  {\n    "id": 1,\n    "text": "caf\\u00e9 \\"quoted\\""\n  }\n]',
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Test</title></head>\n<body><p class="x">Hi &amp; bye &lt;3</p></body>\n</html>',
    "<div id=\"main\" style=\"color: red;\"><a href=\"https://example.com/?q=1&r=2#frag\">link</a></div>",
    "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC;",
    "if [ -f \"$HOME/.bashrc\" ]; then . \"$HOME/.bashrc\"; fi && echo $((1 + 2)) | tee /dev/null",
    "fn main() { let v: Vec<u8> = vec![1, 2, 3]; println!(\"{:?}\", v); }",
    "const f = async (x) => { await fetch(`/api/${x}`); return x?.y ?? 0; };",
    "^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$",
    "a==b!=c<=d>=e&&f||g<<h>>i+=j-=k*=l/=m%=n^=o|=p&=q",
    "    \n\t\tif (x) {\n\t\t\treturn;\n\t\t}\n",
    "https://en.wikipedia.org/wiki/Byte_pair_encoding?action=edit&section=2",
    "user@example.com, first.last+tag@sub.domain.co.uk",
    "C:\\Users\\Name\\Documents\\file.txt and /usr/local/lib/liblmrt.a",
    "```python\nprint('hi')\n```\n| a | b |\n|---|---|\n| 1 | 2 |",
    "[1,2,3]", "{}", "()", "[]", "<>", "\"\"", "''", "``", ";;", "...", "!!!", "???", "---", "___",
    "***", "###", "@@@", "$$$", "%%%", "^^^", "&&&", "|||", "~~~", "+++", "===", "///", "\\\\\\",
]

SPECIALS = [
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|startoftext|>", "<|pad|>", "<s>", "</s>",
    "<unk>", "[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "<|tool_call_start|>",
    "<|tool_call_end|>", "<repo_name>", "<file_sep>", "<|fim_pre|>", "<|reserved_6|>",
]

SPECIAL_TEXTS = [
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
    "<s>[INST] What is 2+2? [/INST] 4</s>",
    "[CLS] first sentence [SEP] second sentence [SEP]",
    "text<|endoftext|>more text<|endoftext|>",
    "<|startoftext|>Hello<|im_end|>", "<|im_start|><|im_end|>", "<|im_start|> <|im_end|>",
    " <|im_start|>", "<|im_start|> ", "x<|im_start|>y", "<|im_start", "im_start|>",
    "<|im_start|>>", "<<|im_end|>", "<|IM_START|>", "[cls]", "[Cls]", "[CLS", "CLS]",
    "< s>", "<s >", "</ s>", "<<s>>", "<s><s></s></s>", "[MASK][MASK] [PAD]",
    "<|tool_call_start|>[get_weather(city=\"Paris\")]<|tool_call_end|>",
    "<repo_name>lmrt<file_sep>main.c", "I like python and Mathias likes Python too",
    "pythonic python3 Mathias' Mathiasson", "<|reserved_6|><|reserved_7|>",
    "<|fim_pre|>def f():<|fim_suf|>\n<|fim_mid|>", "<jupyter_code>print(1)<jupyter_output>1",
]

INVALID = [
    b"\x80", b"\xbf", b"\x80\x80\x80", b"abc\x80def", b"\xc3", b"\xc3(", b"\xe6\x97",
    b"\xe6\x97x", b"\xf0\x9f\x98", b"\xf0\x9f\x98 ok", b"\xf0\x9f", b"\xc0\x80", b"\xc1\xbf",
    b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80",
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0\xbd\xed\xb8\x80", b"\xff", b"\xfe", b"\xff\xfe",
    b"\xfe\xff", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"a\xffb\xfec", b"\xe2\x82",
    b"\xe2\x82\xac\xe2\x82", b"\xce\xb1\xce", b"hello \xc3\xa9\xc3 world", b"\x00",
    b"a\x00b", b"\x01\x02\x03\x1f\x7f", b"\xef\xbf\xbd", b"\xef\xbb\xbf", b"\xc2\xa0\xc2",
    b"\xe0\xa4", b"\xe0\xa4\xa8\xe0", b"\xe3\x81\x82\xe3\x81", b"\xf0\x90\x8d\x88\xf0\x90",
    b"\x80abc", b"abc\xf0", b"\xc3\xa9\x80\xc3\xa9", b"\xe0\xa0", b"\xe0\x9f\x80",
    b"\xf4\x8f\xbf\xbf", b"\xf0\x90\x80\x80",
]

# code-point pools per script for random strings (only assigned code points are kept)
POOLS = {
    "latin": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "accents": [chr(c) for c in range(0xC0, 0x250) if c not in (0xD7, 0xF7)],
    "greek": [chr(c) for c in range(0x391, 0x3CA) if c != 0x3A2],
    "cyrillic": [chr(c) for c in range(0x400, 0x460)],
    "arabic": [chr(c) for c in range(0x621, 0x656)],
    "hebrew": [chr(c) for c in range(0x5D0, 0x5EB)],
    "devanagari": [chr(c) for c in range(0x904, 0x950)],
    "thai": [chr(c) for c in range(0xE01, 0xE3B)] + [chr(c) for c in range(0xE40, 0xE4F)],
    "cjk": [chr(c) for c in range(0x4E00, 0x9FA5)],
    "kana": [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x30A1, 0x30FB)],
    "hangul": [chr(c) for c in range(0xAC00, 0xD7A4)],
    "emoji": [chr(c) for c in range(0x1F600, 0x1F650)] + [chr(c) for c in range(0x1F300, 0x1F5FF)],
    "digits": "0123456789",
    "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»“”‘’—–…·•",
    "space": [" ", " ", " ", "\t", "\n", "\r\n", "\u00a0", "\u3000"],
    "combining": [chr(c) for c in range(0x300, 0x370)],
}
POOLS = {k: [c for c in v if len(c) > 1 or unicodedata.category(c) != "Cn"] for k, v in POOLS.items()}

WORDS = {
    "en": "the of and to in is that it was for on are as with his they at be this from have or "
    "by one had not but what all were when we there can an your which their said if do will "
    "each about how up out them then she many some so these would other into has more her two "
    "like him see time could no make than first been its who now people my made over did down "
    "only way find use may water long little very after words called just where most know get "
    "through back much before go good new write our used me man too any day same right look "
    "think also around another came come work three word must because does part even place "
    "well such here take why things help put years different away again off went old number "
    "great tell men say small every found still between name should home big give air line set "
    "own under read last never us left end along while might next sound below saw something "
    "thought both few those always looked show large often together asked house don't world "
    "going want school important until form food keep children feet land side without boy once "
    "animals life enough took sometimes four head above kind began almost live page got earth "
    "need far hand high year mother light parts country father let night following picture "
    "being study second eyes soon times story boys since white days ever paper hard near "
    "sentence better best across during today others however sure means knew it's try told "
    "young miles sun ways thing whole hear example heard several change answer room sea against "
    "top turned learn point city play toward five using himself usually model runtime tensor "
    "kernel token memory thread cache vector matrix layer weight",
    "fr": "le la les de des un une et est dans pour que qui avec sur pas plus par ce il elle nous "
    "vous être avoir fait très où déjà été après français théâtre forêt garçon noël hôpital",
    "de": "der die das und ist nicht ein eine mit auf für von dem den zu sich auch über größer "
    "schön müssen würde früh Straße Mädchen Übung Öl Äpfel heißen",
    "es": "el la los las de que y en un una por con para es está niño año mañana también así "
    "corazón canción pequeño",
    "ru": "и в не на я быть он с что а по это она этот к но они мы как из у который то за свой "
    "весь год от так о для ещё жизнь человек время",
    "el": "και το να η ο της του με για που από στο είναι δεν θα τα οι στην ένα μια",
    "ar": "في من على إلى أن هذا التي الذي مع كان عن ما هو لا كل بين قد العالم اليوم",
    "he": "של את על לא זה עם הוא היא גם כל אני אבל יש מה היום עולם",
    "hi": "के है में की और से को का एक पर यह था कि भी नहीं हैं लिए तो हिन्दी भाषा",
    "th": "ที่ และ ของ ใน การ เป็น มี ไม่ ได้ ให้ ว่า จะ กับ คน ภาษา ไทย",
    "zh": "的 一 是 在 不 了 有 和 人 这 中 大 为 上 个 国 我 以 要 他 时 来 用 们 生 到 作 地 于 出 就 分 对 成 会 可 主 发 年 动",
    "ja": "の に は を た が で て と し れ さ ある いる する こと 日本 東京 ひらがな カタカナ 漢字",
    "ko": "이 그 저 것 수 등 들 및 에서 하다 있다 되다 한국어 서울 사람 시간",
}
WORDS = {k: v.split() for k, v in WORDS.items()}


def utf8(s):
    return s.encode("utf-8")


def rand_sentence(rng, lang, n_lo=3, n_hi=14):
    words = [rng.choice(WORDS[lang]) for _ in range(rng.randint(n_lo, n_hi))]
    sep = "" if lang in ("zh", "ja", "th") else " "
    s = sep.join(words)
    if lang not in ("zh", "ja", "th", "ar", "he", "hi", "ko"):
        s = s[0].upper() + s[1:]
    return s + rng.choice([".", ".", "!", "?", "", "。" if lang in ("zh", "ja") else ","])


def rand_soup(rng, n):
    pools = list(POOLS)
    out = []
    for _ in range(n):
        out.append(rng.choice(POOLS[rng.choice(pools)]))
    return "".join(out)


def rand_script_word(rng, pool, n):
    return "".join(rng.choice(POOLS[pool]) for _ in range(n))


def mutate_invalid(rng, b):
    """Insert an invalid sequence into valid bytes, or cut a multi-byte character short."""
    pos = rng.randint(0, len(b))
    if rng.random() < 0.5 or len(b) == 0:
        return b[:pos] + rng.choice(INVALID[:31]) + b[pos:]
    return b[:-1] if b[-1] >= 0x80 else b + rng.choice([b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98"])


def make_corpus():
    rng = random.Random(SEED)
    recs = [b""]
    recs += [bytes([c]) for c in range(128)]  # every ASCII character alone, NUL included
    singles = "éßΩЖعשकก中한😀\ufffd\u00a0\u3000\u200d\ufeff\u0301ñÅøłİıſǅẞ€∞√☃♥✓𝔸𐍈"
    recs += [utf8(c) for c in singles]
    fixed = SENTENCES + CONTRACTIONS + WHITESPACE + DIGITS + CODE + SPECIALS + SPECIAL_TEXTS
    recs += [utf8(s) for s in fixed]
    recs += INVALID
    # very long words and runs
    recs += [
        b"a" * 10000,
        utf8("".join(rng.choice(POOLS["latin"]) for _ in range(10000))),
        utf8("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10000))),
        b"ab" * 5000,
        utf8("é" * 10000),
        utf8("".join(rng.choice(POOLS["cyrillic"]) for _ in range(10000))),
        utf8("".join(rng.choice(POOLS["cjk"]) for _ in range(3000))),
        utf8("".join(rng.choice(POOLS["hangul"]) for _ in range(3000))),
        utf8("".join(rng.choice(POOLS["thai"]) for _ in range(3000))),
        utf8("😀" * 2500),
        utf8("".join(rng.choice("0123456789") for _ in range(10000))),
        b" " * 10000,
        b"\n" * 5000,
        utf8("word " * 2000),
        utf8("supercalifragilisticexpialidocious" * 300),
        utf8("Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft" * 100),
        b"\x80" * 3000,
        utf8("<|im_start|>" * 500),
        utf8("x" * 99), utf8("x" * 100), utf8("x" * 101), utf8("é" * 100), utf8("é" * 101),
    ]
    # every special string embedded in text, both cases of contraction next to it
    for sp in SPECIALS:
        recs.append(utf8(f"Hello {sp} world"))
        recs.append(utf8(f"{sp}{sp}"))
        recs.append(utf8(f"it's{sp}IT'S"))
    # random material up to the target size
    langs = list(WORDS)
    kinds = ["sentence", "soup", "script", "bytes", "mutate", "special", "ws", "number", "mixed"]
    while len(recs) < 2400:
        kind = rng.choice(kinds)
        if kind == "sentence":
            s = rand_sentence(rng, rng.choice(langs))
            recs.append(utf8(s))
        elif kind == "soup":
            recs.append(utf8(rand_soup(rng, rng.randint(1, 40))))
        elif kind == "script":
            pool = rng.choice(list(POOLS))
            words = [rand_script_word(rng, pool, rng.randint(1, 12)) for _ in range(rng.randint(1, 6))]
            recs.append(utf8(rng.choice([" ", "", "\n", "  ", ", "]).join(words)))
        elif kind == "bytes":
            recs.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 32))))
        elif kind == "mutate":
            base = utf8(rand_sentence(rng, rng.choice(langs)))
            recs.append(mutate_invalid(rng, base))
        elif kind == "special":
            parts = []
            for _ in range(rng.randint(2, 6)):
                r = rng.random()
                parts.append(rng.choice(SPECIALS) if r < 0.4 else rand_sentence(rng, "en", 1, 4)
                             if r < 0.8 else rng.choice(WHITESPACE[:28]))
            recs.append(utf8("".join(parts)))
        elif kind == "ws":
            parts = [rng.choice(WHITESPACE[:28]) if rng.random() < 0.5 else rng.choice(WORDS["en"])
                     for _ in range(rng.randint(1, 10))]
            recs.append(utf8("".join(parts)))
        elif kind == "number":
            n = rng.randint(1, 40)
            digits = "".join(rng.choice("0123456789") for _ in range(n))
            fmt = rng.choice(["{}", " {}", "{} ", "x{}y", "{}.5", "-{}", "{}%", "$ {}", "({})"])
            recs.append(utf8(fmt.format(digits)))
        else:
            ctr = rng.choice(CONTRACTIONS[:27])
            word = rng.choice(WORDS["en"])
            if rng.random() < 0.5:
                word = word.upper()
            recs.append(utf8(f"{word}{ctr} {rand_sentence(rng, rng.choice(langs), 1, 5)}"))
    return recs


# ---- bulk text ----------------------------------------------------------------------------

def code_block(rng):
    ident = lambda: rng.choice(WORDS["en"][:200]).replace("'", "") + rng.choice(["", "_", "2", "_id"])
    kind = rng.randrange(3)
    if kind == 0:
        name, a, b = ident(), ident(), ident()
        return (f"def {name}({a}, {b}=None):\n    if {b} is None:\n        {b} = {rng.randint(0, 999)}\n"
                f"    return [{a} * i for i in range({b})]\n")
    if kind == 1:
        name, a = ident(), ident()
        return (f"static int {name}(const float *{a}, int n) {{\n    int k = 0;\n"
                f"    for (int i = 0; i < n; i++)\n        if ({a}[i] > {rng.random():.3f}f) k++;\n"
                f"    return k;\n}}\n")
    items = ", ".join(f'"{ident()}": {rng.randint(-1000, 100000)}' for _ in range(rng.randint(2, 6)))
    return "{" + items + "}\n"


def make_bulk():
    rng = random.Random(SEED + 1)
    langs = list(WORDS)
    weights = [60 if l == "en" else 3 for l in langs]
    out, size = [], 0
    while size < BULK_BYTES:
        r = rng.random()
        if r < 0.85:
            lang = rng.choices(langs, weights)[0]
            para = " ".join(rand_sentence(rng, lang, 4, 22) for _ in range(rng.randint(2, 7)))
            if rng.random() < 0.3:
                para += f" In {rng.randint(1900, 2030)} it cost ${rng.randint(1, 99999)}.{rng.randint(0, 99):02d}."
        elif r < 0.95:
            para = code_block(rng)
        else:
            para = "\n".join(f"- {rand_sentence(rng, 'en', 2, 8)}" for _ in range(rng.randint(2, 5)))
        b = utf8(para + "\n\n")
        out.append(b)
        size += len(b)
    return b"".join(out)


# ---- reference tokenizers -------------------------------------------------------------------

def load_refs(models):
    """name -> dict(enc(text, flags) -> ids, dec(ids) -> str, flags=[variants])."""
    import sentencepiece as spm
    from tokenizers import AddedToken, Tokenizer, decoders, models as tkm, pre_tokenizers

    refs = {}

    def hf(tok, name, variants, has_rt):
        tok.no_truncation()
        tok.no_padding()
        # flags 0 per lmrt.h: special tokens do not match, user-defined added ones do (unless
        # ADDED_ALWAYS_MATCH is off: then they are made special too, so nothing matches)
        j = json.loads(tok.to_str())
        for a in j.get("added_tokens") or []:
            a["special"] = a["special"] or not ADDED_ALWAYS_MATCH
        plain = Tokenizer.from_str(json.dumps(j))

        def enc(text, parse_special, add_special):
            t = tok if parse_special else plain
            t.encode_special_tokens = not parse_special
            return t.encode(text, add_special_tokens=add_special).ids

        def dec(ids):
            return tok.decode(ids, skip_special_tokens=False)

        kind = {"BPE": "bpe", "WordPiece": "wpm"}[type(tok.model).__name__]
        refs[name] = dict(enc=enc, dec=dec if has_rt else None, variants=variants, kind=kind,
                          n_vocab=tok.get_vocab_size(with_added_tokens=True))

    # SmolLM2: transformers' GGUF conversion (no torch needed: metadata read with gguf-py)
    import gguf
    from transformers.integrations.gguf.gguf_tokenizer_mapping import (GGUF_TOKENIZER_MAPPING,
                                                                       convert_gguf_tokenizer)
    path = os.path.join(models, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    r = gguf.GGUFReader(path)
    md = {k: f.contents() for k, f in r.fields.items()
          if k.startswith("tokenizer.ggml.") or k == "general.architecture"}
    tdict = {name: md["tokenizer." + key] for key, name in GGUF_TOKENIZER_MAPPING["tokenizer"].items()
             if "tokenizer." + key in md}
    conv, _ = convert_gguf_tokenizer(md["general.architecture"], tdict)
    # the reference: the "smollm" pre-tokenizer (numerics one by one, then the GPT-2 regex)
    vocab = {t: i for i, t in enumerate(tdict["tokens"])}
    merges = [tuple(m.split(" ")) for m in tdict["merges"]]
    alt = Tokenizer(tkm.BPE(vocab, merges))
    alt.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    alt.decoder = decoders.ByteLevel()
    alt.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(tdict["tokens"], tdict["token_type"]) if ty == 3])
    hf(alt, "smollm2", ["ids", "special"], True)
    hf(conv, "smollm2-conv", ["ids", "special"], True)

    hf(Tokenizer.from_file(os.path.join(models, "minilm", "tokenizer.json")), "minilm",
       ["ids", "special", "add"], False)
    hf(Tokenizer.from_file(os.path.join(models, "lfm2", "tokenizer.json")), "lfm2",
       ["ids", "special", "add"], True)

    sp = spm.SentencePieceProcessor(model_file=os.path.join(models, "mistral", "tokenizer.model.v1"))
    refs["mistral"] = dict(enc=lambda text, parse_special, add_special: sp.encode(text, add_bos=add_special),
                           dec=sp.decode, variants=["ids", "add"], kind="spm",
                           n_vocab=sp.vocab_size())
    return refs


VARIANT_FLAGS = {"ids": (False, False), "special": (True, False), "add": (True, True)}


def fnv1a64_ids(ids):
    h = 0xCBF29CE484222325
    for b in struct.pack(f"<{len(ids)}I", *ids):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def write_lines(path, lines):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def write_sparse(path, rows, pick):
    write_lines(path, [f"{i}: " + " ".join(map(str, rows[i])) for i in pick])


def add_sample(i, text):
    return (i % 8 == 0 or text == "" or "<" in text or "[" in text or text[0].isspace()
            or text[-1].isspace())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=os.environ.get("LMRT_MODELS", "build/models"))
    ap.add_argument("--show-bulk", nargs=2, metavar=("NAME", "BLOCK"))
    args = ap.parse_args()

    recs = make_corpus()
    bulk = make_bulk()
    refs = load_refs(args.models)
    bulk_text = bulk.decode("utf-8")

    if args.show_bulk:
        name, block = args.show_bulk[0], int(args.show_bulk[1])
        ref = refs[name]
        ids = ref["enc"](bulk_text, False, False)
        part = ids[block * BULK_BLOCK:(block + 1) * BULK_BLOCK]
        print(" ".join(map(str, part)))
        if ref["dec"]:
            print(repr(ref["dec"](part)))
        return

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "corpus.bin"), "wb") as f:
        for r in recs:
            f.write(struct.pack("<I", len(r)) + r)
    with open(os.path.join(OUT, "bulk.txt"), "wb") as f:
        f.write(bulk)
    texts = [r.decode("utf-8", errors="replace") for r in recs]
    valid = [r == t.encode("utf-8") for r, t in zip(recs, texts)]

    results = {}
    for name, ref in refs.items():
        out = {}
        for v in ref["variants"]:
            parse_special, add_special = VARIANT_FLAGS[v]
            if name == "mistral" and v == "add":
                parse_special = False
            out[v] = [ref["enc"](t, parse_special, add_special) for t in texts]
        results[name] = out
    # the two SmolLM2 references may differ only where numerics meet whitespace or each other
    numeric = lambda t: any(unicodedata.category(c) in ("Nd", "Nl", "No") for c in t)
    for v in ("ids", "special"):
        diff = [i for i, (a, b) in enumerate(zip(results["smollm2"][v], results["smollm2-conv"][v])) if a != b]
        bad = [i for i in diff if not numeric(texts[i])]
        if bad:
            i = bad[0]
            sys.exit(f"smollm2 references disagree on {len(bad)} records without numerics ({v}); first "
                     f"{i}: {texts[i]!r}: {results['smollm2'][v][i]} vs {results['smollm2-conv'][v][i]}")
        print(f"smollm2 ({v}): transformers' GGUF conversion differs on {len(diff)} records, "
              "all with numeric characters", file=sys.stderr)
    del refs["smollm2-conv"], results["smollm2-conv"]

    for name, ref in refs.items():
        out = results[name]
        base = out["ids"]
        write_lines(os.path.join(OUT, f"ref_{name}.ids"), [" ".join(map(str, ids)) for ids in base])
        if "special" in out:
            pick = [i for i, ids in enumerate(out["special"]) if ids != base[i]]
            write_sparse(os.path.join(OUT, f"ref_{name}.special.ids"), out["special"], pick)
        if "add" in out:
            pick = [i for i, t in enumerate(texts) if add_sample(i, t)]
            write_sparse(os.path.join(OUT, f"ref_{name}.add.ids"), out["add"], pick)
        if ref["dec"]:
            rt = ["1" if valid[i] and ref["dec"](ids) == texts[i] else "0" for i, ids in enumerate(out["ids"])]
            write_lines(os.path.join(OUT, f"ref_{name}.rt"), rt)
        write_lines(os.path.join(OUT, f"ref_{name}.meta"), [f"kind {ref['kind']} n_vocab {ref['n_vocab']}"])
        ids = ref["enc"](bulk_text, False, False)
        bulk_rt = 1 if ref["dec"] and ref["dec"](ids) == bulk_text else 0
        lines = [f"ids {len(ids)} block {BULK_BLOCK} rt {bulk_rt}"]
        lines += [f"{fnv1a64_ids(ids[k:k + BULK_BLOCK]):016x}" for k in range(0, len(ids), BULK_BLOCK)]
        write_lines(os.path.join(OUT, f"ref_{name}.bulk"), lines)
        n_rt = sum(1 for x in rt if x == "1") if ref["dec"] else 0
        print(f"{name}: {len(recs)} records, bulk {len(bulk)} bytes -> {len(ids)} ids"
              f" (rt {bulk_rt}), round-trip records {n_rt}", file=sys.stderr)


if __name__ == "__main__":
    main()
