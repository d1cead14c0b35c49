#!/usr/bin/env python3
"""tools/spm_to_gguf.py - a SentencePiece model (tokenizer.model protobuf) as a vocab-only GGUF.

Writes the tokenizer.ggml.* keys that llama.cpp's converter (convert_hf_to_gguf.py,
_set_vocab_sentencepiece) writes for a Llama/Mistral SentencePiece tokenizer: model "llama",
pre "default", tokens (the pieces), scores, token_type (1 normal, 2 unknown, 3 control,
5 unused, 6 byte, from the SentencePiece piece types), bos/eos/unknown ids and add_bos_token /
add_eos_token (Llama 2 and Mistral: true / false). No add_space_prefix key: that converter
writes none for these models and readers default to true. No tensors.

    python3 tools/spm_to_gguf.py build/models/mistral/tokenizer.model.v1 \
        tests/data/tok/mistral-v1-vocab.gguf --name mistral-v0.1
"""
import argparse

import gguf
import sentencepiece as spm

NORMAL, UNKNOWN, CONTROL, UNUSED, BYTE = 1, 2, 3, 5, 6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--name", default="spm")
    ap.add_argument("--no-add-bos", action="store_true")
    ap.add_argument("--add-eos", action="store_true")
    a = ap.parse_args()

    sp = spm.SentencePieceProcessor(model_file=a.model)
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.IdToPiece(i).encode("utf-8"))
        scores.append(sp.GetScore(i))
        t = NORMAL
        if sp.IsUnknown(i):
            t = UNKNOWN
        elif sp.IsControl(i):
            t = CONTROL
        elif sp.IsUnused(i):
            t = UNUSED
        elif sp.IsByte(i):
            t = BYTE
        types.append(t)

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name(a.name)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    if sp.pad_id() >= 0:
        w.add_pad_token_id(sp.pad_id())
    w.add_add_bos_token(not a.no_add_bos)
    w.add_add_eos_token(a.add_eos)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
