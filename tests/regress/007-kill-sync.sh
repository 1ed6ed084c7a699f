# kill -9 of the receiving daemon in the middle of a large sync, at several
# points: after each restart the store verifies, sync resumes from the
# last committed batch, and it ends with the sender's digest.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:?TOOLS must name the test tools directory}"

a=$TMP/a b=$TMP/b
make_team "$a" "$b"
ana=$("$SATCHEL" -d "$a" student add "Ana Lopez")
count=${KILL_SYNC_ENTRIES:-30000}
check "the sender holds $count notes" "$TOOLS/fill" "$a" "$ana" "$count"
pa=$((PORT_BASE + 20)) pb=$((PORT_BASE + 21))
serve "$a" "$pa"
"$SATCHEL" -d "$b" peer add "127.0.0.1:$pa"
entries() { "$SATCHEL" -d "$1" status --json | grep -o '"entries":[0-9]*' | cut -d: -f2; }
total=$(entries "$a")

last=0
for round in 1 2 3 4; do
	serve "$b" "$pb"
	# Let it take some batches, then kill it mid-stream.
	wait_for "[ \$(entries $b) -gt $last ]" 300
	sleep "0.$((RANDOM % 5 + 1))"
	kill -9 "$(cat "$b.pid")"
	wait "$(cat "$b.pid")" 2>/dev/null
	now=$(entries "$b")
	if "$SATCHEL" -d "$b" verify >/dev/null 2>"$TMP/verify"; then
		ok "round $round: killed at $now of $total entries; the store verifies"
	else
		fail "round $round: verify after kill -9: $(cat "$TMP/verify")"
	fi
	check "round $round: nothing committed was lost ($last -> $now)" [ "$now" -ge "$last" ]
	last=$now
done
serve "$b" "$pb"
check "after the last restart it catches up" \
    wait_for "[ \$(entries $b) -eq $total ]" 1800
check "and ends with the sender's digest" sh -c \
    "[ \"\$($SATCHEL -d $a digest)\" = \"\$($SATCHEL -d $b digest)\" ]"
check "the log chains and replay agree" "$SATCHEL" -d "$b" verify
check "the kills happened mid-sync" [ "$last" -lt "$total" ]
