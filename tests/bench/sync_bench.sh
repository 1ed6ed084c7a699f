#!/usr/bin/env bash
# Sync benchmark: what a full sync and an up-to-date sync cost over
# loopback, beside the floor (loopback TCP) and two peers (PouchDB and
# Hypercore replicating the same records).
#
#	SATCHEL=path/to/satchel [FILL=path/to/fill] bash tests/bench/sync_bench.sh
#
#   [a] full sync: a team (the sender, and a fresh receiver for each run,
#       all made up front); the sender holds 100,000 notes of ~1 KB
#       (tests/tools/fill) and runs `satchel serve --listen 127.0.0.1:P`; a
#       fresh receiver runs `satchel sync 127.0.0.1:P`. Entries/s, wall time,
#       peak RSS of both processes; the digests must match.
#   [b] right after: an up-to-date sync and the sync of one new note
#       (target < 10 ms each), with `satchel id` (process start + store
#       open) as their floor.
#       Before each of them the floor runs (tests/bench/sync_floor.c, as
#       the issue pins it: per batch of 1,000 entries a BLAKE2b hash and an
#       XChaCha20-Poly1305 seal per entry on the sender, one ed25519
#       verify and an open per entry on the receiver, an LMDB put of each
#       entry in one durable transaction per batch, two processes over
#       loopback TCP), so both see the same machine; the ratio of the
#       medians is printed with the load average of each run.
#   [c] loopback TCP throughput alone (python3, 100 MB over a 127.0.0.1
#       socket), as MB/s and as entries/s at Satchel's wire bytes per
#       entry.
#   [d] peers: the same records replicated between two PouchDB databases
#       (over HTTP on 127.0.0.1 when express-pouchdb installs) and between
#       two Hypercores (over TCP on 127.0.0.1), installed from npm into a
#       throw-away directory; neither is a build or test dependency.
#
# Every figure is the median of SYNC_BENCH_RUNS runs (default 3; the
# machine is shared and noisy); [b]'s are medians of SYNC_BENCH_SMALL
# (default 10) syncs each, interleaved with their floor. SYNC_BENCH_NOTES
# (default 100000) sets the history's size; SYNC_BENCH_PEERS=0 skips [d].
# Only 127.0.0.1 is used. Exits non-zero if any measurement failed or the
# digests differ.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/bench/lib.sh"
here=$root/tests/bench
SATCHEL=${SATCHEL:-$root/build/satchel}
if [ -z "${FILL:-}" ]; then
	if [ -x "$root/build/rel/tools/fill" ]; then
		FILL=$root/build/rel/tools/fill
	else
		FILL=$root/build/test/tools/fill
	fi
fi
RUNS=${SYNC_BENCH_RUNS:-3}
SMALL=${SYNC_BENCH_SMALL:-10}
NOTES=${SYNC_BENCH_NOTES:-100000}
PEERS=${SYNC_BENCH_PEERS:-1}
FLOOR_BYTES=$((100 * 1000 * 1000))
SMALL_TARGET_MS=10
failed=0

for v in RUNS SMALL NOTES; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "sync_bench: SYNC_BENCH_$v must be a positive number" >&2
		exit 2
	fi
done
if [ ! -x "$SATCHEL" ]; then
	echo "sync_bench: $SATCHEL is not built (make build/satchel)" >&2
	exit 1
fi
if [ ! -x "$FILL" ]; then
	echo "sync_bench: no fill tool at $FILL (make build/test/tools/fill," \
	    "or set FILL)" >&2
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sync-bench.XXXXXX")
BGPIDS=""	# background processes this script started, by pid
cleanup() {
	local p c=()
	for p in $BGPIDS; do
		# GNU time's child first: killing time alone leaves it running.
		read -ra c 2>/dev/null <"/proc/$p/task/$p/children"
		[ "${#c[@]}" -gt 0 ] && kill "${c[@]}" 2>/dev/null
		c=()
		kill "$p" 2>/dev/null
	done
	for p in $BGPIDS; do wait "$p" 2>/dev/null; done
	BGPIDS=""
	rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Helpers: clocks, medians, numbers.

# Sets NOW_US, microseconds; with EPOCHREALTIME (bash 5) without a fork.
NOW_US=0
now_us() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		local t=${EPOCHREALTIME//[.,]/}	# the separator follows the locale
		NOW_US=$((10#$t))
	else
		NOW_US=$(($(date +%s%N) / 1000))
	fi
}

# Runs a command with stdout discarded, stderr to $TMP/last.err; its wall
# time goes to ELAPSED_US.
ELAPSED_US=0
timed() {
	local t0
	now_us
	t0=$NOW_US
	"$@" >/dev/null 2>"$TMP/last.err" || return 1
	now_us
	ELAPSED_US=$((NOW_US - t0))
}

# The median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The smallest and largest, as "min-max".
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }

# Flushes dirty pages (the fill's, the last run's) before a timed run, so
# that no run pays for the writeback of the one before it.
settle() { sync; }

calc() { awk "BEGIN { printf $1 }"; }	# calc 'FORMAT, EXPR...'
# 12345678 -> 12,345,678
mb() { calc "\"%.0f MB\", $1 / 1024"; }	# KiB -> "N MB"

# Reads VmHWM and RssAnon (KiB) of a process into HWM_KB and ANON_KB.
mem_of() {
	local k v rest
	HWM_KB=0 ANON_KB=0
	{ while read -r k v rest; do
		case $k in
		VmHWM:) HWM_KB=$v ;;
		RssAnon:) ANON_KB=$v ;;
		esac
	done <"/proc/$1/status"; } 2>/dev/null
}

