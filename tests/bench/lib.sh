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
