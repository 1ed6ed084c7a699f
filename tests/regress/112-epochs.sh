# Key epochs: removing one of three teachers starts a new epoch.
#  - the other teachers and the box refuse the removed laptop's
#    connections (after a handshake it completes with the previous
#    epoch's key, during the grace period) and its bundles;
#  - a note written afterwards is unreadable with every key the removed
#    laptop held (tests/tools/trykeys tries them all on its entries),
#    while one written before is readable with them (the tool works);
#  - a teacher offline during the removal (B) catches up through the
#    box with the previous epoch's key, and reads the new note;
#  - a teacher on USB sticks alone learns the epoch from a bundle;
#  - the box holds no key that opens a note; a colleague added after the
#    removal reads the notes of both epochs (its invite's grant);
#  - a teacher offline for more than 30 days after a removal, or across
#    two removals, is refused, told by status to get a new invite, and
#    is back after joining with one.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/test/tools}"
export -f sat
export SATCHEL

A=$TMP/a B=$TMP/b C=$TMP/c E=$TMP/e G=$TMP/g BOX=$TMP/box
make_team "$A" "$B" "$C" "$E" "$G"
add_box "$A" "$BOX"
id_of() { sat -d "$1" id; }
BID=$(id_of "$B") CID=$(id_of "$C") EID=$(id_of "$E")

sat -d "$A" student add "Ana Lopez" --class 3B >/dev/null
OLD=$(sat -d "$A" note add "Ana Lopez" --strengths "reads aloud" \
    --obstacle "long words" --action "before the removal")
serve "$BOX"
for x in "$A" "$B" "$C" "$E" "$G"; do
	sat -d "$x" sync "$(addr_of "$BOX")" 2>>"$x.sync.log" ||
	    bail "$(basename "$x") syncs with the box before any removal" "$x.sync.log"
done
check "the teacher to be removed reads the note written before" \
    bash -c "sat -d '$C' show 'Ana Lopez' | grep -q 'before the removal'"

# A removes C: epoch 1. The box learns it from A.
sat -d "$A" member remove "$CID" 2>"$TMP/rm.err" ||
    bail "member remove" "$TMP/rm.err"
check "member remove says a new key epoch begins" \
    grep -q "key epoch 1 begins" "$TMP/rm.err"
sat -d "$A" sync "$(addr_of "$BOX")" 2>>"$A.sync.log" ||
    bail "the admin syncs the removal to the box (which had not heard of it)" "$A.sync.log"
check "the box is on key epoch 1" \
    bash -c "sat -d '$BOX' status | grep -q '^keys .*key epoch 1'"

NEW=$(sat -d "$A" note add "Ana Lopez" --strengths "spells well" \
    --obstacle "fractions" --action "after the removal")
sat -d "$A" sync "$(addr_of "$BOX")" 2>>"$A.sync.log" ||
    bail "the admin syncs the new note" "$A.sync.log"
# G, which only ever sees USB sticks, imports a bundle the admin made
# after the removal (under the previous epoch's key, which every member
# takes during the grace period): it learns the epoch and reads the note.
sat -d "$A" export "$TMP/a.bundle" >/dev/null 2>&1 ||
    bail "the admin exports a bundle after the removal"
check "G, still on epoch 0, imports the admin's bundle and reads the new note" \
    bash -c "sat -d '$G' import '$TMP/a.bundle' >/dev/null 2>&1 &&
        sat -d '$G' status | grep -q '^keys .*key epoch 1' &&
        sat -d '$G' show 'Ana Lopez' | grep -q 'after the removal'"

serve "$A"
serve "$B"
# B was offline during the removal: it holds epoch 0's key only,
# connects to the box with it, learns epoch 1 and reads the new note.
check "B, offline during the removal, catches up through the box (previous epoch's key)" \
    sat -d "$B" sync "$(addr_of "$BOX")"
check "B learned key epoch 1 and reads the note written after the removal" \
    bash -c "sat -d '$B' status | grep -q '^keys .*key epoch 1' &&
        sat -d '$B' show 'Ana Lopez' | grep -q 'after the removal'"

# The removed laptop: a handshake (previous key, grace period), then
# refused as no member, by the box and by both other teachers.
for peer in "$BOX" "$A" "$B"; do
	name=$(basename "$peer")
	: >"$C.sync.log"
	if sat -d "$C" sync "$(addr_of "$peer")" 2>>"$C.sync.log"; then
		fail "$name refuses the removed laptop's sync"
	else
		check "$name completed the handshake (previous epoch's key) and refused the removed laptop by the membership check" \
		    wait_for "grep -q 'previous key epoch' '$peer.log' && grep -q 'refused device .*removed from this team' '$peer.log'" 20
	fi
