# One validation for every change (issue #5, parts 1-3): what a peer would
# refuse is never written; an entry a peer cannot accept is kept as the
# same no-op everywhere and never stops its author; a write can replace
# only writes its author held; removes cover every add they saw.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:?TOOLS must name the test tools directory}"

A="$SATCHEL -d $TMP/a" B="$SATCHEL -d $TMP/b"
make_team "$TMP/a" "$TMP/b"
aid=$($A id --hex) bid=$($B id --hex)
xfer() {	# from, to: one bundle
	"$SATCHEL" -d "$TMP/$1" export "$TMP/x.bundle" >/dev/null &&
	    "$SATCHEL" -d "$TMP/$2" import "$TMP/x.bundle" >/dev/null
}
same_digest() { [ "$($A digest)" = "$($B digest)" ]; }

ana=$($A student add "Ana Lopez" --class 3B)
xfer a b; xfer b a

# A delete/undelete conflict, settled in a teacher's words.
$A delete "$ana" >/dev/null; xfer a b
$A undelete "$ana" >/dev/null; $A delete "$ana" >/dev/null
$B undelete "$ana" >/dev/null
xfer a b; xfer b a
check "a delete/undelete conflict is shown the same on both" same_digest
check "conflicts names it in plain words" sh -c "$A conflicts | grep -q 'deleted on one device, kept on another'"
check "conflicts never prints a restore of an internal field" sh -c "! $A conflicts | grep -q '_deleted'"
settle=$($A conflicts | sed -n 's/.*to put it back: //p' | head -1)
check "conflicts offers delete or undelete ($settle)" sh -c "echo '$settle' | grep -qE '^satchel (un)?delete [0-9a-f]{8}$'"
check "the printed command runs" sh -c "$SATCHEL -d $TMP/a ${settle#satchel } >/dev/null"
$A undelete "$ana" >/dev/null 2>&1	# whichever won, the class keeps Ana
xfer a b; xfer b a
check "the settled conflict reaches B and both agree" same_digest
check "no conflict is left" sh -c "$B conflicts | grep -q 'no conflicts'"
expect_refusal "restore of an internal field is refused" -d "$TMP/a" restore "$ana" _deleted "${aid}:1"

# Member records change only through member commands.
expect_refusal "delete of a member record names the member command" -d "$TMP/a" delete "${bid:0:12}"
expect_refusal "undelete of a member record is refused" -d "$TMP/a" undelete "${bid:0:12}"
expect_refusal "restore on a member record is refused" -d "$TMP/a" restore "${bid:0:12}" name "${aid}:1"
check "the refusal names satchel member" sh -c "$A delete ${bid:0:12} 2>&1 | grep -q 'satchel member'"
check "edit of a field a kind lacks is refused" sh -c "! $A student edit '$ana' --title x 2>/dev/null"

# An entry no peer accepts (what an older version could write): kept and
# chained as a no-op everywhere; the author's later notes still flow.
"$TOOLS/forge" "$TMP/a" member-under-content "${bid:0:32}"
"$TOOLS/forge" "$TMP/a" internal-field "$ana" 1
$A note add "$ana" --strengths "after the bad entries" --obstacle o --action a >/dev/null
check "status on A counts the refused entries" sh -c "$A status | grep -q 'refused  2 entries'"
check "verify on A lists them and passes" sh -c "$A verify | grep -c '^refused: ' | grep -qx 2"
xfer a b
check "the note written after them reaches B" sh -c "$B show 'Ana Lopez' | grep -q 'after the bad entries'"
check "B keeps them as the same no-ops" sh -c "$B status | grep -q 'refused  2 entries'"
check "B's verify passes" sh -c "$B verify >/dev/null"
check "A and B agree" same_digest

# A write naming a colleague's FUTURE write (a guessed hash) hides nothing.
xfer b a
"$TOOLS/forge" "$TMP/a" future-pred "$ana" 1 needs "from A, naming B's future" "$bid" +101
for i in $(seq 1 100); do $B student edit "$ana" --class "3B" >/dev/null; done
$B student edit "$ana" --needs "from B" >/dev/null
xfer b a; xfer a b
check "B's write stays visible: a conflict on both" sh -c "$A conflicts | grep -q 'from B' && $B conflicts | grep -q 'from B'"
check "and A's forged one too" sh -c "$A conflicts | grep -q 'naming B'"
check "both agree" same_digest

# A remove covers every add it saw: ten devices add one student to one
# group concurrently, then one leave removes it everywhere.
devs=""
for n in 1 2 3 4 5 6 7 8 9 10; do
	id=$("$SATCHEL" -d "$TMP/t$n" init --name "T$n")
	tok=$($A member add "$id" --name "T$n" 2>/dev/null)
	"$SATCHEL" -d "$TMP/t$n" join "$tok" >/dev/null
	devs="$devs t$n"
done
grp=$($A group add "Group A" --same-need)
for n in $devs; do xfer a "$n"; done
for n in $devs; do "$SATCHEL" -d "$TMP/$n" group join "$grp" "$ana" >/dev/null; xfer "$n" a; done
check "ten concurrent adds leave one member" sh -c "$A show 'Ana Lopez' | grep -q 'Group A'"
check "group leave exits 0" sh -c "$A group leave '$grp' '$ana' >/dev/null"
check "and the student really left" sh -c "$A show 'Ana Lopez' >$TMP/show && ! grep -q 'Group A' $TMP/show"
for n in $devs; do xfer a "$n"; done
check "the leave holds on another device too" sh -c "$SATCHEL -d $TMP/t7 show 'Ana Lopez' >$TMP/show && ! grep -q 'Group A' $TMP/show"
check "it agrees with A" [ "$("$SATCHEL" -d "$TMP/t7" digest)" = "$($A digest)" ]
