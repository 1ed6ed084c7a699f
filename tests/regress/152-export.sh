# student export: a family's right of access. Two teachers write about
# Ana (notes, entries, a unit's score, a goal whose checkpoint moves,
# groups joined and left), one of them a private note; each laptop's
# export holds exactly what that laptop can read, with who wrote each
# part (member name and device id) and when. The colleague's export
# counts the private note without its text. Another child's data stays
# out. Bad input: one line, exit 2, nothing written. The page's API
# gives the same export.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/webapi.sh"

a=$TMP/a b=$TMP/b out=$TMP/out
mkdir -p "$out"
ida=$(sat -d "$a" init --name "Ms Rivera" 2>/dev/null) &&
    idb=$(sat -d "$b" init --name "Mr Kim" 2>/dev/null) &&
    tok=$(sat -d "$a" member add "$idb" --name "Mr Kim" 2>/dev/null) &&
    sat -d "$b" join "$tok" >/dev/null 2>&1 || bail "b could not join"

# q FILE FILTER: the value jq's filter gives.
command -v jq >/dev/null || bail "jq is not installed (make deps)"
q() {			# file, jq filter
	jq -r "$2" "$1"
}

# Ms Rivera writes first; Ben is another child whose data must stay out.
ana=$(sat -d "$a" student add "Ana Lopez" --class 3B --needs fluency)
ben=$(sat -d "$a" student add "Ben Okafor" --class 3B)
team_note=$(sat -d "$a" note add "$ana" --strengths "retells-in-order" --obstacle \
    "skips-endings" --action "reread-last-page" --follow-up 2030-01-10 \
    --student-words "I-like-endings-now" --date 2026-11-02)
sat -d "$a" note add "$ana" --strengths secret-okapi --obstacle secret-ibex \
    --action secret-tapir --private --date 2026-11-03 >/dev/null
sat -d "$a" note add "$ben" --strengths ben-only-walrus --obstacle o \
    --action a >/dev/null
sat -d "$a" unit add Fractions >/dev/null
sat -d "$a" entry add "$ana" --title "Fractions quiz" --unit Fractions \
    --slice pre --score 4 --tag formative --date 2026-11-04 >/dev/null
goal=$(sat -d "$a" goal add "$ana" "Read 20 minutes a day" \
    --checkpoint 2026-12-01:"half way")
sat -d "$a" goal move "$goal" 1 2026-12-15
sat -d "$a" group add "Group A" --same-need --member "$ana" --member "$ben" >/dev/null
sat -d "$a" export "$TMP/a1.bundle" >/dev/null 2>&1 &&
    sat -d "$b" import "$TMP/a1.bundle" >/dev/null 2>&1 || bail "a's bundle"

# Mr Kim adds his own, edits Ms Rivera's note, and moves Ana's group.
sat -d "$b" note add "$ana" --strengths "kim-counts-on" --obstacle o2 \
    --action a2 --date 2026-11-05 >/dev/null
sat -d "$b" entry add "$ana" --title "Reading log" --tag reading \
    --date 2026-11-06 >/dev/null
sat -d "$b" note edit "$team_note" --action "reread-with-a-partner" >/dev/null
sat -d "$b" group add "Group 1" --mixed >/dev/null
sat -d "$b" group move "$ana" "Group A" "Group 1"
# Ana's needs, edited on both laptops apart: a conflict both values of
# which A holds.
sat -d "$a" student edit "$ana" --needs needs-by-rivera
sat -d "$b" student edit "$ana" --needs needs-by-kim
sat -d "$b" export "$TMP/b1.bundle" >/dev/null 2>&1 &&
    sat -d "$a" import "$TMP/b1.bundle" >/dev/null 2>&1 || bail "b's bundle"

sat -d "$a" student export "Ana Lopez" "$out/a.json" >/dev/null
check "A exports Ana" [ $? -eq 0 ]
sat -d "$b" student export "$ana" "$out/b.json" >"$TMP/b.out" 2>"$TMP/b.err"
check "B exports Ana by id" [ $? -eq 0 ]
check "and says where it went" grep -q "to $out/b.json" "$TMP/b.out"
check "and that erasure does not reach it" grep -q "outside Satchel's erasure reach" "$TMP/b.out"
check "the file is mode 0600" [ "$(stat -c %a "$out/a.json")" = 600 ]
check "no temporary file is left beside it" \
    [ "$(ls -A "$out" | wc -l)" -eq 2 ]

