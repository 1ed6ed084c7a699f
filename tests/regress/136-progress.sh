# Progress of a long sync or import: on a terminal a live line, without
# one a line now and then, with --json JSON lines on stdout ending with a
# "done" one; serve logs the progress of a transfer it receives. The
# intervals are shortened here (SATCHEL_PROGRESS_MS, test builds only) so
# that a few hundred entries show it.
. "$(dirname "$0")/lib.sh"

A=$TMP/a B=$TMP/b C=$TMP/c E=$TMP/e D=$TMP/d F=$TMP/f
make_team "$A" "$B" "$D" "$F"
cp -a "$B" "$C"; cp -a "$B" "$E"	# three laptops that lack it all
{ echo "name,class,needs"; for i in $(seq 1 150); do echo "Student $i,3B,reading $i"; done; } >"$TMP/r.csv"
sat -d "$A" student import "$TMP/r.csv" >/dev/null || bail "roster import"
sat -d "$A" export "$TMP/all.bundle" >/dev/null || bail "export"

SATCHEL_PROGRESS_MS=0 sat -d "$B" import "$TMP/all.bundle" --json >"$TMP/imp.json" 2>"$TMP/imp.err"
check "import --json: progress as JSON lines" grep -q '^{"progress":"import","entries":[0-9]*,"bytes":[0-9]*,.*"left_unit":"bytes"}$' "$TMP/imp.json"
check "... the last one says done" grep -q '^{"done":"import"' <(tail -1 "$TMP/imp.json")
check "... and every line is JSON" python3 -c '
import json, sys
for line in open(sys.argv[1]): json.loads(line)' "$TMP/imp.json"
check "the import applied it all" grep -q "Student 150" <(sat -d "$B" student list)

SATCHEL_PROGRESS_MS=0 sat -d "$C" import "$TMP/all.bundle" >"$TMP/imp.out" 2>"$TMP/imp.err"
check "without a terminal: lines of progress on stderr" \
    grep -q "^import: [0-9,]* entr[a-z]*, [0-9.]* MB, [0-9,]* entr[a-z]*/s, [0-9.]* MB left$" "$TMP/imp.err"
check "... and the summary on stdout" grep -q "^imported [0-9]* new entries" "$TMP/imp.out"

if command -v script >/dev/null; then
	SATCHEL_PROGRESS_MS=0 script -qec "'$SATCHEL' -d '$E' import '$TMP/all.bundle'" /dev/null >"$TMP/tty.out" 2>&1
	check "on a terminal: one line rewritten in place" grep -q $'\rimport: ' "$TMP/tty.out"
else
	ok "# SKIP script(1) is not installed"
fi

# A sync: the receiving daemon logs it, the one-shot sync shows it.
SATCHEL_PROGRESS_MS=0 serve "$D"
sat -d "$A" sync "$(addr_of "$D")" >/dev/null 2>&1 || bail "sync to d"
check "serve logs a transfer it receives" grep -q "\(receiving\|received\) [0-9]* entr\|receiving: [0-9]* entr" "$D.log"
stop "$D"
serve "$A"
SATCHEL_PROGRESS_MS=0 sat -d "$F" sync "$(addr_of "$A")" --json >"$TMP/sync.json" 2>"$TMP/sync.err"
check "sync --json: progress lines, with what is left" \
    grep -q '^{"progress":"sync",.*"left":[0-9]*,"left_unit":"entries"}$' "$TMP/sync.json"
check "... ending with done" grep -q '^{"done":"sync"' <(tail -1 "$TMP/sync.json")
check "the sync brought everything" grep -q "Student 150" <(sat -d "$F" student list)
