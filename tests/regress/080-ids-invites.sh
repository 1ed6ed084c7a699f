# Device ids and invites as a school's IT person handles them: the checked
# id form refuses a typo (member add takes nothing else), an invite wrapped
# by an e-mail client still joins, a join never overwrites a team in use
# and a failed one leaves the directory as it was, and the author shown
# for a note is the signed writer's member name, not text in the note.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b c=$TMP/c d=$TMP/d
A="$SATCHEL -d $a" B="$SATCHEL -d $b" C="$SATCHEL -d $c" D="$SATCHEL -d $d"
form='^[A-Z2-7]{7}(-[A-Z2-7]{7}){7}$'

aid=$($A init --name "Ms. Rivera")
bid=$($B init --name "Bee Laptop")
check "init prints the checked id form alone ($aid)" sh -c \
    "echo '$aid' | grep -Eq '$form' && [ \$(echo '$aid' | wc -l) -eq 1 ]"
check "id prints the same" [ "$($A id)" = "$aid" ]
check "id --hex prints the old form" sh -c "$A id --hex | grep -Eq '^[0-9a-f]{64}\$'"

# Every single-character typo of B's id is refused by member add.
snap() {	# dir: every file but LMDB's lock, with its hash
	(cd "$1" && find . -type f ! -name 'lock.mdb' | sort | xargs sha256sum)
}
before=$(snap "$a")
typos=0 refused=0
for pos in 0 9 20 33 47 62; do
	ch=${bid:$pos:1}
	[ "$ch" = "-" ] && continue
	sub=A; [ "$ch" = A ] && sub=B
	typo=${bid:0:$pos}$sub${bid:$((pos + 1))}
	typos=$((typos + 1))
	$A member add "$typo" --name "Typo" >"$TMP/out" 2>"$TMP/err"
	[ $? -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && [ ! -s "$TMP/out" ] &&
	    grep -q typo "$TMP/err" && refused=$((refused + 1))
done
check "member add refuses each typo'd id with one line and exit 2 ($refused of $typos): $(cat "$TMP/err")" \
    [ "$refused" -eq "$typos" ]
check "and nothing was written: no member record, same store" sh -c \
    "[ \"\$($A member list | grep -c Typo)\" -eq 0 ] && [ \"\$(cd $a && find . -type f ! -name lock.mdb | sort | xargs sha256sum)\" = '$before' ]"
expect_refusal "member add refuses the old 64-hex form" -d "$a" member add "$($B id --hex)" --name Hex
expect_refusal "member add refuses this device's own id" -d "$a" member add "$aid" --name Me
expect_refusal "export --for refuses a typo'd id" -d "$a" export "$TMP/x.bundle" --for "${bid:0:62}$([ "${bid:62:1}" = A ] && echo B || echo A)"

# The checked form is read in any case, with or without dashes.
lower=$(echo "$bid" | tr -d - | tr A-Z a-z)
tok=$($A member add "$lower" --name "Mr. Kim" --addr 127.0.0.1:7 2>/dev/null)
check "member add takes the id in lower case without dashes" [ -n "$tok" ]
check "member list shows B's checked id, as invited" sh -c \
    "$A member list | grep -q '^$bid  teacher  invited  Mr. Kim'"
check "member list --json says joined false" sh -c \
    "$A member list --json | jq -e '.[] | select(.name == \"Mr. Kim\") | .joined == false and .id == \"$bid\"' >/dev/null"

# The invite as an e-mail client delivers it: wrapped at 76 columns, a
# space and CR at each line's end, blank lines around.
wrapped=$(printf '\r\n  '; echo "$tok" | fold -w 76 | sed 's/$/ \r/'; printf '\r\n\n')
check "the invite is wrapped over several lines" [ "$(echo "$wrapped" | wc -l)" -gt 5 ]
$B join "$wrapped" >"$TMP/out" 2>"$TMP/err"
check "join takes the wrapped, space-padded invite ($(cat "$TMP/err"))" [ $? -eq 0 ]
fp=$($A status | sed -n 's/^team *//p')
check "join prints the fingerprint that status shows on the inviter, and says so" \
    sh -c "grep -q '$fp' '$TMP/out' && grep -q 'satchel status' '$TMP/out'"
check "status on the new device shows the same fingerprint" \
    sh -c "$B status | grep -q '^team *$fp'"
check "peer add takes a checked id" $B peer add 127.0.0.1:9 "$aid"
check "export --for takes the old hex form" $A export "$TMP/hex.bundle" --for "$($B id --hex)"

# B writes a note: the note's own "author" text is B's device name; A
# shows the name A gave B when adding it.
ana=$($A student add "Ana Lopez" --class 3B)
$A export "$TMP/a.bundle" >/dev/null 2>&1
$B import "$TMP/a.bundle" >/dev/null 2>&1
$B note add "$ana" --strengths "reads aloud" --obstacle none --action more >/dev/null
$B export "$TMP/b.bundle" >/dev/null 2>&1
$A import "$TMP/b.bundle" >/dev/null 2>&1
check "show names the writer by its member record" sh -c \
    "$A show '$ana' | grep -q 'conference note by Mr. Kim'"
check "and never by the note's own author text" sh -c \
    "! $A show '$ana' | grep -q 'Bee Laptop' && ! $B show '$ana' | grep -q 'Bee Laptop'"
check "show --json gives the member name as the note's author" sh -c \
    "$A show --json '$ana' | jq -e '[.notes_and_entries[].fields.author] == [\"Mr. Kim\"]' >/dev/null"
note=$($A show --json "$ana" | jq -r '.notes_and_entries[0].id')
check "history labels the writer by its member record, and not by its text" \
    sh -c "$A history '$note' | grep -q '(Mr. Kim)' && ! $A history '$note' | grep -q 'Bee Laptop'"
check "member list now shows B as joined" sh -c \
    "$A member list | grep -q '^$bid  teacher  joined   Mr. Kim'"

# A join never overwrites a team in use. C's team invites A (members and
# entries) and B (joined A's team, holds A's entries, wrote a note).
cid=$($C init --name "Other school")
for x in a b; do
	dir=$TMP/$x
	xid=$($SATCHEL -d "$dir" id)
	other=$($C member add "$xid" --name "X" 2>/dev/null)
	before=$(snap "$dir")
	dig=$($SATCHEL -d "$dir" digest)
	$SATCHEL -d "$dir" join "$other" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	check "join over the team of $x, which is in use, is refused ($(cat "$TMP/err"))" \
	    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ] && [ ! -s '$TMP/out' ]"
	check "and $x's keys, store and digest are as they were" sh -c \
	    "[ \"\$(cd $dir && find . -type f ! -name lock.mdb | sort | xargs sha256sum)\" = '$before' ] && [ \"\$($SATCHEL -d $dir digest)\" = '$dig' ]"
