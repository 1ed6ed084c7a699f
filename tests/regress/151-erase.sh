# Erasing a student (issue 12): an admin's erase reaches the other
# laptop and the box; after it none of them holds the student's records
# or the ciphertext of any entry about the student, every chain still
# verifies, an old bundle made before the erase does not bring the
# student back, and a note about the student written offline by a
# teacher who had not seen the erase is erased when it meets it (its
# author publishes which entries to drop, the box drops them). A teacher
# cannot erase.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b x=$TMP/x
make_team "$a" "$b"
add_box "$a" "$x"

zed=$(sat -d "$a" student add "Zed Quarkwood" --class 4C \
    --strengths zq-strength-marmoset) || bail "student add failed"
keep=$(sat -d "$a" student add "Ana Keep" --class 4C) || bail "student add failed"
sat -d "$a" note add "$zed" --strengths zq-note-axolotl --obstacle o \
    --action a >/dev/null || bail "note add failed"
n2=$(sat -d "$a" note add "$zed" --strengths s --obstacle o --action a) ||
    bail "note add failed"
sat -d "$a" note edit "$n2" --action zq-edit-capybara >/dev/null ||
    bail "note edit failed"
sat -d "$a" entry add "$zed" --title zq-entry-ocelot >/dev/null
sat -d "$a" goal add "$zed" zq-goal-pangolin >/dev/null
sat -d "$a" group add "Group Q" --mixed >/dev/null
sat -d "$a" group join "Group Q" "$zed" >/dev/null
sat -d "$a" group join "Group Q" "$keep" >/dev/null
sat -d "$a" note add "$keep" --strengths keep-heron --obstacle o \
    --action a >/dev/null
# Zed added twice, then merged: the duplicate is the same child.
dup=$(sat -d "$a" student add "Zed Quarkwood" --class 4B --same-name) ||
    bail "second student add failed"
sat -d "$a" note add "$dup" --strengths zq-dup-tapir --obstacle o \
    --action a >/dev/null
sat -d "$a" student merge "$zed" "$dup" >/dev/null 2>&1 || bail "merge failed"

serve "$x"
sync_all() {
	sat -d "$a" sync "$(addr_of "$x")" >/dev/null 2>>"$TMP/sync.err" &&
	sat -d "$b" sync "$(addr_of "$x")" >/dev/null 2>>"$TMP/sync.err"
}
sync_all || bail "first sync failed" "$TMP/sync.err"
sat -d "$b" note add "$zed" --strengths zq-private-narwhal --obstacle o \
    --action a --private >/dev/null || bail "private note failed"
sync_all && sync_all || bail "sync failed" "$TMP/sync.err"
check "B reads A's note about Zed before the erase" sh -c \
    "$SATCHEL -d $b search zq-note-axolotl | grep -q axolotl"
sat -d "$a" export "$TMP/old.bundle" >/dev/null || bail "export failed"

# B goes offline and writes about Zed; meanwhile the admin erases Zed.
sat -d "$b" note add "$zed" --strengths zq-offline-wombat --obstacle o \
    --action a >/dev/null || bail "offline note failed"
before=$(sat -d "$b" status --json | sed 's/.*"entries":\([0-9]*\).*/\1/')
sat -d "$b" student erase "$zed" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "a teacher cannot erase: exit 2, one line ($(cat "$TMP/err"))" sh -c \
    "[ $rc -eq 2 ] && [ \$(wc -l <$TMP/err) -eq 1 ] && [ ! -s $TMP/out ]"
check "and nothing was written" [ "$(sat -d "$b" status --json |
    sed 's/.*"entries":\([0-9]*\).*/\1/')" = "$before" ]

check "the admin erases Zed" sh -c "$SATCHEL -d $a student erase $zed >$TMP/erase.out 2>$TMP/erase.err"
check "and Zed is gone from the admin's laptop" sh -c \
    "! $SATCHEL -d $a student list | grep -q Quarkwood"
sat -d "$a" sync "$(addr_of "$x")" >/dev/null 2>>"$TMP/sync.err"
# B meets the erase, drops its notes about Zed and says which; the box
# and A then drop their ciphertexts.
sync_all && sync_all || bail "sync after the erase failed" "$TMP/sync.err"

for d in "$a" "$b"; do
	n=${d##*/}
	check "$n: Zed is not in the student list" sh -c \
	    "! $SATCHEL -d $d student list | grep -q Quarkwood"
	check "$n: nothing about Zed in dump" sh -c \
	    "! $SATCHEL -d $d dump | grep -q 'zq-\|Quarkwood'"
	check "$n: Ana and her note stay" sh -c \
	    "$SATCHEL -d $d search keep-heron | grep -q heron"
	check "$n: Ana stays in Group Q, Zed does not" sh -c \
	    "$SATCHEL -d $d dump | grep '\"Group Q\"' | grep $keep | grep -vq $zed"
done
for d in "$a" "$b" "$x"; do
	check "${d##*/}: every chain verifies" sh -c \
	    "$SATCHEL -d $d verify >$TMP/verify.${d##*/}"
done
# The same entries are stubs everywhere: the box dropped the ciphertexts
# of A's entries (the erase named them) and of B's private and offline
# notes (B's addendum named them), which it never could read.
erased_of() { sed -n 's/.*(\([0-9]*\) erased).*/\1/p' "$TMP/verify.$1"; }
check "A, B and the box hold the same erased entries ($(erased_of a), $(erased_of b), $(erased_of x))" \
    sh -c "[ -n '$(erased_of x)' ] && [ '$(erased_of a)' = '$(erased_of x)' ] && [ '$(erased_of b)' = '$(erased_of x)' ]"
check "the student, its duplicate, the merge, 3 notes, an edit, an entry, a goal, a membership, and B's private and offline notes: 12 erased" \
    [ "$(erased_of x)" = 12 ]
check "A and B have the same digest" [ "$(sat -d "$a" digest)" = "$(sat -d "$b" digest)" ]
words="-e Quarkwood -e zq-dup-tapir -e zq-strength-marmoset -e zq-note-axolotl -e zq-edit-capybara -e zq-entry-ocelot -e zq-goal-pangolin -e zq-private-narwhal -e zq-offline-wombat"
# The ciphertexts too: B's offline note, sealed under the team key, is
# found by its ciphertext's bytes in the box's files only if not dropped.
check "no trace of Zed in any data directory or log" sh -c \
    "! grep -rqa $words $a $b $x $TMP/*.log $TMP/*.err"
check "the erase itself stays, on every device and the box: who and when" sh -c \
    "$SATCHEL -d $a dump | grep '\"kind\":\"erase\"' | grep -q $zed && $SATCHEL -d $b dump | grep '\"kind\":\"erase\"' | grep -q $zed"

# An old bundle, made before the erase, brings nothing back.
sat -d "$b" import "$TMP/old.bundle" >/dev/null 2>"$TMP/imp.err" ||
    bail "import failed" "$TMP/imp.err"
check "an old bundle does not bring Zed back" sh -c \
    "! $SATCHEL -d $b student list | grep -q Quarkwood && ! $SATCHEL -d $b dump | grep -q 'zq-'"
check "nor his bytes" sh -c "! grep -rqa $words $b"
check "B still verifies" sat -d "$b" verify
stop "$x"
