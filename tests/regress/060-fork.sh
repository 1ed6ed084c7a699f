# A restored backup or a copied data folder forks its device's log. The
# forked laptop is told (sync exits non-zero with one line, status shows
# it), every device freezes that log at the fork point whichever branch it
# saw first (same entries, same digest), everything else still flows both
# ways, by network and by bundle, and `fork repair` carries every change
# written after the fork back into the team under a new identity.
. "$(dirname "$0")/lib.sh"

# A daemon on a port the kernel picks (lib.sh's serve); its address in
# the named variable.
serve_free() {		# dir, variable to hold HOST:PORT
	serve "$1" && eval "$2=$(addr_of "$1")"
}
note() {		# dir, student, text
	"$SATCHEL" -d "$1" note add "$2" --strengths "$3" --obstacle o \
	    --action a >/dev/null
}
has() {			# dir, text: a note with it shows there
	"$SATCHEL" -d "$1" search "$2" >/dev/null 2>&1
}
hasnt() { ! has "$@"; }
digest() { "$SATCHEL" -d "$1" digest; }
idof() { "$SATCHEL" -d "$1" id --hex; }

a=$TMP/a l=$TMP/l c=$TMP/c x=$TMP/box
make_team "$a" "$l" "$c"
add_box "$a" "$x"
check "the box serves" serve_free "$x" box
check "the colleague serves" serve_free "$a" colleague
ana=$("$SATCHEL" -d "$a" student add "Ana Lopez")
for d in "$a" "$l" "$c"; do "$SATCHEL" -d "$d" sync "$box" 2>/dev/null; done
lid=$(idof "$l")

# ---- (a) backup and restore, by network ----
cp -a "$l" "$TMP/l.backup"		# not running: a plain copy
note "$l" "$ana" "before the restore"
"$SATCHEL" -d "$l" sync "$box" 2>/dev/null
"$SATCHEL" -d "$l" sync "$colleague" 2>/dev/null
check "the colleague has the laptop's note" has "$a" "before the restore"
"$SATCHEL" -d "$c" sync "$box" 2>/dev/null	# a third teacher applies it
check "so has a third teacher" has "$c" "before the restore"
rm -rf "$l"
mv "$TMP/l.backup" "$l"			# the laptop comes back from the backup
note "$l" "$ana" "after the restore one"
note "$l" "$ana" "after the restore two"
note "$a" "$ana" "colleague first"
"$SATCHEL" -d "$l" sync "$box" >"$TMP/l.out" 2>"$TMP/l.err"
rc=$?
check "the restored laptop's sync exits non-zero" [ $rc -ne 0 ]
check "with one clear line" sh -c "grep 'log has forked' '$TMP/l.err' | grep -q 'satchel fork repair' && [ \$(grep -c 'log has forked' '$TMP/l.err') -eq 1 ]"
check "status says so" sh -c "'$SATCHEL' -d '$l' status | grep -q '^forked .*fork repair'"
check "status --json says so" sh -c "'$SATCHEL' -d '$l' status --json | grep -q '\"forked\":{\"after_seq\":[0-9]*}'"
check "the box froze the laptop's log" sh -c "'$SATCHEL' -d '$x' status | grep -q '^frozen   ${lid:0:12}'"
"$SATCHEL" -d "$a" sync "$box" 2>/dev/null
check "the colleague freezes it too" sh -c "'$SATCHEL' -d '$a' status | grep -q '^frozen   ${lid:0:12}'"
check "the colleague no longer shows the branch it had applied" hasnt "$a" "before the restore"
check "nor the other branch" hasnt "$a" "after the restore"
"$SATCHEL" -d "$l" sync "$colleague" 2>/dev/null
check "the colleague's notes still reach the forked laptop" has "$l" "colleague first"
note "$a" "$ana" "colleague second"
"$SATCHEL" -d "$l" sync "$colleague" 2>"$TMP/l.err"
check "a later sync still says so" [ $? -ne 0 ]
check "and still brings the colleague's notes" has "$l" "colleague second"
check "the forked laptop shows neither branch" hasnt "$l" "restore"
"$SATCHEL" -d "$l" note add "$ana" --strengths "refused" --obstacle o --action a >/dev/null 2>"$TMP/w.err"
check "a new note on the forked laptop is refused, and it says what to do" sh -c "[ $? -ne 0 ] && grep -q 'fork repair' '$TMP/w.err'"
check "laptop and colleague hold the same entries: same digest" [ "$(digest "$l")" = "$(digest "$a")" ]
check "verify passes on both" sh -c "'$SATCHEL' -d '$a' verify >/dev/null && '$SATCHEL' -d '$l' verify >/dev/null"

# The third teacher had applied one branch before anyone knew of the
# fork; it hears of it from the box.
"$SATCHEL" -d "$a" sync "$box" 2>/dev/null
"$SATCHEL" -d "$c" sync "$box" 2>/dev/null
check "the third teacher no longer shows it" hasnt "$c" "before the restore"
check "the third teacher freezes it at the same point" [ "$(digest "$c")" = "$(digest "$a")" ]

