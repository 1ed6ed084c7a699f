#!/usr/bin/env bash
# Idle daemon: how often an idle `satchel serve` wakes up, and what memory
# it holds. Two daemons of one team, each with the other as its peer,
# connected and with nothing to do; over IDLE_BENCH_SECS (default 10)
# seconds each one's context switches (voluntary + involuntary, over all
# its threads, from /proc/PID/task/*/status) are its wake-ups. Memory is
# VmRSS and RssAnon (the heap: what the issue's target counts, not LMDB's
# mapped pages) at the end. Target: no polling (only purposeful timers:
# the fallback check every few seconds), RSS <= 16 MB.
#
#	SATCHEL=path/to/satchel bash tests/bench/idle_bench.sh
#
# The floor beside it is `sleep` measured the same way: a process that
# never wakes. Medians of IDLE_BENCH_RUNS windows (default 3) per daemon.
#
# Then A takes IDLE_BENCH_NOTES new notes (default 20,000, written by the
# fill tool as another process would), B receives them from A's daemon,
# and once both are idle again their heaps are read once more: a daemon
# keeps a sync's buffers while the sync runs and gives them back after.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/bench/lib.sh"
SATCHEL=${SATCHEL:-$root/build/satchel}
SECS=${IDLE_BENCH_SECS:-10}
NOTES=${IDLE_BENCH_NOTES:-20000}
FILL=${FILL:-$root/build/rel/tools/fill}
[ -x "$FILL" ] || FILL=$root/build/test/tools/fill
RUNS=${IDLE_BENCH_RUNS:-3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/idle-bench.XXXXXX")
PIDS=""

cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Context switches of every thread of PID, summed.
switches() {
	local f k v n=0
	for f in /proc/"$1"/task/*/status; do
		while read -r k v; do
			case $k in
			voluntary_ctxt_switches:|nonvoluntary_ctxt_switches:)
				n=$((n + v)) ;;
			esac
		done <"$f" 2>/dev/null
	done
	echo "$n"
}

field_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Wake-ups per second of PID over SECS, median of RUNS windows.
wakeups() {
	local pid=$1 r a b
	for ((r = 1; r <= RUNS; r++)); do
		a=$(switches "$pid")
		sleep "$SECS"
		b=$(switches "$pid")
		awk "BEGIN { printf \"%.2f\n\", ($b - $a) / $SECS }"
	done | median
}

start_serve() {	# dir -> SERVE_PID, PORT
	local dir=$1 i
	rm -f "$dir.port"
	"$SATCHEL" -d "$dir" serve --listen 127.0.0.1:0 --port-file \
	    "$dir.port" 2>>"$dir.log" &
	SERVE_PID=$!
	PIDS="$PIDS $SERVE_PID"
	for ((i = 0; i < 200; i++)); do
		[ -s "$dir.port" ] && { PORT=$(cat "$dir.port"); return 0; }
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "idle_bench: satchel serve would not start:" >&2
	cat "$dir.log" >&2
	return 1
}

echo "== idle daemon: two connected daemons with nothing to do, wake-ups" \
    "over ${SECS} s (median of $RUNS), load $(cut -d' ' -f1-3 /proc/loadavg)"
a=$TMP/a b=$TMP/b
if ! "$SATCHEL" -d "$a" init --name A >/dev/null 2>&1 ||
    ! id=$("$SATCHEL" -d "$b" init --name B 2>/dev/null) ||
    ! tok=$("$SATCHEL" -d "$a" member add "$id" --name B 2>/dev/null) ||
    ! "$SATCHEL" -d "$b" join "$tok" >/dev/null; then
	echo "idle_bench: cannot set up two devices" >&2
	exit 1
fi
start_serve "$a" || exit 1
pa=$SERVE_PID
"$SATCHEL" -d "$b" peer add "127.0.0.1:$PORT" >/dev/null 2>&1
start_serve "$b" || exit 1
pb=$SERVE_PID
"$SATCHEL" -d "$a" peer add "127.0.0.1:$PORT" >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do	# both connected, the first sync over
	grep -q "connected to" "$a.log" && grep -q "connected to" "$b.log" &&
	    break
	sleep 0.1
done
sleep 2
sleep 1000 &
sp=$!
PIDS="$PIDS $sp"
wa=$(wakeups "$pa")
wb=$(wakeups "$pb")
ws=$(wakeups "$sp")
for who in a b; do
	pid=$pa
	[ "$who" = b ] && pid=$pb
	w=$wa
	[ "$who" = b ] && w=$wb
	rss=$(field_kb "$pid" VmRSS)
	anon=$(field_kb "$pid" RssAnon)
	printf '  satchel serve %s  %6s wake-ups/s   RSS %5.1f MB (heap %4.1f MB)' \
	    "$who" "$w" "$(awk "BEGIN { print $rss / 1024 }")" \
	    "$(awk "BEGIN { print $anon / 1024 }")"
	echo "   target: no polling, RSS <= 16 MB"
	bench_row "idle daemon $who: wake-ups/s, RSS" \
	    "$w/s, $(awk "BEGIN { printf \"%.1f\", $rss / 1024 }") MB" \
	    "$ws/s (sleep)" "-" "no polling, <= 16 MB"
done
printf '  floor (sleep)    %6s wake-ups/s\n' "$ws"

# --- after a sync: the same two daemons, idle again.
entries() { "$SATCHEL" -d "$1" status 2>/dev/null | sed -n 's/^entries *\([0-9]*\).*/\1/p'; }
if [ ! -x "$FILL" ] ||
    ! st=$("$SATCHEL" -d "$a" student add "Idle Bench" --class 1A \
    2>/dev/null) || ! "$FILL" "$a" "$st" "$NOTES" >/dev/null 2>&1; then
	echo "idle_bench: cannot write $NOTES notes on A (fill tool: $FILL)" >&2
	exit 1
fi
want=$(entries "$a")
for ((i = 0; i < 1200; i++)); do	# the fallback check finds fill's writes
	[ "$(entries "$b")" = "$want" ] && break
	sleep 0.1
done
if [ "$(entries "$b")" != "$want" ]; then
	echo "idle_bench: B did not receive A's $NOTES notes in 120 s" >&2
	tail -5 "$b.log" >&2
	exit 1
fi
sleep 15	# FALLBACK_MS without traffic, then a tick: the heap is given back
for who in a b; do
	pid=$pa
	[ "$who" = b ] && pid=$pb
	anon=$(field_kb "$pid" RssAnon)
	hwm=$(field_kb "$pid" VmHWM)
	printf '  after %s notes: satchel serve %s heap %4.1f MB (peak RSS %5.1f MB)' \
	    "$(commas "$NOTES")" "$who" "$(awk "BEGIN { print $anon / 1024 }")" \
	    "$(awk "BEGIN { print $hwm / 1024 }")"
	echo "   target: RSS <= 16 MB idle"
	bench_row "idle daemon $who after a $(commas "$NOTES")-note sync: heap" \
	    "$(awk "BEGIN { printf \"%.1f\", $anon / 1024 }") MB" "-" "-" \
	    "<= 16 MB"
done
