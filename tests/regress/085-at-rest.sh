# No note text in the clear in a data directory: the records table holds
# no copy of a note's values (they are read from the encrypted log) and
# is sealed under the store key, the word and name indexes hold keyed
# hashes. Two teachers and a box write and exchange students, notes,
# entries, tags and edits with unique strings; then every file of every
# data directory (data.mdb included) is searched for each string, while
# show, search, history and list still read them all.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b x=$TMP/x
A="$SATCHEL -d $a" B="$SATCHEL -d $b" X="$SATCHEL -d $x"
make_team "$a" "$b"
add_box "$a" "$x"

stu=$($A student add "Qvorblewyn Zanthrop" --class 3B --interests "kelpmarvels")
n1=$($A note add "$stu" --strengths "frobnicatesgloriously" \
    --obstacle "wibblyquandary" --action "zorpaction")
$A note edit "$n1" --obstacle "replacedquibblestone" >/dev/null
e1=$($A entry add "$stu" --title "Glimmerquartz recital" --body "plinkeroo songs" \
    --tag "tagsnorkel")
$A goal add "$stu" "goalwhistlefen" >/dev/null
$A export "$TMP/a.bundle" >/dev/null
$B import "$TMP/a.bundle" >/dev/null
$X import "$TMP/a.bundle" >/dev/null
n2=$($B note add "$stu" --strengths "bravadoquinsy" --obstacle o --action a)
$B export "$TMP/b.bundle" >/dev/null
$A import "$TMP/b.bundle" >/dev/null
$X import "$TMP/b.bundle" >/dev/null

words="Qvorblewyn qvorblewyn Zanthrop kelpmarvels frobnicatesgloriously
wibblyquandary zorpaction replacedquibblestone Glimmerquartz plinkeroo
tagsnorkel goalwhistlefen bravadoquinsy"

# Each device reads what it should.
check "A shows the edited note" sh -c "$A show '$stu' | grep -q replacedquibblestone"
check "B shows A's note and its own" sh -c \
    "$B show '$stu' | grep -q frobnicatesgloriously && $B show '$stu' | grep -q bravadoquinsy"
check "search finds a note by a word of it" sh -c "$A search bravado | grep -q '^$n2 '"
check "search finds an entry by its tag" sh -c "$B search tagsnorkel | grep -q '^$e1 '"
check "the student is found by name" sh -c "$B show 'Qvorblewyn Zanthrop' | grep -q Qvorblewyn"
check "student list names the student" sh -c "$A student list | grep -q 'Qvorblewyn Zanthrop'"
check "history reads the replaced value" sh -c "$A history '$n1' | grep -q wibblyquandary"
check "A and B verify" sh -c "$A verify >/dev/null && $B verify >/dev/null"
check "A and B end with one digest" [ "$($A digest)" = "$($B digest)" ]

# Not one of the strings, in any case, anywhere in a data directory.
clear_of() {		# dir
	local w found=0
	for w in $words; do
		if grep -r -a -q -i -F "$w" "$1"; then
			echo "# $1 holds '$w' in the clear: $(grep -r -a -l -i -F "$w" "$1" | tr '\n' ' ')"
			found=1
		fi
	done
	[ "$found" = 0 ]
}
check "no note text in A's data directory" clear_of "$a"
check "no note text in B's data directory" clear_of "$b"
check "no note text in the box's data directory" clear_of "$x"
