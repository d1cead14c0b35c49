#!/usr/bin/env python3
"""tools/check_llama_cpp.py - do llama.cpp and its converter agree with what lmrt writes?

Makes GGUF files with `lmrt quantize` (SmolLM2-135M Q4_1 -> q8_0, q4_0, f16) and `lmrt convert`
(all-MiniLM-L6-v2 -> f32, f16), then, with llama-cpp-python (PyPI):
  - loads every file (Llama(model_path=...)), and greedily continues a prompt with each SmolLM2
    file, printing the text (the quantized files need not agree with each other token for token);
  - embeds sentences with the converted MiniLM files and compares them with sentence-transformers
    on the same directory (cosine; fails below --min-cos);
compares `lmrt quantize` with llama.cpp's own quantizer (llama_model_quantize) on the same input:
the same keys, tensor order and types (except Q5_0/Q5_1, which lmrt does not write: Q8_0 there),
and reports how many tensors are byte-identical;
and, when given --converter (llama.cpp's convert_hf_to_gguf.py from the llama-cpp-python sdist,
which needs torch), converts MiniLM with it too and compares its keys and tensors with ours.
Exit status 1 on any failure. Nothing here runs in `ninja test` (it needs the Python peers).

    python3 tools/check_llama_cpp.py [--lmrt build/lmrt] [--models build/models] [--out DIR]
        [--converter PATH/convert_hf_to_gguf.py] [--min-cos 0.9999]
"""
import argparse
import os
import subprocess
import sys
import tempfile

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on stage.",
    "Embeddings map text to vectors.",
    "What is the capital of France?",
    "lmrt is a transformer runtime written in C.",
]
# keys whose values come from the model card or a hash of token ids, not from the weights
SKIP_KEYS = ("general.", "tokenizer.ggml.pre")


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def compare_gguf(ours, theirs):
    import numpy as np
    from gguf import GGUFReader

    a, b = GGUFReader(ours), GGUFReader(theirs)

    def kv(r):
        return {k: f.contents() for k, f in r.fields.items()
                if not k.startswith("GGUF.") and not k.startswith(SKIP_KEYS)}

    ka, kb = kv(a), kv(b)
    bad = 0
    for k in sorted(set(ka) | set(kb)):
        if ka.get(k) != kb.get(k):
            bad += 1
            print(f"  key {k}: lmrt {str(ka.get(k))[:60]!r} llama.cpp {str(kb.get(k))[:60]!r}")
    ta = {t.name: t for t in a.tensors}
    tb = {t.name: t for t in b.tensors}
    if set(ta) != set(tb):
        bad += 1
        print("  tensor names differ:", sorted(set(ta) ^ set(tb))[:10])
    for n in sorted(set(ta) & set(tb)):
        x, y = ta[n], tb[n]
        same = (x.tensor_type == y.tensor_type and list(x.shape) == list(y.shape) and
                np.array_equal(np.asarray(x.data).view(np.uint8), np.asarray(y.data).view(np.uint8)))
        if not same:
            bad += 1
            print(f"  tensor {n}: {x.tensor_type.name} {list(x.shape)} vs {y.tensor_type.name} {list(y.shape)}")
    print(f"  {len(ka)} keys, {len(ta)} tensors compared, {bad} differences")
    return bad == 0


