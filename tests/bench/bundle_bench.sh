#!/usr/bin/env bash
# Bundle benchmark: export and import of a large history, with the peak
# memory of each beside the bundle's size (tests/bench/peakmem.py: peak
# RSS, which counts the store's mapped file pages, and peak anonymous
# memory, which is what the box must really find). Both stream, so their
# anonymous memory should stay far below the bundle's size.
#
#	SATCHEL=path/to/satchel [FILL=path/to/fill] [BUNDLE_BENCH_NOTES=200000] \
#	    bash tests/bench/bundle_bench.sh
#
# A team of two; the exporter holds BUNDLE_BENCH_NOTES notes of ~1 KB
# (tests/tools/fill); `export` writes them all, a fresh member `import`s
# them; the digests must match. Exits non-zero if a step fails.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/bench/lib.sh"
SATCHEL=${SATCHEL:-$root/build/satchel}
FILL=${FILL:-$(bench_tool fill)}
NOTES=${BUNDLE_BENCH_NOTES:-200000}
if ! [[ $NOTES =~ ^[1-9][0-9]*$ ]]; then
	echo "bundle_bench: BUNDLE_BENCH_NOTES must be a positive number" >&2
	exit 2
fi
for t in "$SATCHEL" "$FILL"; do
	if [ ! -x "$t" ]; then
		echo "bundle_bench: $t is missing (make bench)" >&2
		exit 1
	fi
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bundle-bench.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
a=$TMP/a b=$TMP/b

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# Runs a command under peakmem.py; sets PEAK_KB, ANON_KB and WALL_S.
measure() {
	local rc
	python3 "$root/tests/bench/peakmem.py" "$@" >"$TMP/mem" 2>"$TMP/err" ||
	    { cat "$TMP/err" >&2; return 1; }
	read -r rc PEAK_KB ANON_KB WALL_S <"$TMP/mem"
	[ "$rc" -eq 0 ] || { cat "$TMP/err" >&2; return 1; }
}

echo "== export and import of $NOTES notes (~1 KB each)"
bench_init "$a" --name Exporter >/dev/null &&
id=$(bench_init "$b" --name Importer) &&
tok=$("$SATCHEL" -d "$a" member add "$id" --name Importer 2>/dev/null) &&
"$SATCHEL" -d "$b" join "$tok" >/dev/null &&
student=$("$SATCHEL" -d "$a" student add "Bench Student" --class 3B) &&
"$FILL" "$a" "$student" "$NOTES" || { echo "bundle_bench: setup failed" >&2; exit 1; }

measure "$SATCHEL" -d "$a" export "$TMP/all.bundle" || exit 1
size_mb=$(($(stat -c %s "$TMP/all.bundle") / 1048576))
echo "  export   peak anonymous $(mb "$ANON_KB") MB   peak RSS $(mb "$PEAK_KB") MB   ${WALL_S} s   bundle ${size_mb} MB"
measure "$SATCHEL" -d "$b" import "$TMP/all.bundle" || exit 1
echo "  import   peak anonymous $(mb "$ANON_KB") MB   peak RSS $(mb "$PEAK_KB") MB   ${WALL_S} s"
if [ "$("$SATCHEL" -d "$a" digest)" != "$("$SATCHEL" -d "$b" digest)" ]; then
	echo "bundle_bench: the digests differ after import" >&2
	exit 1
fi
echo "  digests match"