done
check "the removed laptop did not receive the new note" \
    bash -c "! sat -d '$C' show 'Ana Lopez' | grep -q 'after the removal'"

# Every key the removed laptop held, on the new note and on the old one.
check "no key the removed laptop held opens the note written after its removal" \
    "$TOOLS/trykeys" "$C" "$B" "$NEW"
check "its keys do open the note written before (the tool finds keys)" \
    "$TOOLS/trykeys" --expect-open "$C" "$B" "$OLD"

check "the box holds no key that opens a note, of either epoch" \
    bash -c "'$TOOLS/trykeys' '$BOX' '$B' '$NEW' && '$TOOLS/trykeys' '$BOX' '$B' '$OLD'"

# A colleague added after the removal gets the earlier epoch's keys in
# its invite: it reads the history, and what is written now.
FID=$(sat -d "$TMP/f" init --name "Teacher f")
TOK=$(sat -d "$A" member add "$FID" --name "Teacher f" 2>/dev/null)
check "a colleague added after the removal joins" \
    bash -c "sat -d '$TMP/f' join '$TOK' >/dev/null"
check "it syncs with the box and reads the notes of both epochs" \
    bash -c "sat -d '$TMP/f' sync '$(addr_of "$BOX")' 2>>'$TMP/f.sync.log' &&
        sat -d '$TMP/f' show 'Ana Lopez' | grep -q 'before the removal' &&
        sat -d '$TMP/f' show 'Ana Lopez' | grep -q 'after the removal'"

# Its bundles: a note it writes now is not taken.
sat -d "$C" note add "Ana Lopez" --strengths x --obstacle y \
    --action "from the removed laptop" >/dev/null
sat -d "$C" export "$TMP/c.bundle" >/dev/null 2>&1
for x in "$B" "$BOX"; do
	sat -d "$x" import "$TMP/c.bundle" >"$TMP/imp.out" 2>"$TMP/imp.err"
	check "$(basename "$x") skips the removed laptop's entries in its bundle" \
	    grep -q 'not members' "$TMP/imp.err"
done
check "B does not show the note from the removed laptop's bundle" \
    bash -c "! sat -d '$B' show 'Ana Lopez' | grep -q 'from the removed laptop'"

# 31 days on, the box no longer takes epoch 0's key: E, still on it,
# is refused and told to get a new invite.
stop "$BOX"
SATCHEL_CLOCK_OFFSET=+31d serve "$BOX"
if sat -d "$E" sync "$(addr_of "$BOX")" 2>"$TMP/e.err"; then
	fail "E, offline for more than 30 days after a removal, is refused"
else
	ok "E, offline for more than 30 days after a removal, is refused"
fi
check "E's status tells it to ask an admin for a new invite" \
    bash -c "sat -d '$E' status | grep '^keys' | grep -q 'new invite'"
stop "$BOX"
serve "$BOX"

# A second removal (B): epoch 2. E, offline since before the first, is
# two epochs behind: refused, and told to get a new invite.
sat -d "$A" member remove "$BID" 2>"$TMP/rm2.err" ||
    bail "the second member remove" "$TMP/rm2.err"
sat -d "$A" sync "$(addr_of "$BOX")" 2>>"$A.sync.log" ||
    bail "the admin syncs the second removal to the box" "$A.sync.log"
if sat -d "$E" sync "$(addr_of "$BOX")" 2>"$TMP/e.err"; then
	fail "E, offline across two removals, is refused"
else
	ok "E, offline across two removals, is refused"
fi
check "E's status tells it to ask an admin for a new invite" \
    bash -c "sat -d '$E' status | grep '^keys' | grep -q 'new invite'"
TOK=$(sat -d "$A" member add "$EID" --name "Teacher e" 2>/dev/null)
check "E joins again with a new invite of the same team" \
    bash -c "sat -d '$E' join '$TOK' >/dev/null"
check "E then syncs with the box and reads the note written after the removals" \
    bash -c "sat -d '$E' sync '$(addr_of "$BOX")' 2>>'$E.sync.log' &&
        sat -d '$E' show 'Ana Lopez' | grep -q 'after the removal' &&
        sat -d '$E' status | grep -q '^keys .*key epoch 2'"
check "E still reads the note written before the removals (epoch 0's key)" \
    bash -c "sat -d '$E' show 'Ana Lopez' | grep -q 'before the removal'"
