# New devices before they have synced anything: a box that has just
# joined, and a teacher invited by an admin other than the founder, prove
# their membership with what their invite carried.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b c=$TMP/c x=$TMP/box
"$SATCHEL" -d "$a" init --name "Teacher a" >/dev/null
bid=$("$SATCHEL" -d "$b" init --name "Teacher b")
tok=$("$SATCHEL" -d "$a" member add "$bid" --name "Teacher b" --admin 2>/dev/null)
"$SATCHEL" -d "$b" join "$tok" >/dev/null || bail "B could not join"
add_box "$a" "$x"
cid=$("$SATCHEL" -d "$c" init --name "Ms. Osei")
tok=$("$SATCHEL" -d "$b" member add "$cid" --name "Ms. Osei" 2>/dev/null)
check "an admin other than the founder can invite a colleague" [ -n "$tok" ]
"$SATCHEL" -d "$c" join "$tok" >/dev/null
serve "$x"
box=$(addr_of "$x")

# Neither the box nor B has synced with anyone yet.
check "B syncs with a box that has never synced" \
    "$SATCHEL" -d "$b" sync "$box"
check "C, added by B, syncs with the box before B's news reached it" \
    "$SATCHEL" -d "$c" sync "$box"
"$SATCHEL" -d "$c" student add "From C" >/dev/null
check "C's entries are taken: the box can place C" \
    sh -c "$SATCHEL -d $c sync $box 2>&1 | grep -qE '[1-9][0-9]* sent'"
check "and they reach the founder" sh -c \
    "$SATCHEL -d $a sync $box 2>/dev/null && $SATCHEL -d $a student list | grep -q 'From C'"
check "the founder's member list shows C, added by B" sh -c \
    "$SATCHEL -d $a member list | grep -q 'Ms. Osei'"
check "nothing was refused on the way" sh -c "! grep -q 'refused' $x.log"
