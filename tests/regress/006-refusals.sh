# Strangers and wrong keys are refused before any entry moves, and the
# refusal is logged with its reason.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b x=$TMP/box
make_team "$a" "$b"
add_box "$a" "$x"
px=$((PORT_BASE + 10))
check "the box serves" serve "$x" "$px"
"$SATCHEL" -d "$a" student add "Ana Lopez" >/dev/null
"$SATCHEL" -d "$a" sync "127.0.0.1:$px" 2>/dev/null
entries() { "$SATCHEL" -d "$1" status --json | grep -o '"entries":[0-9]*' | cut -d: -f2; }
box_before=$(entries "$x")
check "the box holds A's entries" [ "$box_before" -ge 2 ]

# A stranger: another team altogether, so another network key.
s=$TMP/stranger
"$SATCHEL" -d "$s" init --name "Stranger" >/dev/null
"$SATCHEL" -d "$s" student add "Someone" >/dev/null
s_before=$(entries "$s")
"$SATCHEL" -d "$s" sync "127.0.0.1:$px" 2>"$TMP/s.err"
check "a stranger's sync fails" [ $? -ne 0 ]
check "the box logs why" wait_for "grep -q 'handshake failed (wrong network key' '$x.log'" 20
check "the stranger received nothing" [ "$(entries "$s")" = "$s_before" ]

# A device that holds the network key (say, a copied key file) but was
# never added to the team.
n=$TMP/notmember
"$SATCHEL" -d "$n" init --name "Not a member" >/dev/null
cp "$a/team.key" "$n/team.key"
n_before=$(entries "$n")
"$SATCHEL" -d "$n" sync "127.0.0.1:$px" 2>"$TMP/n.err"
check "a non-member with the key is refused" [ $? -ne 0 ]
check "it logs why: the box is no member of its team" \
    grep -q "refused device $("$SATCHEL" -d "$x" id --hex | cut -c1-12): not a member" "$TMP/n.err"
# The box dials it: the box must refuse it, and say so.
pn=$((PORT_BASE + 11))
serve "$n" "$pn"
"$SATCHEL" -d "$x" peer add "127.0.0.1:$pn"
check "the box refuses a non-member with the key, and logs: not a member" \
    wait_for "grep -q \"refused device $("$SATCHEL" -d "$n" id --hex | cut -c1-12): not a member\" '$x.log'" 50
stop "$n"
"$SATCHEL" -d "$x" peer remove "127.0.0.1:$pn"
check "the non-member received nothing" [ "$(entries "$n")" = "$n_before" ]

# A member whose key is wrong.
head -c 32 /dev/urandom >"$b/team.key.new"
chmod 600 "$b/team.key.new"
mv "$b/team.key.new" "$b/team.key"
b_before=$(entries "$b")
grep -c 'handshake failed' "$x.log" >"$TMP/count.before"
"$SATCHEL" -d "$b" sync "127.0.0.1:$px" 2>"$TMP/b.err"
check "a member with the wrong key is refused" [ $? -ne 0 ]
check "and the box logs the failed handshake" wait_for \
    "[ \$(grep -c 'handshake failed' '$x.log') -gt \$(cat $TMP/count.before) ]" 20
check "the member received nothing" [ "$(entries "$b")" = "$b_before" ]
check "the box took nothing from any of them" [ "$(entries "$x")" = "$box_before" ]

# Garbage on the port: refused without a reply, the daemon carries on.
printf 'GET / HTTP/1.0\r\n\r\n' >"$TMP/garbage"
python3 - "$px" "$TMP/garbage" <<'PY' >"$TMP/reply"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(open(sys.argv[2], "rb").read())
s.shutdown(socket.SHUT_WR)
data = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except Exception:
    pass
sys.stdout.write(str(len(data)))
PY
check "a client speaking HTTP gets not one byte back" [ "$(cat "$TMP/reply")" = 0 ]
check "the box still serves members" "$SATCHEL" -d "$a" sync "127.0.0.1:$px"
