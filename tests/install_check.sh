#!/bin/sh
# tests/install_check.sh - install into a temporary prefix and build a program against the
# installed header and library through pkg-config, as a user who vendors lmrt would.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sh tools/install.sh "$dir/prefix" >/dev/null
cat >"$dir/use.c" <<'C'
#include <lmrt.h>
#include <stdio.h>
int main(void) {
    struct lm_ctx *ctx;
    if (lm_ctx_create(1, &ctx) != LM_OK) return 1;
    float x[3] = {3, 4, 0}, y[3];
    struct lm_tensor tx = lm_tensor_1d(LM_F32, 3, x), ty = lm_tensor_1d(LM_F32, 3, y);
    lm_status s = lm_rmsnorm(&ty, &tx, NULL, 0.0f, ctx);
    lm_ctx_free(ctx);
    printf("%s %.4f\n", lm_status_str(s), (double)y[0]);
    return s != LM_OK || y[0] < 1.0392f || y[0] > 1.0393f;
}
C
PKG_CONFIG_PATH="$dir/prefix/lib/pkgconfig" 
export PKG_CONFIG_PATH
cc -o "$dir/use" "$dir/use.c" $(pkg-config --cflags --libs lmrt)
"$dir/use"
echo "install check: ok"
