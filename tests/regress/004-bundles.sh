# Teams and bundles: invites, joining, entries carried by file (a USB
# stick), concurrent edits kept as conflicts in every order of arrival,
# and refused bundles.
. "$(dirname "$0")/lib.sh"

A="$SATCHEL -d $TMP/a" B="$SATCHEL -d $TMP/b" C="$SATCHEL -d $TMP/c"
$A init --name "Ms. Rivera" >/dev/null
bid=$($B init --name "Mr. Kim")
cid=$($C init --name "Ms. Osei")
tok_b=$($A member add "$bid" --name "Mr. Kim" 2>/dev/null)
tok_c=$($A member add "$cid" --name "Ms. Osei" 2>/dev/null)
check "join shows the team fingerprint" sh -c "$B join '$tok_b' | grep -qE 'team [0-9a-f]{4}-'"
$C join "$tok_c" >/dev/null
check "a token for another device is refused" sh -c "! $C join '$tok_b' 2>/dev/null"

ana=$($A student add "Ana Lopez" --class 3B)
$A note add "$ana" --strengths "reads aloud with expression" --obstacle o --action a >/dev/null
$A export "$TMP/ab.bundle" >/dev/null
$B import "$TMP/ab.bundle" >/dev/null
check "after the bundle, B's member list shows all three" \
    [ "$($B member list | wc -l)" -eq 3 ]
check "the bundle brings A's note to B" sh -c "$B show 'Ana Lopez' | grep -q 'reads aloud with expression'"
before=$($B digest)
check "importing it twice changes nothing" sh -c "$B import '$TMP/ab.bundle' | grep -q 'imported 0 new'"
check "digest unchanged by the second import" [ "$($B digest)" = "$before" ]

# A to B to C by file alone.
$B note add "$ana" --strengths "from B" --obstacle o --action a >/dev/null
$B export "$TMP/bc.bundle" >/dev/null
$C import "$TMP/bc.bundle" >/dev/null
$B import "$TMP/ab.bundle" >/dev/null
$A import "$TMP/bc.bundle" >/dev/null
check "bundles carried A to B to C give C A's digest" [ "$($C digest)" = "$($A digest)" ]
check "and B's" [ "$($B digest)" = "$($A digest)" ]
check "C sees A's note, relayed by B" sh -c "$C show 'Ana Lopez' | grep -q 'reads aloud with expression'"

# Concurrent edits of the same field on A and B; every order of arrival.
$A student edit "$ana" --needs "needs from A" >/dev/null
$B student edit "$ana" --needs "needs from B" >/dev/null
$A export "$TMP/a2.bundle" >/dev/null
$B export "$TMP/b2.bundle" >/dev/null
$C import "$TMP/b2.bundle" >/dev/null; $C import "$TMP/a2.bundle" >/dev/null
$A import "$TMP/b2.bundle" >/dev/null
$B import "$TMP/a2.bundle" >/dev/null
check "A, B and C agree after concurrent edits" sh -c \
    "[ \"\$($A digest)\" = \"\$($B digest)\" ] && [ \"\$($B digest)\" = \"\$($C digest)\" ]"
for dev in "$A" "$B" "$C"; do
	check "conflicts shows both values on $(basename "${dev##* }")" sh -c \
	    "$dev conflicts | grep -q 'needs from A' && $dev conflicts | grep -q 'needs from B'"
done
check "every device lists the same conflicts" sh -c \
    "[ \"\$($A conflicts --json)\" = \"\$($C conflicts --json)\" ]"
lost=$($A conflicts | grep 'satchel restore' | head -1 | sed 's/.*satchel restore //')
lost_value=$($A conflicts | grep 'lost:' | head -1 | sed 's/.*lost: "\([^"]*\)".*/\1/')
check "conflicts offers a lost value and its restore command" eval '[ -n "$lost" ] && [ -n "$lost_value" ]'
$A restore $lost
check "restore puts the lost value back" sh -c "$A show 'Ana Lopez' | grep -q '$lost_value'"
check "and settles the conflict" sh -c "$A conflicts | grep -q 'no conflicts'"
$A export "$TMP/a3.bundle" >/dev/null; $B import "$TMP/a3.bundle" >/dev/null
check "the restore reaches B" sh -c "$B conflicts | grep -q 'no conflicts' && $B show 'Ana Lopez' | grep -q '$lost_value'"
check "history marks the conflict" sh -c "$C history $ana | grep -q 'conflict: lost'"

# Refused bundles: nothing applied, one clear line, exit 2.
$A note add "$ana" --strengths "only in the new bundle" --obstacle o --action a >/dev/null
$A export "$TMP/good.bundle" >/dev/null
size=$(stat -c %s "$TMP/good.bundle")
cp "$TMP/good.bundle" "$TMP/flipped.bundle"
printf '\x55' | dd of="$TMP/flipped.bundle" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
head -c $((size - 100)) "$TMP/good.bundle" >"$TMP/cut.bundle"
D="$SATCHEL -d $TMP/d"
$D init --name "Other school" >/dev/null
$D student add "Someone" >/dev/null
$D export "$TMP/other.bundle" >/dev/null
SATCHEL_HOME=$TMP/c
expect_refusal "a bundle with one byte flipped" import "$TMP/flipped.bundle"
expect_refusal "a truncated bundle" import "$TMP/cut.bundle"
expect_refusal "another team's bundle" import "$TMP/other.bundle"
expect_refusal "a file that is not a bundle" import "$TMP/c/identity.key"
check "after the refusals the good bundle still applies" sh -c \
    "$C import '$TMP/good.bundle' >/dev/null && [ \"\$($C digest)\" = \"\$($A digest)\" ]"
