# A local write reaches the daemon through DIR/serve.sock at once, not at
# a poll: a note on A's command line is pushed to B's daemon. How fast is
# for make bench (the push bench); here only that it arrives, that the
# socket is private and removed at exit, that a killed daemon's leftover
# socket is replaced, and that a second daemon on one directory refuses.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b
make_team "$a" "$b"
ana=$("$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B)
serve "$b"
baddr=$(addr_of "$b")
"$SATCHEL" -d "$a" peer add "$baddr"
serve "$a"
check "A's daemon connects to B" wait_for \
    "$SATCHEL -d $a status --json | grep -q '\"addr\":\"$baddr\",\"device\":\"[0-9a-f]*\",\"connected\":true'" 120

check "A's daemon listens on serve.sock in its data directory" test -S "$a/serve.sock"
check "serve.sock is the owner's only (0600)" sh -c \
    "[ \"\$(stat -c %a $a/serve.sock)\" = 600 ]"

check "note add on A succeeds while A's daemon listens" sh -c \
    "$SATCHEL -d $a note add $ana --strengths okapi-first --obstacle o --action a >/dev/null"
check "a note written on A's command line shows on B" \
    wait_for "$SATCHEL -d $b search okapi-first 2>/dev/null | grep -q okapi" 120
check "note add on B succeeds too" sh -c \
    "$SATCHEL -d $b note add $ana --strengths tapir-back --obstacle o --action a >/dev/null"
check "and one written on B shows on A" \
    wait_for "$SATCHEL -d $a search tapir-back 2>/dev/null | grep -q tapir" 120

# A second daemon on the same data directory: refused, in one line, and
# the first one goes on serving.
"$SATCHEL" -d "$a" serve --listen 127.0.0.1:0 >"$TMP/second.out" 2>"$TMP/second.err"
rc=$?
check "a second serve on A's directory is refused (exit $rc)" [ "$rc" -eq 1 ]
check "in one line naming the running daemon" sh -c \
    "[ \$(wc -l <$TMP/second.err) -eq 1 ] && grep -q 'another satchel serve is running' $TMP/second.err"
check "the first daemon keeps its socket" test -S "$a/serve.sock"
check "and still runs" kill -0 "$(cat "$a.pid")"
"$SATCHEL" -d "$a" note add "$ana" --strengths quokka-after --obstacle o --action a >/dev/null
check "and still pushes" \
    wait_for "$SATCHEL -d $b search quokka-after 2>/dev/null | grep -q quokka" 120

# kill -9 leaves the socket behind; a note written while no daemon runs
# is written all the same, and goes out once the daemon is back.
crash "$a"
check "a killed daemon leaves its socket" test -S "$a/serve.sock"
check "a note is written while A's daemon is down" sh -c \
    "$SATCHEL -d $a note add $ana --strengths narwhal-offline --obstacle o --action a >/dev/null"
serve "$a"
check "a restarted daemon replaces the stale socket" test -S "$a/serve.sock"
check "the note written offline reaches B" \
    wait_for "$SATCHEL -d $b search narwhal-offline 2>/dev/null | grep -q narwhal" 120
"$SATCHEL" -d "$a" note add "$ana" --strengths zebra-restarted --obstacle o --action a >/dev/null
check "and the restarted daemon pushes new notes" \
    wait_for "$SATCHEL -d $b search zebra-restarted 2>/dev/null | grep -q zebra" 120

stop "$a"
check "serve.sock is removed when serve stops" test ! -e "$a/serve.sock"
stop "$b"
check "B's too" test ! -e "$b/serve.sock"
