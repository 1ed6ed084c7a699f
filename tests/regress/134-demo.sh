# make demo says what is true: the note goes laptop -> box -> laptop
# (Kim's laptop knows only the box's address, never Rivera's), and the
# demo prints the evidence: each laptop's status shows the staff-room box
# as its only peer. Run through a pipe, it prints no colour codes.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
SATCHEL=$SATCHEL TMPDIR=$TMP bash "$REPO/contrib/demo.sh" >"$TMP/demo.out" 2>&1
rc=$?
check "the demo runs to its end" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || show_log "$TMP/demo.out"
check "it checks that each laptop's only peer is the box" \
    grep -q "Both laptops' only peer is the staff-room box." "$TMP/demo.out"
check "Kim's status names the box as his peer" \
    grep -q "^peer     Staff room" <(grep -A1 "kim status" "$TMP/demo.out")
check "the box names both laptops, which dial in" \
    [ "$(grep -c "dials in from 127.0.0.1" "$TMP/demo.out")" -eq 2 ]
check "Kim's invite carries no laptop's address" \
    sh -c "! grep -q 'member add .*Mr. Kim.*--addr' '$TMP/demo.out'"
check "piped, the demo prints no colour codes" \
    sh -c "! grep -q \"$(printf '\033')\" '$TMP/demo.out'"
