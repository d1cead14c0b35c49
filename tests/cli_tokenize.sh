#!/bin/sh
# tests/cli_tokenize.sh - the lmrt CLI end to end (run by tests/run from the repository root).
#
# `lmrt tokenize` must print the reference ids of tools/gen_tokenizer_refs.py for corpus records
# (SmolLM2 GGUF and LFM2 tokenizer.json with --no-special, MiniLM's directory with the default
# BOS/CLS handling), decode its own output back to the input bytes, and fail cleanly (status 1 or
# 2, a message on stderr, never a signal) on bad models, bad ids and bad usage. `lmrt info` must
# describe the real models. Models: $LMRT_MODELS (default build/models); missing ones fail.
set -u
lmrt=build/lmrt
models=${LMRT_MODELS:-build/models}
data=tests/data/tok
smol=$models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0

fail() {
    echo "cli_tokenize: FAIL: $*" >&2
    fails=$((fails + 1))
}
ok() { checks=$((checks + 1)); }

[ -x $lmrt ] || { echo "cli_tokenize: $lmrt not built" >&2; exit 1; }
for f in "$smol" "$models/minilm/tokenizer.json" "$models/lfm2/tokenizer.json" $data/corpus.bin; do
    [ -f "$f" ] || { echo "cli_tokenize: $f missing (tools/fetch_models.sh)" >&2; exit 1; }
done

# record I of corpus.bin into $tmp/rec (records: u32 little-endian length + bytes); walks from
# the start once and caches the offsets of the first 600 records in $tmp/offsets
off=0 i=0
: >"$tmp/offsets"
while [ $i -lt 600 ]; do
    len=$(od -An -tu4 -j $off -N4 $data/corpus.bin | tr -d ' ')
    echo "$i $((off + 4)) $len" >>"$tmp/offsets"
    off=$((off + 4 + len)) i=$((i + 1))
done
record() {
    set -- $(sed -n "$(($1 + 1))p" "$tmp/offsets")
    tail -c +$(($2 + 1)) $data/corpus.bin | head -c "$3" >"$tmp/rec"
}
# "[1, 2, 3]" -> "1 2 3"
plain() { tr -d '[],\n' | tr -s ' ' | sed 's/^ //; s/ $//'; }

# 1. ids against the references: dense files are one line per record, sparse ones "i: ids"
compare() { # name model flags refline record
    got=$($lmrt tokenize -m "$2" $3 <"$tmp/rec" | plain)
    rc=$?
    if [ "$got" = "$4" ]; then ok; else fail "$1 record $5 ($3): got [$got] want [$4]"; fi
}
i=0
while [ $i -lt 300 ]; do
    record $i
    compare smollm2 "$smol" --no-special "$(sed -n "$((i + 1))p" $data/ref_smollm2.ids)" $i
    compare lfm2 "$models/lfm2/tokenizer.json" --no-special "$(sed -n "$((i + 1))p" $data/ref_lfm2.ids)" $i
    want=$(grep "^$i: " $data/ref_minilm.add.ids | sed 's/^[0-9]*: //')
    [ -n "$want" ] && compare minilm "$models/minilm" "" "$want" $i
    i=$((i + 19))
done

# LFM2's non-special added tokens ("python", "Mathias") match with --no-special too, as in
# `tokenizers` and llama.cpp: every record among the first 600 that holds one
i=0 n_added=0
while [ $i -lt 600 ]; do
    record $i
    if grep -q -e python -e Mathias "$tmp/rec"; then
        compare lfm2 "$models/lfm2/tokenizer.json" --no-special "$(sed -n "$((i + 1))p" $data/ref_lfm2.ids)" $i
        n_added=$((n_added + 1))
    fi
    i=$((i + 1))
done
[ $n_added -ge 2 ] && ok || fail "only $n_added records with LFM2's added tokens in the corpus"

