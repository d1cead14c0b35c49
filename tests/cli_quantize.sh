#!/bin/sh
# tests/cli_quantize.sh - `lmrt quantize` and `lmrt convert` end to end (run by tests/run from the
# repository root).
#
# quantize the real SmolLM2 Q4_1 file to q4_0 and q6_k, convert all-MiniLM-L6-v2 to f16 and
# q8_0: `lmrt info` must describe each output (types as llama.cpp's rules give them, the same
# hyper-parameters), and each output's tokenizer must give the same ids as the source's. Bad
# arguments and bad inputs must fail with status 1 or 2 and a message on stderr, leaving no
# output file. Models: $LMRT_MODELS (default build/models); missing ones fail. The numeric
# checks of every tensor are in tests/check_convert.c; llama.cpp's view of these files is
# checked by tools/check_llama_cpp.py.
set -u
lmrt=build/lmrt
models=${LMRT_MODELS:-build/models}
smol=$models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
minilm=$models/minilm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0
fail() {
    echo "cli_quantize: FAIL: $*" >&2
    fails=$((fails + 1))
}
ok() { checks=$((checks + 1)); }

[ -x $lmrt ] || { echo "cli_quantize: $lmrt not built" >&2; exit 1; }
for f in "$smol" "$minilm/model.safetensors"; do
    [ -f "$f" ] || { echo "cli_quantize: $f missing (tools/fetch_models.sh)" >&2; exit 1; }
done
text='Hello world, <|im_start|>user: naïve café 1234'

# 1. quantize: types by llama.cpp's rules, hyper-parameters and tokenizer kept
for t in q4_0 q6_k; do
    out=$tmp/smol-$t.gguf
    $lmrt quantize -t 1 "$smol" "$out" $t 2>"$tmp/err" && ok || fail "quantize $t: $(cat "$tmp/err")"
    grep -q "272 tensors" "$tmp/err" && ok || fail "quantize $t summary: $(cat "$tmp/err")"
    $lmrt info "$out" >"$tmp/info" && ok || fail "info on the $t output"
    want_w=$(echo $t | sed 's/_k$/_K/')
    for want in "arch *llama" "n_layer *30" "n_head_kv *3" "pre *smollm" "n_tensors *272" \
        "blk.29.ffn_down.weight *$want_w *1536 x 576" "blk.0.attn_norm.weight *f32" \
        "token_embd.weight *q8_0"; do
        grep -q "$want" "$tmp/info" && ok || fail "info $t lacks '$want'"
    done
    a=$(printf '%s' "$text" | $lmrt tokenize -m "$smol")
    b=$(printf '%s' "$text" | $lmrt tokenize -m "$out")
    [ "$a" = "$b" ] && ok || fail "$t: tokenizer differs: $a vs $b"
done
# q6_k: 576-wide rows are no whole 256-blocks, so those weights fall back to q8_0
grep -q "blk.0.attn_q.weight *q8_0" "$tmp/info" && ok || fail "q6_k: attn_q should fall back to q8_0"

# 2. convert: bert keys, f16 / q8_0 weights with f32 norms, the same tokenizer
for t in f16 q8_0; do
    out=$tmp/minilm-$t.gguf
    $lmrt convert "$minilm" "$out" --outtype $t 2>"$tmp/err" && ok || fail "convert $t: $(cat "$tmp/err")"
    $lmrt info "$out" >"$tmp/info" && ok || fail "info on the converted $t file"
    for want in "arch *bert" "n_layer *6" "pooling *mean" "kind *wpm" "n_tensors *101" \
        "blk.5.ffn_down.weight *$t *1536 x 384" "blk.5.layer_output_norm.weight *f32" \
        "position_embd.weight *f32"; do
        grep -q "$want" "$tmp/info" && ok || fail "info converted $t lacks '$want'"
    done
    a=$(printf '%s' "$text" | $lmrt tokenize -m "$minilm")
    b=$(printf '%s' "$text" | $lmrt tokenize -m "$out")
    [ "$a" = "$b" ] && ok || fail "converted $t: tokenizer differs: $a vs $b"
done

# 3. errors: status 1 or 2 with a message and no output file
expect_status() { # want-status description output command...
    want=$1 what=$2 out=$3
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne "$want" ]; then fail "$what: status $rc, want $want"
    elif [ ! -s "$tmp/err" ]; then fail "$what: no message on stderr"
    elif [ -n "$out" ] && [ -e "$out" ]; then fail "$what: left $out behind"
    else ok; fi
}
printf 'GGUF\003\000\000\000garbage' >"$tmp/bad.gguf"
expect_status 2 "quantize without arguments" "" $lmrt quantize
expect_status 2 "quantize to an unknown type" "$tmp/o.gguf" $lmrt quantize "$smol" "$tmp/o.gguf" q3_k
expect_status 2 "quantize with a bad -t" "$tmp/o.gguf" $lmrt quantize -t 0 "$smol" "$tmp/o.gguf" q8_0
expect_status 1 "quantize a missing file" "$tmp/o.gguf" $lmrt quantize "$tmp/none.gguf" "$tmp/o.gguf" q8_0
grep -q "none.gguf" "$tmp/err" && ok || fail "the message does not name none.gguf: $(cat "$tmp/err")"
expect_status 1 "quantize a truncated GGUF" "$tmp/o.gguf" $lmrt quantize "$tmp/bad.gguf" "$tmp/o.gguf" q8_0
cp "$tmp/smol-q4_0.gguf" "$tmp/same.gguf"
expect_status 1 "quantize onto its input" "" $lmrt quantize "$tmp/same.gguf" "$tmp/same.gguf" q8_0
cmp -s "$tmp/same.gguf" "$tmp/smol-q4_0.gguf" && ok || fail "quantize onto its input changed it"
expect_status 1 "quantize into a missing directory" "" $lmrt quantize "$smol" "$tmp/no/o.gguf" q8_0
expect_status 2 "convert without arguments" "" $lmrt convert
expect_status 2 "convert to a type it does not write" "$tmp/o.gguf" $lmrt convert "$minilm" "$tmp/o.gguf" --outtype q4_0
expect_status 1 "convert a directory that is no model" "$tmp/o.gguf" $lmrt convert "$tmp" "$tmp/o.gguf"
expect_status 0 "quantize -h" "" sh -c "$lmrt quantize -h >&2"
expect_status 0 "convert -h" "" sh -c "$lmrt convert -h >&2"

echo "cli_quantize: $checks checks passed, $fails failed"
[ $fails -eq 0 ]
