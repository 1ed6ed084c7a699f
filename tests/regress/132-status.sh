# A status that tells the truth: a peer never synced with shows what it
# lacks as unknown, not 0; "last sync" is the last completed sync, not the
# moment a connection came or went; the box names a laptop by its member
# name and not by the temporary port it dialled from; a one-shot sync
# beside a running daemon leaves the daemon's connection shown; a second
# daemon on one data directory is refused with one clear line.
. "$(dirname "$0")/lib.sh"

A=$TMP/a B=$TMP/box
make_team "$A"
add_box "$A" "$B"
serve "$B"
sat -d "$A" peer add "$(addr_of "$B")" >/dev/null || bail "peer add"

sat -d "$A" status >"$TMP/st" 2>&1
check "before any sync, what each lacks is unknown" \
    grep -q "what each lacks: unknown" "$TMP/st"
check "... and last sync is never" grep -q "last sync never" "$TMP/st"
check "... in JSON, null rather than 0" \
    grep -q '"this_lacks":null,"it_lacks":null' <(sat -d "$A" status --json)

sat -d "$A" sync >/dev/null 2>"$TMP/sync.err" || bail "sync" "$TMP/sync.err"
sat -d "$A" status >"$TMP/st" 2>&1
check "after a sync, the box is named and nothing is lacking" \
    grep -q "^peer     Staff room  $(addr_of "$B") .*this device lacks 0, it lacks 0" "$TMP/st"
check "... and last sync is a time" sh -c "! grep -q 'last sync never' '$TMP/st'"
wait_for "sat -d '$B' status | grep -q 'Teacher a'" 30
sat -d "$B" status >"$TMP/bst" 2>&1
check "the box names the laptop by its member name" \
    grep -q "^peer     Teacher a  dials in from 127.0.0.1 " "$TMP/bst"

# The laptop's daemon connects; a one-shot sync beside it leaves the
# connection shown.
serve "$A"
wait_for "sat -d '$A' status --json | grep -q '\"connected\":true'" 120 ||
    bail "the laptop's daemon did not connect" "$A.log"
sat -d "$A" sync >/dev/null 2>"$TMP/sync.err" || bail "sync beside the daemon" "$TMP/sync.err"
check "after sync beside the daemon, status still shows it connected" \
    grep -q '"connected":true' <(sat -d "$A" status --json)

# The box goes away: the laptop sees it disconnect, and its last sync
# stays the time of the last sync, not of the disconnect.
last=$(sat -d "$A" status --json | sed 's/.*"last_sync_ms":\([0-9]*\).*/\1/')
sleep 1.1
stop "$B"
wait_for "sat -d '$A' status --json | grep -q '\"connected\":false'" 60
now=$(sat -d "$A" status --json | sed 's/.*"last_sync_ms":\([0-9]*\).*/\1/')
check "a disconnect does not move last sync ($last, $now)" [ "$last" = "$now" ]

# Two daemons on one directory: the second says so and stops.
"$SATCHEL" -d "$A" serve --listen 127.0.0.1:0 >"$TMP/out2" 2>"$TMP/err2"
rc=$?
check "a second serve on one data directory exits 1" [ "$rc" -eq 1 ]
check "... with one line naming the directory" \
    sh -c "[ \$(wc -l <'$TMP/err2') -eq 1 ] && grep -q 'another satchel serve is running on $A' '$TMP/err2'"
