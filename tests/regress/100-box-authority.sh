# Who may change the team: only an admin. The box holds the network key
# that seals membership entries, so it can sign them; it tries every
# membership write it could make (evict a teacher, promote itself, add a
# device, rename a member, demote the founder), and so does a teacher.
# Every device, the box included, keeps the same membership, as if those
# entries had not been written; and the box's relaying of everyone else's
# entries keeps flowing.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:=$(dirname "$SATCHEL")/tools}"

a=$TMP/a b=$TMP/b x=$TMP/box m=$TMP/mallory
make_team "$a" "$b"
add_box "$a" "$x"
serve "$x"
box=$(addr_of "$x")
hex() { "$SATCHEL" -d "$1" id --hex; }
aid=$(hex "$a") bid=$(hex "$b") xid=$(hex "$x")
mid=$("$SATCHEL" -d "$m" init --name Mallory >/dev/null && hex "$m")

# What a device shows of the team: ids, roles, names, adders, removals
# (not whether it has heard from each: that is each device's own).
members() {		# dir
	"$SATCHEL" -d "$1" member list --json |
	    jq -c '[.[] | {device, role, name, added_by, removed}]'
}
sat_sync() { "$SATCHEL" -d "$1" sync "$box" >/dev/null 2>&1; }

check "the founder and the teacher sync with the box" sh -c \
    "$SATCHEL -d $a sync $box >/dev/null 2>&1 && $SATCHEL -d $b sync $box >/dev/null 2>&1"
before=$(members "$a")
check "every device starts with the same membership" sh -c \
    "[ '$before' = '$(members "$b")' ] && [ '$before' = '$(members "$x")' ]"
check "the founder is an admin, the teacher a teacher, the box a box" sh -c \
    "echo '$before' | jq -e '(.[] | select(.device == \"$aid\") | .role == \"admin\") and (.[] | select(.device == \"$bid\") | .role == \"teacher\") and (.[] | select(.device == \"$xid\") | .role == \"box\")' >/dev/null"

# The box forges what the member commands would write, signed and sealed
# like any entry: the daemon is stopped meanwhile (one writer at a time).
stop "$x"
forge() { "$TOOLS/forge" "$x" member "$@"; }
check "the box signs an eviction of the teacher" forge "$bid" removed=yes cutoff=0:$(printf '0%.0s' $(seq 64))
check "the box signs its own promotion to admin" forge "$xid" role=admin
check "the box signs its promotion to teacher" forge "$xid" role=teacher
check "the box signs the addition of a device of its own" forge "$mid" name=Mallory role=admin "added_by=$xid"
check "the box signs a new name for the teacher" forge "$bid" name=Renamed
check "the box signs the founder's demotion" forge "$aid" role=teacher
check "the teacher signs its own promotion" "$TOOLS/forge" "$b" member "$bid" role=admin
check "the teacher signs the addition of a device" "$TOOLS/forge" "$b" member "$mid" name=Mallory role=teacher
check "the teacher signs the box's eviction" "$TOOLS/forge" "$b" member "$xid" removed=yes cutoff=0:$(printf '0%.0s' $(seq 64))
serve "$x"
box=$(addr_of "$x")

check "the box still shows the team as it was" [ "$(members "$x")" = "$before" ]
check "the teacher still shows the team as it was" [ "$(members "$b")" = "$before" ]
check "the teacher's entries reach the box" sat_sync "$b"
check "the founder and the teacher take the forged entries from the box" \
    sh -c "$SATCHEL -d $a sync $box >/dev/null 2>&1 && $SATCHEL -d $b sync $box >/dev/null 2>&1"
check "the founder holds the box's and the teacher's forged entries" sh -c \
    "$SATCHEL -d $a status --json | jq -e '.entries >= 10' >/dev/null || $SATCHEL -d $a verify >/dev/null"
for d in "$a" "$b" "$x"; do
	check "$(basename "$d") refuses every forged change: same membership as before" \
	    [ "$(members "$d")" = "$before" ]
done
check "no device takes Mallory as a member" sh -c \
    "! $SATCHEL -d $a member list | grep -q Mallory && ! $SATCHEL -d $x member list | grep -q Mallory"

# The box's relaying of everyone's entries keeps flowing.
ana=$("$SATCHEL" -d "$b" student add "Ana Lopez" --class 3B)
"$SATCHEL" -d "$b" note add "$ana" --strengths reads --obstacle o \
    --action relayed-after-forgery >/dev/null
check "the teacher's new note reaches the box" sat_sync "$b"
check "and through the box, the founder" sh -c \
    "$SATCHEL -d $a sync $box >/dev/null 2>&1 && $SATCHEL -d $a search relayed-after-forgery | grep -q relayed"
check "the box refused none of the teacher's entries" sh -c "! grep -q 'refused the entries' $x.log"

# A box writes no content either. Given a teacher's leaked team key, it
# seals a change to a student under the content key: every device takes
# the box's entries with the network keys alone, so it is never applied.
"$TOOLS/keyfile" "$a/team.key" | python3 -c 'import struct, sys
sys.stdout.buffer.write(struct.pack(">IBQ", 0, 1, 0) + sys.stdin.buffer.read())' \
    >"$x/epochs.key" && chmod 600 "$x/epochs.key"
check "the box, with a leaked content key, signs a change to a student" \
    "$TOOLS/forge" "$x" future-pred "$ana" 1 needs "ForgedByBox" "$bid" +1
rm -f "$x/epochs.key"
check "the founder and the teacher take the box's entries" sh -c \
    "$SATCHEL -d $a sync $box >/dev/null 2>&1 && $SATCHEL -d $b sync $box >/dev/null 2>&1"
for d in "$a" "$b"; do
	check "$(basename "$d") never applies the box's content" sh -c \
	    "! $SATCHEL -d $d dump | grep -q ForgedByBox && ! $SATCHEL -d $d conflicts | grep -q ForgedByBox"
done

# Through the commands, a teacher and a box are told at once.
expect_refusal_in() {	# description, dir, args...
	local d=$1 dir=$2 rc
	shift 2
	"$SATCHEL" -d "$dir" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && [ ! -s "$TMP/out" ]; then
		ok "$d: $(cat "$TMP/err")"
	else
		fail "$d (exit $rc)"
		sed 's/^/#   /' "$TMP/err"
	fi
}
cid=$("$SATCHEL" -d "$TMP/c" init --name C)
expect_refusal_in "a teacher cannot add a member" "$b" member add "$cid" --name C
expect_refusal_in "a teacher cannot remove a member" "$b" member remove "$("$SATCHEL" -d "$a" id)"
expect_refusal_in "a teacher cannot promote itself" "$b" member role "$("$SATCHEL" -d "$b" id)" admin
expect_refusal_in "the box cannot add a member" "$x" member add "$cid" --name C
check "the team is still as it was" [ "$(members "$a")" = "$before" ]
