#!/usr/bin/env bash
# Push bench: how long a note written by `satchel note add` takes to reach
# a connected peer's daemon. Two devices of one team on 127.0.0.1, each a
# `satchel serve`, the writer dialling the reader; tests/tools/pushlat
# runs `note add` on the writer PUSH_BENCH_NOTES times (default 50) and
# times, from each command's exit (and from its start), until the entry
# is committed in the reader's store (it looks every 100 us). The writer's
# daemon often has it sent before the command has finished exiting. Target (issue 10): <= 5 ms
# median, <= 10 ms p90. The design before DIR/serve.sock looked for other
# processes' writes every 200 ms: about 100 ms median, 190 ms p90.
# A second round times the same through a staff-room box: the writer and
# a third laptop each dial the box only (target <= 10 ms median).
#
#	SATCHEL=path/to/satchel [PUSHLAT=path/to/pushlat] bash tests/bench/push_bench.sh
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/bench/lib.sh"
SATCHEL=${SATCHEL:-$root/build/satchel}
PUSHLAT=${PUSHLAT:-$(bench_tool pushlat)}
NOTES=${PUSH_BENCH_NOTES:-50}
scratch=$(mktemp -d)
pids=""
cleanup() {
	local p
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf -- "$scratch"
}
trap cleanup EXIT
die() { echo "push_bench: $*" >&2; exit 1; }

serve() {		# dir
	"$SATCHEL" -d "$1" serve --listen 127.0.0.1:0 --port-file "$1.port" \
	    2>>"$1.log" &
	pids="$pids $!"
	for _ in $(seq 600); do [ -s "$1.port" ] && return 0; sleep 0.05; done
	die "daemon $1 did not start: $(tail -3 "$1.log")"
}

w=$scratch/writer r=$scratch/reader
bench_init "$w" --name Writer >/dev/null || die "init"
id=$(bench_init "$r" --name Reader) &&
tok=$("$SATCHEL" -d "$w" member add "$id" --name Reader 2>/dev/null) &&
"$SATCHEL" -d "$r" join "$tok" >/dev/null || die "join"
student=$("$SATCHEL" -d "$w" student add "Bench Student" --class 3B) ||
    die "student add"
serve "$r"
"$SATCHEL" -d "$w" peer add "127.0.0.1:$(cat "$r.port")" || die "peer add"
serve "$w"
for _ in $(seq 600); do
	"$SATCHEL" -d "$w" status --json | grep -q '"connected":true' && break
	sleep 0.05
done
"$PUSHLAT" "$SATCHEL" "$w" "$r" "$student" 3 >/dev/null || die "warm-up failed"
"$PUSHLAT" "$SATCHEL" "$w" "$r" "$student" "$NOTES" >"$scratch/lat.us" ||
    die "pushlat failed"

# Through the box: a third laptop and a box; the writer and the third
# laptop dial the box, not each other.
b=$scratch/box t=$scratch/third
id=$(bench_init "$b" --box) &&
tok=$("$SATCHEL" -d "$w" member add "$id" --name Box --box 2>/dev/null) &&
"$SATCHEL" -d "$b" join "$tok" >/dev/null || die "box join"
id=$(bench_init "$t" --name Third) &&
tok=$("$SATCHEL" -d "$w" member add "$id" --name Third 2>/dev/null) &&
"$SATCHEL" -d "$t" join "$tok" >/dev/null || die "third join"
serve "$b"
"$SATCHEL" -d "$w" peer add "127.0.0.1:$(cat "$b.port")" || die "peer add box"
"$SATCHEL" -d "$t" peer add "127.0.0.1:$(cat "$b.port")" || die "peer add box"
serve "$t"
for _ in $(seq 600); do
	"$SATCHEL" -d "$t" status --json | grep -q '"connected":true' &&
	    [ "$("$SATCHEL" -d "$w" status --json |
	    grep -o '"connected":true' | wc -l)" -ge 2 ] && break
	sleep 0.05
done
"$PUSHLAT" "$SATCHEL" "$w" "$t" "$student" 3 >/dev/null ||
    die "warm-up through the box failed"
"$PUSHLAT" "$SATCHEL" "$w" "$t" "$student" "$NOTES" >"$scratch/box.us" ||
    die "pushlat through the box failed"
cut -d' ' -f1 "$scratch/box.us" >"$scratch/boxexit.us"

cut -d' ' -f1 "$scratch/lat.us" >"$scratch/exit.us"
cut -d' ' -f2 "$scratch/lat.us" >"$scratch/start.us"
echo "== push: note add on one laptop -> applied by a connected peer's daemon ($NOTES notes, loopback)"
echo "  from note add's exit     p50 $(pct_ms "$scratch/exit.us" 50) ms   p90 $(pct_ms "$scratch/exit.us" 90) ms   max $(pct_ms "$scratch/exit.us" 100) ms"
echo "  from note add's start    p50 $(pct_ms "$scratch/start.us" 50) ms   p90 $(pct_ms "$scratch/start.us" 90) ms   (the command's own run included)"
echo "  target <= 5 ms p50, <= 10 ms p90; the 200 ms poll it replaces: ~100 ms p50, ~190 ms p90"
bench_row "a note reaches a connected peer" \
    "p50 $(pct_ms "$scratch/exit.us" 50) ms, p90 $(pct_ms "$scratch/exit.us" 90) ms" \
    "-" "-" "<= 5 ms p50, <= 10 ms p90"
echo "== push through the box: note add on one laptop -> box -> applied by a third laptop's daemon ($NOTES notes)"
echo "  from note add's exit     p50 $(pct_ms "$scratch/boxexit.us" 50) ms   p90 $(pct_ms "$scratch/boxexit.us" 90) ms   max $(pct_ms "$scratch/boxexit.us" 100) ms"
# The direct push is this row's floor; below half a millisecond (the
# note is often there before the command has exited) a ratio says nothing.
echo "  target <= 10 ms p50; floor: the direct push above, p50 $(pct_ms "$scratch/exit.us" 50) ms; ratio $(awk -v a="$(pct_ms "$scratch/boxexit.us" 50)" -v b="$(pct_ms "$scratch/exit.us" 50)" 'BEGIN { if (b >= 0.5) printf "%.1fx", a / b; else print "n/a (floor under 0.5 ms)" }')"
bench_row "a note reaches a third laptop through the box" \
    "p50 $(pct_ms "$scratch/boxexit.us" 50) ms" \
    "p50 $(pct_ms "$scratch/exit.us" 50) ms (direct push)" "-" "<= 10 ms p50"
