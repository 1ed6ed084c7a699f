# Duplicates: two teachers add the same child offline. After they sync,
# student list and show point the pair out; student merge KEEP OTHER makes
# them one on every device: notes, entries, goals and group memberships
# of both show under KEEP, history keeps both, and a note written for
# OTHER after the merge follows it. Concurrent merges both ways (A into B
# on one laptop, B into A on the other) converge to one student, the same
# on both, whichever bundle arrives first.
. "$(dirname "$0")/lib.sh"

on() { local dir=$1; shift; "$SATCHEL" -d "$TMP/$dir" "$@"; }
swap() {		# dir dir: each imports what the other holds
	on "$1" export "$TMP/$1.bundle" >/dev/null 2>&1 &&
	on "$2" export "$TMP/$2.bundle" >/dev/null 2>&1 &&
	on "$2" import "$TMP/$1.bundle" >/dev/null 2>&1 &&
	on "$1" import "$TMP/$2.bundle" >/dev/null 2>&1 ||
	    bail "bundles between $1 and $2"
}
note() {		# dir student word
	on "$1" note add "$2" --strengths "$3" --obstacle o --action a \
	    >/dev/null || bail "note add $3 on $1"
}

# Both laptops add Ana Lopez while apart, and write about her.
make_team "$TMP/a" "$TMP/b"
ida=$(on a student add "Ana Lopez" --class 3B --needs fluency)
idb=$(on b student add "Ana Lopez" --class " 3b" --interests horses)
note a "Ana Lopez" alpha
note b "Ana Lopez" bravo
on a group add "Group A" --same-need --member "Ana Lopez" >/dev/null
on b goal add "Ana Lopez" "Read daily" >/dev/null
on b entry add "Ana Lopez" --title "Quiz" --tag formative >/dev/null
swap a b

on a show "Ana Lopez" >/dev/null 2>"$TMP/err"
check "two Anas: a lookup by name is ambiguous (exit 2)" [ $? -eq 2 ]
on a student list >"$TMP/list" 2>"$TMP/list.err"
check "student list marks both as likely duplicates" \
    [ "$(grep -c "a duplicate?" "$TMP/list")" -eq 2 ]
check "and says how to merge them" grep -q "satchel student merge" "$TMP/list.err"
check "show points to the other record" \
    grep -q "likely the same student as ${idb:0:8}" <(on a show "$ida")

# One merge on a; meanwhile b, not yet told, writes about its record.
on a student merge "$ida" "$idb" >"$TMP/out" 2>"$TMP/err"
check "merge prints the kept id" [ "$(cat "$TMP/out")" = "$ida" ]
note b "$idb" charlie
swap a b
for dev in a b; do
	on "$dev" show "Ana Lopez" >"$TMP/show.$dev" 2>&1
	check "$dev: the name finds one student" [ $? -eq 0 ]
	check "$dev: her page holds both laptops' notes and the later one" \
	    grep -q alpha "$TMP/show.$dev"
	grep -q bravo "$TMP/show.$dev" && grep -q charlie "$TMP/show.$dev" &&
	    ok "$dev: bravo and charlie too" || fail "$dev: bravo and charlie too"
	check "$dev: the entry, the goal and the group follow" \
	    grep -q -e "Quiz" "$TMP/show.$dev"
	grep -q "Read daily" "$TMP/show.$dev" && grep -q "Group A" "$TMP/show.$dev" &&
	    ok "$dev: goal and group" || fail "$dev: goal and group"
	check "$dev: her empty profile fields were filled from the other" \
	    grep -q horses "$TMP/show.$dev"
	check "$dev: the list shows her once, unmarked" \
	    [ "$(on "$dev" student list | grep -ci "ana")" -eq 1 ]
	check "$dev: history keeps both records" \
	    grep -q "merged into it: $idb" <(on "$dev" history "Ana Lopez")
done
check "both laptops hold the same state" \
    [ "$(on a digest)" = "$(on b digest)" ]
check "a merged record's id still answers, as the student it joined" \
    grep -q "id $ida" <(on b show "${idb:0:8}")
on a student merge "$ida" "$idb" >/dev/null 2>"$TMP/err"
check "merging them again is refused (exit 2)" [ $? -eq 2 ]

# Crossed merges: c merges C into D while d merges D into C.
make_team "$TMP/c" "$TMP/d"
idc=$(on c student add "Ben Okafor" --class 4A)
idd=$(on d student add "Ben Okafor" --class 4A)
note c "Ben Okafor" delta
note d "Ben Okafor" echo
swap c d
on c student merge "$idd" "$idc" >/dev/null 2>&1 || bail "merge on c"
on d student merge "$idc" "$idd" >/dev/null 2>&1 || bail "merge on d"
# One order on one pair of copies...
cp -r "$TMP/c" "$TMP/c2"; cp -r "$TMP/d" "$TMP/d2"
swap c d
# ... the other order (d's bundle reaches c2 before c2's reaches d2) too.
on d2 export "$TMP/d2.bundle" >/dev/null 2>&1
on c2 import "$TMP/d2.bundle" >/dev/null 2>&1
on c2 export "$TMP/c2.bundle" >/dev/null 2>&1
on d2 import "$TMP/c2.bundle" >/dev/null 2>&1
want=$(printf '%s\n%s\n' "$idc" "$idd" | sort | head -1)
for dev in c d c2 d2; do
	on "$dev" show "Ben Okafor" >"$TMP/show.$dev" 2>&1
	check "$dev: crossed merges leave one Ben, the smaller id" \
	    grep -q "^id $want" "$TMP/show.$dev"
	grep -q delta "$TMP/show.$dev" && grep -q echo "$TMP/show.$dev" &&
	    ok "$dev: with both notes" || fail "$dev: with both notes"
done
check "all four copies agree" [ "$(on c digest)" = "$(on d digest)" ] &&
    [ "$(on c2 digest)" = "$(on c digest)" ] && [ "$(on d2 digest)" = "$(on c digest)" ]
on c verify >"$TMP/verify" 2>&1 && ok "verify passes after merges" ||
    fail "verify passes after merges: $(cat "$TMP/verify")"
