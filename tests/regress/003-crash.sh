# Crash safety: kill -9 in the middle of a run of writes, many times. After
# each kill the store opens, every chain and signature verifies, and the
# records equal a replay of the log (satchel verify); no committed note is
# lost. A round kills only once the writer has committed a note in it, so
# that every round is a kill amid writes (make soak runs more rounds:
# CRASH_ROUNDS).
. "$(dirname "$0")/lib.sh"

sat init --name "Ms. Rivera" >/dev/null
ana=$(sat student add "Ana Lopez" --class 3B)
text=$(head -c 600 /dev/zero | tr '\0' 'n')
committed=0
rounds=${CRASH_ROUNDS:-10}
: >"$TMP/ids"
printed() { grep -cE '^[0-9a-f]{32}$' "$TMP/ids"; }

for round in $(seq 1 "$rounds"); do
	before=$(printed)
	# A writer in its own process group, so one kill takes the loop and
	# the satchel it is running, wherever that satchel is.
	setsid bash -c 'while :; do "$0" note add "$1" --strengths "$2" \
	    --obstacle o --action a >>"$3" 2>>"$3.err" || exit; done' \
	    "$SATCHEL" "$ana" "$text" "$TMP/ids" &
	pid=$!
	PIDS="$PIDS $pid"
	if ! wait_for "[ \$(printed) -gt $before ]" 120; then
		kill -9 -- "-$pid" 2>/dev/null
		bail "round $round: the writer committed nothing in 120 s" "$TMP/ids.err"
	fi
	sleep "0.$((RANDOM % 4))"
	kill -9 -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if ! sat verify >"$TMP/verify" 2>&1; then
		fail "round $round: verify after kill -9: $(cat "$TMP/verify")"
		continue
	fi
	# Every id a writer printed was committed before it printed.
	sat dump | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4 | sort >"$TMP/held"
	lost=$(grep -E '^[0-9a-f]{32}$' "$TMP/ids" | sort | comm -23 - "$TMP/held" | wc -l)
	committed=$(printed)
	if [ "$lost" -eq 0 ]; then
		ok "round $round: store verifies after kill -9 amid writes ($before -> $committed notes), none lost"
	else
		fail "round $round: $lost printed notes are missing"
	fi
done
check "the runs wrote notes at all" [ "$committed" -gt 0 ]
