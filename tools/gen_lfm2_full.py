#!/usr/bin/env python3
"""tools/gen_lfm2_full.py - LFM2-350M-shaped random weights and their references (not committed).

LFM2's real weights cannot be had here, so LFM2 is proven at full size on random weights of
LFM2-350M's exact configuration with the real LFM2 tokenizer. Writes into OUTDIR (under build/):

  hf/                            Lfm2ForCausalLM saved by transformers (f32 safetensors,
                                 config.json, the real tokenizer.json + tokenizer_config.json)
  lfm2-350m-shape-f32.gguf       llama.cpp convert_hf_to_gguf.py --outtype f32
  lfm2-350m-shape-q8_0.gguf      the same converter, --outtype q8_0
  lfm2-350m-shape-q4_0.gguf      llama.cpp's llama_model_quantize (through llama-cpp-python's
                                 bindings) from the f32 GGUF, LLAMA_FTYPE_MOSTLY_Q4_0
  logits_hf.f32                  transformers (f32, eager attention) on hf/: [rows][65536]
  logits_gguf.f32                llama-cpp-python on the f32 GGUF (logits_all=True, f32 K/V)
  logits_gguf_q8_0.f32, logits_gguf_q4_0.f32   the same on the quantized files
  ref.json                       prompts (text + ids), row layout, shapes, agreement between
                                 the references, timings and versions

Configuration (checked against transformers' Lfm2Config): 16 layers, hidden 1024, 16 heads,
8 KV heads, attention at layers 2,5,8,10,12,14 (short conv elsewhere), conv_L_cache 3,
intermediate_size 6656 with block_auto_adjust_ff_dim = true, block_ffn_dim_multiplier 1.0,
block_multiple_of 256 -> int(2 * 6656 / 3) = 4437 rounded up to 4608, vocab 65536, rope_theta
1e6, norm_eps 1e-5, tied embeddings. Weights: transformers' own init (normal, std 0.02, from
a fixed seed), then conv taps N(0, 0.3) (std 0.02 would leave the conv path almost silent) and
every norm weight 1 + N(0, 0.1) (all-ones would hide a graph that skips one).

Usage: python3 tools/gen_lfm2_full.py OUTDIR [--tokenizer build/models/lfm2/tokenizer.json]
       [--work build/golden-work] [--prompts 10]
About 6 minutes on 2 shared cores and ~4 GB of disk (timings in ref.json). Random weights give
flat logits (range ~8 over 65536 tokens, small best-vs-second gaps), so Q4_0's weight error
moves most argmaxes: the quantized files are for speed, and for comparing a runtime with
llama.cpp on the same quantized file, not with transformers.
"""
import argparse
import ctypes
import json
import os
import random
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_refs as gr  # noqa: E402
import golden_text as gt  # noqa: E402

SEED = 350
N_CTX = 512


def make_prompts(tok, n, lo=200, hi=260, seed=7):
    """n prompts of lo..hi tokens (with the BOS the tokenizer adds): seeded shuffles of the
    shared sentences, one of them with a code block and one with chat markup in plain text."""
    rng = random.Random(seed)
    extra = [gt.PROMPTS[2] + "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
             "    return a\n\n",
             "<|im_start|>user\nSummarise the following notes.<|im_end|>\n<|im_start|>assistant\n"]
    out = []
    for k in range(n):
        parts = [extra[k]] if k < len(extra) else []
        pool = list(gt.SENTENCES)
        rng.shuffle(pool)
        for s in pool:
            cand = "".join(parts) + (" " if parts else "") + s
            m = len(tok(cand).input_ids)
            if m > hi:
                continue
            parts.append((" " if parts else "") + s)
            if m >= lo:
                break
        text = "".join(parts)
        ids = tok(text).input_ids
        assert lo <= len(ids) <= hi, len(ids)
        out.append((text, ids))
    return out


