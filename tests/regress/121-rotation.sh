# The rotation view (issue #8) counts from the groups' history, not from
# who is in them now: a history built over ten weeks with
# SATCHEL_CLOCK_OFFSET (joins, leaves, re-joins, moves, two students put
# in a group by one entry, and two devices putting one student in one
# group and taking him out apart) gives exact counts and flags, a stay
# that began before the period is measured from its join, and both
# devices give the same answer once synced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/webapi.sh"

A="$SATCHEL -d $TMP/a" B="$SATCHEL -d $TMP/b"
make_team "$TMP/a" "$TMP/b"
# at DAYS CMD...: one command on a device, its clock DAYS days back.
at() {			# days back, satchel -d DIR, arguments
	local d=$1
	shift
	SATCHEL_CLOCK_OFFSET=-${d}d "$@" >/dev/null 2>"$TMP/err" ||
	    bail "at -${d}d: $* failed: $(cat "$TMP/err")"
}
swap() {		# each device imports what the other holds
	$A export "$TMP/a.bundle" >/dev/null 2>&1 &&
	$B export "$TMP/b.bundle" >/dev/null 2>&1 &&
	$B import "$TMP/a.bundle" >/dev/null 2>&1 &&
	$A import "$TMP/b.bundle" >/dev/null 2>&1 || bail "the bundles did not swap"
}
day() { date -d "-$1 days" +%F; }
# The expected dates are days: a run must not cross midnight.
left=$(( $(date -d 'tomorrow 00:00' +%s) - $(date +%s) ))
[ "$left" -lt 300 ] && { echo "# waiting $left s for midnight to pass"; sleep $((left + 2)); }

for s in Ana Ben Cleo Dev Eve; do at 80 $A student add "$s"; done
at 80 $A group add "Group A" --same-need
at 80 $A group add "Group B" --same-need
at 80 $A group add "Group 1" --mixed
at 80 $A group add "Group 2" --mixed
swap
# Ana: in A, out to 1, back to A for good (8 weeks now).
at 70 $A group join "Group A" Ana
at 63 $A group move Ana "Group A" "Group 1"
at 56 $A group move Ana "Group 1" "Group A"
# Cleo: in B since before the period, never moved.
at 60 $A group join "Group B" Cleo
# Ben: in 1, out, in 1 again, then B, then 2: all inside the period.
at 40 $A group join "Group 1" Ben
# Eve and Cleo join Group 3 in one entry; Eve alone leaves it.
at 38 $A group add "Group 3" --mixed --member Eve --member Cleo
at 35 $A group leave "Group 1" Ben
at 33 $A group leave "Group 3" Eve
at 30 $A group join "Group 1" Ben
# Dev: both devices put him in Group A while apart (one stint), then
# each moves him out of it, to different groups, still apart.
at 25 $A group join "Group A" Dev
at 25 $B group join "Group A" Dev
at 20 $A group move Ben "Group 1" "Group B"
at 15 $A group move Dev "Group A" "Group 1"
at 14 $B group move Dev "Group A" "Group 2"
at 10 $A group move Ben "Group B" "Group 2"
swap
check "both devices hold the same entries" [ "$($A digest)" = "$($B digest)" ]

serve_page "$TMP/a"
PAGE_A=$PAGE KEY_A=$KEY
serve_page "$TMP/b"
PAGE_B=$PAGE KEY_B=$KEY
PAGE=$PAGE_A KEY=$KEY_A

# The last body as "name: same_need mixed flagged longest [group joined
# weeks before-period]...", one student a line, by name.
rows() {
	python3 - "$TMP/body" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for r in sorted(d["students"], key=lambda r: r["name"]):
    g = " ".join("%s@%s:%dw%s%s" % (x["name"].replace("Group ", ""),
        x["joined"], x["weeks"], "<" if x["before_period"] else "",
        "" if x["left"] is None else ">" + x["left"]) for x in r["groups"])
    print("%s: %d %d %s %d %s" % (r["name"], r["same_need"], r["mixed"],
        "F" if r["flagged"] else "-", r["longest_weeks"], g))
EOF
}
# expect DESCRIPTION QUERY LINES: the rows of GET rotation?QUERY.
expect() {
	local got
	is "GET rotation?$2" 200 "$(api GET "/rotation?$2")"
	got=$(rows)
	if [ "$got" = "$3" ]; then ok "$1"; else
		fail "$1"
		diff <(echo "$3") <(echo "$got") | sed 's/^/#   /'
	fi
}

