# Admins who change the team while apart: two add the same device, two
# remove each other, two remove and re-add each other. The changes travel
# by bundle, so the test picks the order each device receives them in;
# in every order, every device (the box included) ends with the same
# membership, and with an admin. Where two admins removed each other, the
# one added earlier stays (README, "Who may change the team").
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b c=$TMP/c o=$TMP/o x=$TMP/box d=$TMP/d
"$SATCHEL" -d "$a" init --name Ana >/dev/null
join_as() {		# dir, name, role flag
	local id tok
	id=$("$SATCHEL" -d "$1" init --name "$2") &&
	tok=$("$SATCHEL" -d "$a" member add "$id" --name "$2" $3 2>/dev/null) &&
	"$SATCHEL" -d "$1" join "$tok" >/dev/null || bail "$2 could not join"
}
join_as "$b" Ben --admin
join_as "$c" Cai --admin
join_as "$o" Olu ""
add_box "$a" "$x"
did=$("$SATCHEL" -d "$d" init --name Dee)
cid=$("$SATCHEL" -d "$c" id) bid=$("$SATCHEL" -d "$b" id) aid=$("$SATCHEL" -d "$a" id)
serve "$x"
all="$a $b $c $o"

members() {		# dir: what every device must agree on
	"$SATCHEL" -d "$1" member list --json |
	    jq -c 'sort_by(.device) | [.[] | {device, role, name, added_by, removed}]'
}
# Everyone syncs with the box, twice: a common starting point.
sync_all() {
	local r dir
	for r in 1 2; do
		for dir in $all; do
			"$SATCHEL" -d "$dir" sync "$(addr_of "$x")" >/dev/null 2>&1 ||
			    return 1
		done
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
# Every device shows one membership with at least one admin; prints it.
agree() {		# label
	local ref m dir
	ref=$(members "$a")
	for dir in $all $x; do
		m=$(members "$dir")
		if [ "$m" != "$ref" ]; then
			echo "# $1: $(basename "$dir") differs: $m"
			echo "#   from a: $ref"
			return 1
		fi
	done
	echo "$ref" | jq -e '[.[] | select(.role == "admin" and .removed == null)] | length >= 1' >/dev/null
}
role_of() {		# dir, checked id: role, or "removed"
	"$SATCHEL" -d "$1" member list --json |
	    jq -r --arg id "$2" '.[] | select(.id == $id) | if .removed then "removed" else .role end'
}

check "everyone starts from the same team" sync_all
check "and agrees on it" agree start

# 1. A and C add the same device while apart, as a teacher and as an admin.
"$SATCHEL" -d "$a" member add "$did" --name "Dee (by Ana)" >/dev/null 2>&1
"$SATCHEL" -d "$c" member add "$did" --name "Dee (by Cai)" --admin >/dev/null 2>&1
bundle "$a" add-a && bundle "$c" add-c
check "1: each admin takes the other's add; the others take both, in both orders" sh -c \
    "$(declare -f take); SATCHEL=$SATCHEL TMP=$TMP; take $a add-c && take $c add-a && take $b add-a add-c && take $o add-c add-a && take $x add-c add-a"
check "1: every device shows the same membership, with an admin" agree "same device"
check "1: the device is a member everywhere" [ -n "$(role_of "$o" "$did")" ]

# 2. B and C remove each other while apart: B was added first, and stays.
check "2: everyone is in step again" sync_all
"$SATCHEL" -d "$b" member remove "$cid" >/dev/null 2>&1
"$SATCHEL" -d "$c" member remove "$bid" >/dev/null 2>&1
bundle "$b" rm-b && bundle "$c" rm-c
check "2: the removals meet in every order" sh -c \
    "$(declare -f take); SATCHEL=$SATCHEL TMP=$TMP; take $b rm-c && take $c rm-b && take $a rm-c rm-b && take $o rm-b rm-c && take $x rm-c rm-b"
check "2: every device shows the same membership, with an admin" agree "remove each other"
check "2: B, added before C, is still an admin" [ "$(role_of "$o" "$bid")" = admin ]
check "2: C is removed" [ "$(role_of "$o" "$cid")" = removed ]
check "2: and C itself says so" [ "$(role_of "$c" "$cid")" = removed ]

# 3. A and B each remove the other and add it back, while apart. Each
# removal starts an epoch the other admin is not sealed to; each re-add
# grants the re-added admin the epochs it missed, sealed under a key it
# still holds, so that every device reads both re-adds whichever bundle
# comes first.
all="$a $b $o"
check "3: everyone is in step again" sync_all
"$SATCHEL" -d "$a" member remove "$bid" >/dev/null 2>&1
"$SATCHEL" -d "$a" member add "$bid" --name Ben --admin >/dev/null 2>&1
"$SATCHEL" -d "$b" member remove "$aid" >/dev/null 2>&1
"$SATCHEL" -d "$b" member add "$aid" --name Ana --admin >/dev/null 2>&1
bundle "$a" re-a && bundle "$b" re-b
check "3: the removals and re-adds meet in every order" sh -c \
    "$(declare -f take); SATCHEL=$SATCHEL TMP=$TMP; take $a re-b && take $b re-a && take $o re-b re-a && take $x re-a re-b"
check "3: every device shows the same membership, with an admin" agree "re-add each other"
check "3: A and B are both admins again" sh -c \
    "[ '$(role_of "$o" "$aid")' = admin ] && [ '$(role_of "$o" "$bid")' = admin ]"
# Both admins, and O, write under the one newest epoch they all hold, and
# sync through the box: each reads the others' notes.
"$SATCHEL" -d "$a" student add "Lia Park" --class 4A >/dev/null 2>&1
check "3: everyone syncs through the box afterwards" sync_all
for w in a b o; do
	eval dir=\$$w
	"$SATCHEL" -d "$dir" note add "Lia Park" --strengths "from-$w" \
	    --obstacle o --action a >/dev/null 2>&1
done
check "3: and again, with a note from each" sync_all
check "3: every note reads everywhere" sh -c "
	for dir in $a $b $o; do for w in a b o; do
		$SATCHEL -d \$dir search from-\$w 2>/dev/null | grep -q from-\$w || exit 1
	done; done"
check "3: the same digest everywhere" sh -c \
    "[ \"\$($SATCHEL -d $a digest)\" = \"\$($SATCHEL -d $b digest)\" ] && [ \"\$($SATCHEL -d $a digest)\" = \"\$($SATCHEL -d $o digest)\" ]"
