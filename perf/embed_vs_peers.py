#!/usr/bin/env python3
"""perf/embed_vs_peers.py - all-MiniLM-L6-v2 embeddings, lmrt against llama.cpp's embedding path
(llama-cpp-python on the GGUF `lmrt convert` writes from the same directory; pooling and
normalisation as the model says) and sentence-transformers (PyTorch CPU), one thread each, the
same texts as perf/bench_embed.c times lmrt on (its TSV is read here).

Cases: t10 (one ~10-token text end to end), t128 (one ~128-token text), batch32 (32 sentences,
throughput). Prints TSV: case, lmrt ms, llama.cpp ms, sentence-transformers ms, ratios.
"""
import os
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.environ.get("LMRT_MODELS", os.path.join(ROOT, "build", "models"))
MINILM = os.path.join(MODELS, "minilm")


def med(fn, reps=20):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def main():
    out = subprocess.run([os.path.join(ROOT, "build", "perf", "bench_embed"), MINILM], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    ours = {l.split("\t")[0]: float(l.split("\t")[3]) for l in out.splitlines()[1:]}
    lines = open(os.path.join(ROOT, "tests", "data", "real", "minilm_sentences.txt")).read().split("\n")
    # the same t128 text bench_embed builds: sentences joined until >= 120 tokens
    from tokenizers import Tokenizer

    tk = Tokenizer.from_file(os.path.join(MINILM, "tokenizer.json"))
    tk.no_padding()  # the file pads and truncates to 128
    tk.no_truncation()
    long_text = ""
    for s in lines:
        if len(tk.encode(long_text).ids) >= 120:
            break
        long_text = (long_text + " " + s) if long_text else s
    cases = {"t10": ["A man is eating food at the table."], "t128": [long_text],
             "batch32": lines[:32]}

    gguf = os.path.join(MODELS, "minilm-f32.gguf")
    if not os.path.exists(gguf):
        subprocess.run([os.path.join(ROOT, "build", "lmrt"), "convert", MINILM, gguf], check=True,
                       stdout=subprocess.DEVNULL)
    from llama_cpp import Llama

    llm = Llama(model_path=gguf, embedding=True, n_threads=1, n_threads_batch=1, n_ctx=512,
                n_batch=4096, n_ubatch=4096, verbose=False)
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    st = SentenceTransformer(MINILM, device="cpu")
    print("case\tlmrt_ms\tllamacpp_ms\tst_ms\tllamacpp/lmrt\tst/lmrt")
    for name, texts in cases.items():
        lc = med(lambda: llm.embed(texts if len(texts) > 1 else texts[0]))
        sm = med(lambda: st.encode(texts, batch_size=32, normalize_embeddings=True))
        o = ours[name]
        print("%s\t%.3f\t%.3f\t%.3f\t%.2f\t%.2f" % (name, o, lc, sm, lc / o, sm / o))


if __name__ == "__main__":
    main()
