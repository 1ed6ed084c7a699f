#!/usr/bin/env bash
# A crowd at the box: CROWD_LAPTOPS (default 50) laptops, each with one
# new note, run `satchel sync BOX` all at once against one `satchel
# serve` box. The figure is the issue's row, the wall time from the first
# start until all the notes are on the box (target <= 0.5 s), and beside
# it the time to the last laptop's exit; medians of CROWD_BENCH_RUNS
# rounds (default 3); each round every laptop writes a new note first.
# The laptops are started by tests/tools/crowd_start, which also watches
# the box's store and adds up the laptops' CPU time. The floor beside it
# is the same crowd of processes doing `satchel id` at once (process start
# and store open, no network): what any sync of them costs at least. The
# box's CPU time over the rounds is printed too, and the box's part: the
# sync's time less the floor's, round by round (the issue's target for the
# box's connection setup, handshake and acknowledgements).
#
#	SATCHEL=path/to/satchel bash tests/bench/crowd_bench.sh
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/bench/lib.sh"
SATCHEL=${SATCHEL:-$root/build/satchel}
N=${CROWD_LAPTOPS:-50}
RUNS=${CROWD_BENCH_RUNS:-3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crowd-bench.XXXXXX")
BOX_PID=""
failed=0

cleanup() {
	[ -n "$BOX_PID" ] && kill "$BOX_PID" 2>/dev/null && wait "$BOX_PID" \
	    2>/dev/null
	rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NOW_US=0
now_us() {
	local t=${EPOCHREALTIME//[.,]/}
	NOW_US=$((10#$t))
}

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

fail() { echo "crowd_bench: $*" >&2; exit 1; }

# Runs "satchel -d laptop-i ARGS" for every laptop at once; sets
# ELAPSED_MS (first start to last exit), BAD (how many failed), CPU_MS
# (the CPU time they took together) and ONBOX_MS (first start until the
# box's store holds N more laptop entries: every note is on the box;
# only with WATCH=1 and crowd_start; "?" where not measured). The
# processes are started by tests/tools/crowd_start (posix_spawn): bash
# forking itself 50 times cost ~0.3-0.6 s of the figure on a 2-core VM,
# the harness's time, not the laptops'. Without the tool (not built),
# or with CROWD_START=bash, bash starts them, and the figure is that much
# higher.
CROWD_START=${CROWD_START:-$(bench_tool crowd_start)}
crowd() {
	local i t0 pids=() bad=0 out watch=()
	CPU_MS="?" ONBOX_MS="?"
	if [ -x "$CROWD_START" ]; then
		[ "${WATCH:-0}" = 1 ] && watch=(--watch "$box")
		out=$("$CROWD_START" "${watch[@]}" "$N" "$TMP/laptop" \
		    "$SATCHEL" "$@") || fail "crowd_start: $out"
		read -r ELAPSED_MS BAD CPU_MS ONBOX_MS <<<"$out"
		[ "$ONBOX_MS" = - ] && ONBOX_MS="?"
		return
	fi
	now_us
	t0=$NOW_US
	for ((i = 1; i <= N; i++)); do
		"$SATCHEL" -d "$TMP/laptop-$i" "$@" >/dev/null \
		    2>"$TMP/laptop-$i.err" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
	now_us
	ELAPSED_MS=$(awk "BEGIN { printf \"%.1f\", ($NOW_US - $t0) / 1000 }")
	BAD=$bad
}

starter=bash
[ -x "$CROWD_START" ] && starter=crowd_start
echo "== crowd: $N laptops, one new note each, sync with one box at once" \
    "(median of $RUNS rounds; started by $starter), load" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
now_us
s0=$NOW_US
box=$TMP/box
f=$TMP/laptop-1
"$SATCHEL" -d "$f" init --name "Laptop 1" >/dev/null 2>&1 || fail "init"
id=$("$SATCHEL" -d "$box" init --box 2>/dev/null) &&
    tok=$("$SATCHEL" -d "$f" member add "$id" --name Box --box 2>/dev/null) &&
    "$SATCHEL" -d "$box" join "$tok" >/dev/null || fail "the box cannot join"
for ((i = 2; i <= N; i++)); do
	id=$("$SATCHEL" -d "$TMP/laptop-$i" init --name "Laptop $i" 2>/dev/null) &&
	    tok=$("$SATCHEL" -d "$f" member add "$id" --name "Laptop $i" \
	    2>/dev/null) &&
	    "$SATCHEL" -d "$TMP/laptop-$i" join "$tok" >/dev/null ||
	    fail "laptop $i cannot join"
done
student=$("$SATCHEL" -d "$f" student add "Crowd Student" --class 3B) ||
    fail "student add"
"$SATCHEL" -d "$box" serve --listen 127.0.0.1:0 --port-file "$box.port" \
    2>"$box.log" &
BOX_PID=$!
for ((i = 0; i < 200; i++)); do
	[ -s "$box.port" ] && break
	sleep 0.05
done
[ -s "$box.port" ] || fail "the box would not serve: $(cat "$box.log")"
addr=127.0.0.1:$(cat "$box.port")
# Everyone holds the team's past before the rounds: one at a time.
for ((i = 1; i <= N; i++)); do
	"$SATCHEL" -d "$TMP/laptop-$i" sync "$addr" >/dev/null 2>&1 ||
	    fail "laptop $i: the first sync failed"
done
"$SATCHEL" -d "$f" sync "$addr" >/dev/null 2>&1 || fail "the founder's sync"
now_us
echo "  setup: $N laptops and a box in $(( (NOW_US - s0) / 1000000 )) s"

c0=$(cpu_ticks "$BOX_PID")
for ((r = 1; r <= RUNS; r++)); do
	for ((i = 1; i <= N; i++)); do
		"$SATCHEL" -d "$TMP/laptop-$i" note add "$student" \
		    --strengths "round $r laptop $i" --obstacle o --action a \
		    >/dev/null || fail "note add on laptop $i"
	done
	crowd id
	echo "$ELAPSED_MS" >>"$TMP/floor"
	WATCH=1 crowd sync "$addr"
	echo "$ELAPSED_MS" >>"$TMP/sync"
	echo "$CPU_MS" >>"$TMP/lcpu"
	[ "$ONBOX_MS" != "?" ] && echo "$ONBOX_MS" >>"$TMP/onbox"
	awk "BEGIN { print $ELAPSED_MS - $(tail -1 "$TMP/floor") }" \
	    >>"$TMP/part"
	printf '  round %d: notes on the box at %s ms, last exit %s ms (floor' \
	    "$r" "$ONBOX_MS" "$ELAPSED_MS"
	# Each laptop's CPU: what the load of the moment changes least (on 2
	# cores the notes are on the box after about N x this / 2).
	each="?"
	[ "$CPU_MS" != "?" ] &&
	    each=$(awk "BEGIN { printf \"%.1f\", $CPU_MS / $N }")
	printf ' %s ms), laptops %s ms CPU each, load %s' \
	    "$(tail -1 "$TMP/floor")" "$each" "$(cut -d' ' -f1 /proc/loadavg)"
	if [ "$BAD" != 0 ]; then
		failed=1
		printf ', %d syncs FAILED, e.g.:\n' "$BAD"
		cat "$TMP"/laptop-*.err | grep -v -e "sync done" \
		    -e "connected to" | sort | uniq -c | sort -rn | head -3 |
		    sed 's/^/    /'
	else
		echo
	fi
done
c1=$(cpu_ticks "$BOX_PID")
s=$(median <"$TMP/sync")
fl=$(median <"$TMP/floor")
# The row as the issue words it: from the start until all the notes are
# on the box (durable there: the box acknowledges after its commit).
# After that each laptop still takes the others' notes and the box's
# receipts (~2N entries a round), commits and exits: the second figure,
# first start to last exit, counts that too.
ob="?"
[ -s "$TMP/onbox" ] && ob=$(median <"$TMP/onbox")
echo "  all $N notes on the box  $ob ms   target <= 500 ms"
echo "  $N syncs at once  $s ms to the last exit   floor ($N x satchel id" \
    "at once) $fl ms   ratio $(awk "BEGIN { printf \"%.1f\", $s / $fl }")x"
# The box's part: what the sync costs beyond starting the processes
# (connection setup, handshake, the note, acknowledgements), round by
# round beside its own floor, so that the load of the moment cancels.
echo "  the box's part    $(median <"$TMP/part") ms   target <= 500 ms" \
    "  (sync minus floor, round by round)"
boxcpu=$(awk "BEGIN { printf \"%.2f\", ($c1 - $c0) / $(getconf CLK_TCK) / \
    $RUNS }")
echo "  box CPU           $boxcpu s a round"
# What the laptops' processes took together (the VM's cores run them and
# the box alike: with C cores the crowd needs at least (laptops' CPU +
# box CPU) / C of wall time).
if [ "$CPU_MS" != "?" ]; then
	echo "  laptops' CPU      $(median <"$TMP/lcpu" | awk '{ printf \
	    "%.2f", $1 / 1000 }') s a round, the $N together"
fi
bench_row "$N laptops sync with the box at once: all notes on the box" \
    "$ob ms" "-" "-" "<= 500 ms in all"
bench_row "$N laptops sync with the box at once: to the last exit" "$s ms" \
    "$fl ms ($N x satchel id at once)" \
    "$(awk "BEGIN { printf \"%.1fx\", $s / $fl }")" "<= 500 ms in all"
bench_row "$N laptops at once: the box's part (sync - floor)" \
    "$(median <"$TMP/part") ms" "-" "-" "<= 500 ms; box CPU $boxcpu s"
# Every laptop holds every note: the box relayed them all.
"$SATCHEL" -d "$TMP/laptop-$N" sync "$addr" >/dev/null 2>&1
"$SATCHEL" -d "$f" sync "$addr" >/dev/null 2>&1
[ "$("$SATCHEL" -d "$f" digest 2>&1)" = "$("$SATCHEL" -d "$TMP/laptop-$N" \
    digest 2>&1)" ] || fail "the first and last laptops differ after a sync"
if [ "$failed" != 0 ]; then
	echo "crowd_bench: some syncs failed (see above)" >&2
	exit 1
fi
