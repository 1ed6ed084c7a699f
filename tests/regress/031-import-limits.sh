# import and export stream. A huge file that is not a bundle is refused
# once its header is read (exit 2, one line), without reading the file
# into memory: its peak memory is measured (python's getrusage of the
# child), not its time. A bundle round trip still works, and a bundle
# bigger than the reader's buffer is read with bounded memory.
. "$(dirname "$0")/lib.sh"

# Runs a command, its stderr to $TMP/peak.err; prints "EXIT MAXRSS_KB".
peak() {
	python3 - "$TMP/peak.err" "$@" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "w") as err:
    rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

a=$TMP/a b=$TMP/b
make_team "$a" "$b"
"$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B >/dev/null

# 512 MiB of zeros (sparse: no disk used), then a real header's worth of
# junk in front: neither is a bundle.
truncate -s 512M "$TMP/huge.bin"
set -- $(peak "$SATCHEL" -d "$b" import "$TMP/huge.bin")
rc=$1 kb=$2
echo "# import of a 512 MiB non-bundle: exit $rc, peak RSS $kb kB"
check "a huge non-bundle file is refused with exit 2" [ "$rc" -eq 2 ]
check "with one line saying it is not a bundle" sh -c "[ \$(wc -l <'$TMP/peak.err') -eq 1 ] && grep -q 'not a Satchel bundle' '$TMP/peak.err'"
check "without reading it into memory (peak RSS under 64 MiB)" [ "$kb" -lt 65536 ]

# A bundle whose header claims more than the file holds: refused, exit 2.
"$SATCHEL" -d "$a" export "$TMP/good.bundle" >/dev/null
check "export writes a bundle" [ -s "$TMP/good.bundle" ]
check "no temporary file is left beside it" sh -c "! ls '$TMP'/good.bundle.tmp 2>/dev/null"
{ head -c 65 "$TMP/good.bundle"; head -c 1000000 /dev/zero; } >"$TMP/cut.bundle"
expect_refusal "a bundle with a forged body is refused" -d "$b" import "$TMP/cut.bundle"
check "the good bundle imports" sh -c "'$SATCHEL' -d '$b' import '$TMP/good.bundle' >/dev/null"
check "and brings the student" sh -c "'$SATCHEL' -d '$b' show 'Ana Lopez' >/dev/null"
echo "1..$_tap_n"
