# Peers by host name: `peer add` takes a name (looked up each time it is
# dialled, through libuv's resolver) and a missing port means 7420; a
# typo'd address is refused in one line. Only names /etc/hosts answers
# (localhost) are dialled: tests use loopback and nothing else.
. "$(dirname "$0")/lib.sh"

a=$TMP/a b=$TMP/b
make_team "$a" "$b"
ana=$("$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B)
"$SATCHEL" -d "$a" note add "$ana" --strengths by-name-okapi --obstacle o \
    --action a >/dev/null
serve "$a"

sat() { "$SATCHEL" -d "$b" "$@"; }
check "peer add takes a host name and port" \
    sat peer add "localhost:$(port_of "$a")"
check "sync dials it by name" sat sync
check "and the note came through" sh -c \
    "$SATCHEL -d $b search by-name-okapi | grep -q okapi"
check "sync HOST:PORT takes a name too" sat sync "localhost:$(port_of "$a")"

check "a name without a port gets 7420" sh -c \
    "$SATCHEL -d $b peer add staffroom.local && $SATCHEL -d $b peer list | grep -q '^staffroom.local:7420 '"
check "peer remove takes it as it was typed" sat peer remove staffroom.local
check "a bracketed IPv6 address without a port gets 7420 too" sh -c \
    "$SATCHEL -d $b peer add '[fe80::1]' && $SATCHEL -d $b peer list | grep -q '^\[fe80::1\]:7420 '"
sat peer remove "[fe80::1]:7420"
expect_refusal "an address with a number out of range" peer add 192.168.1.300
expect_refusal "a name with a bad character" peer add "box_1.school:7420"
expect_refusal "a port out of range" peer add "box.school.lan:70000"
expect_refusal "an IPv6 address without brackets" peer add "fe80::1:7420"
expect_refusal "member add --addr with a bad name" member add \
    "$("$SATCHEL" -d "$a" id)" --name X --addr "-box.lan"
stop "$a"
