# Two removals at once: admin A removes X while admin B, not having
# heard of it, removes Y. Each starts a key epoch 1 sealed to the device the other
# removed. The first device that may start epochs and holds both starts
# a third epoch 1 for the members that stay, which every device ranks
# first, so a note written afterwards opens with no key X or Y ever
# held, and every member reads it, even one (C) that missed both
# removals: it is one epoch behind, not two.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/test/tools}"
export -f sat
export SATCHEL

A=$TMP/a B=$TMP/b C=$TMP/c X=$TMP/x Y=$TMP/y BOX=$TMP/box
make_team "$A" "$B" "$C" "$X" "$Y"
add_box "$A" "$BOX"
serve "$BOX"
sat -d "$A" student add "Ana Lopez" --class 3B >/dev/null
sat -d "$A" member role "$(sat -d "$B" id)" admin 2>/dev/null ||
    bail "A makes B an admin"
for d in "$A" "$B" "$C" "$X" "$Y"; do
	sat -d "$d" sync "$(addr_of "$BOX")" 2>>"$d.sync.log" ||
	    bail "$(basename "$d") syncs with the box" "$d.sync.log"
done

sat -d "$A" member remove "$(sat -d "$X" id)" 2>/dev/null ||
    bail "A removes X"
sat -d "$B" member remove "$(sat -d "$Y" id)" 2>/dev/null ||
    bail "B removes Y, not having heard of X's removal"
for d in "$A" "$B" "$A" "$B"; do
	sat -d "$d" sync "$(addr_of "$BOX")" 2>>"$d.sync.log" ||
	    bail "$(basename "$d") syncs the removals" "$d.sync.log"
done
check "a device holding both started another key epoch 1" \
    bash -c "grep -q 'two removals were made at once' '$A.sync.log' '$B.sync.log' &&
        sat -d '$A' status | grep -q '^keys .*key epoch 1' &&
        sat -d '$B' status | grep -q '^keys .*key epoch 1'"

NOTE=$(sat -d "$A" note add "Ana Lopez" --strengths s --obstacle o \
    --action "after both removals")
sat -d "$A" sync "$(addr_of "$BOX")" 2>>"$A.sync.log"
sat -d "$C" sync "$(addr_of "$BOX")" 2>>"$C.sync.log"
check "C, which stays, reads the note written after both removals" \
    bash -c "sat -d '$C' show 'Ana Lopez' | grep -q 'after both removals'"
check "no key X held opens it" "$TOOLS/trykeys" "$X" "$C" "$NOTE"
check "no key Y held opens it" "$TOOLS/trykeys" "$Y" "$C" "$NOTE"
