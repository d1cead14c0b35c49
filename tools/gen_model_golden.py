#!/usr/bin/env python3
"""tools/gen_model_golden.py - tiny random-weight models and their reference outputs.

Writes tests/data/models/<name>/ for name in llama, llama-tied, mistral, lfm2, bert-mean,
bert-cls (tests/data/models/README.md describes every file). Each model is made with Hugging
Face transformers (torch, f32, fixed seeds) together with a tiny tokenizer trained here on
tools/golden_text.py's sentences, saved as a Hugging Face directory (hf/), converted to GGUF by
llama.cpp's own convert_hf_to_gguf.py (--outtype f32; from the llama-cpp-python sdist, fetched
when missing), and run by two independent references:
  causal models  transformers on hf/ (logits at every position)       -> logits_hf.f32
                 llama-cpp-python on the GGUF (logits_all=True)        -> logits_gguf.f32
  bert           sentence-transformers on hf/ (pooled, normalized)     -> emb_st.f32
                 llama-cpp-python embedding=True on the GGUF           -> emb_gguf.f32
and ref.json records the token ids, shapes, sources, versions and how far the two references
are apart. The BPE and WordPiece tokenizers made here have no pre-tokenizer hash the converter
knows, so its lookup is answered at run time ("lfm2" for the LFM2 byte-level BPE, "bert-bge"
for WordPiece; see golden_refs.convert): nothing of llama.cpp is changed on disk.

Usage: python3 tools/gen_model_golden.py [--out tests/data/models] [--work build/golden-work]
                                         [--only llama,lfm2,...]
Needs: torch, transformers, sentence-transformers, tokenizers, sentencepiece, llama-cpp-python
(pip install torch transformers sentence-transformers llama-cpp-python) and
build/models/lfm2/tokenizer.json (tools/fetch_models.sh), whose pre-tokenizer the tiny LFM2
tokenizer copies.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_refs as gr  # noqa: E402
import golden_text as gt  # noqa: E402

gr.require("torch", "transformers", "sentence_transformers", "tokenizers", "sentencepiece",
           "llama_cpp")
import torch  # noqa: E402

SEED = 20261123

# Causal prompts for the tiny models: 32-48 tokens each with the tiny tokenizers (asserted),
# longer than the mistral sliding window (8) several times over. llama and lfm2 get two
# different prompts, so a batch of both checks that sequences keep their own K/V and conv state;
# the others one (the files stay small).
PROMPTS_TWO = [gt.PROMPTS[0], gt.PROMPTS[8]]
PROMPTS_TWO_LFM2 = [gt.PROMPTS[0], gt.PROMPTS[5]]
PROMPTS_ONE = [gt.PROMPTS[0]]

# BERT texts: different lengths, all within the 64 positions of the tiny BERT (asserted).
BERT_TEXTS = [
    "Hello world",
    "The cat sat on the mat.",
    gt.SENTENCES[13],
    "Café au lait, s'il vous plaît!",
    gt.SENTENCES[2] + " " + gt.SENTENCES[5],
    "Do you know where the nearest train station is? Turn left at the second light.",
    "OK",
    "Tokyo 日本 🚀 ok",
]


# ---------------------------------------------------------------------------------------------
# Tokenizers


def fresh_dir(d):
    """An empty directory: transformers prefers a stale tokenizer.json to the file just
    trained, so nothing of an earlier run may stay."""
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)


def make_spm(tokdir, vocab=384):
    """SentencePiece BPE with byte fallback (the Llama / Mistral kind): tokenizer.model for the
    converter, tokenizer.json (transformers' conversion of it) for transformers and lmrt."""
    import sentencepiece as spm
    from transformers import AutoTokenizer

    fresh_dir(tokdir)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(gt.SENTENCES + gt.PROMPTS), model_prefix=os.path.join(tokdir, "tokenizer"),
        vocab_size=vocab, model_type="bpe", byte_fallback=True, character_coverage=0.9995,
        normalization_rule_name="identity", add_dummy_prefix=True, split_digits=True,
        allow_whitespace_only_pieces=True, remove_extra_whitespaces=False, unk_id=0, bos_id=1,
        eos_id=2, pad_id=-1, num_threads=1, minloglevel=2)
    os.remove(os.path.join(tokdir, "tokenizer.vocab"))
    cfg = {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
           "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False,
           "model_max_length": 128}
    gr.save_json(os.path.join(tokdir, "tokenizer_config.json"), cfg)
    tok = AutoTokenizer.from_pretrained(tokdir)
    tok.save_pretrained(tokdir)
    return tok


