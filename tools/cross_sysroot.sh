#!/bin/sh
# tools/cross_sysroot.sh ARCH DIR PKG... - a sysroot for cross-building lmrt: the Debian
# packages PKG of architecture ARCH (e.g. arm64) and every package they depend on, downloaded
# and unpacked under DIR (nothing is installed into the system, so the -dev packages of two
# architectures never collide). Adds ARCH to dpkg's foreign architectures (needs root) so apt
# can see its packages. configure --host --install-deps runs it; DIR/.packages records what went in.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 ARCH DIR PKG..." >&2; exit 2; }
arch=$1 dir=$2
shift 2
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    $sudo dpkg --add-architecture "$arch"
fi
$sudo apt-get update -qq
want=
for p in "$@"; do want="$want $p:$arch"; done
# the dependency closure, restricted to ARCH's own packages (arch-independent ones are data)
# shellcheck disable=SC2086
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $want 2>/dev/null | grep -E "^[a-z0-9][^ ]*:$arch\$" | sort -u >"$dir.list"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && apt-get -o APT::Sandbox::User=root download $(cat "$dir.list") >/dev/null)
rm -rf "$dir"
mkdir -p "$dir"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
mv "$dir.list" "$dir/.packages"
echo "cross_sysroot: $(wc -l <"$dir/.packages") $arch packages in $dir"
