#!/bin/sh
# tests/install_check.sh - the README's library example, built the two ways a user builds it:
# against the installed header and library through pkg-config, and from a copy of the source
# tree dropped into a project (vendoring). Both binaries must print what the CLI prints for the
# same work: the greedy continuation of `lmrt run --temp 0 -n 16` and the cosine of the two
# texts' `lmrt embed` vectors.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
models=${LMRT_MODELS:-build/models}
text=$models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
enc=$models/minilm
sed -n '/<!-- example:begin -->/,/<!-- example:end -->/p' README.md | sed '1,2d;$d' | sed '$d' \
    >"$dir/example.c"
grep -q 'lm_embed' "$dir/example.c" || { echo "install check: no example in README.md" >&2; exit 1; }

# what the CLI says for the same work
want_gen="The capital of France is$(build/lmrt run -m "$text" -p 'The capital of France is' \
    -n 16 --temp 0 2>/dev/null)"
want_cos=$(printf 'A man is eating food.\nA man is eating a piece of bread.\n' |
    build/lmrt embed -m "$enc" | python3 -c '
import json, sys
a, b = (json.loads(l) for l in sys.stdin)
print("cosine %.4f" % sum(x * y for x, y in zip(a, b)))')

check() { # binary label
    out=$("$1" "$text" "$enc")
    got_gen=$(printf '%s\n' "$out" | sed '$d')
    got_cos=$(printf '%s\n' "$out" | tail -n 1)
    if [ "$got_gen" != "$want_gen" ] || [ "$got_cos" != "$want_cos" ]; then
        printf 'install check (%s): got\n%s\n%s\nwant\n%s\n%s\n' "$2" "$got_gen" "$got_cos" \
            "$want_gen" "$want_cos" >&2
        exit 1
    fi
    echo "install check ($2): ok: $got_cos"
}

# 1. installed: header, library and lmrt.pc under a prefix
sh tools/install.sh "$dir/prefix" >/dev/null
PKG_CONFIG_PATH="$dir/prefix/lib/pkgconfig"
export PKG_CONFIG_PATH
cc -o "$dir/installed" "$dir/example.c" $(pkg-config --cflags --libs lmrt)
check "$dir/installed" pkg-config

# 2. vendored: the tracked source tree copied into a project, built there with its own
# configure and ninja, linked by path
mkdir -p "$dir/proj/lmrt"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$dir/proj/lmrt"
(cd "$dir/proj/lmrt" && ./configure >/dev/null && ninja -j2 build/liblmrt.a >/dev/null)
cc -o "$dir/vendored" "$dir/example.c" -I"$dir/proj/lmrt/rt" "$dir/proj/lmrt/build/liblmrt.a" \
    $(pkg-config --libs sleef libcpuinfo libpcre2-8 libutf8proc libcjson) -lm -pthread
check "$dir/vendored" vendored