def make_bpe_lfm2(tokdir, lfm2_json, vocab=384):
    """Byte-level BPE trained here with the real LFM2 tokenizer's pre-tokenizer, specials,
    post-processor and decoder (read from its tokenizer.json)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    real = json.load(open(lfm2_json, encoding="utf-8"))
    specials = [t["content"] for t in real["added_tokens"][:8]]  # <|pad|> ... <|im_end|>
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    # Train with the real pre-tokenizer: swap it in through the JSON form (the Split regex is
    # only expressible there), then train on the sentences.
    j = json.loads(tok.to_str())
    j["pre_tokenizer"] = real["pre_tokenizer"]
    j["decoder"] = real["decoder"]
    tok = Tokenizer.from_str(json.dumps(j))
    tok.train_from_iterator(gt.SENTENCES + gt.PROMPTS, trainer)
    j = json.loads(tok.to_str())
    j["post_processor"] = real["post_processor"]
    bos = j["added_tokens"][1]["id"]
    for proc in j["post_processor"]["processors"]:
        if proc["type"] == "TemplateProcessing":
            proc["special_tokens"]["<|startoftext|>"]["ids"] = [bos]
    tok = Tokenizer.from_str(json.dumps(j))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|startoftext|>",
                                   eos_token="<|im_end|>", pad_token="<|pad|>",
                                   model_max_length=128)
    fresh_dir(tokdir)
    fast.save_pretrained(tokdir)
    return fast


def make_wordpiece(tokdir, vocab=320):
    """Lower-casing WordPiece (the BERT uncased kind) trained here: vocab.txt, tokenizer.json."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import AutoTokenizer

    fresh_dir(tokdir)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    t = BertWordPieceTokenizer(lowercase=True)
    t.train_from_iterator(gt.SENTENCES, vocab_size=vocab, min_frequency=1, limit_alphabet=100,
                          special_tokens=specials, show_progress=False)
    # The trainer's set of pieces is the same run to run but its id order is not (hash-map
    # iteration): write them in a fixed order (WordPiece matching does not depend on ids).
    rest = sorted((w for w in t.get_vocab() if w not in specials),
                  key=lambda w: (w.startswith("##"), len(w), w))
    with open(os.path.join(tokdir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in specials + rest))
    gr.save_json(os.path.join(tokdir, "tokenizer_config.json"),
                 {"tokenizer_class": "BertTokenizer", "do_lower_case": True,
                  "model_max_length": 64})
    tok = AutoTokenizer.from_pretrained(tokdir)
    tok.save_pretrained(tokdir)
    return tok


# ---------------------------------------------------------------------------------------------
# Weights


