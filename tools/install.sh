#!/bin/sh
# tools/install.sh PREFIX - install the public header, the static library, the tools and a
# pkg-config file, so a project can `pkg-config --cflags --libs lmrt` or vendor the sources.
set -eu
prefix=$1
install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/bin"
install -m 644 rt/lmrt.h "$prefix/include/lmrt.h"
install -m 644 build/liblmrt.a "$prefix/lib/liblmrt.a"
for t in build/lmrt; do [ -x "$t" ] && install -m 755 "$t" "$prefix/bin/"; done
version=$(git describe --always --dirty 2>/dev/null || echo 0.1)
cat >"$prefix/lib/pkgconfig/lmrt.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: lmrt
Description: transformer runtime in C: tensors, SIMD kernels, model graphs
Version: $version
Requires.private: sleef libcpuinfo libpcre2-8 libutf8proc libcjson
Cflags: -I\${includedir}
Libs: -L\${libdir} -llmrt -lsleef -lcpuinfo -lpcre2-8 -lutf8proc -lcjson -lm -pthread
PC
echo "installed lmrt to $prefix (pkg-config: PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