A=$out/a.json B=$out/b.json
for f in "$A" "$B"; do
	w=${f##*/}
	check "$w: the header names the format and version 1" [ \
	    "$(q "$f" '.export.format + " " + (.export.version | tostring)')" = \
	    "satchel-student-export 1" ]
	check "$w: exactly the expected parts" [ "$(q "$f" 'keys_unsorted | join(",")')" = \
	    "export,student,merged_records,notes,portfolio_entries,assessments,goals,groups,tags" ]
	check "$w: the student is Ana" [ "$(q "$f" '.student.id')" = "$ana" ]
	check "$w: Ana's profile, its edit history kept" [ \
	    "$(q "$f" '[.student.history[].changes[] | select(.field == "needs") | .value][0]')" = fluency ]
	check "$w: Ben's id and notes are not in it" sh -c \
	    "! grep -q -e '$ben' -e ben-only-walrus -e 'Ben Okafor' '$f'"
	check "$w: an entry with its unit's score" [ \
	    "$(q "$f" '[.assessments[] | .unit + ":" + .slice + ":" + .score] | join(",")')" = \
	    "Fractions:pre:4" ]
	check "$w: both teachers' entries, with their tags" [ \
	    "$(q "$f" '[.portfolio_entries[] | .fields.title.value + "#" + (.tags | join("+"))] | join(",")')" = \
	    "Fractions quiz#formative,Reading log#reading" ]
	check "$w: the tags" [ "$(q "$f" '[.tags[].tag] | join(",")')" = "formative,reading" ]
	check "$w: the goal's checkpoint with its moved date" [ \
	    "$(q "$f" '.goals[0].checkpoints[0] | .date + " from " + ([.dates[].date] | join(" "))')" = \
	    "2026-12-15 from 2026-12-01 2026-12-15" ]
	check "$w: Group A: joined (Ms Rivera), left (Mr Kim)" [ \
	    "$(q "$f" '.groups[] | select(.fields.name.value == "Group A") | [.membership[] | .event + " by " + .by.name] | join(", ")')" = \
	    "joined by Ms Rivera, left by Mr Kim" ]
	check "$w: Group 1: joined by Mr Kim, a member now" [ \
	    "$(q "$f" '.groups[] | select(.fields.name.value == "Group 1") | ([.membership[] | .event + " by " + .by.name] | join(", ")) + " " + (.member_now | tostring)')" = \
	    "joined by Mr Kim true" ]
	check "$w: the three-part note, follow-up and Ana's words, by Ms Rivera's device" [ \
	    "$(q "$f" '.notes[0] | [.fields.strengths.value, .fields.obstacle.value, .fields.follow_up.value, .fields.student_words.value, .created.by.name, .created.by.device] | join(" ")')" = \
	    "retells-in-order skips-endings 2030-01-10 I-like-endings-now Ms Rivera $ida" ]
	check "$w: its action step now Mr Kim's, the first one in its history" [ \
	    "$(q "$f" '.notes[0] | .fields.action.value + " by " + .fields.action.written_by.device + "; was " + ([.history[].changes[] | select(.field == "action") | .value] | join(" then "))')" = \
	    "reread-with-a-partner by $idb; was reread-last-page then reread-with-a-partner" ]
	check "$w: Mr Kim's note, by his device" [ \
	    "$(q "$f" '.notes[] | select(.fields.strengths.value == "kim-counts-on") | .created.by.name + " " + .created.by.device')" = \
	    "Mr Kim $idb" ]
	check "$w: every time is ISO 8601 UTC" sh -c "[ \$(jq -r '[.. | objects | (.at?, .written_at?, .exported_at?) | strings] | map(select(test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\\\.[0-9]{3}Z\$\") | not)) | length' '$f') -eq 0 ]"
done

check "both say when Mr Kim wrote his note, alike" [ \
    "$(q "$A" '.notes[] | select(.fields.strengths.value == "kim-counts-on") | .created.at')" = \
    "$(q "$B" '.notes[] | select(.fields.strengths.value == "kim-counts-on") | .created.at')" ]
check "A's export has both of the conflicting needs, each by its writer" [ \
    "$(q "$A" '.student.fields.needs | [.value, .written_by.name] + [.conflicting[] | .value, .written_by.name] | sort | join(",")')" = \
    "Mr Kim,Ms Rivera,needs-by-kim,needs-by-rivera" ]
check "A's export holds the private note, marked private" [ \
    "$(q "$A" '[.notes[] | select(.private) | .fields.strengths.value] | join(",")')" = secret-okapi ]
check "A's export: three notes, nothing it cannot read" [ \
    "$(q "$A" '(.notes | length | tostring) + " " + (.export.cannot_read.private_entries | tostring)')" = "3 0" ]
check "A's export is by A" [ "$(q "$A" '.export.exported_by.device')" = "$ida" ]
check "B's export is by B" [ "$(q "$B" '.export.exported_by.name + " " + .export.exported_by.device')" = "Mr Kim $idb" ]
check "B's export: two notes, none private" [ \
    "$(q "$B" '(.notes | length | tostring) + " " + ([.notes[] | select(.private)] | length | tostring)')" = "2 0" ]
check "B's export counts Ms Rivera's private note, by her" [ \
    "$(q "$B" '.export.cannot_read | (.private_entries | tostring) + " " + .by[0].author.name + " " + .by[0].author.device')" = \
    "1 Ms Rivera $ida" ]
check "and says so in a line" sh -c "jq -r .export.cannot_read.text '$B' | grep -q 'cannot read 1 private note or entry'"
check "B's export holds no private text" sh -c \
    "! grep -q -e secret-okapi -e secret-ibex -e secret-tapir '$B'"

# Deleted records stay in the export, marked, with their values.
sat -d "$b" delete "$team_note"
sat -d "$b" student export Ana\ Lopez "$out/b2.json" >/dev/null
check "a deleted note is marked, with who deleted it, its text still held" [ \
    "$(q "$out/b2.json" ".notes[] | select(.id == \"$team_note\") | (.deleted | tostring) + \" \" + .deleted_by.name + \" \" + .fields.strengths.value")" = \
    "true Mr Kim retells-in-order" ]

# A record merged into Ana (added twice) is hers: its notes come too.
dup=$(sat -d "$b" student add "Ana Lopez" --class 3B --same-name)
sat -d "$b" note add "$dup" --strengths dup-heron --obstacle o --action a >/dev/null
sat -d "$b" student merge "$ana" "$dup" >/dev/null 2>&1
sat -d "$b" student export "$dup" "$out/b3.json" >/dev/null
check "a merged record's export is the student's, with the merged record and its note" [ \
    "$(q "$out/b3.json" '.student.id + " " + .merged_records[0].id + " " + ([.notes[] | select(.fields.strengths.value == "dup-heron")] | length | tostring)')" = \
    "$ana $dup 1" ]
rm -f "$out/b3.json"

# Bad input: one line, exit 2, nothing written.
refused() {		# description, file that must stay as it is, args...
	local d=$1 f=$2 before after rc
	shift 2
	before=$(ls -A "$out"; cat "$f" 2>/dev/null | cksum)
	sat -d "$b" student export "$@" >"$TMP/o" 2>"$TMP/e"
	rc=$?
	after=$(ls -A "$out"; cat "$f" 2>/dev/null | cksum)
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] && [ ! -s "$TMP/o" ] &&
	    [ "$before" = "$after" ]; then
		ok "$d: $(cat "$TMP/e")"
	else
		fail "$d (exit $rc)"; sed 's/^/#   /' "$TMP/e"
	fi
}
refused "an unknown student" "$out/x.json" "Nobody Here" "$out/x.json"
refused "an existing file, without --force" "$B" "Ana Lopez" "$B"
refused "a folder that does not exist" "$out/x.json" "Ana Lopez" "$out/no/such/x.json"
refused "a folder" "$out/x.json" "Ana Lopez" "$out"
check "unknown student: no file" [ ! -e "$out/x.json" ]
sat -d "$b" student export "Ana Lopez" "$B" --force >/dev/null
check "--force replaces the file" [ $? -eq 0 ]
check "with the newer export" [ "$(q "$B" "[.notes[] | select(.deleted)] | length")" = 1 ]
check "still mode 0600" [ "$(stat -c %a "$B")" = 600 ]

# The page's API gives the same export.
serve_page "$a"
is "GET students/ID/export" 200 "$(api GET "/students/$ana/export")"
check "the API's export has A's notes and the private one" [ \
    "$(jq -r '(.notes | length | tostring) + " " + .export.format' "$TMP/body")" = \
    "3 satchel-student-export" ]
is "an unknown student is 404" 404 "$(api GET /students/ffffffffffff/export)"
stop "$a"