def randomize(model, seed, std=0.1, emb_std=0.5, conv_std=0.3):
    """Every parameter drawn from a seeded generator: matrices N(0, std), embeddings
    N(0, emb_std), norm weights 1 + N(0, 0.1) and biases N(0, 0.05), so a graph that skips a
    norm weight or a bias, or swaps two of them, cannot match."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("bias"):
                p.copy_(r * 0.05)
            elif p.dim() == 2 and "embed" in name:
                p.copy_(r * emb_std)
            elif p.dim() == 1:
                p.copy_(1.0 + 0.1 * r)
            elif "conv.conv" in name or (p.dim() == 3):
                p.copy_(r * conv_std)
            else:
                p.copy_(r * std)


def save_hf(model, tok, hf_dir, keep=()):
    """model.safetensors + config.json (+ the tokenizer files) under hf_dir."""
    if os.path.isdir(hf_dir):
        shutil.rmtree(hf_dir)
    model.save_pretrained(hf_dir, safe_serialization=True)
    tok.save_pretrained(hf_dir)
    for src in keep:
        shutil.copy(src, hf_dir)
    gen = os.path.join(hf_dir, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)


def write_ref(path, obj):
    gr.save_json(path, obj)


# ---------------------------------------------------------------------------------------------
# References


def hf_logits(model_cls, hf_dir, prompts, **over):
    """transformers on the saved directory (reloaded, so the reference is what the files
    say), eager attention, f32: logits at every position, prompts one after the other."""
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(hf_dir)
    for k, v in over.items():
        setattr(cfg, k, v)
    m = model_cls.from_pretrained(hf_dir, config=cfg, dtype=torch.float32,
                                  attn_implementation="eager").eval()
    rows = []
    with torch.no_grad():
        for ids in prompts:
            out = m(input_ids=torch.tensor([ids]), use_cache=False)
            rows.append(out.logits[0].float().numpy())
    return np.concatenate(rows, 0)


def lcpp_check_tokens(llm, texts, ids, report, add_bos=True):
    bad = []
    for t, want in zip(texts, ids):
        got = llm.tokenize(t.encode("utf-8"), add_bos=add_bos, special=False)
        if list(got) != list(want):
            bad.append({"text": t, "llama_cpp": list(got), "hf": list(want)})
    report["llama_cpp_tokenize_matches_hf"] = not bad
    if bad:
        report["llama_cpp_tokenize_mismatch"] = bad


def causal(name, out, work, root, model_cls, cfg, tok, prompts, pre="", extra_files=(),
           post=None, kvf16=False):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    hf_dir = os.path.join(d, "hf")
    torch.manual_seed(SEED)
    model = model_cls(cfg).eval()
    randomize(model, SEED + sum(map(ord, name)))
    save_hf(model, tok, hf_dir, keep=extra_files)
    if post:
        post(hf_dir)
    ids = [tok(p).input_ids for p in prompts]
    for p, i in zip(prompts, ids):
        assert 32 <= len(i) <= 64, (name, p, len(i))
    gguf = os.path.join(d, "model-f32.gguf")
    gr.convert(root, hf_dir, gguf, pre=pre)
    lh = hf_logits(model_cls, hf_dir, ids)
    lg, llm = gr.lcpp_logits(gguf, ids, n_ctx=128)
    lg16 = gr.lcpp_logits(gguf, ids, n_ctx=128, kv_f16=True)[0] if kvf16 else None
    ref = {
        "model": name, "architecture": type(model).__name__,
        "n_vocab": int(cfg.vocab_size), "n_embd": int(cfg.hidden_size),
        "prompts": [{"text": p, "ids": i} for p, i in zip(prompts, ids)],
        "rows": "each prompt is its own sequence from position 0; rows are the positions of "
                "prompt 0, then of prompt 1 (when there is one)",
        "files": {
            "hf/": "Hugging Face directory written by transformers (config.json, "
                   "model.safetensors, tokenizer files)",
            "model-f32.gguf": "llama.cpp convert_hf_to_gguf.py --outtype f32 on hf/",
            "logits_hf.f32": {"shape": list(lh.shape), "source": "transformers on hf/ (f32, "
                              "eager attention)"},
            "logits_gguf.f32": {"shape": list(lg.shape), "source": "llama-cpp-python on "
                                "model-f32.gguf (logits_all=True, f32 K/V cache)"},
        },
    }
    gr.write_f32(os.path.join(d, "logits_hf.f32"), lh)
    gr.write_f32(os.path.join(d, "logits_gguf.f32"), lg)
    ref["agreement"] = {"logits_gguf_vs_hf": gr.compare_logits(lh, lg)}
    if kvf16:
        gr.write_f32(os.path.join(d, "logits_gguf_kvf16.f32"), lg16)
        ref["files"]["logits_gguf_kvf16.f32"] = {
            "shape": list(lg16.shape), "source": "the same with llama.cpp's default f16 K/V "
                                                 "cache (K and V rounded to f16 when stored)"}
        ref["agreement"]["logits_gguf_kvf16_vs_hf"] = gr.compare_logits(lh, lg16)
    ref["min_top2_margin_hf"] = gr.top2_margin(lh)
    lcpp_check_tokens(llm, prompts, ids, ref)
    del llm
    return d, ref, ids, lh


def add_sliding_window(src, dst, window):
    """Copy of a GGUF with every key and tensor as they are plus
    llama.attention.sliding_window = window (gguf-py of the same llama.cpp)."""
    import gguf

    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(dst, arch=arch)
    for key, f in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        vt = f.types[0]
        if vt == gguf.GGUFValueType.ARRAY:
            w.add_key_value(key, f.contents(), vt, sub_type=f.types[-1])
        else:
            w.add_key_value(key, f.contents(), vt)
    w.add_uint32(f"{arch}.attention.sliding_window", window)
    for t in r.tensors:
        w.add_tensor(t.name, np.array(t.data), raw_shape=list(reversed(t.shape.tolist())),
                     raw_dtype=t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def add_sliding_window_child(root, src, dst, window):
    """Run add_sliding_window with the llama.cpp gguf-py (a child process keeps it apart)."""
    import subprocess

    code = ("import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
            "import gen_model_golden as g; g.add_sliding_window(sys.argv[3], sys.argv[4], "
            "int(sys.argv[5]))")
    subprocess.run([sys.executable, "-c", code, os.path.join(root, "gguf-py"),
                    os.path.dirname(os.path.abspath(__file__)), src, dst, str(window)],
                   check=True)


# ---------------------------------------------------------------------------------------------
# The models


def legacy_rope(hf_dir):
    """Rewrite config.json's rope in the form most published checkpoints use (top-level
    rope_theta, rope_scaling {rope_type, factor}); transformers 5 writes rope_parameters."""
    p = os.path.join(hf_dir, "config.json")
    c = json.load(open(p))
    rp = c.pop("rope_parameters")
    c["rope_theta"] = rp.pop("rope_theta")
    c["rope_scaling"] = rp
    gr.save_json(p, c)


def gen_llama(out, work, root, toks, refs):
    from transformers import LlamaConfig, LlamaForCausalLM

    tok, tokdir = toks["spm"]
    common = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=80,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  head_dim=16, max_position_embeddings=128, hidden_act="silu", bos_token_id=1,
                  eos_token_id=2, pad_token_id=None)
    cfg = LlamaConfig(**common, rms_norm_eps=1e-5, tie_word_embeddings=False,
                      rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    d, ref, ids, _ = causal("llama", out, work, root, LlamaForCausalLM, cfg, tok,
                            PROMPTS_TWO, extra_files=[os.path.join(tokdir, "tokenizer.model")],
                            kvf16=True)
    ref["notes"] = ("GQA 4 heads / 2 KV heads, head_dim 16, ffn 80 (not a multiple of 32), "
                    "untied output, rope_theta 1e4 (config.json in transformers 5's "
                    "rope_parameters form)")
    write_ref(os.path.join(d, "ref.json"), ref)
    refs["llama"] = ref

    cfg = LlamaConfig(**common, rms_norm_eps=1e-6, tie_word_embeddings=True,
                      attention_bias=True, mlp_bias=False,
                      rope_parameters={"rope_type": "linear", "factor": 2.0,
                                       "rope_theta": 50000.0})
    d, ref, ids, _ = causal("llama-tied", out, work, root, LlamaForCausalLM, cfg, tok,
                            PROMPTS_ONE, extra_files=[os.path.join(tokdir, "tokenizer.model")],
                            post=legacy_rope)
    ref["notes"] = ("tied output (no lm_head / output.weight), q/k/v/o biases, linear rope "
                    "scaling factor 2 with rope_theta 5e4 (config.json in the older top-level "
                    "rope_theta + rope_scaling form), rms eps 1e-6")
    write_ref(os.path.join(d, "ref.json"), ref)
    refs["llama-tied"] = ref


def gen_mistral(out, work, root, toks, refs):
    from transformers import MistralConfig, MistralForCausalLM

    tok, tokdir = toks["spm"]
    window = 8
    cfg = MistralConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=80,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        head_dim=16, max_position_embeddings=128, rms_norm_eps=1e-5,
                        sliding_window=window, tie_word_embeddings=False, bos_token_id=1,
                        eos_token_id=2, rope_parameters={"rope_type": "default",
                                                         "rope_theta": 1000000.0})
    d, ref, ids, lh = causal("mistral", out, work, root, MistralForCausalLM, cfg, tok,
                             PROMPTS_ONE, extra_files=[os.path.join(tokdir, "tokenizer.model")])
    # The converter drops the window and llama.cpp never implemented one for Llama/Mistral:
    # logits_gguf.f32 is the unwindowed model. transformers without the window is the
    # reference that must agree with it; the windowed one goes with hf/ and the -swa GGUF.
    lnw = hf_logits(MistralForCausalLM, os.path.join(d, "hf"), ids, sliding_window=None)
    gr.write_f32(os.path.join(d, "logits_hf_nowindow.f32"), lnw)
    lg = np.fromfile(os.path.join(d, "logits_gguf.f32"), dtype="<f4").reshape(lnw.shape)
    swa = os.path.join(d, "model-f32-swa.gguf")
    add_sliding_window_child(root, os.path.join(d, "model-f32.gguf"), swa, window)
    ref["sliding_window"] = window
    ref["sliding_window_rule"] = ("query at position i attends to keys at positions j with "
                                  "i - window < j <= i (window keys including itself), as "
                                  "transformers' sliding_window_overlay")
    ref["files"]["logits_hf.f32"]["source"] = ("transformers on hf/ WITH the sliding window "
                                               "(8): the reference for hf/ and "
                                               "model-f32-swa.gguf")
    ref["files"]["logits_gguf.f32"]["source"] = ("llama-cpp-python on model-f32.gguf (f32 "
                                                 "K/V cache): no window (the converter drops "
                                                 "it; llama.cpp has none for this "
                                                 "architecture): the reference for "
                                                 "model-f32.gguf")
    ref["files"]["logits_hf_nowindow.f32"] = {
        "shape": list(lnw.shape),
        "source": "transformers on hf/ with config.sliding_window = None (agrees with "
                  "logits_gguf.f32)"}
    ref["files"]["model-f32-swa.gguf"] = ("model-f32.gguf with every key and tensor copied "
                                          "plus llama.attention.sliding_window = 8 (u32), "
                                          "written with gguf-py; reference: logits_hf.f32")
    ref["agreement"] = {
        "logits_gguf_vs_hf_nowindow": gr.compare_logits(lnw, lg),
        "logits_hf_window_vs_nowindow": gr.compare_logits(lh, lnw),
    }
    ref["min_top2_margin_hf"] = gr.top2_margin(lh)
    ref["min_top2_margin_hf_nowindow"] = gr.top2_margin(lnw)
    ref["notes"] = ("MistralForCausalLM, sliding_window 8 in config.json, prompts of >= 32 "
                    "tokens; rope_theta 1e6")
    write_ref(os.path.join(d, "ref.json"), ref)
    refs["mistral"] = ref


def gen_lfm2(out, work, root, toks, refs):
    from transformers import Lfm2Config, Lfm2ForCausalLM

    tok, _ = toks["bpe"]
    cfg = Lfm2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=80,
                     block_auto_adjust_ff_dim=True, block_ffn_dim_multiplier=1.0,
                     block_multiple_of=8, num_hidden_layers=6, num_attention_heads=4,
                     num_key_value_heads=2, full_attn_idxs=[2, 5], conv_L_cache=3,
                     conv_bias=False, norm_eps=1e-5, max_position_embeddings=128,
                     tie_word_embeddings=True, pad_token_id=0, bos_token_id=1, eos_token_id=7,
                     rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})
    d, ref, ids, _ = causal("lfm2", out, work, root, Lfm2ForCausalLM, cfg, tok,
                            PROMPTS_TWO_LFM2, pre="lfm2", kvf16=True)
    ref["notes"] = ("Lfm2ForCausalLM: 6 layers, attention at layers 2 and 5 (conv elsewhere), "
                    "d 64, 4 heads / 2 KV heads, conv L 3, tied embeddings; intermediate_size "
                    "80 with block_auto_adjust_ff_dim (multiplier 1.0, multiple_of 8) gives "
                    "the real ffn width int(2*80/3) = 53 rounded up to 56; byte-level BPE "
                    "trained here with LFM2's pre-tokenizer (converter told pre = lfm2)")
    ref["n_ff"] = 56
    write_ref(os.path.join(d, "ref.json"), ref)
    refs["lfm2"] = ref


def st_legacy(hf_dir, n_embd, mode):
    """sentence-transformers files in the form all-MiniLM-L6-v2 and most published models
    have (modules.json, sentence_bert_config.json, 1_Pooling/config.json with booleans)."""
    mods = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ]
    gr.save_json(os.path.join(hf_dir, "modules.json"), mods)
    gr.save_json(os.path.join(hf_dir, "sentence_bert_config.json"),
                 {"max_seq_length": 64, "do_lower_case": False})
    os.makedirs(os.path.join(hf_dir, "1_Pooling"), exist_ok=True)
    gr.save_json(os.path.join(hf_dir, "1_Pooling", "config.json"), {
        "word_embedding_dimension": n_embd, "pooling_mode_cls_token": mode == "cls",
        "pooling_mode_mean_tokens": mode == "mean", "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False})


def gen_bert(out, work, root, toks, refs):
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    tok, tokdir = toks["wpm"]
    for name, mode in (("bert-mean", "mean"), ("bert-cls", "cls")):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        hf_dir = os.path.join(d, "hf")
        cfg = BertConfig(vocab_size=len(tok), hidden_size=48, num_hidden_layers=2,
                         num_attention_heads=4, intermediate_size=80,
                         max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-12,
                         hidden_act="gelu", pad_token_id=0)
        torch.manual_seed(SEED)
        model = BertModel(cfg, add_pooling_layer=False).eval()
        randomize(model, SEED + sum(map(ord, name)))
        save_hf(model, tok, hf_dir, keep=[os.path.join(tokdir, "vocab.txt")])
        if mode == "mean":
            st_legacy(hf_dir, 48, mode)
            st_form = "legacy (pooling_mode_mean_tokens: true, as all-MiniLM-L6-v2)"
        else:
            # sentence-transformers' own save: the newer form ("pooling_mode": "cls").
            tmp = os.path.join(work, "st-" + name)
            shutil.rmtree(tmp, ignore_errors=True)
            st = SentenceTransformer(modules=[models.Transformer(hf_dir, max_seq_length=64),
                                              models.Pooling(48, pooling_mode=mode),
                                              models.Normalize()], device="cpu")
            st.save(tmp)
            shutil.rmtree(hf_dir)
            shutil.copytree(tmp, hf_dir)
            readme = os.path.join(hf_dir, "README.md")
            if os.path.exists(readme):
                os.remove(readme)
            st_form = ("sentence-transformers " + __import__("sentence_transformers").__version__ +
                       " save() form (1_Pooling/config.json \"pooling_mode\": \"cls\")")
        ids = [tok(t).input_ids for t in BERT_TEXTS]
        for t, i in zip(BERT_TEXTS, ids):
            assert len(i) <= 64, (t, len(i))
        gguf = os.path.join(d, "model-f32.gguf")
        gr.convert(root, hf_dir, gguf, pre="bert-bge")
        st = SentenceTransformer(hf_dir, device="cpu")
        est = st.encode(BERT_TEXTS, batch_size=len(BERT_TEXTS), convert_to_numpy=True,
                        normalize_embeddings=False)
        assert np.allclose(np.linalg.norm(est, axis=-1), 1, atol=1e-5)
        llm = gr.lcpp_load(gguf, 64, embedding=True)
        eg = np.array([llm.embed(t, normalize=False) for t in BERT_TEXTS], dtype=np.float64)
        eg = (eg / np.linalg.norm(eg, axis=-1, keepdims=True)).astype(np.float32)
        ref = {
            "model": name, "architecture": "BertModel", "pooling": mode, "normalize": True,
            "n_vocab": int(cfg.vocab_size), "n_embd": 48, "n_positions": 64,
            "texts": [{"text": t, "ids": i} for t, i in zip(BERT_TEXTS, ids)],
            "files": {
                "hf/": "sentence-transformers directory: BertModel (config.json, "
                       "model.safetensors), WordPiece tokenizer (vocab.txt, tokenizer.json), "
                       "modules.json, 1_Pooling/config.json in the " + st_form,
                "model-f32.gguf": "llama.cpp convert_hf_to_gguf.py --outtype f32 on hf/ "
                                  "(pooling_type from 1_Pooling)",
                "emb_st.f32": {"shape": list(est.shape), "source": "sentence-transformers on "
                               "hf/ (all texts in one padded batch), Normalize module: L2 "
                               "normalized"},
                "emb_gguf.f32": {"shape": list(eg.shape), "source": "llama-cpp-python "
                                 "embedding=True on model-f32.gguf (its pooling), one text "
                                 "at a time, L2-normalized here"},
            },
            "notes": "post-LN BERT, d 48 (4 heads of 12), ffn 80, erf GELU, LN eps 1e-12, "
                     "token type 0, no pooler",
        }
        gr.write_f32(os.path.join(d, "emb_st.f32"), est)
        gr.write_f32(os.path.join(d, "emb_gguf.f32"), eg)
        ref["agreement"] = {"emb_gguf_vs_st": gr.compare_emb(est, eg)}
        lcpp_check_tokens(llm, BERT_TEXTS, ids, ref)
        del llm
        write_ref(os.path.join(d, "ref.json"), ref)
        refs[name] = ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/data/models")
    ap.add_argument("--work", default="build/golden-work")
    ap.add_argument("--models", default="build/models")
    ap.add_argument("--only", default="llama,mistral,lfm2,bert")
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.work, exist_ok=True)
    root = gr.llama_cpp_root(a.work)
    only = a.only.split(",")
    toks = {}
    tokroot = os.path.join(a.work, "tok")
    if {"llama", "mistral"} & set(only):
        toks["spm"] = (make_spm(os.path.join(tokroot, "spm")), os.path.join(tokroot, "spm"))
    if "lfm2" in only:
        toks["bpe"] = (make_bpe_lfm2(os.path.join(tokroot, "bpe"),
                                     os.path.join(a.models, "lfm2", "tokenizer.json")), None)
    if "bert" in only:
        toks["wpm"] = (make_wordpiece(os.path.join(tokroot, "wpm")), os.path.join(tokroot, "wpm"))
    refs = {}
    for name, fn in (("llama", gen_llama), ("mistral", gen_mistral), ("lfm2", gen_lfm2),
                     ("bert", gen_bert)):
        if name in only:
            fn(a.out, a.work, root, toks, refs)
    vers = gr.versions()
    for name, ref in refs.items():
        ref["versions"] = vers
        ref["seed"] = SEED
        write_ref(os.path.join(a.out, name, "ref.json"), ref)
        print(f"{name}: {json.dumps(ref['agreement'])}")


if __name__ == "__main__":
    main()