# Bytes a process has written through write(2) and friends: for the serve
# process during a sync, essentially what it sent over the socket.
wchar_of() {
	local k v
	WCHAR=""
	{ while read -r k v; do
		[ "$k" = "wchar:" ] && WCHAR=$v
	done <"/proc/$1/io"; } 2>/dev/null
}

SYNC_FLOOR=${SYNC_FLOOR:-$root/build/rel/bench/sync_floor}

# The load average over the last minute, for each run's line.

GNU_TIME=""
if [ -x /usr/bin/time ] && /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null; then
	GNU_TIME=/usr/bin/time
fi

# --- Satchel devices.

# Starts `satchel -d DIR serve` on a port the kernel picks; sets SERVE_PID
# and SERVE_ADDR.
SERVE_PID="" SERVE_ADDR=""
start_serve() {
	local dir=$1 i
	: >"$dir.serve.log"
	rm -f "$dir.port"
	"$SATCHEL" -d "$dir" serve --listen 127.0.0.1:0 --port-file "$dir.port" \
	    2>>"$dir.serve.log" &
	SERVE_PID=$!
	BGPIDS="$BGPIDS $SERVE_PID"
	for ((i = 0; i < 600; i++)); do
		if [ -s "$dir.port" ]; then
			SERVE_ADDR=127.0.0.1:$(cat "$dir.port")
			return 0
		fi
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	stop_pid "$SERVE_PID"
	echo "sync_bench: satchel serve would not start:" >&2
	sed 's/^/  /' "$dir.serve.log" >&2
	return 1
}

stop_pid() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget_pid "$1"
}

forget_pid() {
	local q rest=""
	for q in $BGPIDS; do [ "$q" = "$1" ] || rest="$rest $q"; done
	BGPIDS=$rest
}

# How many entries the last sync received, from its "sync done" line.
received_in() {
	sed -n 's/.*sync done: \([0-9]*\) entr[iesy]* received.*/\1/p' "$1" | tail -1
}

# Runs the receiver's full sync, sampling its memory (and the serve
# process's) every 50 ms from a background poller. Sets ELAPSED_US,
# RECV_HWM_KB (GNU time's maxrss when installed, else the last VmHWM
# seen), RECV_ANON_KB and SERVE_ANON_KB (peak RssAnon seen) and RECEIVED.
measure_full_sync() {
	local dir=$1 addr=$2 t0 pid poller rc child=""
	local out=$TMP/poll.out err=$dir.sync.log
	now_us
	t0=$NOW_US
	if [ -n "$GNU_TIME" ]; then
		"$GNU_TIME" -f '%M %U %S' -o "$TMP/maxrss" \
		    "$SATCHEL" -d "$dir" sync "$addr" >/dev/null 2>"$err" &
	else
		"$SATCHEL" -d "$dir" sync "$addr" >/dev/null 2>"$err" &
	fi
	pid=$!
	BGPIDS="$BGPIDS $pid"
	(
		hwm=0 anon=0 sanon=0 target=$pid
		while kill -0 "$pid" 2>/dev/null; do
			if [ -n "$GNU_TIME" ] && [ -z "$child" ]; then
				read -r child _ 2>/dev/null \
				    <"/proc/$pid/task/$pid/children"
				target=${child:-}
			fi
			if [ -n "$target" ]; then
				mem_of "$target"
				[ "$HWM_KB" -gt "$hwm" ] && hwm=$HWM_KB
				[ "$ANON_KB" -gt "$anon" ] && anon=$ANON_KB
			fi
			mem_of "$SERVE_PID"
			[ "$ANON_KB" -gt "$sanon" ] && sanon=$ANON_KB
			sleep 0.05
		done
		echo "$hwm $anon $sanon" >"$out"
	) &
	poller=$!
	BGPIDS="$BGPIDS $poller"
	wait "$pid"
	rc=$?
	now_us
	ELAPSED_US=$((NOW_US - t0))
	wait "$poller"
	forget_pid "$pid"
	forget_pid "$poller"
	read -r RECV_HWM_KB RECV_ANON_KB SERVE_ANON_KB <"$out"
	RECV_CPU=""
	if [ -n "$GNU_TIME" ] && [ -s "$TMP/maxrss" ]; then
		read -r RECV_HWM_KB RECV_U RECV_S <<<"$(tail -1 "$TMP/maxrss")"
		RECV_CPU=$(calc '"%.2f", '"$RECV_U"' + '"$RECV_S")
	fi
	RECEIVED=$(received_in "$err")
	if [ "$rc" != 0 ] || [ -z "$RECEIVED" ]; then
		echo "sync_bench: the full sync failed (exit $rc):" >&2
		sed 's/^/  /' "$err" >&2
		return 1
	fi
}

