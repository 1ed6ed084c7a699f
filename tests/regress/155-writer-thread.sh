# A daemon takes two long syncs at once while its teacher writes notes.
# Each group of 4,096 entries or more is committed on the writer thread
# (daemon/net/writer.c) while the loop reads the next group, and it is
# acknowledged only once that commit returned. Two peers' groups share
# a transaction (group_across); a note written with the command line
# meanwhile waits for LMDB's write lock and goes in; what each peer
# sends after its batches (its goodbye) waits for their commit. In the
# end every side verifies and B holds exactly what A, C and B wrote.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/test/tools}"

a=$TMP/a b=$TMP/b c=$TMP/c
make_team "$a" "$b" "$c"
ana=$(sat -d "$a" student add "Ana Lopez")
ben=$(sat -d "$c" student add "Ben Okafor")
cleo=$(sat -d "$b" student add "Cleo Marsh")
"$TOOLS/fill" "$a" "$ana" 20000 froma >/dev/null || bail "fill A"
"$TOOLS/fill" "$c" "$ben" 12000 fromc >/dev/null || bail "fill C"
entries() { sat -d "$1" status | sed -n 's/^entries *\([0-9]*\).*/\1/p'; }
ea=$(entries "$a") ec=$(entries "$c") eb=$(entries "$b")

serve "$b"
sat -d "$a" sync "$(addr_of "$b")" >"$TMP/a.sync" 2>&1 &
pa=$!
sat -d "$c" sync "$(addr_of "$b")" >"$TMP/c.sync" 2>&1 &
pc=$!
# Notes written while the syncs run: each waits for LMDB's write lock,
# held in turns by the writer thread's commits.
wrote=0
while [ "$wrote" -lt 40 ] && { kill -0 "$pa" 2>/dev/null ||
    kill -0 "$pc" 2>/dev/null; }; do
	sat -d "$b" note add "$cleo" --strengths "s" --obstacle "o" \
	    --action "written during the syncs $wrote" >/dev/null || break
	wrote=$((wrote + 1))
done
check "B's teacher writes notes while the syncs run ($wrote)" [ "$wrote" -gt 0 ]
wait "$pa"
ra=$?
wait "$pc"
rc=$?
check "A's sync ends well" [ "$ra" = 0 ]
check "C's sync ends well" [ "$rc" = 0 ]
[ "$ra" = 0 ] && [ "$rc" = 0 ] || { show_log "$TMP/a.sync"; show_log "$TMP/c.sync"; show_log "$b.log" 40; }
check "A's sync says it sent its notes" grep -q "sync done" "$TMP/a.sync"
check "C's sync says it sent its notes" grep -q "sync done" "$TMP/c.sync"
# B holds its own entries, A's and C's, the notes written meanwhile
# (and each session's receipts, which both sides write): at least that.
check "B holds A's notes" sh -c \
    "$SATCHEL -d $b search 'froma 19999' | grep -q 'action: froma 19999\$'"
check "and C's" sh -c \
    "$SATCHEL -d $b search 'fromc 11999' | grep -q 'action: fromc 11999\$'"
check "and the $wrote written meanwhile" sh -c \
    "[ \$($SATCHEL -d $b search 'written during the syncs' | grep -c 'action: written during the syncs') = $wrote ]"
check "B took every entry" [ "$(entries "$b")" -ge $((ea + ec + eb + wrote)) ]
# Batches of ~1,500 of these notes: groups of 4,096 entries or more
# went to the writer thread, which stays until the daemon ends.
check "B's long groups were committed on its writer thread" sh -c \
    "grep -qx satchel-writer /proc/$(cat "$b.pid")/task/*/comm"
check "B's store verifies" sh -c "$SATCHEL -d $b verify >/dev/null"
check "B's daemon logged no refusal and no failure" \
    sh -c "! grep -Ei 'refused|could not|error' $b.log"
stop "$b"
serve "$b"
sat -d "$a" sync "$(addr_of "$b")" >"$TMP/a.sync2" 2>&1 ||
    bail "A's second sync" "$TMP/a.sync2"
check "after B restarts, A takes C's notes from it" sh -c \
    "$SATCHEL -d $a search 'fromc 11999' | grep -q 'action: fromc 11999\$'"
check "and B's own" sh -c \
    "$SATCHEL -d $a search 'syncs 0' | grep -q 'action: written during the syncs 0\$'"
check "A's store verifies" sh -c "$SATCHEL -d $a verify >/dev/null"
stop "$b"
