#!/usr/bin/env python3
"""tools/check_tiny_tokenizers.py - do lmrt's tokenizers read the tiny models' tokenizers?

For every model under tests/data/models, encodes the 200 shared sentences, the prompts and the
texts recorded in its ref.json with `build/lmrt tokenize -m` on both hf/ (tokenizer.json) and
model-f32.gguf, and compares the ids with Hugging Face's tokenizer on hf/ (the ids the
references were computed from; BOS/CLS/SEP added as the tokenizer says). Prints one line per
model and file kind, and every mismatch; exits 1 when any. A development check of the golden
data, not a test suite (it needs transformers).

Usage: python3 tools/check_tiny_tokenizers.py [--data tests/data/models] [--lmrt build/lmrt]
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_text as gt  # noqa: E402


def lmrt_ids(lmrt, model, text):
    r = subprocess.run([lmrt, "tokenize", "-m", model], input=text.encode("utf-8"),
                       capture_output=True)
    if r.returncode != 0:
        return "error: " + r.stderr.decode("utf-8", "replace").strip()
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="tests/data/models")
    ap.add_argument("--lmrt", default="build/lmrt")
    a = ap.parse_args()
    import transformers
    from transformers import AutoTokenizer

    transformers.logging.set_verbosity_error()  # texts longer than the tiny models' context

    bad_total = 0
    for name in sorted(os.listdir(a.data)):
        d = os.path.join(a.data, name)
        if not os.path.isfile(os.path.join(d, "ref.json")):
            continue
        ref = json.load(open(os.path.join(d, "ref.json"), encoding="utf-8"))
        recs = ref.get("prompts") or ref.get("texts")
        texts = [r["text"] for r in recs] + gt.SENTENCES + gt.PROMPTS
        tok = AutoTokenizer.from_pretrained(os.path.join(d, "hf"))
        want = [tok(t).input_ids for t in texts]
        for r, w in zip(recs, want):
            assert r["ids"] == w, (name, r["text"])
        for kind, path in (("hf/", os.path.join(d, "hf")),
                           ("gguf", os.path.join(d, "model-f32.gguf"))):
            bad = 0
            for t, w in zip(texts, want):
                got = lmrt_ids(a.lmrt, path, t)
                if got != w:
                    bad += 1
                    print(f"  {name} {kind}: {t!r}\n    lmrt {got}\n    hf   {w}")
            print(f"{name:12s} {kind:5s} {len(texts) - bad}/{len(texts)} texts match")
            bad_total += bad
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())
