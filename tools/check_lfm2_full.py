#!/usr/bin/env python3
"""tools/check_lfm2_full.py OUTDIR - lmrt on the LFM2-350M-shaped random model that
tools/gen_lfm2_full.py wrote into OUTDIR, against its references (transformers f32 on hf/,
llama-cpp-python on the GGUFs).

For the HF directory and the f32 GGUF, lmrt's logits at every position of the 10 prompts come
from build/dump_logits three ways: all prompts as sequences of one batch, all prompts advanced
together one token per forward (conv state per sequence across decode steps), and each prompt
alone in 7-token chunks in a reused, cleared sequence. Each is compared with transformers'
logits (max |diff| over the logit range, argmax agreement) and with llama-cpp-python's. The
quantized GGUFs (q8_0, q4_0) are compared by argmax with llama-cpp-python on the same files.

Prints one TSV line per comparison; exits 1 if argmax agreement with transformers (f32) is
below 99.9% of positions.
"""
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DUMP = os.path.join(ROOT, "build", "dump_logits")


def run(model, ids_path, mode, out):
    subprocess.run([DUMP, model, ids_path, out, "--mode", mode], check=True)
    return np.fromfile(out, dtype=np.float32)


def main():
    d = sys.argv[1]
    ref = json.load(open(os.path.join(d, "ref.json")))
    prompts = [p["ids"] for p in ref["prompts"]]
    rows = sum(len(p) for p in prompts)
    V = 65536
    ids_path = os.path.join(d, "ids.json")
    json.dump(prompts, open(ids_path, "w"))
    hf = np.fromfile(os.path.join(d, "logits_hf.f32"), dtype=np.float32).reshape(rows, V)
    lc = np.fromfile(os.path.join(d, "logits_gguf.f32"), dtype=np.float32).reshape(rows, V)
    rng = float(hf.max() - hf.min())
    print("model\tmode\treference\tmax_abs_diff/range\targmax_agree")
    ok = True
    for model in ("hf", "lfm2-350m-shape-f32.gguf"):
        for mode in ("batch", "decode", "chunks"):
            out = os.path.join(d, "lmrt_%s_%s.f32" % (model.split(".")[0], mode))
            got = run(os.path.join(d, model), ids_path, mode, out).reshape(rows, V)
            for name, want in (("transformers", hf), ("llama.cpp", lc)):
                diff = float(np.abs(got - want).max()) / rng
                agree = int((got.argmax(1) == want.argmax(1)).sum())
                print("%s\t%s\t%s\t%.2e\t%d/%d (%.2f%%)" % (model, mode, name, diff, agree, rows,
                                                             100.0 * agree / rows))
                if name == "transformers" and agree < 0.999 * rows:
                    ok = False
            os.remove(out)
    for q in ("q8_0", "q4_0"):
        path = os.path.join(d, "lfm2-350m-shape-%s.gguf" % q)
        want = np.fromfile(os.path.join(d, "logits_gguf_%s.f32" % q),
                           dtype=np.float32).reshape(rows, V).argmax(1)
        out = os.path.join(d, "lmrt_%s.f32" % q)
        got = run(path, ids_path, "batch", out).reshape(rows, V).argmax(1)
        os.remove(out)
        agree = int((got == want).sum())
        ref_agree = int((hf.argmax(1) == want).sum())
        print("%s\tbatch\tllama.cpp argmax\t\t%d/%d (%.2f%%; llama.cpp vs f32 transformers "
              "%.2f%%)" % (os.path.basename(path), agree, rows, 100.0 * agree / rows,
                           100.0 * ref_agree / rows))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
