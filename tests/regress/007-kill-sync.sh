# kill -9 of the receiving daemon in the middle of a large sync, at several
# points: after each restart the store verifies, sync resumes from the
# last committed batch, and it ends with the sender's digest.
#
# Every kill must land mid-sync: the round took some entries, and not all
# of them. A kill that came after the sync had finished proves nothing, so
# that round is replayed from a copy of the receiver taken before it, with
# no pause before the kill, and fails only if it never lands. make soak
# runs longer versions (KILL_SYNC_ENTRIES, KILL_SYNC_ROUNDS).
. "$(dirname "$0")/lib.sh"
: "${TOOLS:?TOOLS must name the test tools directory}"

a=$TMP/a b=$TMP/b
make_team "$a" "$b"
ana=$("$SATCHEL" -d "$a" student add "Ana Lopez")
count=${KILL_SYNC_ENTRIES:-24000}
rounds=${KILL_SYNC_ROUNDS:-3}
tries=5
"$TOOLS/fill" "$a" "$ana" "$count" >"$TMP/fill.out" 2>&1 ||
    bail "the sender could not be filled with $count notes" "$TMP/fill.out"
ok "the sender holds $count notes"
serve "$a"
"$SATCHEL" -d "$b" peer add "$(addr_of "$a")"
entries() { "$SATCHEL" -d "$1" status --json | grep -o '"entries":[0-9]*' | cut -d: -f2; }
total=$(entries "$a")
# Whether the sync had finished is told by the records, not the count:
# both sides write receipts of their sessions, so the receiver can hold
# more entries than the sender had before it took all of the sender's.
want=$("$SATCHEL" -d "$a" digest)
finished() { [ "$("$SATCHEL" -d "$b" digest)" = "$want" ]; }

last=0
for round in $(seq 1 "$rounds"); do
	rm -rf "$b.before"
	cp -a "$b" "$b.before"
	landed=0
	for try in $(seq 1 "$tries"); do
		serve "$b"
		# Once this round has committed a batch, a random pause (none
		# on a retry), then the kill.
		wait_for "[ \$(entries $b) -gt $last ]" 300 ||
		    bail "round $round: the receiver took nothing in 300 s; its log:" "$b.log"
		[ "$try" -eq 1 ] && sleep "0.$((RANDOM % 3))"
		crash "$b"
		now=$(entries "$b")
		if ! finished; then
			landed=1
			break
		fi
		echo "# round $round, try $try: the sync had finished ($now of $total, from $last) before the kill; again, sooner"
		rm -rf "$b"
		cp -a "$b.before" "$b"
	done
	[ "$landed" -eq 1 ] ||
	    bail "round $round: in $tries tries no kill landed before the sync finished"
	check "round $round: the kill landed mid-sync ($last < $now entries, not all of the sender's records)" \
	    [ "$now" -gt "$last" ]
	if "$SATCHEL" -d "$b" verify >/dev/null 2>"$TMP/verify"; then
		ok "round $round: the store verifies after kill -9"
	else
		fail "round $round: verify after kill -9: $(cat "$TMP/verify")"
	fi
	last=$now
done
rm -rf "$b.before"
serve "$b"
# Both daemons write receipts of the sessions (member report), so the
# receiver ends with the sender's count, which is past the first total.
check "after the last restart it catches up" \
    wait_for "[ \$(entries $b) -ge $total ] && [ \$(entries $b) -eq \$(entries $a) ]" $((600 + count / 100))
check "and ends with the sender's digest" sh -c \
    "[ \"\$($SATCHEL -d $a digest)\" = \"\$($SATCHEL -d $b digest)\" ]"
check "the log chains and replay agree" "$SATCHEL" -d "$b" verify