from=$(day 42) until=$(date +%F)
expect "six weeks: a stay from before the period is flagged, re-joins count again, concurrent joins are one" \
    "from=$from&until=$until&weeks=3" \
"Ana: 1 0 F 8 A@$(day 56):8w<
Ben: 1 3 - 1 1@$(day 40):0w>$(day 35) 1@$(day 30):1w>$(day 20) B@$(day 20):1w>$(day 10) 2@$(day 10):1w
Cleo: 1 1 F 8 B@$(day 60):8w< 3@$(day 38):5w
Dev: 1 2 - 1 A@$(day 25):1w>$(day 14) 1@$(day 15):2w 2@$(day 14):2w
Eve: 0 1 - 0 3@$(day 38):0w>$(day 33)"
check "the default period is the same six weeks" sh -c "
	[ \"\$(curl -s -H 'Authorization: Bearer $KEY' 'http://$PAGE/api/v1/rotation?weeks=3' | python3 -c 'import json,sys; print(sorted((r[\"name\"],r[\"same_need\"],r[\"mixed\"],r[\"flagged\"]) for r in json.load(sys.stdin)[\"students\"]))')\" = \"[('Ana', 1, 0, True), ('Ben', 1, 3, False), ('Cleo', 1, 1, True), ('Dev', 1, 2, False), ('Eve', 0, 1, False)]\" ]"
expect "a threshold of 9 weeks flags no one" \
    "from=$from&weeks=9" \
"Ana: 1 0 - 8 A@$(day 56):8w<
Ben: 1 3 - 1 1@$(day 40):0w>$(day 35) 1@$(day 30):1w>$(day 20) B@$(day 20):1w>$(day 10) 2@$(day 10):1w
Cleo: 1 1 - 8 B@$(day 60):8w< 3@$(day 38):5w
Dev: 1 2 - 1 A@$(day 25):1w>$(day 14) 1@$(day 15):2w 2@$(day 14):2w
Eve: 0 1 - 0 3@$(day 38):0w>$(day 33)"
# Ten to eight weeks back: Ana's first stay in A and her week in 1; her
# return to A starts the day after the period. Stays end with the period.
expect "an earlier period counts the memberships held then" \
    "from=$(day 70)&until=$(day 57)&weeks=2" \
"Ana: 1 1 - 1 A@$(day 70):1w>$(day 63) 1@$(day 63):0w>$(day 56)
Ben: 0 0 - 0 
Cleo: 1 0 - 0 B@$(day 60):0w
Dev: 0 0 - 0 
Eve: 0 0 - 0 "
expect "a stay is measured up to the period's end" \
    "from=$(day 70)&until=$(day 40)&weeks=2" \
"Ana: 2 1 F 2 A@$(day 70):1w>$(day 63) 1@$(day 63):1w>$(day 56) A@$(day 56):2w
Ben: 0 1 - 0 1@$(day 40):0w>$(day 35)
Cleo: 1 0 F 2 B@$(day 60):2w
Dev: 0 0 - 0 
Eve: 0 0 - 0 "

api GET "/rotation?from=$from&until=$until&weeks=3" >/dev/null
mv "$TMP/body" "$TMP/rot.a"
PAGE=$PAGE_B KEY=$KEY_B
api GET "/rotation?from=$from&until=$until&weeks=3" >/dev/null
check "the other device gives the same answer, to the byte once sorted" \
    python3 -c "
import json
a, b = (sorted(json.load(open(f))['students'], key=lambda r: r['student'])
    for f in ('$TMP/rot.a', '$TMP/body'))
assert a == b, (a, b)"

is "a period that ends before it starts: 400" 400 "$(api GET "/rotation?from=$until&until=$from")"
is "weeks past 52: 400" 400 "$(api GET '/rotation?weeks=53')"
is "weeks with a sign: 400" 400 "$(api GET '/rotation?weeks=%2B3')"
echo "1..$_tap_n"
