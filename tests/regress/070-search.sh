# Search reads a word index kept on apply: every query word must start a
# word of the note, entry or student, in any order, any case, accents
# ignored; a note whose text changes is found by its new words and not its
# old ones; deleted records are not found. The index holds no word in the
# clear. show pages a long history, newest first, and says what it left
# out. The digest kept as records change is the one verify recomputes,
# after many edits and after a bundle from a colleague.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:?TOOLS must name the test tools directory}"

# A is the default device (SATCHEL_HOME), so that expect_refusal reads it.
a=$SATCHEL_HOME
A="$SATCHEL -d $a" B="$SATCHEL -d $TMP/b"
make_team "$a" "$TMP/b"
zoe=$($A student add "$(printf 'Zo\303\253 Dubois')" --class 3B --interests "volcanoes")
n1=$($A note add "$zoe" --strengths "Reads aloud fluently" \
    --obstacle "$(printf 'Struggles with the DICT\303\211E')" --action "paired reading")
n2=$($A note add "$zoe" --strengths "counts to twenty" --obstacle o --action "number line" --date 2026-03-04)
e1=$($A entry add "$zoe" --title "Xylophone recital" --body "played three songs" --tag music)

hit() {		# query, id: the id is among the results
	$A search $1 2>/dev/null | grep -q "^$2 "
}
none() {	# query: exit 1, nothing printed
	local rc
	$A search $1 >"$TMP/none.out" 2>/dev/null
	rc=$?
	[ "$rc" -eq 1 ] && [ ! -s "$TMP/none.out" ]
}
check "a whole word" hit "fluently" "$n1"
check "the start of a word" hit "flu" "$n1"
check "any case" hit "FLUENT" "$n1"
check "several words, any order" hit "reading aloud" "$n1"
check "accents ignored: dictee finds DICTÉE" hit "dictee" "$n1"
check "a decomposed accent in the query" hit "$(printf 'dicte\314\201e')" "$n1"
check "an entry by its title and tag" hit "xylo music" "$e1"
check "a student by name, accent ignored" hit "zoe" "$zoe"
check "a student by profile" hit "volcan" "$zoe"
check "every word must be there" none "reading twenty"
check "inside a word is not the start of one" none "luently"
check "a longer word than the note's" none "fluentlyx"
check "the line names the student and shows the text" sh -c \
    "$A search twenty | grep -qF \"$n2  note   2026-03-04  $(printf 'Zo\303\253 Dubois')  strengths: counts to twenty\""
check "--json is an array of records" sh -c \
    "$A search --json twenty | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r[0][\"id\"]==\"$n2\"'"
expect_refusal "a query of no words" search "!?"

$A note edit "$n1" --strengths "Writes neatly" >/dev/null
check "an edited note is found by its new words" hit "neat" "$n1"
check "and not by its old ones" none "fluently"
check "its other fields still count" hit "paired" "$n1"
$A delete "$n2" >/dev/null
check "a deleted note is not found" none "twenty"
$A undelete "$n2" >/dev/null
check "an undeleted one is again" hit "twenty" "$n2"
$A delete "$e1" >/dev/null

# The word index's keys are keyed hashes: no word nor prefix in them.
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
q=$($A note add "$zoe" --strengths "quokkasaurus" --obstacle o --action a)
check "the distinctive word is found" hit "quokka" "$q"
# Every list is a 'W' key: 'W', generation[4], then 'W' (a word's
# records) or 'V' (the words a prefix starts), then the hash (search.c).
"$TOOLS/indexkeys" "$a" W >"$TMP/keys" &&
    grep '^57.\{8\}57' "$TMP/keys" >"$TMP/w.keys" &&
    grep '^57.\{8\}56' "$TMP/keys" >"$TMP/v.keys"
check "the index has word and prefix keys" sh -c "[ \$(wc -l <'$TMP/w.keys') -gt 10 ] && [ \$(wc -l <'$TMP/v.keys') -gt 30 ]"
check "no word of a note in the index keys" sh -c \
    "! grep -qE '$(hex quokka)|$(hex neatly)|$(hex paired)' '$TMP/w.keys' '$TMP/v.keys'"
check "the key that hashes them is the device's own, mode 0600" sh -c \
    "[ \$(stat -c %a '$a/store.key') = 600 ] && [ \$(\"$TOOLS/keyfile\" '$a/store.key' | wc -c) = 32 ]"

# show: newest first, 50 by default, and what it left out.
"$TOOLS/fill" "$a" "$zoe" 120 bulk
new=$($A note add "$zoe" --date 2030-01-01 --strengths newest --obstacle o --action a)
$A show "$zoe" >"$TMP/show.out"
check "show gives 50 notes and entries by default" \
    [ "$(grep -c 'conference note by\|portfolio entry:' "$TMP/show.out")" -eq 50 ]
# The short id shown is a prefix of the note's, as long as it must be to
# name it alone (8 digits or more: the fill's notes share its minute).
newest_first() {
	local id
	id=$(grep -m1 'conference note by' "$TMP/show.out" |
	    sed 's/.*\[\([0-9a-f]*\)\].*/\1/')
	[ ${#id} -ge 8 ] && [ "${new:0:${#id}}" = "$id" ]
}
check "newest first" newest_first
check "and says how many older ones there are" \
    grep -qF "$(printf '\342\200\246') 74 older notes and entries: satchel show $zoe --all" "$TMP/show.out"
check "--limit 3 gives 3" sh -c \
    "[ \$($A show '$zoe' --limit 3 | grep -c 'conference note by') -eq 3 ] && $A show '$zoe' --limit 3 | grep -qF ' 121 older notes'"
check "--all gives every one, with no line about more" sh -c \
    "out=\$($A show '$zoe' --all); [ \$(echo \"\$out\" | grep -c 'conference note by') -eq 124 ] && ! echo \"\$out\" | grep -q 'older notes'"
check "a name with a space is quoted in the hint" sh -c \
    "$A show 'Zo$(printf '\303\253') Dubois' | grep -qF \"satchel show 'Zo$(printf '\303\253') Dubois' --all\""
check "--json carries the count left out" sh -c \
    "$A show '$zoe' --json --limit 10 | python3 -c 'import json,sys; p=json.load(sys.stdin); assert len(p[\"notes_and_entries\"])==10 and p[\"older\"]==114'"
expect_refusal "--limit takes a number" show "$zoe" --limit x
expect_refusal "--limit 0 is refused" show "$zoe" --limit 0
expect_refusal "--limit and --all together" show "$zoe" --limit 5 --all

# The kept digest is the one verify recomputes, after edits and bundles.
$A export "$TMP/a0.bundle" >/dev/null
$B import "$TMP/a0.bundle" >/dev/null
for i in $(seq 1 20); do
	$A note edit "$n1" --action "edit $i" >/dev/null
	$B note add "$zoe" --strengths "from b $i" --obstacle o --action a >/dev/null
done
$A export "$TMP/a.bundle" >/dev/null
$B import "$TMP/a.bundle" >/dev/null
$B export "$TMP/b.bundle" >/dev/null
$A import "$TMP/b.bundle" >/dev/null
check "verify passes on A" sh -c "$A verify | grep -q '^ok'"
check "verify passes on B" sh -c "$B verify | grep -q '^ok'"
check "A and B agree" [ "$($A digest)" = "$($B digest)" ]
check "B finds A's edited note" sh -c "$B search 'edit 20' | grep -q '^$n1 '"
check "A finds B's notes" sh -c "$A search from b 7 | grep -q 'from b 7'"