# ---- (b) a data folder copied to a second laptop, by bundle and network ----
d=$TMP/d d2=$TMP/d2 e=$TMP/e
id=$("$SATCHEL" -d "$d" init --name "Teacher d")
tok=$("$SATCHEL" -d "$a" member add "$id" --name "Teacher d" 2>/dev/null)
"$SATCHEL" -d "$d" join "$tok" >/dev/null
id=$("$SATCHEL" -d "$e" init --name "Teacher e")
tok=$("$SATCHEL" -d "$a" member add "$id" --name "Teacher e" 2>/dev/null)
"$SATCHEL" -d "$e" join "$tok" >/dev/null
"$SATCHEL" -d "$a" sync "$box" 2>/dev/null
"$SATCHEL" -d "$d" sync "$box" 2>/dev/null
"$SATCHEL" -d "$e" sync "$box" 2>/dev/null
cp -a "$d" "$d2"			# the folder goes to a second laptop
note "$d" "$ana" "first laptop"
note "$d2" "$ana" "second laptop"
note "$e" "$ana" "teacher e"
"$SATCHEL" -d "$d" export "$TMP/d.bundle" >/dev/null
"$SATCHEL" -d "$d2" export "$TMP/d2.bundle" >/dev/null
"$SATCHEL" -d "$e" import "$TMP/d.bundle" >/dev/null 2>&1
check "the first laptop's bundle is applied" has "$e" "first laptop"
"$SATCHEL" -d "$e" import "$TMP/d2.bundle" >"$TMP/i.out" 2>"$TMP/i.err"
check "the second laptop's bundle still imports" [ $? -eq 0 ]
check "refusing only the forked entries, and saying so" grep -q "forked device's log" "$TMP/i.err"
check "the importer froze the copied folder's log" hasnt "$e" "first laptop"
"$SATCHEL" -d "$e" export "$TMP/e.bundle" >/dev/null
"$SATCHEL" -d "$d2" import "$TMP/e.bundle" >/dev/null 2>"$TMP/i2.err"
check "the second laptop takes the team's bundle" [ $? -eq 0 ]
check "with the other teachers' notes" has "$d2" "teacher e"
check "and learns it forked" sh -c "'$SATCHEL' -d '$d2' status | grep -q '^forked '"
"$SATCHEL" -d "$e" sync "$box" 2>/dev/null	# e tells the box
"$SATCHEL" -d "$d" sync "$box" 2>"$TMP/d.err"
check "the first laptop's sync says it forked" sh -c "[ $? -ne 0 ] && grep -q 'log has forked' '$TMP/d.err'"
"$SATCHEL" -d "$e" sync "$box" 2>/dev/null
"$SATCHEL" -d "$d" sync "$box" 2>/dev/null
"$SATCHEL" -d "$a" sync "$box" 2>/dev/null
"$SATCHEL" -d "$d2" import "$TMP/e.bundle" >/dev/null 2>&1
check "the network and the bundle freeze it the same: e, a, d agree" sh -c \
    "[ '$(digest "$e")' = '$(digest "$a")' ] && [ '$(digest "$a")' = '$(digest "$d")' ]"

# The copied folder's first laptop holds the second one's notes once both
# have synced, so repairing it alone carries both.
"$SATCHEL" -d "$d2" sync "$box" 2>/dev/null
"$SATCHEL" -d "$d" sync "$box" 2>/dev/null
"$SATCHEL" -d "$d" fork repair >"$TMP/dr.out" 2>/dev/null
check "repairing the first laptop brings back both laptops' notes" sh -c \
    "'$SATCHEL' -d '$d' search 'first laptop' >/dev/null && '$SATCHEL' -d '$d' search 'second laptop' >/dev/null"

# ---- (c) fork repair on the restored laptop ----
"$SATCHEL" -d "$l" fork repair >"$TMP/r.out" 2>"$TMP/r.err"
check "fork repair succeeds" [ $? -eq 0 ]
newid=$(head -1 "$TMP/r.out")
check "it prints its new device id and what to do" sh -c "[ \"\$('$SATCHEL' -d '$l' id --hex)\" != '$lid' ] && [ \"\$('$SATCHEL' -d '$l' id)\" = '$newid' ] && grep -q 'member add $newid' '$TMP/r.err'"
check "the old identity's key is kept" [ -f "$l/identity.forked-${lid:0:12}.key" ]
check "the repaired laptop shows its notes again" sh -c "'$SATCHEL' -d '$l' search 'after the restore' | grep -q 'restore two'"
tok=$("$SATCHEL" -d "$a" member add "$newid" --name "Laptop, repaired" 2>/dev/null)
"$SATCHEL" -d "$l" join "$tok" >/dev/null
"$SATCHEL" -d "$l" sync "$colleague" 2>"$TMP/l2.err"
check "its sync succeeds again" [ $? -eq 0 ]
for t in "before the restore" "after the restore one" "after the restore two"; do
	check "the colleague shows '$t' again" has "$a" "$t"
done
"$SATCHEL" -d "$l" note add "$ana" --strengths "after the repair" --obstacle o --action a >/dev/null
"$SATCHEL" -d "$l" sync "$colleague" 2>/dev/null
check "new notes flow" has "$a" "after the repair"
check "both show the same state" [ "$(digest "$l")" = "$(digest "$a")" ]
