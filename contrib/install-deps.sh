#!/usr/bin/env bash
# Installs the Debian packages Satchel builds and tests with.
set -eu
pkgs="build-essential pkg-config python3 git libsodium-dev libmsgpack-dev liblmdb-dev libuv1-dev libutf8proc-dev libcsv-dev scdoc clang libclang-rt-14-dev"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing:$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
