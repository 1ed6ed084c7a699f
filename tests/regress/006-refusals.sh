# Strangers and wrong keys are refused before any entry moves, and the
# refusal is logged with its reason.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b x=$TMP/box
make_team "$a" "$b"
add_box "$a" "$x"
check "the box serves" serve "$x"
box=$(addr_of "$x")
"$SATCHEL" -d "$a" student add "Ana Lopez" >/dev/null
check "A syncs with the box" "$SATCHEL" -d "$a" sync "$box" 2>/dev/null
entries() { "$SATCHEL" -d "$1" status --json | grep -o '"entries":[0-9]*' | cut -d: -f2; }
# Whose entries a device holds: the box's own receipt of A's sync makes
# it one of them (issue 9), so that is waited for.
authors() { "$SATCHEL" -d "$1" status | sed -n 's/^entries  *[0-9]* from \([0-9]*\) device.*/\1/p'; }
check "the box holds A's entries, and its receipt of A's sync" \
    wait_for "[ \$(authors $x) -ge 2 ]" 60
box_before=$(authors "$x")

# A stranger: another team altogether, so another network key.
s=$TMP/stranger
"$SATCHEL" -d "$s" init --name "Stranger" >/dev/null
"$SATCHEL" -d "$s" student add "Someone" >/dev/null
s_before=$(entries "$s")
"$SATCHEL" -d "$s" sync "$box" 2>"$TMP/s.err"
check "a stranger's sync fails" [ $? -ne 0 ]
check "the box logs why" wait_for "grep -q 'handshake failed (wrong network key' '$x.log'" 60
check "the stranger received nothing" [ "$(entries "$s")" = "$s_before" ]

# A device that holds the network key (say, a copied key file) but was
# never added to the team.
n=$TMP/notmember
"$SATCHEL" -d "$n" init --name "Not a member" >/dev/null
# (the key in the clear: a's key files are sealed under a's passphrase)
"$TOOLS/keyfile" "$a/team.key" >"$n/team.key" && chmod 600 "$n/team.key"
n_before=$(entries "$n")
"$SATCHEL" -d "$n" sync "$box" 2>"$TMP/n.err"
check "a non-member with the key is refused" [ $? -ne 0 ]
check "it logs why: the box is no member of its team" \
    grep -q "refused device $("$SATCHEL" -d "$x" id --hex | cut -c1-12): not a member" "$TMP/n.err"
# The box dials it: the box must refuse it, and say so.
serve "$n"
"$SATCHEL" -d "$x" peer add "$(addr_of "$n")"
check "the box refuses a non-member with the key, and logs: not a member" \
    wait_for "grep -q \"refused device $("$SATCHEL" -d "$n" id --hex | cut -c1-12): not a member\" '$x.log'" 120
stop "$n"
"$SATCHEL" -d "$x" peer remove "$(addr_of "$n")"
check "the non-member received nothing" [ "$(entries "$n")" = "$n_before" ]

# A member whose key is wrong.
head -c 32 /dev/urandom >"$b/team.key.new"
chmod 600 "$b/team.key.new"
mv "$b/team.key.new" "$b/team.key"
b_before=$(entries "$b")
grep -c 'handshake failed' "$x.log" >"$TMP/count.before"
"$SATCHEL" -d "$b" sync "$box" 2>"$TMP/b.err"
check "a member with the wrong key is refused" [ $? -ne 0 ]
check "and the box logs the failed handshake" wait_for \
    "[ \$(grep -c 'handshake failed' '$x.log') -gt \$(cat $TMP/count.before) ]" 60
check "the member received nothing" [ "$(entries "$b")" = "$b_before" ]
check "the box took nothing from any of them" [ "$(authors "$x")" = "$box_before" ]

# Garbage on the port: refused without a reply, the connection closed,
# and the daemon carries on. A reply that never ends (no close within
# 60 s) fails rather than passing as "nothing came back".
printf 'GET / HTTP/1.0\r\n\r\n' >"$TMP/garbage"
python3 - "$(port_of "$x")" "$TMP/garbage" <<'PY' >"$TMP/reply"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
s.sendall(open(sys.argv[2], "rb").read())
s.shutdown(socket.SHUT_WR)
data = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    sys.stdout.write("closed %d" % len(data))
except socket.timeout:
    sys.stdout.write("still open after 60 s, %d bytes" % len(data))
PY
check "a client speaking HTTP gets not one byte back, and is hung up on ($(cat "$TMP/reply"))" \
    [ "$(cat "$TMP/reply")" = "closed 0" ]
check "the box still serves members" "$SATCHEL" -d "$a" sync "$box" 2>>"$a.sync.log"
