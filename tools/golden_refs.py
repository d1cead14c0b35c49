"""tools/golden_refs.py - shared plumbing of the model reference scripts.

gen_model_golden.py, gen_real_golden.py and gen_lfm2_full.py use it to:
  - find llama.cpp's own HF -> GGUF converter: it ships in the llama-cpp-python source
    distribution of the installed llama-cpp-python version (vendor/llama.cpp/), which is fetched
    from PyPI with pip into a work directory when not already there (nothing of it is committed);
  - run that converter in a child process with its own gguf-py first on sys.path, optionally with
    the BPE pre-tokenizer lookup answered by us (tiny tokenizers have no known hash);
  - run llama-cpp-python on a GGUF (every-position logits, embeddings, greedy generation);
  - write raw little-endian f32 arrays and compare two references.
Nothing here is a reference itself: the numbers come from transformers, sentence-transformers
and llama.cpp.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tarfile

import numpy as np

GGML_TYPE_F32 = 0  # ggml type ids, as llama-cpp-python's type_k / type_v take them
GGML_TYPE_F16 = 1

# The converter wrapper run in a child process: gguf-py of the same llama.cpp first on sys.path
# (the converter was written against it, not against whatever gguf is installed), then, when a
# pre-tokenizer name is given, TextModel.get_vocab_base_pre answers it instead of hashing the
# tokenizer's output (a hash that only the real model's vocabulary can match).
_WRAPPER = r"""
import os, runpy, sys
root = sys.argv[1]
pre = sys.argv[2]
sys.path.insert(0, os.path.join(root, "gguf-py"))
sys.path.insert(0, root)
if pre:
    import conversion.base as cb
    def _pre(self, tokenizer):
        return pre
    cb.TextModel.get_vocab_base_pre = _pre
sys.argv = [os.path.join(root, "convert_hf_to_gguf.py")] + sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


PIP = {"torch": "torch", "transformers": "transformers", "sentence_transformers":
       "sentence-transformers", "tokenizers": "tokenizers", "sentencepiece": "sentencepiece",
       "llama_cpp": "llama-cpp-python", "safetensors": "safetensors"}


def require(*mods):
    """Stop with the pip command that installs what is missing (llama-cpp-python builds
    llama.cpp from source: CMAKE_BUILD_PARALLEL_LEVEL=1 keeps a shared machine usable)."""
    missing = []
    for m in mods:
        try:
            __import__(m)
        except ImportError:
            missing.append(PIP.get(m, m))
    if missing:
        raise SystemExit("golden: missing Python packages; install them with\n"
                         "  pip install " + " ".join(missing))


def versions():
    """Versions of every peer that produced a number, for ref.json files."""
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    for mod in ("torch", "transformers", "sentence_transformers", "tokenizers", "sentencepiece",
                "llama_cpp"):
        try:
            m = __import__(mod)
            out[mod.replace("_", "-") if mod != "llama_cpp" else "llama-cpp-python"] = m.__version__
        except ImportError:
            pass
    out["cpu"] = cpu()
    return out


def cpu():
    """The CPU the numbers came from: llama.cpp's native build picks its kernels (and so its
    rounding) by ISA, so a quantized model's greedy tokens may differ on another machine."""
    name, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and name == "unknown":
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = [x for x in ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16",
                       "amx_tile", "amx_int8") if x in flags]
    return f"{name} ({', '.join(isa) or 'no AVX2'})"


