# An entry of a newer envelope version than this device reads (as a newer
# Satchel might write): it cannot be verified, so it is refused, but only
# it and the rest of its author's run. Over sync the connection stays up,
# the author's earlier entries are applied and every other author's
# entries still arrive; the sender is told and stops sending that author.
# In a bundle the rest is imported, with one warning line, exit 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemons.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
: "${TOOLS:=$REPO/build/test/tools}"

a=$TMP/a b=$TMP/b c=$TMP/c
make_team "$a" "$b" "$c"
ana=$(sat -d "$a" student add "Ana Lopez")
note() { sat -d "$1" note add "$ana" --strengths s --obstacle o --action "$2" >/dev/null; }
sat -d "$a" export "$TMP/a0.bundle" >/dev/null
sat -d "$c" import "$TMP/a0.bundle" >/dev/null
note "$c" "from-c"
sat -d "$c" export "$TMP/c.bundle" >/dev/null
check "A takes C's note by bundle" sh -c "'$SATCHEL' -d '$a' import '$TMP/c.bundle' >/dev/null"
note "$a" "a-one"
note "$a" "a-two"
cp -a "$b" "$TMP/b2"
seq=$("$TOOLS/reversion" "$a" 2)
check "A's last entry (seq $seq) is now of envelope version 2" [ -n "$seq" ]

check "A's daemon starts" start "$SATCHEL" "$a"
sat -d "$b" sync "$(addr "$a")" >/dev/null 2>"$TMP/sync.err"
rc=$?
sed 's/^/# sync: /' "$TMP/sync.err"
found() { sat -d "$1" search "$2" 2>/dev/null | grep -q "$2"; }
check "over sync, the entries before the newer one are applied" found "$b" a-one
check "the newer entry is not" sh -c "! '$SATCHEL' -d '$b' search a-two 2>/dev/null | grep -q a-two"
check "another author's entries, sent after it, still arrive" found "$b" from-c
check "the receiver says which author waits and why" grep -q "envelope version 2" "$TMP/sync.err"
check "the connection was not dropped for it" sh -c "! grep -q 'refused batch' '$TMP/sync.err'"
check "the sender is told, and stops sending that author" wait_for \
    "grep -q 'newer format than it reads' $a.serve*.log" 50
echo "# sync exited $rc"
check "B's store verifies" sh -c "'$SATCHEL' -d '$b' verify >/dev/null"

sat -d "$a" export "$TMP/a.bundle" >/dev/null
sat -d "$TMP/b2" import "$TMP/a.bundle" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "a bundle holding it is imported all the same (exit $rc)" [ "$rc" -eq 0 ]
check "with one warning naming the version ($(cat "$TMP/err"))" sh -c \
    "[ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q 'envelope version 2' '$TMP/err'"
check "the bundle's other entries are applied" sh -c \
    "'$SATCHEL' -d '$TMP/b2' search a-one | grep -q a-one && '$SATCHEL' -d '$TMP/b2' search from-c | grep -q from-c"
check "the newer entry is not" sh -c "! '$SATCHEL' -d '$TMP/b2' search a-two 2>/dev/null | grep -q a-two"
check "the importer's store verifies" sh -c "'$SATCHEL' -d '$TMP/b2' verify >/dev/null"