# The founder sends; the receivers are members made up front, one fresh
# device per run (plus nothing else: each receives the same history).
SENDER=$TMP/sender
BOX=$TMP/box FROMBOX=$TMP/frombox
STUDENT=""
setup_team() {
	local r id tok
	"$SATCHEL" -d "$SENDER" init --name "Sender" >/dev/null 2>&1 || return 1
	for ((r = 1; r <= RUNS; r++)); do
		id=$("$SATCHEL" -d "$TMP/recv-$r" init --name "Receiver $r" 2>/dev/null) &&
		    tok=$("$SATCHEL" -d "$SENDER" member add "$id" \
		    --name "Receiver $r" 2>/dev/null) &&
		    "$SATCHEL" -d "$TMP/recv-$r" join "$tok" >/dev/null ||
		    return 1
	done
	# [e]'s box, and the fresh laptop that restores from it.
	id=$("$SATCHEL" -d "$BOX" init --box 2>/dev/null) &&
	    tok=$("$SATCHEL" -d "$SENDER" member add "$id" --name "Box" \
	    --box 2>/dev/null) &&
	    "$SATCHEL" -d "$BOX" join "$tok" >/dev/null || return 1
	for ((r = 1; r <= RUNS; r++)); do
		id=$("$SATCHEL" -d "$FROMBOX-$r" init --name "Fresh $r" 2>/dev/null) &&
		    tok=$("$SATCHEL" -d "$SENDER" member add "$id" \
		    --name "Fresh $r" 2>/dev/null) &&
		    "$SATCHEL" -d "$FROMBOX-$r" join "$tok" >/dev/null ||
		    return 1
	done
	STUDENT=$("$SATCHEL" -d "$SENDER" student add "Bench Student" \
	    --class 3B) || return 1
	"$FILL" "$SENDER" "$STUDENT" "$NOTES" || return 1
}

digest_check() {	# receiver-dir, what
	local a b
	a=$("$SATCHEL" -d "$SENDER" digest 2>&1)
	b=$("$SATCHEL" -d "$1" digest 2>&1)
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		return 0
	fi
	echo "sync_bench: FAILED: $2: the digests differ" >&2
	echo "  sender   $a" >&2
	echo "  receiver $b" >&2
	failed=1
	return 1
}

# Results of [a] and [b], for [c], [d] and the summary.
SAT_RATE="" SAT_SECS="" WIRE_PER_ENTRY="" SAT_ENTRIES="" LAST_RECV=""
CFLOOR_SECS="" CFLOOR_RATE="" CFLOOR_RATIO=""

# Runs the C floor for COUNT entries in a fresh directory; its secs go to
# CFLOOR_RUN_SECS (empty if it is not built or failed).
CFLOOR_RUN_SECS="" CFLOOR_RUN_CPU="" RECV_CPU=""
run_cfloor() {	# count
	local out dir=$TMP/floor
	CFLOOR_RUN_SECS=""
	[ -x "$SYNC_FLOOR" ] || return 0
	rm -rf -- "$dir"
	mkdir -p "$dir"
	settle
	if ! out=$("$SYNC_FLOOR" "$dir" "$1" 2>&1); then
		echo "sync_bench: the floor failed: $out" >&2
		failed=1
		rm -rf -- "$dir"
		return 1
	fi
	rm -rf -- "$dir"
	CFLOOR_RUN_SECS=$(kv "$out" secs)
	CFLOOR_RUN_CPU=$(kv "$out" recv_cpu)
}
UPTODATE_MS="" ONENOTE_MS="" ID_MS=""

