# A daemon keeps a sync's buffers while the sync runs and gives them back
# at the first tick FALLBACK_MS (5 s) after its peers went quiet
# (heap_idle, serve.c), with the peers still connected: each
# connection's input buffer and kept envelope arrays are freed, and the
# heap is trimmed. How much memory that returns is for make bench
# (idle_bench); here, that it happens once after a sync and not again
# while nothing moves, and that the same connection then takes the next
# sync whole, through buffers grown again.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/test/tools}"

a=$TMP/a b=$TMP/b
make_team "$a" "$b"
ana=$(sat -d "$a" student add "Ana Lopez")
# Written before the daemons start: the first sync takes them all at once.
"$TOOLS/fill" "$a" "$ana" 3000 first >/dev/null || bail "fill A"
entries() { sat -d "$1" status | sed -n 's/^entries *\([0-9]*\).*/\1/p'; }
same_entries() { [ "$(entries "$a")" = "$(entries "$b")" ]; }
given_back() { grep -c "idle: the last sync's buffers are given back" "$1.log"; }

serve "$b"
sat -d "$a" peer add "$(addr_of "$b")"
serve "$a"
check "B's daemon receives A's 3,000 notes (batches read ahead)" \
    wait_for "same_entries" 120
# A line before this point may be a pause within the sync on a loaded
# machine; the one that counts comes after it.
nb0=$(given_back "$b") na0=$(given_back "$a")
check "once they are quiet, B gives the sync's buffers back" \
    wait_for "[ \$(given_back $b) -gt $nb0 ]" 120
check "and A, which sent them" wait_for "[ \$(given_back $a) -gt $na0 ]" 120
nb=$(given_back "$b")
sleep 12	# two quiet periods more, with nothing to sync
check "nothing moved: no second line" [ "$(given_back "$b")" = "$nb" ]
check "both daemons still connected" \
    sh -c "$SATCHEL -d $a status --json | grep -q '\"connected\":true'"

"$TOOLS/fill" "$a" "$ana" 3000 second >/dev/null || bail "fill A again"
check "the same connection takes the next 3,000 notes" \
    wait_for "same_entries" 120
check "B reads a note of the second lot" sh -c \
    "$SATCHEL -d $b search 'second 2999' | grep -q 'action: second 2999\$'"
check "B's store verifies" sh -c "$SATCHEL -d $b verify >/dev/null"
check "and matches A's digest" \
    [ "$(sat -d "$a" digest)" = "$(sat -d "$b" digest)" ]
check "B gives the buffers back again" \
    wait_for "[ \$(given_back $b) -gt $nb ]" 120
stop "$a"
stop "$b"
