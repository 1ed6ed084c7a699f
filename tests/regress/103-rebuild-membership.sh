# A rebuild of the derived state from the log (after an upgrade, a new
# key epoch, a fork) applies what live applies did, membership included:
# a removed teacher's entries after its cut-off, taken by a colleague
# before it heard of the removal, stop counting once it does, and stay
# out after a rebuild; a removed admin's later entries, stored for their
# membership changes, never have their content applied, by a rebuild
# either; the entries the box and a teacher forge to change
# the team stay refused; each device shows the same records (digest) and
# the same refusals before and after.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(dirname "$SATCHEL")/tools}"

a=$TMP/a t=$TMP/t o=$TMP/o x=$TMP/box r=$TMP/r
make_team "$a" "$t" "$o"
add_box "$a" "$x"
rid=$("$SATCHEL" -d "$r" init --name Rae 2>/dev/null) &&
tok=$("$SATCHEL" -d "$a" member add "$rid" --name Rae --admin 2>/dev/null) &&
"$SATCHEL" -d "$r" join "$tok" >/dev/null 2>&1 || bail "Rae could not join"
serve "$x"
box=$(addr_of "$x")
tid=$("$SATCHEL" -d "$t" id --hex) oid=$("$SATCHEL" -d "$o" id --hex)
xid=$("$SATCHEL" -d "$x" id --hex)
note() {		# dir, word
	"$SATCHEL" -d "$1" note add "Ana Lopez" --strengths s --obstacle o \
	    --action "$2" >/dev/null
}
has() { "$SATCHEL" -d "$1" search "$2" 2>/dev/null | grep -q "$2"; }
hasnt() { ! has "$@"; }
sync_box() { "$SATCHEL" -d "$1" sync "$box" >/dev/null 2>&1; }
members() {
	"$SATCHEL" -d "$1" member list --json |
	    jq -c 'sort_by(.device) | [.[] | {device, role, name, removed}]'
}
state() {		# dir: what a rebuild must leave as it was (a box has
	# no records of its own to digest)
	echo "$(members "$1") $("$SATCHEL" -d "$1" digest 2>/dev/null)" \
	    "$("$SATCHEL" -d "$1" status --json | jq -c '[.refused]')"
}
# Forces a rebuild at the next open, as an upgrade does.
rebuild() { "$TOOLS/storemeta" "$1" derived_version 0000000000000000 >/dev/null; }

"$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B >/dev/null
for d in "$a" "$t" "$o" "$r" "$a"; do sync_box "$d"; done
note "$t" before-cut
sync_box "$t" && sync_box "$a"
check "the admin holds the teacher's note" has "$a" before-cut

# The admin removes the teacher, who writes on; O takes that from the
# teacher's bundle before it hears of the removal.
"$SATCHEL" -d "$a" member remove "$("$SATCHEL" -d "$t" id)" >/dev/null 2>&1
note "$t" after-cut
"$SATCHEL" -d "$t" export "$TMP/t.bundle" >/dev/null
"$SATCHEL" -d "$o" import "$TMP/t.bundle" >/dev/null 2>&1
check "O, not told of the removal yet, shows the later note" has "$o" after-cut
sync_box "$a"
sync_box "$o"
check "once O hears of the removal, the later note counts for nothing" \
    hasnt "$o" after-cut
check "the note written before the removal stays" has "$o" before-cut

# The admin removes the other admin, who writes on; O hears of it first,
# then takes the removed admin's bundle: its entries are stored (its
# membership changes count for deciding who stays), its note is not.
"$SATCHEL" -d "$a" member remove "$rid" >/dev/null 2>&1
note "$r" after-admin-cut
"$SATCHEL" -d "$r" export "$TMP/r.bundle" >/dev/null
sync_box "$a"
sync_box "$o"
"$SATCHEL" -d "$o" import "$TMP/r.bundle" >/dev/null 2>&1
check "O stores the removed admin's later entries but not its note" \
    hasnt "$o" after-admin-cut

# The box and O forge membership changes: refused everywhere.
"$TOOLS/forge" "$x" member "$oid" removed=yes \
    cutoff=0:$(printf '0%.0s' $(seq 64)) >/dev/null
"$TOOLS/forge" "$o" member "$oid" role=admin >/dev/null
"$TOOLS/forge" "$o" member "$tid" removed=no role=teacher name=Back >/dev/null
for d in "$o" "$a" "$o" "$a"; do sync_box "$d"; done
check "the admin and O hold the same records" \
    [ "$("$SATCHEL" -d "$a" digest)" = "$("$SATCHEL" -d "$o" digest)" ]
check "the forged changes are refused: O is a teacher, T removed" sh -c \
    "$SATCHEL -d $a member list --json | jq -e '[.[] | select(.device == \"$oid\" and .role == \"teacher\" and .removed == null)] | length == 1' >/dev/null &&
     $SATCHEL -d $a member list --json | jq -e '[.[] | select(.device == \"$tid\" and .removed != null)] | length == 1' >/dev/null"

for d in a o x; do
	eval dir=\$$d
	before=$(state "$dir")
	rebuild "$dir"
	"$SATCHEL" -d "$dir" member list >/dev/null 2>"$TMP/rebuild.err"
	check "$d: a rebuild ran ($(grep -c rebuilding "$TMP/rebuild.err") notice)" \
	    grep -q rebuilding "$TMP/rebuild.err"
	after=$(state "$dir")
	check "$d: same members, records and refusals after the rebuild" \
	    [ "$before" = "$after" ]
	[ "$before" = "$after" ] ||
	    printf '#  before: %s\n#  after:  %s\n' "$before" "$after"
done
check "O still does not show the removed teacher's later note" \
    hasnt "$o" after-cut
check "nor the removed admin's" hasnt "$o" after-admin-cut
