#!/usr/bin/env bash
# Installs the Debian packages Satchel builds and tests with.
set -eu
pkgs="build-essential pkg-config python3 git curl iproute2 libsodium-dev libmsgpack-dev liblmdb-dev libuv1-dev libutf8proc-dev libcsv-dev scdoc clang libclang-rt-14-dev"
# The browser tests (tests/browser): Debian's chromium and node, and npm
# only where none is on PATH (nodesource's nodejs brings its own, which
# Debian's npm package would conflict with).
pkgs="$pkgs chromium nodejs"
# The page's server, and the invite's QR code.
pkgs="$pkgs libmicrohttpd-dev libjansson-dev libqrencode-dev"
# The desktop keyring that holds the key protecting the keys at rest.
pkgs="$pkgs libsecret-1-dev"
# Its test (tests/regress/087-keyring.sh): a Secret Service on a private
# session bus.
pkgs="$pkgs gnome-keyring dbus"
# The page's API tests (tests/regress/110-, 111-).
pkgs="$pkgs curl"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
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
