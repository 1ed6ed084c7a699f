# The exposure report of a lost laptop (member report). A laptop L that
# synced only with the staff-room box held some students' records and not
# others; its report on the admin's laptop rests on the box's receipt,
# and lists exactly the students it received, by name and class, with the
# date of its last sync. --json gives the same. Then L's own entries reach
# the admin by a bundle, which leaves no receipt: the report says it is
# incomplete and lists the other students as possibly held. member remove
# --lost prints the report too.
. "$(dirname "$0")/lib.sh"

a=$TMP/a l=$TMP/l x=$TMP/box
make_team "$a" "$l"
add_box "$a" "$x"
serve "$x"
box=$(addr_of "$x")
lid=$(sat -d "$l" id)
xid=$(sat -d "$x" id)

sat -d "$a" student add "Ana Lopez" --class 3B >/dev/null &&
sat -d "$a" student add "Ben Okafor" --class 3B >/dev/null &&
sat -d "$a" note add "Ben Okafor" --strengths "retells" --obstacle "endings" \
    --action "reread" >/dev/null ||
    bail "the admin writes two students and a note"
sat -d "$a" sync "$box" 2>"$TMP/sync.err" || bail "A syncs with the box" "$TMP/sync.err"
sat -d "$l" sync "$box" 2>"$TMP/sync.err" || bail "L syncs with the box" "$TMP/sync.err"
sat -d "$l" student list >"$TMP/l.list"
check "L holds Ana and Ben" sh -c "grep -q Ana $TMP/l.list && grep -q Ben $TMP/l.list"
# The box writes a receipt about L once each of L's sessions ends (at its
# next tick, stamped with that tick's clock). The receipt of this first
# session is on the admin before L syncs again, so that the one written
# after L's last session is told apart by its time: later than since.
has_receipt() {		# since (ms): a receipt about L stamped then or later
	sat -d "$a" sync "$box" 2>/dev/null &&
	    sat -d "$a" member report "$lid" --json >"$TMP/r.json" 2>/dev/null &&
	    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['receipts'] >= 1 and r['last_sync_ms'] >= $1 else 1)" "$TMP/r.json"
}
wait_for "has_receipt 0" 60 ||
    bail "the box's receipt of L's first session reaches the admin" "$x.log"
since=$(date +%s%3N)
sat -d "$l" note add "Ana Lopez" --strengths "asks" --obstacle "shy" \
    --action "pairs" >/dev/null || bail "L writes a note"
sat -d "$l" sync "$box" 2>"$TMP/sync.err" || bail "L syncs its note to the box" "$TMP/sync.err"

# Later, the admin writes two more students, which L never receives.
sat -d "$a" student add "Cara Diaz" --class 4A >/dev/null &&
sat -d "$a" student add "Dan Wu" --class 4A >/dev/null ||
    bail "the admin writes two more students"

# The admin gets the receipt of L's last session with everything else at
# its next sync; the report rests on it.
wait_for "has_receipt $since" 60 ||
    bail "the box's receipt about L's last session reaches the admin" "$x.log"

json_check() {		# python expression over r (the report), file
	python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$2"
}
check "the report rests on the box's receipt" json_check \
    "r['last_sync_by'] == '$xid' and r['receipts'] >= 1" "$TMP/r.json"
check "it lists exactly the students L received: Ana and Ben, by name and class" \
    json_check "sorted((s['name'], s['class']) for s in r['students']) == [('Ana Lopez', '3B'), ('Ben Okafor', '3B')] and all(s['certain'] for s in r['students'])" "$TMP/r.json"
check "nothing is uncertain, and the report is complete" json_check \
    "r['uncertain'] == [] and r['complete'] is True" "$TMP/r.json"
check "--json: the device, its name, the date of its last sync" json_check \
    "r['device'] == '$lid' and r['name'] == 'Teacher l' and r['last_sync'].endswith('Z') and isinstance(r['last_sync_ms'], int) and len(r['hex']) == 64" "$TMP/r.json"
check "--json: each student's id, name, class, entries, erased" json_check \
    "all(set(s) >= {'id', 'name', 'class', 'certain', 'entries', 'erased'} and len(s['id']) == 32 and s['erased'] is False and s['entries'] >= 1 for s in r['students'])" "$TMP/r.json"
sat -d "$a" member report "$lid" >"$TMP/r.txt" 2>"$TMP/r.err"
check "the text report names Ana and Ben with their class and the last sync" sh -c \
    "grep -q '3B *Ana Lopez' $TMP/r.txt && grep -q '3B *Ben Okafor' $TMP/r.txt && grep -q '^Last sync: 20' $TMP/r.txt"
check "and neither Cara nor Dan" sh -c "! grep -qE 'Cara|Dan' $TMP/r.txt"
check "the box's daemon wrote its receipt without complaint" sh -c \
    "! grep -qiE 'receipt|refused|invalid' $x.log"
sat -d "$a" verify >"$TMP/verify" 2>&1
check "the admin verifies, and applied every receipt" sh -c \
    "! grep -q 'held but not applied' $TMP/verify"
expect_refusal "a box cannot make the report (it reads no names)" \
    -d "$x" member report "$lid"
# The last character changed to another one (an 'X' would stay an 'X').
expect_refusal "a mistyped device id is refused" \
    -d "$a" member report "${lid%?}$([ "${lid: -1}" = X ] && echo Y || echo X)"

# L writes again and its entries reach the admin by a bundle: a session
# that left no receipt, after Cara and Dan were written.
sat -d "$l" note add "Ben Okafor" --strengths "reads" --obstacle "tired" \
    --action "rest" >/dev/null || bail "L writes another note"
sat -d "$l" export "$TMP/l.bundle" 2>/dev/null &&
    sat -d "$a" import "$TMP/l.bundle" >/dev/null 2>&1 ||
    bail "L's bundle reaches the admin"
sat -d "$a" member report "$lid" --json >"$TMP/r2.json" 2>"$TMP/r2.err" ||
    bail "the report after the bundle" "$TMP/r2.err"
check "a session without a receipt makes the report incomplete" json_check \
    "r['complete'] is False" "$TMP/r2.json"
check "it still lists Ana and Ben as held" json_check \
    "sorted(s['name'] for s in r['students'] if s['certain']) == ['Ana Lopez', 'Ben Okafor']" "$TMP/r2.json"
check "and errs towards too many: Cara and Dan as possibly held" json_check \
    "sorted(s['name'] for s in r['students'] if not s['certain']) == ['Cara Diaz', 'Dan Wu']" "$TMP/r2.json"
sat -d "$a" member report "$lid" >"$TMP/r2.txt" 2>/dev/null
check "the text report says so" sh -c \
    "grep -q 'may also have held the records of 2 more' $TMP/r2.txt"

# The admin removes the lost laptop: --lost prints the same report.
sat -d "$a" member remove "$lid" --lost >"$TMP/rm.out" 2>"$TMP/rm.err" ||
    bail "member remove --lost" "$TMP/rm.err"
check "member remove --lost prints the exposure report" sh -c \
    "grep -q '^Exposure report for Teacher l' $TMP/rm.out && grep -q '3B *Ana Lopez' $TMP/rm.out && grep -q 'may also have held the records of 2 more' $TMP/rm.out"
