# A frame damaged on the wire (one bit flipped deep into a full sync, by
# tests/regress/flipper.py, a proxy) fails the transport's authentication:
# it is refused, logged, the connection closed, nothing after it taken,
# and what was acknowledged before it kept; a second, clean sync then
# completes.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/test/tools}"

A=$TMP/a B=$TMP/b
make_team "$A" "$B"
ana=$(sat -d "$A" student add "Ana Lopez")
# About 1 KB a note: some 6 MB, three batches of 2 MB and more.
"$TOOLS/fill" "$A" "$ana" 6000 bulk >/dev/null || bail "fill A"

serve "$A"
# Deep into the third batch's frame (each 2 MB): well past the
# handshake, the vectors and the first frames.
python3 "$(dirname "$0")/flipper.py" "$TMP/proxy.port" "$(port_of "$A")" \
    $((5 * 1024 * 1024)) 2>"$TMP/proxy.log" &
PIDS="$PIDS $!"
end=$((SECONDS + 60))
until [ -s "$TMP/proxy.port" ]; do
	[ "$SECONDS" -ge "$end" ] && bail "the proxy did not listen" "$TMP/proxy.log"
	sleep 0.05
done
sat -d "$B" sync "127.0.0.1:$(cat "$TMP/proxy.port")" >/dev/null \
    2>"$B.sync1.log"
check "the sync through the damage fails" [ $? -ne 0 ]
check "B refuses the damaged frame and says so" \
    grep -q "refused: a frame failed authentication" "$B.sync1.log"
check "B's store verifies" sat -d "$B" verify
notes() { sat -d "$1" search bulk 2>/dev/null | grep -c 'action: bulk'; }
n=$(notes "$B")
check "B kept less than A sent (nothing of the damaged frame on)" \
    [ "$n" -lt 6000 ]
sat -d "$B" sync "$(addr_of "$A")" >/dev/null 2>"$B.sync2.log" ||
    bail "B syncs with A, undamaged" "$B.sync2.log"
check "then B holds all of A's notes" [ "$(notes "$B")" = 6000 ]
same_digest() { [ "$(sat -d "$A" digest)" = "$(sat -d "$B" digest)" ]; }
check "and A and B agree" same_digest
stop "$A"
