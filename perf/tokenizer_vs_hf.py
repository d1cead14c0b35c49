#!/usr/bin/env python3
"""perf/tokenizer_vs_hf.py - lmrt's tokenizers against Hugging Face `tokenizers`, same run.

For each real tokenizer, encodes the same text (tests/data/tok/bulk.txt, 1 MB) the same number
of times on one thread with the peer, then runs build/perf/bench_tokenizer on it, and prints one
TSV row per tokenizer: both speeds, the ratio lmrt / peer and the bar (lmrt at least 2x the
peer). The peers are the reference implementations of tools/gen_tokenizer_refs.py:
  smollm2  `tokenizers` (BPE from the GGUF's vocabulary and merges, "smollm" pre-tokenizer)
  minilm   `tokenizers` on minilm/tokenizer.json
  lfm2     `tokenizers` on lfm2/tokenizer.json
  mistral  both `tokenizers` and `sentencepiece` (two rows). `sentencepiece` runs on
           mistral/tokenizer.model.v1; the `tokenizers` one is built here from that model as
           HF's converter (LlamaConverter, legacy) builds Mistral v0.1's tokenizer.json: BPE
           with byte fallback over the same pieces, merges = every split of a piece into two
           pieces, ordered by the piece's score; Prepend("▁") + Replace(" ", "▁") normalizer, no
           pre-tokenizer. (transformers' own conversion is not used: its 5.x LlamaConverter
           fails on a bare tokenizer.model.) Its ids must equal sentencepiece's on the text.
Both sides encode without adding special tokens and report the median of the repeats; the peer
runs with TOKENIZERS_PARALLELISM=false and RAYON_NUM_THREADS=1 (one string is one thread in
`tokenizers` anyway). The id counts of both sides are printed so a mismatch shows (lmrt's ids
are checked against the references by bench_tokenizer itself). No network is needed.

usage: python3 perf/tokenizer_vs_hf.py [--repeats N] [NAME...]   (run from the repository root
after `ninja`; needs tokenizers, sentencepiece, gguf, numpy)
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"

TEXT = "tests/data/tok/bulk.txt"
BAR = 2.0


def mistral_hf(sp):
    """`tokenizers` build of the SentencePiece model sp, as HF's Llama converter makes it."""
    from tokenizers import AddedToken, Tokenizer, decoders, models as tkm, normalizers
    n = sp.get_piece_size()
    pieces = [sp.id_to_piece(i) for i in range(n)]
    vocab = {p: i for i, p in enumerate(pieces)}
    merges = []
    for i, p in enumerate(pieces):
        local = [(p[:k], p[k:]) for k in range(1, len(p)) if p[:k] in vocab and p[k:] in vocab]
        local.sort(key=lambda m: (vocab[m[0]], vocab[m[1]]))
        merges.extend((m, sp.get_score(i)) for m in local)
    merges.sort(key=lambda m: m[1], reverse=True)  # stable: ties keep the order above
    tok = Tokenizer(tkm.BPE(vocab, [m for m, _ in merges], unk_token=sp.id_to_piece(sp.unk_id()),
                            fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"),
                                           normalizers.Replace(" ", "\u2581")])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([AddedToken(pieces[i], special=True, normalized=False)
                            for i in range(n) if sp.is_control(i) or sp.is_unknown(i)])
    return tok


def peers(name, models):
    """name -> [(label, encode(text) -> list of ids)]"""
    if name == "mistral":
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=os.path.join(models, "mistral", "tokenizer.model.v1"))
        tok = mistral_hf(sp)
        return [("tokenizers", lambda text: tok.encode(text, add_special_tokens=False).ids),
                ("sentencepiece", sp.encode)]
    from tokenizers import AddedToken, Tokenizer, decoders, models as tkm, pre_tokenizers
    if name == "smollm2":
        import gguf
        r = gguf.GGUFReader(os.path.join(models, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"))
        tokens = r.fields["tokenizer.ggml.tokens"].contents()
        types = r.fields["tokenizer.ggml.token_type"].contents()
        merges = [tuple(m.split(" ")) for m in r.fields["tokenizer.ggml.merges"].contents()]
        tok = Tokenizer(tkm.BPE({t: i for i, t in enumerate(tokens)}, merges))
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                for t, ty in zip(tokens, types) if ty == 3])
    else:
        tok = Tokenizer.from_file(os.path.join(models, name, "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
    return [("tokenizers", lambda text: tok.encode(text, add_special_tokens=False).ids)]


def time_peer(encode, text, repeats):
    ids = encode(text)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        encode(text)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), ids


def time_lmrt(name, repeats):
    out = subprocess.run(["build/perf/bench_tokenizer", "--repeats", str(repeats), name],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench_tokenizer {name} failed:\n{out.stderr}")
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if f[0] == "tok_encode":
            return float(f[4]) * 1e-6, int(f[2].split()[2])
    sys.exit(f"bench_tokenizer {name}: no tok_encode row in\n{out.stdout}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("LMRT_PERF_REPEATS", "5")))
    ap.add_argument("--models", default=os.environ.get("LMRT_MODELS", "build/models"))
    ap.add_argument("names", nargs="*", default=["smollm2", "minilm", "lfm2", "mistral"])
    args = ap.parse_args()
    if not os.access("build/perf/bench_tokenizer", os.X_OK):
        sys.exit("build/perf/bench_tokenizer is missing: run ./configure && ninja perf-binaries")
    raw = open(TEXT, "rb").read()
    text = raw.decode("utf-8")
    print("tokenizer\tpeer\tpeer_MB/s\tlmrt_MB/s\tratio\tpeer_ids\tlmrt_ids\tbar")
    worst = None
    for name in args.names:
        t_lmrt, n_lmrt = time_lmrt(name, args.repeats)
        first = None
        for label, encode in peers(name, args.models):
            t_peer, ids = time_peer(encode, text, args.repeats)
            if first is not None and ids != first[1]:  # the peers of one tokenizer must agree
                sys.exit(f"{name}: {label} ids differ from {first[0]}'s")
            first = first or (label, ids)
            mb = len(raw) / 1e6
            ratio = t_peer / t_lmrt
            worst = ratio if worst is None else min(worst, ratio)
            print(f"{name}\t{label}\t{mb / t_peer:.2f}\t{mb / t_lmrt:.2f}\t{ratio:.2f}\t"
                  f"{len(ids)}\t{n_lmrt}\t{'ok' if ratio >= BAR else 'BELOW'} (>= {BAR:g}x)",
                  flush=True)
    print(f"# one thread, median of {args.repeats}; ratio = peer time / lmrt time; "
          f"worst {worst:.2f}x", file=sys.stderr)


if __name__ == "__main__":
    main()