def quantize_vs_llama_cpp(lmrt, src, out):
    import ctypes
    import numpy as np
    import llama_cpp
    from gguf import GGUFReader

    ftypes = {"q8_0": 7, "q4_0": 2, "q4_1": 3, "f16": 1, "q4_k": 15, "q5_k": 17, "q6_k": 18}
    ok = True
    for name, ft in ftypes.items():
        theirs, ours = os.path.join(out, f"llama-cpp-{name}.gguf"), os.path.join(out, f"lmrt-{name}.gguf")
        p = llama_cpp.llama_model_quantize_default_params()
        p.ftype, p.allow_requantize = ft, True
        if llama_cpp.llama_model_quantize(src.encode(), theirs.encode(), ctypes.byref(p)) != 0:
            print(f"{name}: llama.cpp's quantizer failed")
            ok = False
            continue
        subprocess.run([lmrt, "quantize", src, ours, name], check=True, stderr=subprocess.DEVNULL)
        a, b = GGUFReader(theirs), GGUFReader(ours)
        ka = {k: f.contents() for k, f in a.fields.items() if not k.startswith("GGUF.")}
        kb = {k: f.contents() for k, f in b.fields.items() if not k.startswith("GGUF.")}
        ta, tb = a.tensors, b.tensors
        bad = [k for k in set(ka) | set(kb) if ka.get(k) != kb.get(k)]
        bad += ["tensor order"] if [t.name for t in ta] != [t.name for t in tb] else []
        same_bytes = 0
        for x, y in zip(ta, tb):
            tx, ty = x.tensor_type.name, y.tensor_type.name
            if tx != ty and not (tx in ("Q5_0", "Q5_1") and ty == "Q8_0"):
                bad.append(f"{x.name}: {tx} vs {ty}")
            same_bytes += np.array_equal(np.asarray(x.data).view(np.uint8),
                                         np.asarray(y.data).view(np.uint8))
        ok &= not bad
        print(f"quantize {name}: keys/order/types {'agree' if not bad else 'DIFFER: ' + str(bad[:4])}; "
              f"{same_bytes}/{len(ta)} tensors byte-identical to llama.cpp's")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lmrt", default="build/lmrt")
    ap.add_argument("--models", default=os.environ.get("LMRT_MODELS", "build/models"))
    ap.add_argument("--out", default=None, help="directory for the files (default: a temp dir)")
    ap.add_argument("--converter", default=None)
    ap.add_argument("--min-cos", type=float, default=0.9999)
    args = ap.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="lmrt_llama_cpp.")
    os.makedirs(out, exist_ok=True)
    smol = os.path.join(args.models, "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    minilm = os.path.join(args.models, "minilm")

    files = {"smollm2-q4_1 (input)": smol}
    for t in ("q8_0", "q4_0", "f16"):
        p = os.path.join(out, f"smollm2-{t}.gguf")
        run([args.lmrt, "quantize", smol, p, t])
        files[f"smollm2-{t}"] = p
    for t in ("f32", "f16"):
        p = os.path.join(out, f"minilm-{t}.gguf")
        run([args.lmrt, "convert", minilm, p, "--outtype", t])
        files[f"minilm-{t}"] = p

    from llama_cpp import Llama

    ok = True
    prompt = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    for name, path in files.items():
        if not name.startswith("smollm2"):
            continue
        llm = Llama(model_path=path, n_ctx=256, verbose=False, seed=0)
        res = llm(prompt, max_tokens=16, temperature=0.0)
        print(f"{name}: loads; greedy: {res['choices'][0]['text']!r}")
        del llm

    ok &= quantize_vs_llama_cpp(args.lmrt, smol, out)

    from sentence_transformers import SentenceTransformer
    import numpy as np

    ref = SentenceTransformer(minilm, device="cpu").encode(SENTENCES, normalize_embeddings=True)
    for t in ("f32", "f16"):
        llm = Llama(model_path=files[f"minilm-{t}"], embedding=True, verbose=False)
        got = np.array([llm.embed(s) for s in SENTENCES], dtype=np.float64)
        got /= np.linalg.norm(got, axis=1, keepdims=True)
        cos = (got * ref).sum(axis=1)
        need = args.min_cos if t == "f32" else min(args.min_cos, 0.999)
        status = "ok" if cos.min() >= need else "FAIL"
        ok &= status == "ok"
        print(f"minilm-{t}: llama.cpp embedding vs sentence-transformers: min cosine "
              f"{cos.min():.6f} (need {need}) {status}")
        del llm

    if args.converter:
        ref_path = os.path.join(out, "minilm-f32.llama-cpp.gguf")
        env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(args.converter), "gguf-py"))
        subprocess.run([sys.executable, args.converter, minilm, "--outfile", ref_path,
                        "--outtype", "f32"], check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        print("lmrt convert vs llama.cpp's converter (minilm, f32):")
        ok &= compare_gguf(files["minilm-f32"], ref_path)

    print("all checks passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
