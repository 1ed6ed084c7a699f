# Private notes and the recovery phrase: a note written --private is read
# on its author's devices (the second set up with init --recover), is
# relayed by the box and a colleague, and its text is in neither's data
# directory. A laptop rebuilt from the box alone with the phrase has the
# old laptop's digest. A wrong or mistyped phrase is refused and writes
# nothing.
. "$(dirname "$0")/lib.sh"

a=$TMP/a a2=$TMP/a2 b=$TMP/b x=$TMP/x
"$SATCHEL" -d "$a" init --name "Ms Rivera" >/dev/null 2>"$TMP/init.err" ||
    bail "init failed" "$TMP/init.err"
phrase=$(sed -n 's/^    \([A-Z2-7]\{7\}-[A-Z2-7]\{7\}-[A-Z2-7]\{7\}-[A-Z2-7]\{7\}\)$/\1/p' "$TMP/init.err")
check "init shows a recovery phrase on stderr" [ -n "$phrase" ]
check "and says what losing it costs" grep -q "gone for good" "$TMP/init.err"
check "recovery --yes shows the same phrase again" sh -c \
    "[ \"\$($SATCHEL -d $a recovery --yes)\" = '$phrase' ]"
check "recovery --sheet lays it out to print" sh -c \
    "$SATCHEL -d $a recovery --yes --sheet | grep -q 'RECOVERY SHEET'"

# Wrong phrases: refused in one line, exit 2, and no data directory.
typo=$(echo "$phrase" | awk '{ c = substr($0, 2, 1) == "A" ? "B" : "A"; print substr($0, 1, 1) c substr($0, 3) }')
for bad in "$typo" "ABCDEFG-HIJKLMN" "not a phrase at all"; do
	rm -rf "$TMP/bad"
	echo "$bad" | "$SATCHEL" -d "$TMP/bad" init --name X --recover \
	    >"$TMP/out" 2>"$TMP/err"
	rc=$?
	check "init --recover refuses '$bad' (exit $rc): $(cat "$TMP/err")" sh -c \
	    "[ $rc -eq 2 ] && [ \$(wc -l <$TMP/err) -eq 1 ] && [ ! -s $TMP/out ] && [ ! -e $TMP/bad/data.mdb ] && [ ! -e $TMP/bad/personal.key ]"
done
echo "$typo" | "$SATCHEL" -d "$TMP/bad2" init --name X --recover 2>"$TMP/err" >/dev/null
check "a one-character typo is told by the half it is in" \
    grep -q "typo in its \(first\|second\) half" "$TMP/err"

# The team: Ms Rivera (a), a colleague (b), the box (x), and Ms Rivera's
# second laptop (a2), set up with her phrase.
id2=$(echo " $phrase " | "$SATCHEL" -d "$a2" init --name "Ms Rivera (2)" \
    --recover 2>"$TMP/err") || bail "init --recover failed" "$TMP/err"
check "init --recover prints only the device id" [ "$(echo "$id2" | wc -l)" -eq 1 ]
check "and does not show the phrase again" sh -c "! grep -q '$phrase' $TMP/err"
idb=$("$SATCHEL" -d "$b" init --name "Mr Kim" 2>/dev/null) &&
    tok=$("$SATCHEL" -d "$a" member add "$idb" --name "Mr Kim") &&
    "$SATCHEL" -d "$b" join "$tok" >/dev/null 2>&1 || bail "b could not join"
tok=$("$SATCHEL" -d "$a" member add "$id2" --name "Ms Rivera (2)") &&
    "$SATCHEL" -d "$a2" join "$tok" >/dev/null 2>&1 || bail "a2 could not join"
add_box "$a" "$x"

ana=$("$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B)
"$SATCHEL" -d "$a" note add "$ana" --strengths team-quokka --obstacle o \
    --action a >/dev/null
pn=$("$SATCHEL" -d "$a" note add "$ana" --strengths private-okapi \
    --obstacle private-ibex --action private-tapir --private)
check "note add --private succeeds" [ -n "$pn" ]
check "the author reads her private note" sh -c \
    "$SATCHEL -d $a search private-okapi | grep -q okapi"
"$SATCHEL" -d "$a" note edit "$pn" --action private-kudu-edited >/dev/null
"$SATCHEL" -d "$a" scope private
check "scope private makes it the default" sh -c \
    "[ \"\$($SATCHEL -d $a scope)\" = private ]"
"$SATCHEL" -d "$a" entry add "$ana" --title private-entry-dingo >/dev/null
"$SATCHEL" -d "$a" entry add "$ana" --title team-entry-emu --team >/dev/null

# Everything goes to the box; b and a2 sync from the box alone.
serve "$x"
check "A syncs with the box" "$SATCHEL" -d "$a" sync "$(addr_of "$x")"
check "B syncs with the box" "$SATCHEL" -d "$b" sync "$(addr_of "$x")"
check "A's second laptop syncs with the box alone" \
    "$SATCHEL" -d "$a2" sync "$(addr_of "$x")"

check "B reads the team note" sh -c "$SATCHEL -d $b search team-quokka | grep -q quokka"
check "and the team entry" sh -c "$SATCHEL -d $b search team-entry-emu | grep -q emu"
check "B cannot find the private note" sh -c \
    "! $SATCHEL -d $b search private-okapi 2>/dev/null | grep -q okapi"
check "B's dump has no private text" sh -c \
    "! $SATCHEL -d $b dump | grep -q 'private-\|kudu'"
check "B holds and relays the private entries (every entry A has, and the box's receipts)" sh -c \
    "[ \$($SATCHEL -d $b status --json | sed 's/.*\"entries\":\([0-9]*\).*/\1/') -ge \$($SATCHEL -d $a status --json | sed 's/.*\"entries\":\([0-9]*\).*/\1/') ]"
check "no private text anywhere in B's or the box's data directory" sh -c \
    "! grep -rqa -e private-okapi -e private-ibex -e private-tapir -e kudu-edited -e private-entry-dingo $b $x"
check "A's second laptop reads the private note, edit included" sh -c \
    "$SATCHEL -d $a2 search private-okapi | grep -q okapi && $SATCHEL -d $a2 search kudu-edited | grep -q kudu"
check "and the private entry" sh -c \
    "$SATCHEL -d $a2 search private-entry-dingo | grep -q dingo"
check "rebuilt from the box alone, it has the old laptop's digest" sh -c \
    "[ \"\$($SATCHEL -d $a2 digest)\" = \"\$($SATCHEL -d $a digest)\" ]"
check "B's digest differs (it cannot read the private notes)" sh -c \
    "[ \"\$($SATCHEL -d $b digest)\" != \"\$($SATCHEL -d $a digest)\" ]"
stop "$x"
