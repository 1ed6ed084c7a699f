#!/usr/bin/env bash
# Runs every benchmark: each build/rel/bench/*_bench binary with a fresh
# scratch directory, then `satchel note add` timed through the command
# line, the way a teacher meets it. `make bench` builds and calls this.
#
#	SATCHEL=path/to/satchel [BENCH_DIR=build/rel/bench] bash tests/bench/run.sh
#
# Needs nothing beyond bash and coreutils: times come from bash's
# EPOCHREALTIME (no fork, so the clock itself costs nothing measurable).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/bench/lib.sh"
SATCHEL=${SATCHEL:-$root/build/satchel}
export SATCHEL
# The benches measure sync, not the passphrase: their throw-away folders
# keep their keys in the clear (init --no-protect), so no command pays
# Argon2id and none asks on the terminal.
export SATCHEL_NO_PROTECT=1
BENCH_DIR=${BENCH_DIR:-$root/build/rel/bench}	# where *_bench binaries are
CLI_NOTES=200
failed=0
scratch=""

if [ ! -x "$SATCHEL" ]; then
	echo "run.sh: $SATCHEL is not built (make build/satchel)" >&2
	exit 1
fi

cleanup() {
	if [ -n "$scratch" ]; then rm -rf -- "$scratch"; fi
	scratch=""
}
# Each bench adds its rows of issue 10's table here (lib.sh's bench_row,
# common.h's); print_summary prints them last.
BENCH_SUMMARY=$(mktemp)
export BENCH_SUMMARY
trap 'cleanup; rm -f -- "$BENCH_SUMMARY"' EXIT

# Sets NOW_US, microseconds; with EPOCHREALTIME (bash 5) without a fork.
NOW_US=0
now_us() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		# The separator follows the locale: drop "." or ",".
		local t=${EPOCHREALTIME//[.,]/}
		NOW_US=$((10#$t))
	else
		NOW_US=$(($(date +%s%N) / 1000))
	fi
}

# Runs a command with stdout discarded; its wall time goes to ELAPSED_US.
ELAPSED_US=0
timed() {
	local t0
	now_us
	t0=$NOW_US
	"$@" >/dev/null || return 1
	now_us
	ELAPSED_US=$((NOW_US - t0))
}

run_binaries() {
	local b found=0
	for b in "$BENCH_DIR"/*_bench; do
		[ -x "$b" ] || continue
		found=1
		echo "== $(basename "$b")"
		scratch=$(mktemp -d)
		if ! "$b" "$scratch"; then
			echo "run.sh: $(basename "$b") failed" >&2
			failed=1
		fi
		cleanup
		echo
	done
	if [ "$found" = 0 ]; then
		echo "run.sh: no benchmark binaries in $BENCH_DIR (make bench)" >&2
		failed=1
	fi
}

# About 330 bytes of classroom prose, varied by N so no two notes match.
text() {
	local base="Reads aloud with growing confidence, uses picture cues and \
phonics to decode new words, asks a partner for help when stuck and \
explains her thinking in the small group; counts on from the larger \
number, checks answers on the number line to twenty, and shares ideas \
when prompted with sentence starters"
	printf '%s (%s %d).' "$base" "$1" "$2"
}

# note add through the command line, with `satchel id` as its floor: the
# same process start and store open, with no write. They alternate so
# both see the same noise on a shared machine.
bench_cli_note_add() {
	local dir student i adds ids
	echo "== note add through the command line ($CLI_NOTES commands, ~1 KB of text each)"
	scratch=$(mktemp -d)
	dir=$scratch/device
	adds=$scratch/note-add.us
	ids=$scratch/id.us
	if ! bench_init "$dir" --name "Bench" >/dev/null ||
	    ! student=$("$SATCHEL" -d "$dir" student add "Bench Student" \
	    --class 3B); then
		echo "run.sh: cannot set up a device for note add" >&2
		failed=1
		cleanup
		return
	fi
	for ((i = 1; i <= CLI_NOTES; i++)); do
		if ! timed "$SATCHEL" -d "$dir" id; then failed=1; break; fi
		echo "$ELAPSED_US" >>"$ids"
		if ! timed "$SATCHEL" -d "$dir" note add "$student" \
		    --strengths "$(text strengths "$i")" \
		    --obstacle "$(text obstacle "$i")" \
		    --action "$(text action "$i")"; then
			echo "run.sh: note add failed" >&2
			failed=1
			break
		fi
		echo "$ELAPSED_US" >>"$adds"
	done
	if [ -s "$adds" ]; then
		echo "  note add      p50 $(pct_ms "$adds" 50) ms   p99 $(pct_ms "$adds" 99) ms   floor (satchel id) p50 $(pct_ms "$ids" 50) ms"
		echo "  satchel id    p50 $(pct_ms "$ids" 50) ms   p99 $(pct_ms "$ids" 99) ms   (process start + store open)"
	fi
	cleanup
	echo
}

# The rows of issue 10's table as one table: each row's figure, the floor
# or peer measured in the same run, the ratio, the target and the load
# when the row was measured.
print_summary() {
	echo "== Summary: issue 10's table, medians of several runs" \
	    "(load: 1-minute load average when the row was measured)"
	local fmt='  %-52s %-24s %-30s %-8s %-26s %s\n'
	# shellcheck disable=SC2059
	printf "$fmt" row Satchel "floor or peer (same run)" ratio target load
	awk -F'\t' -v fmt="$fmt" '{ printf fmt, $1, $2, $3, $4, $5, $6 }' \
	    "$BENCH_SUMMARY"
	echo "  load at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "Satchel benchmarks: $SATCHEL on $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), load $LOAD_START"
echo
run_binaries
bench_cli_note_add
bash "$root/tests/bench/push_bench.sh" || failed=1
echo
echo "== sync (tests/bench/sync_bench.sh)"
bash "$root/tests/bench/sync_bench.sh" || failed=1
echo
bash "$root/tests/bench/bundle_bench.sh" || failed=1
echo
bash "$root/tests/bench/crowd_bench.sh" || failed=1
echo
bash "$root/tests/bench/idle_bench.sh" || failed=1
echo
print_summary
if [ "$failed" != 0 ]; then
	echo "run.sh: some benchmarks failed" >&2
	exit 1
fi
