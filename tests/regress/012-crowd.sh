# A crowd at the staff-room box: six laptops, each with notes of its
# own, run `satchel sync` against one box at the same moment. The box
# applies what several connections sent in one loop turn in one durable
# commit (peer.c, group_across), acknowledging each batch only once it is
# on disk, and answers whatever a laptop sent after its batches once they
# are applied. Every laptop's sync ends well, a box killed right after
# still holds every note it acknowledged (a laptop that was not there
# gets all of them from it), and every laptop ends with every note.
. "$(dirname "$0")/lib.sh"

N=6
laps=""
for i in $(seq 1 "$N"); do
	laps="$laps $TMP/l$i"
done
late=$TMP/late x=$TMP/box
# shellcheck disable=SC2086
make_team $laps "$late"
add_box "$TMP/l1" "$x"
check "the box starts" serve "$x"
boxaddr=$(addr_of "$x")
stu=$("$SATCHEL" -d "$TMP/l1" student add "Crowd Student" --class 3B)
for d in $laps; do
	"$SATCHEL" -d "$d" sync "$boxaddr" >/dev/null 2>>"$d.sync.log" ||
	    bail "$(basename "$d") could not sync before the crowd" "$d.sync.log"
done

# Each laptop writes three notes offline, then all of them sync at once.
for d in $laps; do
	w=$(basename "$d")
	for k in 1 2 3; do
		"$SATCHEL" -d "$d" note add "$stu" --strengths "crowd-$w-$k" \
		    --obstacle o --action a >/dev/null ||
		    bail "note add on $w failed"
	done
done
pids=""
for d in $laps; do
	"$SATCHEL" -d "$d" sync "$boxaddr" >/dev/null 2>>"$d.sync.log" &
	pids="$pids $!"
done
bad=0
for p in $pids; do
	wait "$p" || bad=$((bad + 1))
done
check "all $N syncs at once end well" [ "$bad" = 0 ]

# Every sync ended, so every batch was acknowledged: on the box's disk.
crash "$x"
check "the box starts again after kill -9" serve "$x"
boxaddr=$(addr_of "$x")
check "a laptop that was not in the crowd syncs with it" sh -c \
    "$SATCHEL -d $late sync $boxaddr >/dev/null 2>>$late.sync.log"
missing=0
for d in $laps; do
	w=$(basename "$d")
	for k in 1 2 3; do
		"$SATCHEL" -d "$late" search "crowd-$w-$k" 2>/dev/null |
		    grep -q "crowd-$w-$k" || missing=$((missing + 1))
	done
done
check "it has every note of the crowd from the box ($missing missing)" \
    [ "$missing" = 0 ]

for d in $laps; do
	"$SATCHEL" -d "$d" sync "$boxaddr" >/dev/null 2>>"$d.sync.log"
done
want=$("$SATCHEL" -d "$late" digest)
same=0
for d in $laps; do
	[ "$("$SATCHEL" -d "$d" digest)" = "$want" ] && same=$((same + 1))
done
check "every laptop ends with the same digest ($same of $N)" [ "$same" = "$N" ]
check "the box logged no refusal" sh -c "! grep -qi 'refused' $x.log"
stop "$x"