bench_full_sync() {
	local r secs rate w0 w1 wire=0 sent=0 last=""
	local rates=$TMP/a.rates secs_f=$TMP/a.secs rhwm=$TMP/a.rhwm
	local ranon=$TMP/a.ranon sanon=$TMP/a.sanon
	echo "== [a] full sync: $(commas "$NOTES") notes of ~1 KB from a serving" \
	    "device to a fresh one over 127.0.0.1"
	now_us
	w0=$NOW_US
	if ! setup_team; then
		echo "sync_bench: cannot set up the team and fill the sender" >&2
		failed=1
		return 1
	fi
	now_us
	echo "  setup: a team of $((RUNS + 1)) devices; the sender filled in" \
	    "$(calc '"%.1f", '"$(((NOW_US - w0) / 1000))"' / 1000') s"
	start_serve "$SENDER" || { failed=1; return 1; }
	for ((r = 1; r <= RUNS; r++)); do
		run_cfloor "$NOTES"
		[ -n "$CFLOOR_RUN_SECS" ] && echo "$CFLOOR_RUN_SECS" >>"$TMP/a.floor"
		[ -n "$CFLOOR_RUN_CPU" ] && echo "$CFLOOR_RUN_CPU" >>"$TMP/a.floorcpu"
		settle
		wchar_of "$SERVE_PID"
		w0=$WCHAR
		if ! measure_full_sync "$TMP/recv-$r" "$SERVE_ADDR"; then
			failed=1
			break
		fi
		wchar_of "$SERVE_PID"
		w1=$WCHAR
		secs=$(calc '"%.3f", '"$ELAPSED_US"' / 1e6')
		rate=$(calc '"%.0f", '"$RECEIVED"' / '"$secs")
		echo "$secs" >>"$secs_f"
		echo "$rate" >>"$rates"
		echo "$RECV_HWM_KB" >>"$rhwm"
		echo "$RECV_ANON_KB" >>"$ranon"
		echo "$SERVE_ANON_KB" >>"$sanon"
		if [ -n "$w0" ] && [ -n "$w1" ]; then
			wire=$((wire + w1 - w0))
			sent=$((sent + RECEIVED))
		fi
		printf '  run %d: %s entries in %6.2f s  %7s entries/s  receiver' \
		    "$r" "$(commas "$RECEIVED")" "$secs" "$(commas "$rate")"
		printf ' peak RSS %s  ' "$(mb "$RECV_HWM_KB")"
		[ -n "$CFLOOR_RUN_SECS" ] && printf 'floor %.2f s  ' "$CFLOOR_RUN_SECS"
		[ -n "$RECV_CPU" ] && echo "$RECV_CPU" >>"$TMP/a.cpu" &&
		    printf 'receiver CPU %s s  ' "$RECV_CPU"
		printf 'load %s  ' "$(load1)"
		if digest_check "$TMP/recv-$r" "run $r"; then
			echo "digests equal"
		else
			echo "DIGESTS DIFFER"
		fi
		SAT_ENTRIES=$RECEIVED
		# Keep the last receiver for [b]; the others only take space.
		[ -n "$last" ] && rm -rf -- "$last"
		last=$TMP/recv-$r
	done
	[ -s "$rates" ] || return 1
	LAST_RECV=$last
	mem_of "$SERVE_PID"
	SAT_SECS=$(median <"$secs_f")
	SAT_RATE=$(calc '"%.0f", '"$SAT_ENTRIES"' / '"$SAT_SECS")
	[ "$sent" -gt 0 ] && WIRE_PER_ENTRY=$((wire / sent))
	floor_rate
	echo "  full sync       $(commas "$SAT_RATE") entries/s   wall" \
	    "$(calc '"%.2f", '"$SAT_SECS") s   (median of $(wc -l <"$rates");" \
	    "range $(spread <"$secs_f") s)"
	if [ -s "$TMP/a.floor" ]; then
		CFLOOR_SECS=$(median <"$TMP/a.floor")
		CFLOOR_RATE=$(calc '"%.0f", '"$NOTES"' / '"$CFLOOR_SECS")
		CFLOOR_RATIO=$(calc '"%.2f", '"$SAT_SECS"' / '"$CFLOOR_SECS")
		echo "  floor           $(commas "$CFLOOR_RATE") entries/s   wall" \
		    "$(calc '"%.2f", '"$CFLOOR_SECS") s   (sync_floor: seal+hash," \
		    "verify+open+LMDB put, 1,000 a durable txn, loopback TCP;" \
		    "median of $(wc -l <"$TMP/a.floor"))"
		echo "  ratio           ${CFLOOR_RATIO}x the floor's wall time" \
		    "(target <= 2x)"
		bench_row "full sync, $(commas "$NOTES") notes, fresh laptop" \
		    "$(calc '"%.2f", '"$SAT_SECS") s" \
		    "$(calc '"%.2f", '"$CFLOOR_SECS") s (sync_floor)" \
		    "${CFLOOR_RATIO}x" "<= 2x the floor"
		if [ -s "$TMP/a.cpu" ] && [ -s "$TMP/a.floorcpu" ]; then
			echo "  receiver CPU    $(median <"$TMP/a.cpu") s, the" \
			    "floor's receiver $(median <"$TMP/a.floorcpu") s:" \
			    "$(calc '"%.1f", '"$(median <"$TMP/a.cpu")"' / '"$(median <"$TMP/a.floorcpu")")x" \
			    "(less sensitive than wall time to a loaded machine)"
		fi
	fi
	if [ -n "$FLOOR_RATE" ]; then
		echo "  loopback TCP    $(commas "$FLOOR_RATE") entries/s   wall" \
		    "$(calc '"%.3f", '"$SAT_ENTRIES"' / '"$FLOOR_RATE") s   (TCP" \
		    "alone at $(commas "${FLOOR_MBS%.*}") MB/s, see [c])"
	fi
	echo "  peak RSS        receiver $(mb "$(median <"$rhwm")")" \
	    "($(mb "$(median <"$ranon")") of it heap, the rest LMDB's map of the" \
	    "file) by ${GNU_TIME:-polling VmHWM in /proc}"
	echo "                  serve    $(mb "$HWM_KB") VmHWM over all runs" \
	    "($(mb "$(median <"$sanon")") of it heap, the rest LMDB's map)"
	if [ -n "$WIRE_PER_ENTRY" ]; then
		echo "  on the wire     $(commas "$WIRE_PER_ENTRY") bytes per entry" \
		    "(what serve wrote / entries received)"
	fi
	echo
}