def llama_cpp_root(work):
    """vendor/llama.cpp of the llama-cpp-python sdist matching the installed version."""
    import llama_cpp

    ver = llama_cpp.__version__
    dest = os.path.join(work, "llama-cpp-python-sdist")
    root = os.path.join(dest, f"llama_cpp_python-{ver}", "vendor", "llama.cpp")
    if os.path.isfile(os.path.join(root, "convert_hf_to_gguf.py")):
        return root
    os.makedirs(dest, exist_ok=True)
    tars = glob.glob(os.path.join(dest, f"llama_cpp_python-{ver}.tar.gz"))
    if not tars:
        print(f"golden: fetching the llama-cpp-python {ver} sdist (llama.cpp's converter)",
              file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:",
                        "--no-deps", f"llama-cpp-python=={ver}", "-d", dest], check=True)
        tars = glob.glob(os.path.join(dest, f"llama_cpp_python-{ver}.tar.gz"))
    with tarfile.open(tars[0]) as tf:
        tf.extractall(dest, filter="data")
    if not os.path.isfile(os.path.join(root, "convert_hf_to_gguf.py")):
        raise SystemExit(f"golden: no convert_hf_to_gguf.py under {root}")
    return root


def convert(root, hf_dir, out_path, outtype="f32", pre=""):
    """Run llama.cpp's convert_hf_to_gguf.py on hf_dir; pre = answer for the BPE hash lookup."""
    env = dict(os.environ)
    env.pop("NO_LOCAL_GGUF", None)
    cmd = [sys.executable, "-c", _WRAPPER, root, pre, str(hf_dir), "--outfile", str(out_path),
           "--outtype", outtype]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        raise SystemExit(f"golden: converter failed on {hf_dir}")
    return out_path


def write_f32(path, arr):
    a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
    a.tofile(path)
    return list(a.shape)


def compare_logits(a, b):
    """Max abs difference over the logit range of a, and argmax agreement, row by row."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    rng = float(a.max() - a.min())
    diff = float(np.abs(a - b).max())
    agree = int((a.argmax(-1) == b.argmax(-1)).sum())
    return {"max_abs_diff": diff, "logit_range": rng, "max_abs_diff_over_range": diff / rng,
            "argmax_agree": agree, "rows": int(a.shape[0])}


def top2_margin(a):
    """Smallest gap between the best and second-best logit over the rows: how far an argmax
    is from a tie (a check with an error larger than this may flip it)."""
    s = np.sort(np.asarray(a, dtype=np.float64), axis=-1)
    return float((s[:, -1] - s[:, -2]).min())


def compare_emb(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return {"max_abs_diff": float(np.abs(a - b).max()), "min_cosine": float(cos.min())}


def lcpp_load(path, n_ctx, **kw):
    from llama_cpp import Llama

    # One thread unless GOLDEN_THREADS says otherwise: llama.cpp's threads spin at barriers,
    # which on a shared 2-core machine costs 5x; results do not depend on the count (each
    # thread computes whole rows).
    threads = kw.pop("n_threads", int(os.environ.get("GOLDEN_THREADS", "1")))
    return Llama(model_path=str(path), n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx,
                 n_threads=threads, n_threads_batch=threads, verbose=False, **kw)


def lcpp_logits(path, prompts, n_ctx, kv_f16=False):
    """llama-cpp-python logits at every position of each prompt (each its own sequence, from
    position 0): one array of shape [sum of lengths][n_vocab]. The K/V cache is f32 unless
    kv_f16 (llama.cpp's default, f16, moves logits by ~1e-4 of their range: with f32 the two
    references agree to f32 rounding)."""
    kv = GGML_TYPE_F16 if kv_f16 else GGML_TYPE_F32
    llm = lcpp_load(path, n_ctx, logits_all=True, type_k=kv, type_v=kv)
    rows = []
    for ids in prompts:
        llm.reset()
        llm.eval(ids)
        rows.append(np.array(llm.scores[: len(ids)], dtype=np.float32))
    return np.concatenate(rows, 0), llm


def tight_json(obj):
    """json with each list of numbers on one line (ids, shapes and margins stay readable)."""
    s = json.dumps(obj, indent=1, ensure_ascii=False)
    return re.sub(r"\[\s*([-0-9.eE+,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]",
                  s) + "\n"


def save_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(tight_json(obj))