done

# A new device that joined A's team and has received A's entries, but
# wrote nothing itself: still a team in use.
did=$($D init --name "New laptop")
tok=$($A member add "$did" --name "Ms. Osei" 2>/dev/null)
$D join "$tok" >/dev/null
$D import "$TMP/a.bundle" >/dev/null 2>&1
other=$($C member add "$did" --name "X" 2>/dev/null)
before=$(snap "$d")
$D join "$other" >/dev/null 2>"$TMP/err"
rc=$?
check "a device that joined a team and holds only others' entries refuses another team's invite" \
    sh -c "[ $rc -eq 2 ] && [ \"\$(cd $d && find . -type f ! -name lock.mdb | sort | xargs sha256sum)\" = '$before' ]"
check "its fingerprint is still A's team's" sh -c "$D status | grep -q '^team *$fp'"
again=$($A member add "$did" --name "Ms. Osei" 2>/dev/null)
check "a new invite to the same team joins again" $D join "$again"

# Failed joins leave the directory as it was, byte for byte.
e=$TMP/e
$SATCHEL -d "$e" init --name "Fresh" >/dev/null
eid=$($SATCHEL -d "$e" id)
etok=$($A member add "$eid" --name "Fresh" 2>/dev/null)
before=$(snap "$e")
for bad in "${etok:0:200}" "${etok}x" "$tok" "$(echo "$etok" | tr 'A-M' 'N-Z')"; do
	$SATCHEL -d "$e" join "$bad" >/dev/null 2>&1
	check "a failed join exits 2 and leaves no trace" sh -c \
	    "[ $? -eq 2 ] && [ \"\$(cd $e && find . -type f ! -name lock.mdb | sort | xargs sha256sum)\" = '$before' ]"
done
check "a fresh device's team of one is replaced by a join" $SATCHEL -d "$e" join "$etok"
check "and it now shows the team's fingerprint" sh -c "$SATCHEL -d $e status | grep -q '^team *$fp'"