# 2. decode gives back the bytes (byte-level BPE and SentencePiece are lossless)
printf 'h\303\251llo  w\303\266rld \360\237\230\200\n\ttabs\r\n<|im_start|>' >"$tmp/text"
for m in "$smol" "$models/lfm2" $data/mistral-v1-vocab.gguf; do
    [ -f "$m" ] || [ -d "$m" ] || { fail "$m missing"; continue; }
    $lmrt tokenize -m "$m" --no-special <"$tmp/text" >"$tmp/ids" &&
        $lmrt tokenize -m "$m" --no-special --decode <"$tmp/ids" >"$tmp/back"
    if cmp -s "$tmp/text" "$tmp/back"; then ok; else fail "$m: decode(encode(text)) differs"; fi
done
# the default adds LFM2's <|startoftext|> (id 1) in front and keeps it when decoding
first=$($lmrt tokenize -m "$models/lfm2" <"$tmp/text" | plain | cut -d' ' -f1)
[ "$first" = 1 ] && ok || fail "lfm2 default encode starts with '$first', want 1"
$lmrt tokenize -m "$models/lfm2" <"$tmp/text" | $lmrt tokenize -m "$models/lfm2" --decode >"$tmp/back"
printf '<|startoftext|>' | cat - "$tmp/text" | cmp -s - "$tmp/back" && ok || fail "lfm2 default decode"

# 3. errors: status 1 or 2 with a message, never a crash
expect_status() { # want-status description command...
    want=$1 what=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne "$want" ]; then fail "$what: status $rc, want $want"
    elif [ ! -s "$tmp/err" ]; then fail "$what: no message on stderr"
    else ok; fi
}
echo '[1, 99999999]' >"$tmp/bad_id"
echo '[1, -2]' >"$tmp/neg_id"
echo '[1, "two"]' >"$tmp/str_id"
echo '{"ids": [1]' >"$tmp/bad_json"
printf 'GGUF\003\000\000\000garbage' >"$tmp/bad.gguf"
expect_status 1 "id past the vocabulary" $lmrt tokenize -m "$smol" --decode <"$tmp/bad_id"
grep -q 99999999 "$tmp/err" && ok || fail "the message does not name id 99999999: $(cat "$tmp/err")"
expect_status 1 "negative id" $lmrt tokenize -m "$smol" --decode <"$tmp/neg_id"
expect_status 1 "string id" $lmrt tokenize -m "$smol" --decode <"$tmp/str_id"
expect_status 1 "bad JSON" $lmrt tokenize -m "$smol" --decode <"$tmp/bad_json"
expect_status 1 "missing model" $lmrt tokenize -m "$tmp/nonexistent" </dev/null
expect_status 1 "truncated GGUF" $lmrt tokenize -m "$tmp/bad.gguf" </dev/null
expect_status 1 "config.json as tokenizer" $lmrt tokenize -m "$models/minilm/config.json" </dev/null
expect_status 1 "directory without tokenizer" $lmrt tokenize -m "$tmp" </dev/null
expect_status 2 "no -m" $lmrt tokenize </dev/null
expect_status 2 "unknown option" $lmrt tokenize -m "$smol" --frob </dev/null
expect_status 2 "unknown command" $lmrt frobnicate
expect_status 2 "no command" $lmrt
expect_status 1 "info on a missing file" $lmrt info "$tmp/nonexistent"
expect_status 1 "info on a vocabulary-only GGUF" $lmrt info $data/mistral-v1-vocab.gguf
head -c 100000 /dev/urandom >"$tmp/noise"
$lmrt tokenize -m "$smol" <"$tmp/noise" >/dev/null && ok || fail "random bytes are text too"

# 4. info on the real models
$lmrt info "$smol" >"$tmp/info" && ok || fail "info smollm2: status $?"
for want in "arch *llama" "n_layer *30" "n_head_kv *3" "pre *smollm" "blk.29.ffn_down.weight *q4_1 *1536 x 576" "n_tensors *272"; do
    grep -q "$want" "$tmp/info" && ok || fail "info smollm2 lacks '$want'"
done
$lmrt info "$models/minilm" --json >"$tmp/info" && ok || fail "info minilm --json: status $?"
for want in '"arch":.*"bert"' '"pooling":.*"mean"' '"kind":.*"wpm"' '"n_tensors":.*104'; do
    grep -q "$want" "$tmp/info" && ok || fail "info minilm --json lacks '$want'"
done

echo "cli_tokenize: $checks checks passed, $fails failed"
[ $fails -eq 0 ]
