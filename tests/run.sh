#!/usr/bin/env bash
# Runs every test: unit binaries, fuzz corpus replays and the regression
# scripts that drive the real satchel binary. Each prints TAP lines
# ("ok ..." / "not ok ..."); a binary that dies without saying counts as
# a failure. The last line is "N passed, N failed".
#
#	bash tests/run.sh [SCRIPT...]
#
# With arguments, it runs only those regression scripts, in that order
# (tests/soak/run.sh uses this). Without, the regression scripts run
# TEST_JOBS at a time (default 3: most of their time is spent waiting on
# daemons, and each has its own directories and kernel-given ports); their
# output is printed whole, in order.
set -u
cd "$(dirname "$0")/.."
: "${SATCHEL:=$PWD/build/test/satchel}"
export SATCHEL
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
# The unit tests' folders are sealed under a passphrase too (lib.sh does
# the same for each regression script): no test asks on the terminal.
printf 'a unit test passphrase\n' >"$log/passphrase"
chmod 600 "$log/passphrase"
export SATCHEL_PASSPHRASE_FILE=$log/passphrase SATCHEL_TEST_FAST_KDF=1
export SATCHEL_NO_KEYRING=1
passed=0 failed=0

run_one() {		# name, command...
	local name=$1 out=$log/out rc start=$SECONDS
	shift
	"$@" >"$out" 2>"$log/err"
	rc=$?
	local ok nok
	ok=$(grep -c '^ok ' "$out")
	nok=$(grep -c '^not ok ' "$out")
	grep -E '^(not ok|#)' "$out" | sed "s|^|[$name] |"
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		echo "not ok - $name exited $rc"
		tail -n 20 "$log/err" | sed "s|^|[$name] |"
		nok=1
	elif [ "$nok" -ne 0 ]; then
		tail -n 20 "$log/err" | sed "s|^|[$name] |"
	fi
	echo "$name: $ok passed, $nok failed ($((SECONDS - start)) s)"
	passed=$((passed + ok))
	failed=$((failed + nok))
}

if [ $# -gt 0 ]; then
	for s in "$@"; do
		run_one "$(basename "$s" .sh)" bash "$s"
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit
fi
for t in build/test/unit/*_test; do
	[ -x "$t" ] && run_one "$(basename "$t")" "$t"
done
for r in build/test/replay/*_fuzz; do
	[ -x "$r" ] || continue
	n=$(basename "$r" _fuzz)
	run_one "replay-$n" "$r" "tests/fuzz/corpus/$n"
done
# Each script's report goes to its own file; the tallies are read back
# from them in order once all have ended.
report_one() {		# script, report file
	local passed=0 failed=0 log
	log=$(mktemp -d)
	run_one "$(basename "$1" .sh)" bash "$1" >"$2.txt"
	echo "$passed $failed" >"$2.sum"
	rm -rf "$log"
}
jobs_max=${TEST_JOBS:-3}
running=0 i=0
for s in tests/regress/[0-9]*.sh; do
	[ -f "$s" ] || continue
	if [ "$running" -ge "$jobs_max" ]; then
		wait -n
		running=$((running - 1))
	fi
	report_one "$s" "$log/r$(printf %03d $i)" &
	running=$((running + 1)) i=$((i + 1))
done
wait
for f in "$log"/r*.txt; do
	[ -f "$f" ] || continue
	cat "$f"
	read -r p n <"${f%.txt}.sum" || { p=0 n=1; echo "not ok - $f lost"; }
	passed=$((passed + p))
	failed=$((failed + n))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
