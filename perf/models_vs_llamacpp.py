#!/usr/bin/env python3
"""perf/models_vs_llamacpp.py - lmrt against llama.cpp (llama-cpp-python) on the same model files,
side by side in one run: prefill (pp) and decode (tg) tokens/s, their ratio, and decode against
the bandwidth roofline measured by build/perf/peak just before each pair.

For each model file and thread count, in this order: perf/peak (read bandwidth), `lmrt bench`
(median of repeats), llama.cpp on the same file through llama-cpp-python (same random tokens
scheme: random ids, an empty context per repeat, median of repeats). Interleaving the two peers
per case keeps a shared machine's drift out of the ratios.

Decode roofline: bytes read per decoded token = every weight tensor of the file once (the tied
output reads all of token_embd; the embedding row read is negligible); roofline tok/s =
bandwidth / bytes; the row reports lmrt's tok/s over it.

Usage: python3 perf/models_vs_llamacpp.py [--models a.gguf,b.gguf] [--threads 1,2] [-p 512]
       [-n 128] [--reps 3]
Default models: SmolLM2-135M Q4_1 (build/models) and the Q4_0, Q8_0, F16 files `lmrt quantize`
makes from it (made here when missing).
Output: TSV on stdout; needs llama-cpp-python (pip) and the gguf package.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LMRT = os.path.join(ROOT, "build", "lmrt")
PEAK = os.path.join(ROOT, "build", "perf", "peak")
MODELS = os.environ.get("LMRT_MODELS", os.path.join(ROOT, "build", "models"))


def default_models():
    src = os.path.join(MODELS, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    out = [src]
    for t in ("q4_0", "q8_0", "f16"):
        dst = os.path.join(MODELS, "smollm2", "SmolLM2-135M-Instruct.%s.gguf" % t.upper())
        if not os.path.exists(dst):
            subprocess.run([LMRT, "quantize", src, dst, t], check=True, stdout=subprocess.DEVNULL)
        out.append(dst)
    return out


def weight_bytes(path):
    import gguf

    r = gguf.GGUFReader(path)
    return sum(int(t.n_bytes) for t in r.tensors)


def peak_gbs(threads):
    out = subprocess.run([PEAK], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) >= 4 and f[1].startswith("GB/s"):
            one = float(f[2].split()[-1])
            allc = float(f[3].split()[-1])
            return one if threads == 1 else allc
    raise RuntimeError("perf/peak printed no bandwidth line")


def lmrt_bench(path, threads, p, n, reps):
    out = subprocess.run([LMRT, "bench", "-m", path, "-t", str(threads), "-p", str(p), "-n",
                          str(n), "-r", str(reps)], check=True, capture_output=True,
                         text=True).stdout
    res = {}
    for line in out.splitlines()[1:]:
        f = line.split("\t")
        res[f[2][:2]] = float(f[3])
    return res


class LlamaCpp:
    def __init__(self, path, threads, p, n):
        from llama_cpp import Llama

        self.p, self.n = p, n
        self.llm = Llama(model_path=path, n_ctx=p + n + 16, n_batch=max(p, 1),
                         n_ubatch=max(p, 1), n_threads=threads, n_threads_batch=threads,
                         verbose=False)
        rnd = random.Random(1)
        self.toks = [rnd.randrange(self.llm.n_vocab()) for _ in range(p + n)]

    def pp(self):
        self.llm.reset()
        t0 = time.perf_counter()
        self.llm.eval(self.toks[: self.p])
        return self.p / (time.perf_counter() - t0)

    def tg(self):
        self.llm.reset()
        t0 = time.perf_counter()
        for i in range(self.n):
            self.llm.eval([self.toks[i]])
        return self.n / (time.perf_counter() - t0)

    def bench(self, reps):
        res = {}
        for name, fn in (("pp", self.pp), ("tg", self.tg)):
            if (self.p if name == "pp" else self.n) == 0:
                continue
            fn()  # warm-up
            res[name] = statistics.median(fn() for _ in range(reps))
        return res


def e2e(path, threads):
    """`lmrt run` with a 2048-token context on a 16-token prompt: peak RSS against file size +
    KV cache + 64 MiB, and the time from process start to the first generated token."""
    import gguf
    import re

    prompt = "Write one sentence about the sea and the wind in the old harbour town."
    r = gguf.GGUFReader(path)
    meta = {f.name: f for f in r.fields.values()}
    arch = bytes(meta["general.architecture"].parts[-1]).decode()
    n_layer = int(meta[arch + ".block_count"].parts[-1][0])
    n_embd = int(meta[arch + ".embedding_length"].parts[-1][0])
    n_head = int(meta[arch + ".attention.head_count"].parts[-1][0])
    n_kv = int(meta[arch + ".attention.head_count_kv"].parts[-1][0])
    kv_bytes = 2 * n_layer * (n_embd // n_head) * n_kv * 2048 * 4  # f32 K and V
    best_ttft, peak = None, 0
    for _ in range(5):
        out = subprocess.run(["/usr/bin/time", "-f", "maxrss %M", LMRT, "run", "-m", path,
                              "--ctx", "2048", "-t", str(threads), "-p", prompt, "-n", "32",
                              "--temp", "0"], capture_output=True, text=True, check=True)
        ttft = float(re.search(r"first token (\d+) ms", out.stderr).group(1))
        best_ttft = ttft if best_ttft is None else min(best_ttft, ttft)
        peak = max(peak, int(re.search(r"maxrss (\d+)", out.stderr).group(1)) * 1024)
    size = os.path.getsize(path)
    bound = size + kv_bytes + 64 * 2**20
    print("e2e\t%s\tthreads %d\tfirst token %.0f ms (bar 150)\tpeak RSS %.1f MiB <= file %.1f + "
          "KV %.1f + 64 = %.1f MiB: %s" % (os.path.basename(path), threads, best_ttft,
                                           peak / 2**20, size / 2**20, kv_bytes / 2**20,
                                           bound / 2**20, "yes" if peak <= bound else "NO"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--e2e", action="store_true", help="also time-to-first-token and peak RSS")
    a = ap.parse_args()
    models = a.models.split(",") if a.models else default_models()
    print("model\tthreads\ttest\tlmrt_tok_s\tllamacpp_tok_s\tratio\tGB_per_tok\tpeak_GB_s"
          "\troofline_frac")
    for path in models:
        wb = weight_bytes(path)
        for t in (int(x) for x in a.threads.split(",")):
            bw = peak_gbs(t)
            ours = lmrt_bench(path, t, a.p, a.n, a.reps)
            lc = LlamaCpp(path, t, a.p, a.n)
            theirs = lc.bench(a.reps)
            del lc
            name = os.path.basename(path)
            for test, k in (("pp", a.p), ("tg", a.n)):
                if test not in ours or test not in theirs:
                    continue
                roof = ""
                if test == "tg":
                    roof = "%.3f\t%.1f\t%.2f" % (wb / 1e9, bw, ours[test] * wb / 1e9 / bw)
                else:
                    roof = "\t\t"
                print("%s\t%d\t%s%d\t%.1f\t%.1f\t%.2f\t%s" % (name, t, test, k, ours[test],
                                                              theirs[test],
                                                              ours[test] / theirs[test], roof))
                sys.stdout.flush()
    if a.e2e:
        for t in (int(x) for x in a.threads.split(",")):
            e2e(models[0], t)


if __name__ == "__main__":
    main()
