# A full disk is named as such. On a 16 MiB tmpfs made for the test:
# a write says "the disk holding DIR is full"; verify exits with a clear
# error (not SIGBUS) and leaves no scratch directory; a daemon that cannot
# take a peer's entries backs off (1 s, 2 s, 4 s...) instead of redialling
# every half second, and takes them by itself once space returns.
# Skips (TAP "ok # skip") where no tmpfs can be mounted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"
: "${TOOLS:?TOOLS must name the test tools directory}"

disk=$TMP/disk
mkdir -p "$disk"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=16m satchel-test "$disk" 2>/dev/null; then
	echo "ok 1 # skip cannot mount a tmpfs here (needs root)"
	echo "1..1"
	exit 0
fi
unmount_then_cleanup() {
	[ -n "${KEEP:-}" ] && { cp "$alog" "$TMP/a.kept.log" 2>/dev/null; }
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	umount "$disk" 2>/dev/null || umount -l "$disk"
	cleanup
}
trap unmount_then_cleanup EXIT

a=$disk/a b=$TMP/b
make_team "$b" "$a"
ana=$("$SATCHEL" -d "$b" student add "Ana Lopez" --class 3B)
fill_disk() { dd if=/dev/zero of="$disk/fill" bs=64k 2>/dev/null; sync; }
fill_disk

text=$(head -c 30000 /dev/zero | tr '\0' 'x')
rc=0
for i in $(seq 1 200); do
	"$SATCHEL" -d "$a" student add "Student $i" --class 3B --needs "$text" \
	    >/dev/null 2>"$TMP/err" || { rc=$?; break; }
done
echo "# write on the full disk: exit $rc: $(cat "$TMP/err")"
check "a write on a full disk fails (exit 1)" [ "$rc" -eq 1 ]
check "and says the disk holding the data directory is full" grep -q "the disk holding $a is full" "$TMP/err"
check "in one line" [ "$(wc -l <"$TMP/err")" -eq 1 ]

"$SATCHEL" -d "$a" verify >/dev/null 2>"$TMP/err"
rc=$?
echo "# verify on the full disk: exit $rc: $(head -n 1 "$TMP/err")"
check "verify on a full disk exits 1, not by a signal" [ "$rc" -eq 1 ]
check "verify says the disk is full" grep -q "the disk holding $a is full" "$TMP/err"
check "verify leaves no scratch directory" sh -c "! ls -d '$a'/verify-* 2>/dev/null"

# A peer with a few MB of notes the full disk cannot take.
"$TOOLS/fill" "$b" "$ana" 1000 >/dev/null
if ! serve_free "$b"; then fail "daemon b starts"; exit 1; fi
pb=$PORT
"$SATCHEL" -d "$a" peer add "127.0.0.1:$pb" >/dev/null 2>&1
alog=$TMP/a.log	# beside the test, not on the full disk
if ! serve_free "$a" "$TMP/a"; then fail "daemon a starts on the full disk"; exit 1; fi
ok "both daemons start"
check "daemon a finds its disk full, and names it" wait_for "grep -q 'cannot take its entries: the disk holding $a is full' '$alog'" 600
check "it tries again after 1 s, 2 s, then 4 s" wait_for "[ \"\$(grep -o 'trying again in [0-9]* s' '$alog' | head -n 3 | tr -dc '0-9')\" = 124 ]" 600
check "it does not say the store could not be read" sh -c "! grep -q 'could not be read or written' '$alog'"
rm -f "$disk/fill"
check "once space returns it takes the entries by itself" \
    wait_for "grep -q 'the disk has room again' '$alog'" 1200
wait_for "[ \"\$('$SATCHEL' -d '$a' digest 2>/dev/null)\" = \"\$('$SATCHEL' -d '$b' digest)\" ]" 600
check "the two devices end with the same digest" [ "$("$SATCHEL" -d "$a" digest)" = "$("$SATCHEL" -d "$b" digest)" ]
echo "1..$_tap_n"
