# A laptop restored from an old backup writes again: its log forks. Only
# that device's log stops (frozen where it forked, on every device), it
# is told so, and everything else still syncs. Entries by a device that is
# not a member are never taken. (060-fork.sh covers forks in depth.)
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b x=$TMP/box
make_team "$a" "$b"
add_box "$a" "$x"
serve "$x"
box=$(addr_of "$x")
ana=$("$SATCHEL" -d "$a" student add "Ana Lopez")
# Before the fork every sync must work, or the rest tests nothing.
setup_sync() { "$SATCHEL" -d "$1" sync "$box" 2>>"$1.sync.log" ||
    bail "$(basename "$1") could not sync with the box" "$1.sync.log"; }
setup_sync "$a"
setup_sync "$b"

cp -a "$b" "$TMP/b.backup"
"$SATCHEL" -d "$b" note add "$ana" --strengths "before the loss" --obstacle o --action a >/dev/null
setup_sync "$b"
rm -rf "$b"
mv "$TMP/b.backup" "$b"		# the laptop comes back from an old backup
"$SATCHEL" -d "$b" note add "$ana" --strengths "after the restore" --obstacle o --action a >/dev/null
"$SATCHEL" -d "$a" note add "$ana" --strengths "written by A" --obstacle o --action a >/dev/null
setup_sync "$a"

"$SATCHEL" -d "$b" sync "$box" 2>"$TMP/b.err"
check "the restored laptop's sync says it forked, and fails" sh -c \
    "[ $? -ne 0 ] && grep -q 'log has forked' '$TMP/b.err'"
check "the box reports the fork too" wait_for "grep -q 'fork' '$x.log'" 60
check "other devices' entries still arrive" sh -c \
    "$SATCHEL -d $b search 'written by A' | grep -q 'written by A'"
check "the fork is frozen everywhere: neither branch shows" sh -c \
    "$SATCHEL -d $a sync $box 2>/dev/null; ! $SATCHEL -d $a search 'before the loss' >/dev/null 2>&1 && ! $SATCHEL -d $a search 'after the restore' >/dev/null 2>&1"

# A device that holds a copy of the team key but was never added: its
# entries, carried in a bundle, are skipped.
n=$TMP/notmember
"$SATCHEL" -d "$n" init --name "Not a member" >/dev/null
# (the key in the clear: a's key files are sealed under a's passphrase)
"$TOOLS/keyfile" "$a/team.key" >"$n/team.key" && chmod 600 "$n/team.key"
"$SATCHEL" -d "$n" student add "Intruder record" >/dev/null
"$SATCHEL" -d "$n" export "$TMP/n.bundle" >/dev/null
before=$("$SATCHEL" -d "$a" digest)
"$SATCHEL" -d "$a" import "$TMP/n.bundle" >"$TMP/imp.out" 2>"$TMP/imp.err"
check "a bundle by a non-member is skipped, and said so" \
    grep -q "skipped 1 entry by devices that are not members" "$TMP/imp.err"
check "nothing of it was applied" [ "$("$SATCHEL" -d "$a" digest)" = "$before" ]
check "its record is nowhere" sh -c "! $SATCHEL -d $a student list | grep -q Intruder"