bench_small_syncs() {
	local dir=$1 i ids=$TMP/b.id ups=$TMP/b.up ones=$TMP/b.one got
	echo "== [b] right after [a], on its last receiver: an up-to-date sync" \
	    "and the sync of one new note (median of $SMALL each)"
	for ((i = 1; i <= SMALL; i++)); do
		if ! timed "$SATCHEL" -d "$dir" id; then
			failed=1
			break
		fi
		echo "$ELAPSED_US" >>"$ids"
		if ! timed "$SATCHEL" -d "$dir" sync "$SERVE_ADDR"; then
			echo "sync_bench: the up-to-date sync failed:" >&2
			cat "$TMP/last.err" >&2
			failed=1
			break
		fi
		echo "$ELAPSED_US" >>"$ups"
		got=$(received_in "$TMP/last.err")
		# At most the sender's receipts (member report) of the two
		# syncs before, this loop's previous pair: its daemon writes a
		# session's receipt at its next tick after the session ends,
		# so the one-note sync right after an up-to-date one can miss
		# that one's, and the next up-to-date sync takes both.
		if [ "$got" != 0 ] && [ "$got" != 1 ] && [ "$got" != 2 ]; then
			echo "sync_bench: an up-to-date sync received ${got:-?}" \
			    "entries, not 0 (or the sender's receipts)" >&2
			failed=1
		fi
		if ! "$SATCHEL" -d "$SENDER" note add "$STUDENT" \
		    --strengths "one more note $i" --obstacle "o" \
		    --action "a" >/dev/null; then
			echo "sync_bench: note add on the sender failed" >&2
			failed=1
			break
		fi
		if ! timed "$SATCHEL" -d "$dir" sync "$SERVE_ADDR"; then
			echo "sync_bench: the one-note sync failed:" >&2
			cat "$TMP/last.err" >&2
			failed=1
			break
		fi
		echo "$ELAPSED_US" >>"$ones"
		got=$(received_in "$TMP/last.err")
		# The note, and the sender's receipts of up to two syncs
		# before it (see the up-to-date sync's check above).
		if [ "$got" != 1 ] && [ "$got" != 2 ] && [ "$got" != 3 ]; then
			echo "sync_bench: the one-note sync received ${got:-?}" \
			    "entries, not 1 (and the sender's receipts)" >&2
			failed=1
		fi
	done
	if [ -s "$ups" ] && [ -s "$ones" ]; then
		ID_MS=$(calc '"%.2f", '"$(median <"$ids")"' / 1000')
		UPTODATE_MS=$(calc '"%.2f", '"$(median <"$ups")"' / 1000')
		ONENOTE_MS=$(calc '"%.2f", '"$(median <"$ones")"' / 1000')
		echo "  up-to-date sync  $UPTODATE_MS ms   target < $SMALL_TARGET_MS" \
		    "ms   floor (satchel id) $ID_MS ms"
		echo "  one new note     $ONENOTE_MS ms   target < $SMALL_TARGET_MS" \
		    "ms   floor (satchel id) $ID_MS ms"
		echo "  satchel id       $ID_MS ms   (process start + store open," \
		    "on the receiver's $(commas "$SAT_ENTRIES")-entry store)"
	fi
	if digest_check "$dir" "after [b]"; then
		echo "  digests equal after [b]"
	fi
	echo
}

# --- [e] A box: it takes the sender's whole log (it holds no content key:
# it checks and stores, never opens), then a fresh laptop's first sync
# comes from it. BENCH_FULL=1 first tops the sender up to 1,000,000 notes.
BOX_RATE="" BOX_SECS="" BOX_ENTRIES=""
bench_box() {
	local sender_addr=$SERVE_ADDR box_addr total=$NOTES extra r secs
	if [ "${BENCH_FULL:-0}" = 1 ] && [ "$NOTES" -lt 1000000 ]; then
		extra=$((1000000 - NOTES))
		echo "== [e] BENCH_FULL=1: adding $(commas "$extra") notes to the sender"
		"$FILL" "$SENDER" "$STUDENT" "$extra" topup || { failed=1; return 1; }
		total=1000000
	fi
	echo "== [e] a box takes the sender's log, then a fresh laptop's first" \
	    "sync comes from the box ($(commas "$total") notes; median of" \
	    "$RUNS fresh laptops)"
	settle
	if ! measure_box_sync "$BOX" "$sender_addr"; then
		failed=1
		return 1
	fi
	echo "  the box takes   $(commas "$RECEIVED") entries in" \
	    "$(calc '"%.2f", '"$ELAPSED_US"' / 1e6') s   $(commas "$(calc \
	    '"%.0f", '"$RECEIVED"' * 1e6 / '"$ELAPSED_US")") entries/s" \
	    "(checked and stored, not opened)   load $(load1)"
	stop_pid "$SERVE_PID"
	SERVE_PID=""
	start_serve "$BOX" || { failed=1; return 1; }
	box_addr=$SERVE_ADDR
	for ((r = 1; r <= RUNS; r++)); do
		settle
		if ! measure_box_sync "$FROMBOX-$r" "$box_addr"; then
			failed=1
			return 1
		fi
		secs=$(calc '"%.3f", '"$ELAPSED_US"' / 1e6')
		echo "$secs" >>"$TMP/e.secs"
		printf '  run %d: fresh laptop  %s entries in %.2f s  %s entries/s' \
		    "$r" "$(commas "$RECEIVED")" "$secs" \
		    "$(commas "$(calc '"%.0f", '"$RECEIVED"' / '"$secs")")"
		printf '  load %s  ' "$(load1)"
		digest_check "$FROMBOX-$r" "[e] run $r" && echo "digests equal"
		[ "$r" -gt 1 ] && rm -rf -- "$FROMBOX-$((r - 1))"
	done
	BOX_ENTRIES=$RECEIVED
	BOX_SECS=$(median <"$TMP/e.secs")
	BOX_RATE=$(calc '"%.0f", '"$RECEIVED"' / '"$BOX_SECS")
	printf '  fresh laptop    %s entries/s   wall %.2f s   target' \
	    "$(commas "$BOX_RATE")" "$BOX_SECS"
	printf ' >= 50,000 entries/s   (median of %d)\n' "$RUNS"
	if [ -n "$CFLOOR_RATE" ] && [ "$total" = "$NOTES" ]; then
		echo "  floor           $(commas "$CFLOOR_RATE") entries/s (the" \
		    "sync_floor of [a])   ratio $(calc '"%.2f", '"$CFLOOR_RATE"' / '"$BOX_RATE")x"
		bench_row "first sync from a box, $(commas "$BOX_ENTRIES") entries" \
		    "$(commas "$BOX_RATE") entries/s" \
		    "$(commas "$CFLOOR_RATE") entries/s (sync_floor)" \
		    "$(calc '"%.2f", '"$CFLOOR_RATE"' / '"$BOX_RATE")x" \
		    ">= 50,000 entries/s"
	else
		bench_row "first sync from a box, $(commas "$BOX_ENTRIES") entries" \
		    "$(commas "$BOX_RATE") entries/s" "-" "-" \
		    ">= 50,000 entries/s"
	fi
	echo
}

