#!/usr/bin/env bash
# make soak: the long versions of the tests that kill things mid-way, then
# every regression script again and again, to shake out anything that
# passes only sometimes. Hours, not minutes, are fine here; make test
# keeps the short versions. Output as make test's: TAP per script, and
# the last line "N passed, N failed" over the whole soak.
#
#	SATCHEL=... TOOLS=... bash tests/soak/run.sh
#
#   SOAK_CRASH_ROUNDS  kill -9 rounds amid local writes (003; default 200)
#   SOAK_KILL_ROUNDS   kill -9 rounds mid-sync (007; default 20)
#   SOAK_KILL_ENTRIES  notes in that sync (007; default 100000)
#   SOAK_REPEAT        passes over every regression script (default 5)
set -u
cd "$(dirname "$0")/../.."
: "${SATCHEL:=$PWD/build/test/satchel}"
: "${TOOLS:=$PWD/build/test/tools}"
export SATCHEL TOOLS
repeat=${SOAK_REPEAT:-5}
for v in SOAK_CRASH_ROUNDS SOAK_KILL_ROUNDS SOAK_KILL_ENTRIES SOAK_REPEAT; do
	if [ -n "${!v:-}" ] && ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "soak: $v must be a positive number" >&2
		exit 2
	fi
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0 failed=0

# Runs tests/run.sh on some scripts and adds up its last line.
pass() {		# label, [VAR=value...], script...
	local label=$1 p f vars=()
	shift
	while [[ ${1:-} =~ ^[A-Z_]+= ]]; do vars+=("$1"); shift; done
	echo "== $label"
	env "${vars[@]}" bash tests/run.sh "$@" | tee "$out"
	read -r p _ f _ < <(tail -n 1 "$out")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
}

pass "long: kill -9 amid writes, mid-sync" \
    CRASH_ROUNDS="${SOAK_CRASH_ROUNDS:-200}" \
    KILL_SYNC_ROUNDS="${SOAK_KILL_ROUNDS:-20}" \
    KILL_SYNC_ENTRIES="${SOAK_KILL_ENTRIES:-100000}" \
    tests/regress/003-crash.sh tests/regress/007-kill-sync.sh
for i in $(seq 1 "$repeat"); do
	pass "every regression script, pass $i of $repeat" tests/regress/[0-9]*.sh
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
