#!/usr/bin/env bash
# Installs build/satchel_*.deb in a fresh Debian 12 chroot with apt (so
# its Depends are resolved from the archive), checks the binary runs, the
# box's user and units are there, then removes it and checks nothing of
# it is left but /var/lib/satchel. Run as root by `make deb-test`. The
# chroot is made with debootstrap (minbase) in build/deb-test-root the
# first time, or DEB_TEST_ROOT names an existing Debian 12 chroot.
set -eu
cd "$(dirname "$0")/.."
arch=$(dpkg --print-architecture)
deb=$(ls build/satchel_*_"$arch".deb 2>/dev/null | tail -1)
root=${DEB_TEST_ROOT:-$PWD/build/deb-test-root}
fail() { echo "deb-test: $*" >&2; exit 1; }
[ -n "$deb" ] || fail "no package: run make deb first"
[ "$(id -u)" -eq 0 ] || fail "run as root: it makes and enters a chroot"
if [ ! -x "$root/bin/sh" ]; then
	command -v debootstrap >/dev/null ||
	    fail "needs debootstrap (apt-get install debootstrap), or DEB_TEST_ROOT=an existing Debian 12 chroot"
	debootstrap --variant=minbase bookworm "$root" \
	    "${DEB_MIRROR:-http://deb.debian.org/debian}" >/dev/null
fi
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive "$@"; }
cp "$deb" "$root/tmp/satchel.deb"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
in_root apt-get update -qq
in_root apt-get install -y -qq /tmp/satchel.deb >/dev/null ||
    fail "apt-get install failed"
in_root satchel --version >/dev/null || fail "the installed binary does not run"
in_root getent passwd satchel >/dev/null || fail "no satchel user after install"
for f in /usr/lib/systemd/system/satchel-box.service \
    /usr/lib/systemd/user/satchel.service /usr/share/man/man1/satchel.1 \
    /usr/share/bash-completion/completions/satchel; do
	in_root test -f "$f" || fail "$f is not installed"
done
in_root sh -c 'cd /tmp && rm -rf t && satchel -d /tmp/t init --name Test >/dev/null &&
    satchel -d /tmp/t student add "Ana Lopez" >/dev/null && rm -rf /tmp/t' ||
    fail "the installed binary cannot make a store"
in_root apt-get remove -y -qq satchel >/dev/null || fail "apt-get remove failed"
for f in /usr/bin/satchel /usr/lib/systemd/system/satchel-box.service; do
	in_root test ! -e "$f" || fail "$f is left after remove"
done
rm -f "$root/tmp/satchel.deb"
echo "deb-test: $(basename "$deb") installs, runs and removes cleanly in $root"
