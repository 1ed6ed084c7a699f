# A demotion has a cut-off, as a removal has: "member role B teacher"
# names B's last entry the demoting admin held. A membership change B
# made before that counts; one B made afterwards, while apart and not yet
# told (naming the state before its demotion), counts for nothing. Every
# device, the box included, judges it alike in every delivery order.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b o=$TMP/o x=$TMP/box e=$TMP/e d=$TMP/d
"$SATCHEL" -d "$a" init --name Ana >/dev/null 2>&1
join_as() {		# dir, name, role flag
	local id tok
	id=$("$SATCHEL" -d "$1" init --name "$2" 2>/dev/null) &&
	tok=$("$SATCHEL" -d "$a" member add "$id" --name "$2" $3 2>/dev/null) &&
	"$SATCHEL" -d "$1" join "$tok" >/dev/null 2>&1 || bail "$2 could not join"
}
join_as "$b" Ben --admin
join_as "$o" Olu ""
add_box "$a" "$x"
serve "$x"
eid=$("$SATCHEL" -d "$e" init --name Eve 2>/dev/null)
did=$("$SATCHEL" -d "$d" init --name Dee 2>/dev/null)
bid=$("$SATCHEL" -d "$b" id)
all="$a $b $o"
sync_all() {
	local dir
	for dir in $all $all; do
		"$SATCHEL" -d "$dir" sync "$(addr_of "$x")" >/dev/null 2>&1 ||
		    return 1
	done
}
members() {
	"$SATCHEL" -d "$1" member list --json |
	    jq -c 'sort_by(.device) | [.[] | {device, role, name, removed}]'
}
role_of() {		# dir, checked id: role, "removed" or "none"
	"$SATCHEL" -d "$1" member list --json | jq -r --arg id "$2" \
	    '[.[] | select(.id == $id) | if .removed then "removed" else .role end] | .[0] // "none"'
}
agree() {
	local ref dir
	ref=$(members "$a")
	for dir in $all $x; do
		[ "$(members "$dir")" = "$ref" ] && continue
		echo "# $(basename "$dir") differs: $(members "$dir")"
		echo "#   from a: $ref"
		return 1
	done
}
bundle() { "$SATCHEL" -d "$1" export "$TMP/$2.bundle" >/dev/null; }
take() {		# dir, bundle names in the order it gets them
	local dir=$1 n
	shift
	for n in "$@"; do
		"$SATCHEL" -d "$dir" import "$TMP/$n.bundle" >/dev/null 2>&1 || return 1
	done
}

check "everyone starts from the same team" sync_all
# B adds Eve, and A hears of it before demoting B: Eve stays.
"$SATCHEL" -d "$b" member add "$eid" --name Eve >/dev/null 2>&1
check "B's add of Eve reaches everyone" sync_all
"$SATCHEL" -d "$a" member role "$bid" teacher 2>"$TMP/role.err"
check "A demotes B ($(cat "$TMP/role.err"))" [ "$(role_of "$a" "$bid")" = teacher ]
# Meanwhile B, apart and not told, adds Dee as an admin.
"$SATCHEL" -d "$b" member add "$did" --name Dee --admin >/dev/null 2>&1
check "B, not told yet, still shows itself an admin and Dee added" sh -c \
    "[ '$(role_of "$b" "$bid")' = admin ] && [ '$(role_of "$b" "$did")' = admin ]"
bundle "$a" dem-a && bundle "$b" dem-b
check "the demotion and B's add meet in every order" take "$a" dem-b
check "  (B takes the demotion)" take "$b" dem-a
check "  (O takes them one way)" take "$o" dem-a dem-b
check "  (the box the other)" take "$x" dem-b dem-a
check "every device shows the same membership" agree
check "B is a teacher" [ "$(role_of "$o" "$bid")" = teacher ]
check "B's add made after its demotion reached A counts for nothing" \
    [ "$(role_of "$o" "$did")" = none ]
check "B's add made before stays" [ "$(role_of "$o" "$eid")" = teacher ]
check "B says so itself" [ "$(role_of "$b" "$did")" = none ]
check "B can no longer add anyone" sh -c \
    "! $SATCHEL -d $b member add $did --name Dee >/dev/null 2>&1"
check "everyone syncs through the box afterwards" sync_all
check "and still agrees" agree
# Olu never wrote anything and met only the box: A knows it joined, and
# when it last synced, from the box's receipts.
check "A's member list shows Olu joined, last seen through the box" sh -c \
    "$SATCHEL -d $a member list --json | jq -e '.[] | select(.name == \"Olu\") | .state == \"joined\" and .last_seen_ms > 0' >/dev/null"