def build(out, tokenizer_json):
    import torch
    from transformers import Lfm2Config, Lfm2ForCausalLM, PreTrainedTokenizerFast

    cfg = Lfm2Config(vocab_size=65536, hidden_size=1024, intermediate_size=6656,
                     block_auto_adjust_ff_dim=True, block_ffn_dim_multiplier=1.0,
                     block_multiple_of=256, num_hidden_layers=16, num_attention_heads=16,
                     num_key_value_heads=8, full_attn_idxs=[2, 5, 8, 10, 12, 14],
                     conv_L_cache=3, conv_bias=False, norm_eps=1e-5,
                     max_position_embeddings=128000, initializer_range=0.02,
                     tie_word_embeddings=True, pad_token_id=0, bos_token_id=1, eos_token_id=7,
                     rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})
    torch.manual_seed(SEED)
    model = Lfm2ForCausalLM(cfg).eval()
    ff = model.model.layers[0].feed_forward.w1.weight.shape[0]
    assert ff == 4608, ff
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "conv.conv" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
            elif p.dim() == 1:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
    hf = os.path.join(out, "hf")
    shutil.rmtree(hf, ignore_errors=True)
    model.save_pretrained(hf, safe_serialization=True)
    tok = PreTrainedTokenizerFast(tokenizer_file=tokenizer_json, bos_token="<|startoftext|>",
                                  eos_token="<|im_end|>", pad_token="<|pad|>",
                                  model_max_length=128000)
    tok.save_pretrained(hf)
    gen = os.path.join(hf, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)
    del model
    return tok, cfg


