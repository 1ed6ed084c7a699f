# A one-shot sync keeps the membership it read from the log in the store
# (sealed, meta "members_view"), and the next process reads it from
# there instead of opening every membership entry again. The kept copy
# is used only while it matches what the store holds: a removal that
# arrives makes the next command read the log again (and the next sync
# keep the new membership), and a damaged copy is read past. What
# `member list` shows is the same either way.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(dirname "$SATCHEL")/tools}"

a=$TMP/a t=$TMP/t o=$TMP/o x=$TMP/box
make_team "$a" "$t" "$o"
add_box "$a" "$x"
serve "$x"
box=$(addr_of "$x")
sync_box() { "$SATCHEL" -d "$1" sync "$box" >/dev/null 2>&1; }
members() {
	"$SATCHEL" -d "$1" member list --json |
	    jq -c 'sort_by(.device) | [.[] | {device, role, name, removed}]'
}
kept() { "$TOOLS/storemeta" "$1" members_view 2>/dev/null; }

for d in "$a" "$t" "$o" "$t"; do sync_box "$d"; done
k1=$(kept "$t")
check "a one-shot sync keeps the membership in the store" \
    [ "${#k1}" -gt 200 ]
m1=$(members "$t")
check "the kept membership lists everyone" \
    [ "$(echo "$m1" | jq length)" = 4 ]
"$TOOLS/storemeta" "$t" members_view 00 >/dev/null
check "a damaged copy is read past: the same members" \
    [ "$(members "$t")" = "$m1" ]
sync_box "$t"
check "the next sync keeps it again" [ "$(kept "$t")" != 00 ]
check "and what it keeps gives the same members" [ "$(members "$t")" = "$m1" ]

# A removal reaches T: the kept copy no longer matches the store.
k2=$(kept "$t")
"$SATCHEL" -d "$a" member remove "$("$SATCHEL" -d "$o" id)" >/dev/null 2>&1
sync_box "$a"
sync_box "$t"
oid=$("$SATCHEL" -d "$o" id --hex)
check "T sees O removed" [ "$(members "$t" | jq -r --arg o "$oid" \
    '.[] | select(.device == $o) | .removed')" != null ]
check "the sync kept the new membership" [ "$(kept "$t")" != "$k2" ]
check "T and the admin list the same members" \
    [ "$(members "$t")" = "$(members "$a")" ]
"$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B >/dev/null
sync_box "$a"
sync_box "$t"
lists_ana() { "$SATCHEL" -d "$1" student list 2>/dev/null | grep -q "Ana Lopez"; }
check "T still syncs with the box" lists_ana "$t"
