#!/usr/bin/env bash
# Builds build/satchel_VERSION_ARCH.deb from `make install PREFIX=/usr`:
# the binary, the man page, bash completion, the box's system unit and
# its user, the laptops' user unit. Depends: what dpkg-shlibdeps finds
# the binary links, and the libraries it opens when first used. Run by `make deb`.
set -eu
cd "$(dirname "$0")/.."
version=$(sed -n 's/^#define SATCHEL_VERSION[^"]*"\([^"]*\)".*/\1/p' daemon/satchel.h)
arch=$(dpkg --print-architecture)
work=build/deb
root=$work/root
rm -rf "$work"
mkdir -p "$root/DEBIAN" "$work/shlibs/debian"
make --no-print-directory install PREFIX=/usr DESTDIR="$PWD/$root" >/dev/null

# dpkg-shlibdeps wants a debian/control beside it.
printf 'Source: satchel\n\nPackage: satchel\nArchitecture: any\n' \
    >"$work/shlibs/debian/control"
depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$OLDPWD/$root/usr/bin/satchel" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# Libraries opened with dlopen (daemon/dl.h) are not linked, so shlibdeps
# cannot see them: the page's server is a Depends, the desktop keyring
# (laptops only) a Recommends. Their packages are the ones that hold the
# SONAMEs this binary was built for.
dl_package() {
	local so
	so=$(strings "$root/usr/bin/satchel" | grep -m1 -x "$1") || return 0
	dpkg -S "*/$so" 2>/dev/null | sed -n '1s/:.*//p'
}
mhd=$(dl_package 'libmicrohttpd\.so\.[0-9]*')
[ -n "$mhd" ] || { echo "mkdeb: no package holds libmicrohttpd's SONAME" >&2; exit 1; }
depends="$depends, $mhd"
secret=$(dl_package 'libsecret-1\.so\.[0-9]*')
recommends="systemd${secret:+, $secret}"
size=$(du -sk "$root/usr" | cut -f1)

cat >"$root/DEBIAN/control" <<CONTROL
Package: satchel
Version: $version
Architecture: $arch
Maintainer: Satchel maintainers <satchel@localhost>
Installed-Size: $size
Depends: $depends
Recommends: $recommends
Section: education
Priority: optional
Homepage: https://example.org/satchel
Description: student portfolios and conference notes, synced without a cloud
 Satchel keeps student portfolios and conference notes on a teacher's own
 computer and shares them with colleagues' computers directly, encrypted,
 over the school's network or a USB stick. A staff-room box relays and
 backs up everything and can read nothing (satchel-box.service).
CONTROL

# The box's user, made on install; the data in /var/lib/satchel is never
# removed by the package, even on purge: it is the school's backup.
cat >"$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers satchel.conf || true
	fi
	if ! getent passwd satchel >/dev/null; then
		adduser --system --group --home /var/lib/satchel --no-create-home satchel >/dev/null 2>&1 ||
		    useradd --system --user-group --home-dir /var/lib/satchel --shell /usr/sbin/nologin satchel
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || true
	fi
fi
exit 0
POSTINST
cat >"$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl stop satchel-box.service >/dev/null 2>&1 || true
	systemctl disable satchel-box.service >/dev/null 2>&1 || true
fi
exit 0
PRERM
cat >"$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
POSTRM
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
out=build/satchel_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
dpkg-deb -f "$out" Package Version Depends
