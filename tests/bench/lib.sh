# What the benchmark scripts share; sourced by run.sh, push_bench.sh and
# bundle_bench.sh, after they set root (the repository's top).

# Prints the path of tests/tools' NAME: the release build's, or the test
# build's where there is none.
bench_tool() {		# NAME
	if [ -x "$root/build/rel/tools/$1" ]; then
		echo "$root/build/rel/tools/$1"
	else
		echo "$root/build/test/tools/$1"
	fi
}

# Nearest-rank percentile P of the microsecond values in FILE, as ms;
# store_bench computes its percentiles the same way.
pct_ms() {		# FILE P
	local n rank
	n=$(wc -l <"$1")
	rank=$(((n * $2 + 99) / 100))
	[ "$rank" -ge 1 ] || rank=1
	sort -n "$1" | sed -n "${rank}p" | awk '{ printf "%.2f", $1 / 1000 }'
}

# satchel init for a throw-away device: prints what init prints on
# stdout (a device id), and its stderr (the recovery phrase, which a
# bench device never needs) only if it fails.
bench_init() {		# DIR ARGS...
	local dir=$1 err
	shift
	err=$(mktemp)
	"$SATCHEL" -d "$dir" init "$@" 2>"$err" || { cat "$err" >&2; rm -f "$err"; return 1; }
	rm -f "$err"
}

# The 1-minute load average now.
load1() { cut -d" " -f1 /proc/loadavg; }

# Appends one row of issue 10's table to $BENCH_SUMMARY, which run.sh
# prints as a table at the end of `make bench`: what Satchel measured,
# the floor or the peer measured in the same run, their ratio, the
# target, and the load when the row was measured. Without BENCH_SUMMARY
# (a bench run alone) it does nothing.
bench_row() {		# ROW SATCHEL FLOOR RATIO TARGET
	[ -n "${BENCH_SUMMARY:-}" ] || return 0
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
	    "$(load1)" >>"$BENCH_SUMMARY"
}

# 1234567 -> 1,234,567
commas() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