# One sync of dir from addr, timed; RECEIVED and ELAPSED_US.
measure_box_sync() {
	local dir=$1 addr=$2
	if ! timed "$SATCHEL" -d "$dir" sync "$addr"; then
		echo "sync_bench: [e] sync of $dir failed:" >&2
		cat "$TMP/last.err" >&2
		return 1
	fi
	RECEIVED=$(received_in "$TMP/last.err")
}

# --- [c] The floor: loopback TCP.

FLOOR_MBS="" FLOOR_RATE="" FLOOR_NOTE=""
# Measured before [a] so that [a] can print it beside its figure; [a]'s
# wire bytes per entry turn it into entries/s.
measure_floor() {
	local r out=$TMP/c.mbs v
	if ! command -v python3 >/dev/null; then
		FLOOR_NOTE="python3 is not installed: no floor"
		return 0
	fi
	for ((r = 1; r <= RUNS; r++)); do
		settle
		v=$(python3 - "$FLOOR_BYTES" <<'EOF'
import os, socket, sys, time
total = int(sys.argv[1])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
port = srv.getsockname()[1]
pid = os.fork()
if pid == 0:
    srv.close()
    c = socket.create_connection(("127.0.0.1", port))
    chunk = memoryview(bytes(1 << 20))
    left = total
    while left > 0:
        n = min(left, len(chunk))
        c.sendall(chunk[:n])
        left -= n
    c.close()
    os._exit(0)
conn, _ = srv.accept()
t0 = time.perf_counter()
buf = bytearray(1 << 20)
got = 0
while got < total:
    n = conn.recv_into(buf)
    if n == 0:
        break
    got += n
t = time.perf_counter() - t0
os.waitpid(pid, 0)
if got != total:
    sys.exit("short read: %d of %d bytes" % (got, total))
print("%.1f" % (total / t / 1e6))
EOF
		) || { FLOOR_NOTE="the loopback measurement failed"; failed=1; return 1; }
		echo "$v" >>"$out"
	done
	FLOOR_MBS=$(median <"$out")
}

floor_rate() {
	if [ -n "$FLOOR_MBS" ] && [ -n "$WIRE_PER_ENTRY" ] &&
	    [ "$WIRE_PER_ENTRY" -gt 0 ]; then
		FLOOR_RATE=$(calc '"%.0f", '"$FLOOR_MBS"' * 1e6 / '"$WIRE_PER_ENTRY")
	fi
}

print_floor() {
	echo "== [c] loopback TCP alone, $((FLOOR_BYTES / 1000000)) MB over one" \
	    "127.0.0.1 socket (python3, 1 MiB writes), median of $RUNS"
	if [ -z "$FLOOR_MBS" ]; then
		echo "  $FLOOR_NOTE"
		echo
		return 0
	fi
	printf '  loopback TCP    %s MB/s' "$(commas "${FLOOR_MBS%.*}")"
	if [ -n "$FLOOR_RATE" ]; then
		printf ' = %s entries/s at %s bytes per entry (as on the wire in [a])\n' \
		    "$(commas "$FLOOR_RATE")" "$(commas "$WIRE_PER_ENTRY")"
		if [ -n "$SAT_RATE" ]; then
			echo "  Satchel's full sync runs at $(calc '"%.1f", 100 * '"$SAT_RATE"' / '"$FLOOR_RATE")% of" \
			    "the loopback floor ($(calc '"%.1f", '"$SAT_RATE"' * '"$WIRE_PER_ENTRY"' / 1e6') MB/s of entries)"
		fi
	else
		echo " (no wire size from [a] to turn it into entries/s)"
	fi
	echo
}

# --- [d] Peers, from npm into a throw-away directory.

NPMDIR=""
npm_get() {	# what, package...: installs into $NPMDIR, says if it failed
	local what=$1
	shift
	if (cd "$NPMDIR" && timeout 300 npm install --no-audit --no-fund \
	    --loglevel=error "$@") >>"$NPMDIR/npm.log" 2>&1; then
		return 0
	fi
	echo "  npm could not install $what ($*); the last lines it printed:"
	tail -5 "$NPMDIR/npm.log" | sed 's/^/    /'
	return 1
}

# Starts `node SCRIPT serve ARGS...` in the background; waits for its
# first line of output (key=value pairs), which goes to NODE_LINE.
NODE_PID="" NODE_LINE=""
start_node_server() {
	local out=$1 i
	shift
	node "$@" >"$out" 2>"$out.err" &
	NODE_PID=$!
	BGPIDS="$BGPIDS $NODE_PID"
	for ((i = 0; i < 6000; i++)); do	# filling may take a while
		if [ -s "$out" ]; then
			NODE_LINE=$(head -1 "$out")
			return 0
		fi
		kill -0 "$NODE_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "  the node server did not start:"
	sed 's/^/    /' "$out.err" | tail -5
	stop_pid "$NODE_PID"
	return 1
}

kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }	# line, key

PD_RATE="" PD_SECS="" PD_HOW="" HC_RATE="" HC_SECS="" HC_HOW=""

# Runs `node SCRIPT pull ARGS...` RUNS times, each into a fresh replica
# directory that replaces the argument {DIR}; collects secs and maxrss.
peer_runs() {	# label, outfile-prefix, node arguments...
	local label=$1 pre=$2 r line a args
	shift 2
	for ((r = 1; r <= RUNS; r++)); do
		args=()
		for a in "$@"; do args+=("${a//\{DIR\}/$TMP/$pre-replica-$r}"); done
		settle
		if ! line=$(node "${args[@]}" 2>"$TMP/$pre.err"); then
			echo "  $label run $r failed:"
			tail -5 "$TMP/$pre.err" | sed 's/^/    /'
			return 1
		fi
		kv "$line" secs >>"$TMP/$pre.secs"
		kv "$line" maxrss_kb >>"$TMP/$pre.rss"
		printf '  run %d: %s records in %6.2f s  %7s records/s  client peak RSS %s\n' \
		    "$r" "$(commas "$NOTES")" "$(kv "$line" secs)" \
		    "$(commas "$(calc '"%.0f", '"$NOTES"' / '"$(kv "$line" secs)")")" \
		    "$(mb "$(kv "$line" maxrss_kb)")"
		rm -rf -- "$TMP/$pre-replica-$r"
	done
}

peer_summary() {	# label, prefix, server-hwm-kb; sets PEER_RATE PEER_SECS
	local label=$1 pre=$2 hwm=$3
	PEER_SECS=$(median <"$TMP/$pre.secs")
	PEER_RATE=$(calc '"%.0f", '"$NOTES"' / '"$PEER_SECS")
	echo "  $label  $(commas "$PEER_RATE") records/s   wall" \
	    "$(calc '"%.2f", '"$PEER_SECS") s   (median of" \
	    "$(wc -l <"$TMP/$pre.secs"); range $(spread <"$TMP/$pre.secs") s)"
	echo "  peak RSS        client $(mb "$(median <"$TMP/$pre.rss")")   server" \
	    "$(mb "$hwm")"
}

compare() {	# peer name, peer rate
	local r
	[ -n "$SAT_RATE" ] && [ -n "$2" ] || return 0
	r=$(calc '"%.1f", '"$SAT_RATE"' / '"$2")
	if awk "BEGIN { exit !($SAT_RATE >= $2) }"; then
		echo "  Satchel is ${r}x faster than $1 ($(commas "$SAT_RATE") vs" \
		    "$(commas "$2") per second)"
	else
		echo "  Satchel is $(calc '"%.1f", '"$2"' / '"$SAT_RATE")x slower" \
		    "than $1 ($(commas "$SAT_RATE") vs $(commas "$2") per second)"
	fi
}

bench_pouchdb() {
	local dir=$TMP/pouch src ver fill_s
	echo "-- PouchDB"
	if ! npm_get "pouchdb-node" pouchdb-node; then
		echo "  PouchDB: not measured"
		return 0
	fi
	ver=$(node -p "require('pouchdb-node/package.json').version" 2>/dev/null)
	mkdir -p "$dir"
	if ! fill_s=$(node "$here/pouchdb_bench.js" fill "$dir" "$NOTES" \
	    2>"$TMP/pd.err"); then
		echo "  PouchDB: filling the source database failed:"
		tail -5 "$TMP/pd.err" | sed 's/^/    /'
		failed=1
		return 1
	fi
	echo "  source: $(commas "$NOTES") docs put with bulkDocs (1,000 a" \
	    "call) in $(kv "$fill_s" fill_s) s"
	if npm_get "express-pouchdb" express-pouchdb &&
	    start_node_server "$TMP/pd.serve" "$here/pouchdb_bench.js" \
	    serve "$dir"; then
		src=http://127.0.0.1:$(kv "$NODE_LINE" port)/source
		PD_HOW="pouchdb-node $ver (LevelDB) pulled over HTTP on 127.0.0.1 from express-pouchdb in another process"
	else
		NODE_PID=""
		src=$dir/source
		PD_HOW="pouchdb-node $ver (LevelDB), local to local in one process (express-pouchdb did not install or start)"
	fi
	echo "  how: $PD_HOW: PouchDB.replicate(source, new db), default options"
	if ! peer_runs "PouchDB" pd "$here/pouchdb_bench.js" pull "$src" \
	    "{DIR}" "$NOTES"; then
		failed=1
		[ -n "$NODE_PID" ] && stop_pid "$NODE_PID"
		return 1
	fi
	HWM_KB=0
	[ -n "$NODE_PID" ] && mem_of "$NODE_PID" && stop_pid "$NODE_PID"
	peer_summary "PouchDB        " pd "$HWM_KB"
	PD_RATE=$PEER_RATE PD_SECS=$PEER_SECS
	compare PouchDB "$PD_RATE"
	rm -rf -- "$dir"
}

