# Three teachers and a staff-room box, each a real `satchel serve` on
# 127.0.0.1 with its own data directory. Teachers write offline, including
# concurrent edits of the same fields, and sync only through the box.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b c=$TMP/c x=$TMP/box
make_team "$a" "$b" "$c"
add_box "$a" "$x"
for d in "$x" "$a" "$b" "$c"; do
	check "daemon $(basename "$d") starts" serve "$d"
done
boxaddr=$(addr_of "$x") aaddr=$(addr_of "$a")
sync_box() { "$SATCHEL" -d "$1" sync "$boxaddr" 2>>"$1.sync.log"; }

ana=$("$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B)
check "A syncs with the box" sync_box "$a"
check "B syncs with the box" sync_box "$b"
check "C syncs with the box" sync_box "$c"
check "B has Ana through the box" sh -c "$SATCHEL -d $b show 'Ana Lopez' >/dev/null"

# Offline: notes with unique words, and three concurrent edits of one field.
for d in "$a" "$b" "$c"; do
	w=$(basename "$d")
	"$SATCHEL" -d "$d" note add "$ana" --strengths "zebra-$w-strengths" \
	    --obstacle "quokka-$w-obstacle" --action "narwhal-$w-action" >/dev/null
	"$SATCHEL" -d "$d" student edit "$ana" --needs "needs as $w sees it" >/dev/null
	"$SATCHEL" -d "$d" student edit "$ana" --interests "interests by $w" >/dev/null
done
for round in 1 2; do
	for d in "$a" "$b" "$c"; do
		check "round $round: $(basename "$d") syncs with the box only" sync_box "$d"
	done
done
da=$("$SATCHEL" -d "$a" digest) db=$("$SATCHEL" -d "$b" digest) dc=$("$SATCHEL" -d "$c" digest)
check "all three teachers end with the same digest" sh -c "[ '$da' = '$db' ] && [ '$db' = '$dc' ]"
check "and the same conflicts" sh -c \
    "[ \"\$($SATCHEL -d $a conflicts --json)\" = \"\$($SATCHEL -d $c conflicts --json)\" ] && [ \"\$($SATCHEL -d $b conflicts --json)\" = \"\$($SATCHEL -d $c conflicts --json)\" ]"
check "the three-way edit of needs is a conflict with all three values" sh -c \
    "$SATCHEL -d $b conflicts | grep -c 'needs as' | grep -qx 3"
check "every teacher sees every note" sh -c \
    "for d in $a $b $c; do for w in a b c; do $SATCHEL -d \$d search zebra-\$w | grep -q zebra || exit 1; done; done"

# Live push: A and B connected directly; a note on A is pushed to B. How
# fast is for make bench; here only that it comes with no sync run.
"$SATCHEL" -d "$b" peer add "$aaddr"
check "B's daemon connects to A by itself" wait_for \
    "$SATCHEL -d $b status --json | grep -q '\"addr\":\"$aaddr\",\"device\":\"[0-9a-f]*\",\"connected\":true'" 120
"$SATCHEL" -d "$a" note add "$ana" --strengths "okapi-live-push" --obstacle o --action a >/dev/null
check "a note written on A appears on B, pushed, without sync" \
    wait_for "$SATCHEL -d $b search okapi-live-push 2>/dev/null | grep -q okapi" 120
check "status shows that neither side lacks anything" wait_for \
    "$SATCHEL -d $b status --json | grep -q '\"addr\":\"$aaddr\",.*\"this_lacks\":0,\"it_lacks\":0'" 120

# The box stores and relays ciphertext only.
stop "$x"
check "the box's data directory holds no note text" sh -c \
    "! grep -rqaE 'zebra-|quokka-|narwhal-|needs as|interests by|Ana Lopez' $x"
check "the box's log holds no note text" sh -c \
    "! grep -qaE 'zebra-|quokka-|narwhal-|Ana Lopez' $x.log"
check "the box holds every entry all the same" sh -c \
    "[ \$($SATCHEL -d $x status --json | grep -o '\"entries\":[0-9]*' | cut -d: -f2) -ge 10 ]"
"$SATCHEL" -d "$x" show "Ana Lopez" >"$TMP/out" 2>"$TMP/err"
check "content commands on the box fail with a clear message" sh -c \
    "[ $? -eq 2 ] && grep -q 'box' $TMP/err"
stop "$a"		# fails the test if A does not stop, or not cleanly
check "daemons stop cleanly on SIGTERM, and log it" grep -q stopped "$a.log"