def hf_logits(hf, prompts, path):
    import torch
    from transformers import Lfm2ForCausalLM

    m = Lfm2ForCausalLM.from_pretrained(hf, dtype=torch.float32,
                                        attn_implementation="eager").eval()
    n = 0
    with open(path, "wb") as f, torch.no_grad():
        for _, ids in prompts:
            lg = m(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float().numpy()
            f.write(np.ascontiguousarray(lg, dtype="<f4").tobytes())
            n += lg.shape[0]
    del m
    return n


def lcpp_rows(gguf, prompts, path):
    """llama-cpp-python logits of every row (f32 K/V cache) written to path."""
    llm = gr.lcpp_load(gguf, N_CTX, logits_all=True, type_k=gr.GGML_TYPE_F32,
                       type_v=gr.GGML_TYPE_F32)
    with open(path, "wb") as f:
        for _, ids in prompts:
            llm.reset()
            llm.eval(ids)
            f.write(np.ascontiguousarray(llm.scores[: len(ids)], dtype="<f4").tobytes())
    del llm


def quantize_q4_0(src, dst):
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0
    params.nthread = 2
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        raise SystemExit(f"gen_lfm2_full: llama_model_quantize failed ({rc})")


def margins(path, rows, n_vocab):
    """Best minus second-best logit per row (how near each argmax is to a tie)."""
    a = np.memmap(path, dtype="<f4", mode="r", shape=(rows, n_vocab))
    out = []
    for i in range(0, rows, 128):
        s = np.sort(np.asarray(a[i:i + 128], dtype=np.float64), axis=-1)
        out.append(s[:, -1] - s[:, -2])
    return np.concatenate(out)


def compare_chunked(a_path, b_path, rows, n_vocab):
    a = np.memmap(a_path, dtype="<f4", mode="r", shape=(rows, n_vocab))
    b = np.memmap(b_path, dtype="<f4", mode="r", shape=(rows, n_vocab))
    diff, lo, hi, agree = 0.0, np.inf, -np.inf, 0
    for i in range(0, rows, 128):
        x = np.asarray(a[i:i + 128], dtype=np.float64)
        y = np.asarray(b[i:i + 128], dtype=np.float64)
        diff = max(diff, float(np.abs(x - y).max()))
        lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
        agree += int((x.argmax(-1) == y.argmax(-1)).sum())
    return {"max_abs_diff": diff, "logit_range": hi - lo, "max_abs_diff_over_range":
            diff / (hi - lo), "argmax_agree": agree, "rows": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--tokenizer", default="build/models/lfm2/tokenizer.json")
    ap.add_argument("--work", default="build/golden-work")
    ap.add_argument("--prompts", type=int, default=10)
    a = ap.parse_args()
    gr.require("torch", "transformers", "llama_cpp")
    import torch

    torch.set_num_threads(2)
    os.makedirs(a.outdir, exist_ok=True)
    root = gr.llama_cpp_root(a.work)
    t = {}
    t0 = time.time()
    tok, cfg = build(a.outdir, a.tokenizer)
    t["build_and_save_s"] = time.time() - t0
    prompts = make_prompts(tok, a.prompts)
    rows = sum(len(i) for _, i in prompts)
    base = os.path.join(a.outdir, "lfm2-350m-shape")
    t0 = time.time()
    gr.convert(root, os.path.join(a.outdir, "hf"), base + "-f32.gguf", outtype="f32")
    gr.convert(root, os.path.join(a.outdir, "hf"), base + "-q8_0.gguf", outtype="q8_0")
    quantize_q4_0(base + "-f32.gguf", base + "-q4_0.gguf")
    t["convert_quantize_s"] = time.time() - t0
    t0 = time.time()
    hf_logits(os.path.join(a.outdir, "hf"), prompts, os.path.join(a.outdir, "logits_hf.f32"))
    t["transformers_s"] = time.time() - t0
    hf_path = os.path.join(a.outdir, "logits_hf.f32")
    agree = {}
    for q in ("f32", "q8_0", "q4_0"):
        path = os.path.join(a.outdir, "logits_gguf.f32" if q == "f32" else f"logits_gguf_{q}.f32")
        t0 = time.time()
        lcpp_rows(f"{base}-{q}.gguf", prompts, path)
        t[f"llama_cpp_{q}_s"] = time.time() - t0
        agree[f"logits_gguf_{q}_vs_hf"] = compare_chunked(hf_path, path, rows, 65536)
    for q in ("q8_0", "q4_0"):
        agree[f"logits_gguf_{q}_vs_gguf_f32"] = compare_chunked(
            os.path.join(a.outdir, "logits_gguf.f32"),
            os.path.join(a.outdir, f"logits_gguf_{q}.f32"), rows, 65536)
    mg = margins(hf_path, rows, 65536)
    ref = {
        "model": "Lfm2ForCausalLM with LFM2-350M's configuration, random weights (see "
                 "tools/gen_lfm2_full.py)",
        "n_vocab": 65536, "n_embd": 1024, "n_ff": 4608, "n_layer": 16,
        "attention_layers": [2, 5, 8, 10, 12, 14],
        "prompts": [{"text": p, "ids": i} for p, i in prompts],
        "rows": "each prompt is its own sequence from position 0; rows are the positions of "
                "prompt 0, then prompt 1, ...; %d rows in all" % rows,
        "files": {
            "logits_hf.f32": "transformers on hf/ (f32, eager attention) [rows][65536]",
            "logits_gguf.f32": "llama-cpp-python on lfm2-350m-shape-f32.gguf (logits_all, f32 "
                               "K/V cache) [rows][65536]",
            "logits_gguf_q8_0.f32": "the same on the q8_0 GGUF",
            "logits_gguf_q4_0.f32": "the same on the q4_0 GGUF",
        },
        "agreement": agree,
        "top2_margin_hf": {"min": float(mg.min()), "median": float(np.median(mg)),
                           "rows_below_1e-3": int((mg < 1e-3).sum()),
                           "rows_below_1e-2": int((mg < 1e-2).sum())},
        "timings_s": {k: round(v, 1) for k, v in t.items()},
        "versions": gr.versions(),
        "seed": SEED,
    }
    gr.save_json(os.path.join(a.outdir, "ref.json"), ref)
    print(json.dumps(ref["agreement"]))
    print(json.dumps(ref["timings_s"]))


if __name__ == "__main__":
    main()
