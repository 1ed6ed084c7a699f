# serve --listen HOST:0 takes a free port from the kernel and tells which
# one (its "serving on" log line, and --port-file FILE); a sync reaches it
# there. A daemon that cannot listen (the address is in use) exits
# non-zero at once, with one line that says so, and writes no port file.
# And the test helper: a daemon that does not come up fails the test at
# once, with its log.
. "$(dirname "$0")/lib.sh"
quick_failure() { [ "$1" -ne 0 ] && [ "$1" -ne 124 ]; }	# 124: timeout

a=$TMP/a b=$TMP/b c=$TMP/c
make_team "$a" "$b"
"$SATCHEL" -d "$a" student add "Ana Lopez" >/dev/null
"$SATCHEL" -d "$a" serve --listen 127.0.0.1:0 --port-file "$TMP/a.port" \
    2>"$TMP/a.log" &
pid=$!
PIDS="$PIDS $pid"
wait_for "[ -s '$TMP/a.port' ] || ! kill -0 $pid 2>/dev/null" 120 ||
    bail "serve --listen 127.0.0.1:0 neither listened nor exited" "$TMP/a.log"
port=$(cat "$TMP/a.port" 2>/dev/null)
[[ $port =~ ^[1-9][0-9]{0,4}$ ]] && [ "$port" -le 65535 ] ||
    bail "serve --listen 127.0.0.1:0 --port-file: no port in the file ('$port'); its log:" "$TMP/a.log"
ok "the port file holds the port the kernel gave ($port)"
check "the log line says the same port" \
    grep -q "serving on 127.0.0.1:$port as " "$TMP/a.log"
check "a sync reaches the daemon there" \
    "$SATCHEL" -d "$b" sync "127.0.0.1:$port" 2>>"$TMP/b.sync.log"
check "and brings what it holds" sh -c "$SATCHEL -d $b show 'Ana Lopez' >/dev/null"

timeout 120 "$SATCHEL" -d "$b" serve --listen "127.0.0.1:$port" \
    --port-file "$TMP/b.port" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "a daemon whose address is in use exits non-zero, at once (exit $rc)" \
    quick_failure "$rc"
check "with one line saying why: $(head -1 "$TMP/err")" \
    [ "$(wc -l <"$TMP/err") $(grep -c "cannot listen on 127.0.0.1:$port: address already in use" "$TMP/err")" = "1 1" ]
check "and writes no port file" [ ! -e "$TMP/b.port" ]
check "the daemon that had the port still serves" \
    "$SATCHEL" -d "$b" sync "127.0.0.1:$port" 2>>"$TMP/b.sync.log"

# lib.sh's serve() on a device that cannot serve: a box that has joined
# no team.
"$SATCHEL" -d "$c" init --box >/dev/null
lib=$(cd "$(dirname "$0")" && pwd)/lib.sh
timeout 300 bash -c '. "$1"; serve "$2"; ok "carried on"' _ "$lib" "$c" \
    >"$TMP/helper.out" 2>&1
rc=$?
check "a daemon that does not come up fails the test at once (exit $rc)" \
    quick_failure "$rc"
check "with a not-ok line, and nothing after it" sh -c \
    "grep -q '^not ok .*daemon c exited' '$TMP/helper.out' && ! grep -q 'carried on' '$TMP/helper.out'"
check "and the daemon's log, as TAP comments" \
    grep -q '^#.*has not joined a team' "$TMP/helper.out"
