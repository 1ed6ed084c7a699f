# Received batches are read ahead (daemon/net/rxprep.c): the entries of
# a batch of 32 or more are hashed, opened, decoded and validated on a
# worker thread while the event loop applies the batches before it. A
# receiver must end up holding exactly what reading them on the loop gave:
#  - a large batch whose last entry does not open, or whose last
#    signature fails, is refused whole and logged; the batch before it
#    stays, and nothing of the bad one is applied;
#  - entries the schema refuses, amid a large batch, are held as the same
#    no-op as on any device (equal digests);
#  - entries sealed under a key epoch that an earlier batch of the same
#    sync brings are read, though the worker may have lacked that key.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/test/tools}"

A=$TMP/a B=$TMP/b C=$TMP/c D=$TMP/d E=$TMP/e X=$TMP/x
make_team "$A" "$B" "$C" "$D" "$E" "$X"
bid=$(sat -d "$B" id --hex)
xid=$(sat -d "$X" id)
ana=$(sat -d "$A" student add "Ana Lopez")
"$TOOLS/fill" "$A" "$ana" 300 early >/dev/null || bail "fill A"
"$TOOLS/forge" "$A" member-under-content "${bid:0:32}" >/dev/null &&
    "$TOOLS/forge" "$A" internal-field "$ana" 1 >/dev/null ||
    bail "forge two entries the schema refuses, on A"
h=$("$TOOLS/tamper" "$A" head) || bail "read A's head"
"$TOOLS/fill" "$A" "$ana" $((2000 - h)) middle >/dev/null || bail "fill A"
[ "$("$TOOLS/tamper" "$A" head)" = 2000 ] || bail "A's log ends at 2000"
note_at() { echo "middle $(($1 - h - 1))"; }	# A's note at seq $1
has() {			# dir, seq: the dir reads A's note at that seq
	sat -d "$1" search "$(note_at "$2")" 2>/dev/null |
	    grep -q "action: $(note_at "$2")\$"
}
lacks() {		# dir, seq...: reads none of those notes
	local s
	for s in "${@:2}"; do has "$1" "$s" && return 1; done
	return 0
}
verifies() { sat -d "$1" verify >/dev/null 2>&1; }
same_digest() { [ "$(sat -d "$1" digest)" = "$(sat -d "$2" digest)" ]; }
amid_notes() { [ -n "$1" ] && [ "$1" -gt $((h + 1)) ] && [ "$1" -le 1999 ]; }
syncs() { sat -d "$1" sync "$(addr_of "$2")" >/dev/null 2>"$1.sync.log"; }

# A's entry 2000 is damaged: the batch the receiver refuses holds it
# (the sender cuts batches by bytes too: its first seq is read from the
# receiver's log line).
bad_batch() {		# receiver, what
	local r=$1 first
	serve "$A"
	syncs "$r" "$A"
	stop "$A"
	first=$(sed -n 's/.*refused batch [0-9a-f]*:\([0-9]*\)-[0-9]*: .*nothing applied.*/\1/p' \
	    "$r.sync.log" | head -1)
	check "$2: the receiver refuses the batch and says so" \
	    amid_notes "$first"
	[ -n "$first" ] || { show_log "$r.sync.log"; return; }
	check "$2: the batch before it is kept" has "$r" $((first - 1))
	check "$2: nothing of the bad batch is applied" lacks "$r" "$first" 1999
	check "$2: the receiver's store verifies" verifies "$r"
}
# The last signature of a batch is the one a receiver checks (the hash
# chain vouches for the rest): entry 2000 is the last of A's log, and so
# of its batch, until A's daemon stops and writes its session receipts.
"$TOOLS/tamper" "$A" sig 2000 >/dev/null || bail "damage A's entry 2000"
bad_batch "$E" "a bad signature on the last entry of a batch"
"$TOOLS/tamper" "$A" sig 2000 >/dev/null &&
    "$TOOLS/tamper" "$A" ct 2000 >/dev/null || bail "damage its ciphertext"
bad_batch "$D" "an entry no key opens, amid its batch or last"
"$TOOLS/tamper" "$A" ct 2000 >/dev/null || bail "mend A's entry 2000"

serve "$A"
check "B syncs A's log, two schema-refused entries amid large batches" \
    syncs "$B" "$A"
check "B holds the same as A (the refused entries held as no-ops)" \
    same_digest "$A" "$B"
check "B keeps the two as no-ops, as A does" \
    grep -q 'refused  2 entries' <(sat -d "$B" status)
check "B reads A's last note" has "$B" 2000
stop "$A"

# A removes X: key epoch 1, then 1,100 notes under its content key. C
# learns the epoch from a batch of this one sync; the batches after it
# may have been read ahead before C held the key.
sat -d "$A" member remove "$xid" 2>"$TMP/rm.err" || bail "member remove" "$TMP/rm.err"
"$TOOLS/fill" "$A" "$ana" 1100 late >/dev/null || bail "fill A after the removal"
serve "$A"
check "C syncs A's log across the new key epoch" syncs "$C" "$A"
check "C holds the same as A" same_digest "$A" "$C"
check "C is on key epoch 1" \
    grep -q '^keys .*key epoch 1' <(sat -d "$C" status)
check "C reads the last note, sealed under the epoch learnt mid-sync" \
    grep -q 'action: late 1099$' <(sat -d "$C" search 'late 1099')
stop "$A"
