# LAN discovery, reconnection and a flapping link, in network namespaces
# this test makes itself (root only): two laptops, a box and a device of
# another team on one bridged segment, 10.77.N.0/24. Nothing is typed
# about addresses: the team finds itself by its beacons, a stranger
# learns nothing from them and is not dialled. The link of one laptop is
# taken down and up, and the box is restarted: each comes back to sync.
# How long they take is printed, not asserted (make bench measures).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null ||
    ! ip netns add "satprobe$$" 2>/dev/null; then
	echo "ok 1 # SKIP needs root and ip netns (iproute2)"
	exit 0
fi
ip netns del "satprobe$$"

tag=$$
net=$((tag % 200 + 20))	# a subnet of its own, should two runs overlap
lan=satlan$tag
NSS=""
netns_cleanup() {
	local n
	cleanup
	for n in $NSS $lan; do ip netns del "$n" 2>/dev/null; done
}
trap netns_cleanup EXIT

ip netns add "$lan" || bail "cannot make the namespace $lan"
ip -n "$lan" link add br0 type bridge &&
    ip -n "$lan" link set br0 up || bail "cannot make a bridge in $lan"

# A device's namespace, joined to the bridge by a veth pair: eth0 inside.
host() {		# name, last octet
	local ns=sat$1$tag
	NSS="$NSS $ns"
	ip netns add "$ns" &&
	ip -n "$ns" link add eth0 type veth peer name "p$1$tag" netns "$lan" &&
	ip -n "$lan" link set "p$1$tag" master br0 up &&
	ip -n "$ns" addr add "10.77.$net.$2/24" dev eth0 &&
	ip -n "$ns" link set eth0 up &&
	ip -n "$ns" link set lo up || bail "cannot make the namespace $ns"
}
host a 1
host b 2
host x 3
host s 4
inns() { ip netns exec "sat$1$tag" "${@:2}"; }

a=$TMP/a b=$TMP/b x=$TMP/x s=$TMP/s
make_team "$a" "$b"
add_box "$a" "$x"
"$SATCHEL" -d "$s" init --name "Other school" >/dev/null
ana=$("$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B)
for d in a b x s; do
	eval "id_$d=\$(\"\$SATCHEL\" -d \"\$$d\" id --hex)"
done

# A listener beside the stranger's daemon (both bound with SO_REUSEADDR
# hear every broadcast) keeps what the stranger's segment carries.
sniff() {		# ns, out-file
	ip netns exec "sat$1$tag" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7420))
while True:
    data, (ip, port) = s.recvfrom(2048)
    with open(sys.argv[1], "a") as f:
        f.write("%s %d %s\n" % (ip, len(data), data.hex()))
' "$2" &
	PIDS="$PIDS $!"
}
sniff s "$TMP/heard-by-s"
sniff a "$TMP/heard-by-a"

SERVE_LISTEN=0.0.0.0:0
SERVE_WRAP="ip netns exec sats$tag" serve "$s"
for d in x a b; do
	SERVE_WRAP="ip netns exec sat$d$tag" serve "$TMP/$d"
done

found() {		# dir, device hex id: in its peer list, found on the LAN
	"$SATCHEL" -d "$1" peer list --json | grep -q "\"device\":\"$2\",\"id\":\"[^\"]*\",\"found\":\"lan\""
}
check "laptop A finds laptop B on the LAN" wait_for "found $a $id_b" 120
check "laptop A finds the box" wait_for "found $a $id_x" 120
check "laptop B finds laptop A and the box" \
    wait_for "found $b $id_a && found $b $id_x" 120
check "the box finds both laptops" \
    wait_for "found $x $id_a && found $x $id_b" 120

"$SATCHEL" -d "$a" note add "$ana" --strengths lan-kiwi-one --obstacle o \
    --action a >/dev/null
check "a note written on A reaches B with no address typed anywhere" \
    wait_for "$SATCHEL -d $b search lan-kiwi-one 2>/dev/null | grep -q kiwi" 120
entries() { "$SATCHEL" -d "$1" status --json | sed 's/.*"entries":\([0-9]*\).*/\1/'; }
check "and the box holds it" wait_for "[ \$(entries $x) -ge \$(entries $a) ]" 120

# The stranger: its own beacon (sent as it started) reached A's segment,
# A's reached it; neither opened the other's.
"$SATCHEL" -d "$a" note add "$ana" --strengths lan-kiwi-two --obstacle o \
    --action a >/dev/null
check "B gets a second note (A's loop has read every earlier beacon)" \
    wait_for "$SATCHEL -d $b search lan-kiwi-two 2>/dev/null | grep -q kiwi" 120
check "the stranger's beacons reached A's segment" \
    grep -q "^10.77.$net.4 " "$TMP/heard-by-a"
check "the team's beacons reached the stranger's segment" \
    grep -q "^10.77.$net.1 " "$TMP/heard-by-s"
check "the stranger found no one" sh -c \
    "[ \"\$($SATCHEL -d $s peer list --json)\" = '[]' ] && ! grep -q 'found\|connected' $s.log"
check "no member dialled the stranger or listed it" sh -c \
    "! grep -q '10.77.$net.4' $a.log $b.log $x.log && ! $SATCHEL -d $a peer list --json | grep -q $id_s"
hexof() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
check "a beacon carries no device id or name in the clear" sh -c \
    "! grep -qi -e $id_a -e $id_b -e $id_x -e $(hexof satchel) -e $(hexof Teacher) $TMP/heard-by-s"
check "every beacon is the same 83 bytes" sh -c \
    "awk '{print \$2}' $TMP/heard-by-s | sort -u | grep -qx 83"

# A laptop's link drops while a note waits for it, then comes back.
inns b ip link set eth0 down
"$SATCHEL" -d "$a" note add "$ana" --strengths lan-kiwi-flap --obstacle o \
    --action a >/dev/null
sleep 2
start=$SECONDS
inns b ip link set eth0 up
check "after its link returns, B gets the note written meanwhile" \
    wait_for "$SATCHEL -d $b search lan-kiwi-flap 2>/dev/null | grep -q kiwi" 120
echo "# the note reached B $((SECONDS - start)) s after its link came back"

# The box restarts: the laptops are back in touch with it at once.
stop "$x"
"$SATCHEL" -d "$b" note add "$ana" --strengths lan-kiwi-box --obstacle o \
    --action a >/dev/null
start=$SECONDS
SERVE_WRAP="ip netns exec satx$tag" serve "$x"
check "after a restart the box gets B's note" \
    wait_for "[ \$(entries $x) -ge \$(entries $b) ]" 120
echo "# the box had B's note $((SECONDS - start)) s after it restarted"

for d in a b x s; do stop "$TMP/$d"; done
check "no daemon reported a sanitizer error" sh -c \
    "! grep -q 'ERROR: AddressSanitizer\|runtime error' $a.log $b.log $x.log $s.log"