bench_hypercore() {
	local ver
	echo "-- Hypercore"
	if ! npm_get "hypercore 10" hypercore@10; then
		echo "  Hypercore: not measured"
		return 0
	fi
	ver=$(node -p "require('hypercore/package.json').version" 2>/dev/null)
	if ! start_node_server "$TMP/hc.serve" "$here/hypercore_bench.js" \
	    serve "$TMP/hc-source" "$NOTES"; then
		failed=1
		return 1
	fi
	HC_HOW="hypercore $ver on disk, replicated over TCP on 127.0.0.1 between two processes"
	echo "  source: $(commas "$NOTES") blocks appended (1,000 a call) in" \
	    "$(kv "$NODE_LINE" fill_s) s, $(commas "$(kv "$NODE_LINE" bytes)") bytes"
	echo "  how: $HC_HOW: core.replicate() piped to a socket, timed until" \
	    "core.download({start: 0, end: n, linear: true}).done()"
	if ! peer_runs "Hypercore" hc "$here/hypercore_bench.js" pull \
	    "$(kv "$NODE_LINE" port)" "$(kv "$NODE_LINE" key)" "{DIR}" \
	    "$NOTES" linear; then
		failed=1
		stop_pid "$NODE_PID"
		return 1
	fi
	mem_of "$NODE_PID"
	stop_pid "$NODE_PID"
	peer_summary "Hypercore      " hc "$HWM_KB"
	HC_RATE=$PEER_RATE HC_SECS=$PEER_SECS
	compare Hypercore "$HC_RATE"
	rm -rf -- "$TMP/hc-source"
}

bench_peers() {
	echo "== [d] peers: the same $(commas "$NOTES") records (~1.1 KB of JSON" \
	    "each), median of $RUNS replications into a fresh replica"
	echo "  (installed from npm into a throw-away directory; node's start-up" \
	    "is not timed. Neither peer syncs each batch to disk: LevelDB syncs" \
	    "only the tables it compacts, Hypercore nothing; Satchel commits" \
	    "each batch durably)"
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "  node or npm is not installed: peers not measured"
		echo
		return 0
	fi
	NPMDIR=$TMP/npm
	mkdir -p "$NPMDIR"
	echo '{ "private": true }' >"$NPMDIR/package.json"
	export NODE_PATH=$NPMDIR/node_modules
	bench_pouchdb
	bench_hypercore
	echo
}

summary() {
	echo "== summary (medians of $RUNS; $(nproc) CPUs)"
	[ -n "$SAT_RATE" ] && echo "  Satchel full sync     $(commas "$SAT_RATE")" \
	    "entries/s   $(calc '"%.2f", '"$SAT_SECS") s for $(commas "$SAT_ENTRIES") entries"
	[ -n "$CFLOOR_RATE" ] && echo "  floor (sync_floor)    $(commas "$CFLOOR_RATE")" \
	    "entries/s   $(calc '"%.2f", '"$CFLOOR_SECS") s   Satchel/floor" \
	    "${CFLOOR_RATIO}x (target <= 2x)"
	[ -n "$FLOOR_RATE" ] && echo "  loopback TCP alone    $(commas "$FLOOR_RATE")" \
	    "entries/s   ($(commas "${FLOOR_MBS%.*}") MB/s)"
	[ -n "$PD_RATE" ] && echo "  PouchDB               $(commas "$PD_RATE")" \
	    "records/s   $(calc '"%.2f", '"$PD_SECS") s   ($PD_HOW)"
	[ -n "$HC_RATE" ] && echo "  Hypercore             $(commas "$HC_RATE")" \
	    "records/s   $(calc '"%.2f", '"$HC_SECS") s   ($HC_HOW)"
	[ -n "$UPTODATE_MS" ] && echo "  up-to-date sync       $UPTODATE_MS ms" \
	    "(target < $SMALL_TARGET_MS ms)   one new note $ONENOTE_MS ms" \
	    "(target < $SMALL_TARGET_MS ms)   floor (satchel id) $ID_MS ms"
	[ -n "$BOX_RATE" ] && echo "  first sync from a box $(commas "$BOX_RATE")" \
	    "entries/s   $(calc '"%.2f", '"$BOX_SECS") s for" \
	    "$(commas "$BOX_ENTRIES") entries (target >= 50,000 entries/s)"
	compare PouchDB "$PD_RATE"
	compare Hypercore "$HC_RATE"
	return 0
}

echo "sync_bench: $SATCHEL, fill $FILL, on $(nproc) CPUs (load $(cut -d" " -f1-3 /proc/loadavg))," \
    "$(date -u +%Y-%m-%dT%H:%MZ); medians of $RUNS runs; sync(1) before" \
    "each timed full sync or replication"
echo
measure_floor
if bench_full_sync && [ "$failed" = 0 ] && [ -n "$LAST_RECV" ]; then
	bench_small_syncs "$LAST_RECV"
fi
if [ "$failed" = 0 ] && [ -n "$SERVE_PID" ]; then
	bench_box
fi
[ -n "$SERVE_PID" ] && stop_pid "$SERVE_PID"
rm -rf -- "$TMP/recv-"* "$SENDER" "$BOX" "$FROMBOX"-*
print_floor
if [ "$PEERS" != 0 ]; then
	bench_peers
fi
summary
if [ "$failed" != 0 ]; then
	echo "sync_bench: FAILED (see the messages above)" >&2
	exit 1
fi
