# A one-shot `satchel sync BOX` takes what the box held when the session
# began (the box's vector), not what reaches the box during it: in a
# crowd, every other laptop's note arriving meanwhile would cost the
# laptop a commit and a signature check, and the next sync brings them
# all the same. So:
#  - L1 syncs a long session (the box holds thousands of entries it
#    lacks); once the box has logged L1's connection (its vector is then
#    sent), L2 brings a note: L1's sync ends without it, and L1's next
#    sync takes it;
#  - a daemon connected to the box all along still gets L2's note pushed
#    live (090 checks daemon-to-daemon pushes at large).
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/test/tools}"

A=$TMP/a L1=$TMP/l1 L2=$TMP/l2 C=$TMP/c BOX=$TMP/box
make_team "$A" "$L1" "$L2" "$C"
add_box "$A" "$BOX"
ana=$(sat -d "$A" student add "Ana Lopez")
"$TOOLS/fill" "$A" "$ana" 3000 bulk >/dev/null || bail "fill A"
serve "$BOX"
box=$(addr_of "$BOX")
sat -d "$A" sync "$box" >/dev/null 2>"$TMP/a.sync" ||
    bail "A syncs with the box" "$TMP/a.sync"
sat -d "$L2" sync "$box" >/dev/null 2>"$TMP/l2.sync" ||
    bail "L2 syncs with the box" "$TMP/l2.sync"
sat -d "$C" peer add "$box"
serve "$C"
check "C's daemon connects to the box" wait_for \
    "$SATCHEL -d $C status --json | grep -q '\"addr\":\"$box\",\"device\":\"[0-9a-f]*\",\"connected\":true'" 120
check "and takes what the box holds" wait_for \
    "$SATCHEL -d $C search 'bulk 2999' 2>/dev/null | grep -q 'bulk 2999'" 120

holds() {		# dir, word: the dir reads a note with that word
	sat -d "$1" search "$2" 2>/dev/null | grep -q "$2"
}
lacks() { ! holds "$@"; }
syncs() { sat -d "$1" sync "$2" >/dev/null 2>>"$1.sync.log"; }

# L1's one-shot sync, and L2's note once the box has begun L1's session.
sat -d "$L1" sync "$box" >/dev/null 2>"$TMP/l1.sync" &
l1=$!
PIDS="$PIDS $l1"
check "the box logs L1's connection" wait_for \
    "grep -q 'connected to Teacher l1 ' $BOX.log" 120
sat -d "$L2" note add "$ana" --strengths ibex-during --obstacle o \
    --action a >/dev/null || bail "L2 writes a note"
check "L2 syncs its note to the box during L1's session" \
    syncs "$L2" "$box"
wait "$l1"
rc=$?
check "L1's sync ends well (exit $rc)" [ "$rc" -eq 0 ]
check "L1 took what the box held as its session began" \
    holds "$L1" "bulk 2999"
check "but not L2's note, which reached the box during the session" \
    lacks "$L1" ibex-during
check "C's daemon got L2's note pushed live" \
    wait_for "$SATCHEL -d $C search ibex-during 2>/dev/null | grep -q ibex-during" 120
check "L1's next sync takes L2's note" syncs "$L1" "$box"
check "so L1 reads it" holds "$L1" ibex-during

stop "$C"
stop "$BOX"
