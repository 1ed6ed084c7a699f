# The page's JSON API against the real `satchel serve` (issue #8): every
# endpoint, and its bad input answered 400 (404 for no such record) with
# one line, nothing written; a PATCH naming a version that changed
# meanwhile answered 409 with both values; the command line and the API
# are one set of operations with one validation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/webapi.sh"

A="$SATCHEL -d $TMP/a" B="$SATCHEL -d $TMP/b"
make_team "$TMP/a" "$TMP/b"
serve_page "$TMP/a"
digest() { $A digest; }
# Nothing written: the digest is the one before.
unchanged() { [ "$(digest)" = "$before" ]; }

check "api.key is 64 hex digits, mode 0600" sh -c "[ \$(stat -c %a '$TMP/a/api.key') = 600 ] && grep -qxE '[0-9a-f]{64}' '$TMP/a/api.key'"
is "GET status" 200 "$(api GET /status)"
check "status names this device" sh -c "grep -q '\"name\":\"Teacher a\"' '$TMP/body'"

# --- students ---
is "POST students" 201 "$(api POST /students '{"name":"Ana Lopez","class":"3B","needs":"fluency"}')"
ana=$(jget 'd["id"]')
is "a second student" 201 "$(api POST /students '{"name":"Ben Okafor","class":"3B"}')"
ben=$(jget 'd["id"]')
api POST /students '{"name":"Cleo","class":"4A"}' >/dev/null
before=$(digest)
is "a name a student has already: 400" 400 "$(api POST /students '{"name":"Ana Lopez"}')"
check "with the command line's words" grep -q "exists already" "$TMP/body"
is "no name: 400" 400 "$(api POST /students '{"class":"3B"}')"
is "a name with a line break: 400" 400 "$(api POST /students '{"name":"Ana\nLopez"}')"
check "naming the field, not a flag" sh -c "grep -q '\"error\":\"name:' '$TMP/body'"
is "an unknown member: 400" 400 "$(api POST /students '{"name":"Dan","age":9}')"
is "a wrong type: 400" 400 "$(api POST /students '{"name":7}')"
is "not JSON: 400" 400 "$(api POST /students '{"name":')"
is "a duplicate member: 400" 400 "$(api POST /students '{"name":"Dan","name":"Eve"}')"
is "an array, not an object: 400" 400 "$(api POST /students '["Dan"]')"
check "nothing was written by any of them" unchanged
is "same_name makes another Ana" 201 "$(api POST /students '{"name":"Ana Lopez","same_name":true}')"
api DELETE "/records/$(jget 'd["id"]')" >/dev/null
is "GET students" 200 "$(api GET /students)"
check "lists them by name" sh -c "[ \"\$(python3 -c \"import json; print([s['fields']['name'] for s in json.load(open('$TMP/body'))['students']])\")\" = \"['Ana Lopez', 'Ben Okafor', 'Cleo']\" ]"
is "GET students?class=3B" 200 "$(api GET '/students?class=3B')"
check "gives the class only" sh -c "[ \$(python3 -c \"import json; print(len(json.load(open('$TMP/body'))['students']))\") = 2 ]"

# --- notes and entries ---
is "POST notes" 201 "$(api POST /notes '{"student":"Ana Lopez","strengths":"retells in order","obstacle":"skips endings","action":"reread the last page","date":"2020-01-01","follow_up":"2020-01-02","student_words":"I like endings now"}')"
note=$(jget 'd["id"]')
check "the command line shows it, with her words" sh -c "$A show 'Ana Lopez' | grep -q 'in words:  I like endings now'"
before=$(digest)
is "a note without action: 400" 400 "$(api POST /notes '{"student":"Ana Lopez","strengths":"s","obstacle":"o"}')"
is "a note for no student: 404" 404 "$(api POST /notes '{"student":"Nobody","strengths":"s","obstacle":"o","action":"a"}')"
is "a note with a bad date: 400" 400 "$(api POST /notes '{"student":"Ana Lopez","strengths":"s","obstacle":"o","action":"a","date":"2026-02-30"}')"
is "a note with an empty part: 400" 400 "$(api POST /notes '{"student":"Ana Lopez","strengths":"","obstacle":"o","action":"a"}')"
is "a note with a bidi override: 400" 400 "$(api POST /notes '{"student":"Ana Lopez","strengths":"a\u202eb","obstacle":"o","action":"a"}')"
check "nothing was written by any of them" unchanged
is "POST units" 201 "$(api POST /units '{"name":"Fractions","from":"2026-11-02","until":"2026-12-11"}')"
unit=$(jget 'd["id"]')
is "a unit ending before it starts: 400" 400 "$(api POST /units '{"name":"X","from":"2026-12-02","until":"2026-11-11"}')"
is "POST entries, a pre-assessment" 201 "$(api POST /entries '{"student":"Ana Lopez","title":"Quiz 1","unit":"Fractions","slice":"pre","score":"4","tags":["fractions"]}')"
entry=$(jget 'd["id"]')
api POST /entries '{"student":"Ana Lopez","title":"Check","unit":"Fractions","slice":"formative","score":"6"}' >/dev/null
is "and a post-assessment" 201 "$(api POST /entries '{"student":"Ana Lopez","title":"Quiz 2","unit":"Fractions","slice":"post","score":"8.5"}')"
before=$(digest)
is "a slice that is none: 400" 400 "$(api POST /entries '{"student":"Ana Lopez","title":"Q","unit":"Fractions","slice":"mid"}')"
is "a score that is no number: 400" 400 "$(api POST /entries '{"student":"Ana Lopez","title":"Q","unit":"Fractions","score":"lots"}')"
is "a slice with no unit: 400" 400 "$(api POST /entries '{"student":"Ana Lopez","title":"Q","slice":"pre"}')"
is "a unit that is none: 404" 404 "$(api POST /entries '{"student":"Ana Lopez","title":"Q","unit":"Geometry"}')"
is "tags that are not text: 400" 400 "$(api POST /entries '{"student":"Ana Lopez","title":"Q","tags":[1]}')"
check "nothing was written by any of them" unchanged
check "the command line takes --unit, --slice, --score too" sh -c "$A entry add 'Ben Okafor' --title 'Quiz 1' --unit Fractions --slice pre --score 5 >/dev/null"
check "and refuses what the API refuses, in the same words" sh -c "$A entry add 'Ben Okafor' --title Q --unit Fractions --slice mid 2>&1 | grep -q \"'mid' is not one of the allowed values\""
is "GET units" 200 "$(api GET /units)"
is "GET units/{id}: the unit view" 200 "$(api GET "/units/$unit")"
check "pre -> formatives -> post and the growth" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body'))
r=[s for s in d['students'] if s['name']=='Ana Lopez'][0]
assert r['pre']['fields']['score']=='4' and len(r['formatives'])==1 and r['post']['fields']['score']=='8.5' and r['growth']==4.5, r\""
is "a unit that is none: 404" 404 "$(api GET /units/nothing)"

# --- the student's page ---
for i in 1 2 3 4 5; do $A note add "Ana Lopez" --strengths "s$i" --obstacle o --action a --date "2026-10-0$i" >/dev/null; done
is "GET students/{id}" 200 "$(api GET "/students/$ana?limit=3")"
check "notes and entries newest first, a page of 3, with the total" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body'))
assert len(d['items'])==3 and d['total']==9 and d['student']['fields']['needs']=='fluency', d
dates=[i['fields']['date'] for i in d['items']]; assert dates==sorted(dates, reverse=True), dates\""
is "the next page" 200 "$(api GET "/students/$ana?limit=3&offset=7")"
check "holds the oldest two (the note of 2020 last)" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body')); assert [i['fields']['strengths'] for i in d['items']]==['s1','retells in order'], d['items']\""
is "by name" 200 "$(api GET '/students/Ana%20Lopez')"
is "a student that is none: 404" 404 "$(api GET /students/zzzz)"
is "a limit that is no number: 400" 400 "$(api GET "/students/$ana?limit=x")"

# --- PATCH with versions ---
is "GET records/{id}" 200 "$(api GET "/records/$ana")"
ver=$(jget 'd["versions"]["needs"]')
is "PATCH naming the version shown" 200 "$(api PATCH "/records/$ana" "{\"set\":{\"needs\":\"decoding\"},\"versions\":{\"needs\":\"$ver\"}}")"
check "changes it" sh -c "$A show '$ana' | grep -q 'needs: *decoding'"
before=$(digest)
is "PATCH naming the old version again: 409" 409 "$(api PATCH "/records/$ana" "{\"set\":{\"needs\":\"spelling\"},\"versions\":{\"needs\":\"$ver\"}}")"
check "with both values and the version now" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body'))
assert d['field']=='needs' and d['yours']=='spelling' and d['theirs']=='decoding' and d['version'], d\""
check "nothing was written" unchanged
# A sync brings a colleague's edit between the page's read and its save.
api GET "/records/$ana" >/dev/null; ver=$(jget 'd["versions"]["class"]')
$A export "$TMP/x.bundle" >/dev/null && $B import "$TMP/x.bundle" >/dev/null
$B student edit "$ana" --class 3C >/dev/null
$B export "$TMP/y.bundle" >/dev/null && $A import "$TMP/y.bundle" >/dev/null
is "a field a sync changed meanwhile: 409" 409 "$(api PATCH "/records/$ana" "{\"set\":{\"class\":\"3D\"},\"versions\":{\"class\":\"$ver\"}}")"
check "theirs is the synced value" sh -c "grep -q '\"theirs\":\"3C\"' '$TMP/body'"
is "PATCH of a field the kind lacks: 400" 400 "$(api PATCH "/records/$ana" '{"set":{"title":"x"}}')"
is "PATCH of nothing: 400" 400 "$(api PATCH "/records/$ana" '{}')"
is "PATCH adds a tag" 200 "$(api PATCH "/records/$entry" '{"add":["pre-assessment"]}')"
check "the tag is there" sh -c "grep -q 'pre-assessment' '$TMP/body'"
is "PATCH of no record: 404" 404 "$(api PATCH /records/ffff '{"set":{"needs":"x"}}')"
is "DELETE records/{id}" 200 "$(api DELETE "/records/$note")"
is "deleting it twice: 400" 400 "$(api DELETE "/records/$note")"
is "POST records/{id}/undelete" 200 "$(api POST "/records/$note/undelete")"
is "GET records/{id}/history" 200 "$(api GET "/records/$ana/history")"
check "lists every change with who made it" sh -c "grep -q '\"value\":\"decoding\"' '$TMP/body' && grep -q '\"by\":\"Teacher b\"' '$TMP/body'"

# --- search, follow-ups ---
is "GET search" 200 "$(api GET '/search?q=retell%20end')"
check "finds the note" sh -c "grep -q '$note' '$TMP/body'"
is "search for nothing: 400" 400 "$(api GET '/search?q=')"
$A note add "Ben Okafor" --strengths s --obstacle o --action a --follow-up "$(date +%Y-%m-%d)" >/dev/null
is "GET followups" 200 "$(api GET /followups)"
check "today's and the overdue, with the student's name" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body'))
assert [n['student_name'] for n in d['due']]==['Ben Okafor'] and [n['student_name'] for n in d['overdue']]==['Ana Lopez'], d\""

# --- groups and rotation ---
is "POST groups, a lettered one" 201 "$(api POST /groups '{"name":"Group A","type":"same-need","members":["Ana Lopez","Ben Okafor"]}')"
is "and a numbered one" 201 "$(api POST /groups '{"name":"Group 1","type":"mixed"}')"
before=$(digest)
is "a group of no type: 400" 400 "$(api POST /groups '{"name":"Group B","type":"tracked"}')"
is "a member who is none: 404" 404 "$(api POST /groups '{"name":"Group B","type":"mixed","members":["Nobody"]}')"
check "nothing was written" unchanged
is "POST groups/move" 200 "$(api POST /groups/move '{"student":"Ben Okafor","from":"Group A","to":"Group 1"}')"
is "GET groups" 200 "$(api GET /groups)"
check "Ben moved, with his name" sh -c "python3 -c \"
import json; g={x['fields']['name']: [m['name'] for m in x['members']] for x in json.load(open('$TMP/body'))['groups']}
assert g=={'Group A': ['Ana Lopez'], 'Group 1': ['Ben Okafor']}, g\""
before=$(digest)
is "moving him from a group he is not in: 400" 400 "$(api POST /groups/move '{"student":"Ben Okafor","from":"Group A","to":"Group 1"}')"
check "nothing was written (not even half a move)" unchanged
is "GET rotation" 200 "$(api GET '/rotation?weeks=3')"
check "counts same-need and mixed groups per student" sh -c "python3 -c \"
import json; r={x['name']: x for x in json.load(open('$TMP/body'))['students']}
assert r['Ana Lopez']['same_need']==1 and r['Ben Okafor']['mixed']==1 and not r['Ana Lopez']['flagged'], r\""
# Cleo joined a same-need group six weeks ago (by the clock of the
# entry that put her there): past the threshold of 3 weeks, not of 8.
SATCHEL_CLOCK_OFFSET=-42d $A group add "Group C" --same-need --member "Cleo" >/dev/null 2>&1
api GET '/rotation?weeks=3' >/dev/null
check "a student kept in one same-need group past the threshold is flagged" sh -c "python3 -c \"
import json; r={x['name']: x for x in json.load(open('$TMP/body'))['students']}
assert r['Cleo']['flagged'] and r['Cleo']['groups'][0]['weeks']==6 and not r['Ana Lopez']['flagged'], r\""
api GET '/rotation?weeks=8' >/dev/null
check "and not with a threshold of 8 weeks" sh -c "python3 -c \"
import json; r={x['name']: x for x in json.load(open('$TMP/body'))['students']}
assert not r['Cleo']['flagged'], r\""
is "weeks that are none: 400" 400 "$(api GET '/rotation?weeks=0')"
is "a period that is no date: 400" 400 "$(api GET '/rotation?from=yesterday')"

# --- goals and checkpoints ---
is "POST goals" 201 "$(api POST /goals '{"student":"Ana Lopez","text":"Read 20 minutes a day","checkpoints":{"2026-12-01":"half way"}}')"
goal=$(jget 'd["id"]')
is "POST goals/{id}/checkpoints" 200 "$(api POST "/goals/$goal/checkpoints" '{"date":"2027-01-15","text":"every day"}')"
is "tick checkpoint 1" 200 "$(api PATCH "/goals/$goal/checkpoints/1" '{"done":true}')"
is "move checkpoint 2" 200 "$(api PATCH "/goals/$goal/checkpoints/2" '{"date":"2027-01-22"}')"
is "GET records/{goal}" 200 "$(api GET "/records/$goal")"
check "ticked and moved" sh -c "python3 -c \"
import json; c=json.load(open('$TMP/body'))['checkpoints']
assert c[0]['done'] and not c[1]['done'] and c[1]['date']=='2027-01-22', c\""
api GET "/records/$goal/history" >/dev/null
check "the moved date keeps its history" sh -c "grep -q '2027-01-15' '$TMP/body' && grep -q '2027-01-22' '$TMP/body'"
before=$(digest)
is "a checkpoint that is none: 400" 400 "$(api PATCH "/goals/$goal/checkpoints/3" '{"done":true}')"
is "a checkpoint number that is none: 404" 404 "$(api PATCH "/goals/$goal/checkpoints/x" '{"done":true}')"
is "a moved date that is none: 400" 400 "$(api PATCH "/goals/$goal/checkpoints/1" '{"date":"soon"}')"
is "a goal without text: 400" 400 "$(api POST /goals '{"student":"Ana Lopez","text":""}')"
check "nothing was written" unchanged
check "goal move on the command line does the same" sh -c "$A goal move '$goal' 1 2026-12-08 && $A show 'Ana Lopez' | grep -q '2026-12-08'"

# --- conflicts ---
$A export "$TMP/x.bundle" >/dev/null && $B import "$TMP/x.bundle" >/dev/null
$A student edit "Ben Okafor" --needs "from A" >/dev/null
$B student edit "Ben Okafor" --needs "from B" >/dev/null
$B export "$TMP/y.bundle" >/dev/null && $A import "$TMP/y.bundle" >/dev/null
is "GET conflicts" 200 "$(api GET /conflicts)"
check "shows both values, who and when" sh -c "python3 -c \"
import json; c=json.load(open('$TMP/body'))['conflicts']
v=sorted(x['value'] for x in c[0]['values']); assert c[0]['field']=='needs' and v==['from A','from B'], c
assert all(x['by'] and x['stamp_ms'] for x in c[0]['values'])\""
lost=$(jget '[v for v in d["conflicts"][0]["values"] if not v["kept"]][0]["version"]')
lostval=$(jget '[v for v in d["conflicts"][0]["values"] if not v["kept"]][0]["value"]')
before=$(digest)
is "restore of a version that is none: 400" 400 "$(api POST /conflicts/restore "{\"record\":\"$ben\",\"field\":\"needs\",\"version\":\"abc:9\"}")"
check "nothing was written" unchanged
is "POST conflicts/restore keeps the other" 200 "$(api POST /conflicts/restore "{\"record\":\"$ben\",\"field\":\"needs\",\"version\":\"$lost\"}")"
check "which settles it" sh -c "$A conflicts | grep -q 'no conflicts' && $A show 'Ben Okafor' | grep -q 'needs: *$lostval'"

# --- members ---
is "GET members" 200 "$(api GET /members)"
check "both teachers" sh -c "grep -q 'Teacher a' '$TMP/body' && grep -q 'Teacher b' '$TMP/body'"
cid=$($SATCHEL -d "$TMP/c" init --name "Teacher c")
before=$(digest)
# The last character changed to another one (an 'A' stays an 'A' one
# time in 32: then a 'B').
typo=${cid%?}$([ "${cid: -1}" = A ] && echo B || echo A)
is "an invite for an id with a typo: 400" 400 "$(api POST /members/invite "{\"device\":\"$typo\",\"name\":\"Teacher c\"}")"
check "saying which part to check" grep -q "check" "$TMP/body"
is "POST members/invite" 201 "$(api POST /members/invite "{\"device\":\"$cid\",\"name\":\"Teacher c\"}")"
check "whose invite joins" sh -c "$SATCHEL -d '$TMP/c' join '$(jget 'd["invite"]')' >/dev/null"

# --- editing, deleting and scope: what the page edits ---
api GET "/records/$note" >/dev/null
nver=$(jget 'd["versions"]["action"]')
is "PATCH a note's action step" 200 "$(api PATCH "/records/$note" "{\"set\":{\"action\":\"reread it aloud\"},\"versions\":{\"action\":\"$nver\"}}")"
check "the command line shows the edit" sh -c "$A show 'Ana Lopez' | grep -q 'reread it aloud'"
is "PATCH an entry: title, score, a tag off and one on" 200 "$(api PATCH "/records/$entry" '{"set":{"title":"Quiz 1b","score":"5"},"add":["retest"],"remove":["fractions"]}')"
check "title, score and tags as asked" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body'))
assert d['fields']['title']=='Quiz 1b' and d['fields']['score']=='5' and sorted(d['sets']['tags'])==['pre-assessment','retest'], d\""
api GET /groups >/dev/null
grpa=$(jget '[g["id"] for g in d["groups"] if g["fields"]["name"]=="Group A"][0]')
api GET /students >/dev/null
cleo=$(jget '[s["id"] for s in d["students"] if s["fields"]["name"]=="Cleo"][0]')
before=$(digest)
is "a note's follow-up moved before its date: 400" 400 "$(api PATCH "/records/$note" '{"set":{"follow_up":"2019-12-31"}}')"
is "an entry's slice that is none: 400" 400 "$(api PATCH "/records/$entry" '{"set":{"slice":"middle"}}')"
is "a unit's end moved before its start: 400" 400 "$(api PATCH "/records/$unit" '{"set":{"until":"2026-11-01"}}')"
check "in one line naming both dates" sh -c "grep -q 'until 2026-11-01 is before from 2026-11-02' '$TMP/body' && [ \$(wc -l <'$TMP/body') -le 1 ]"
is "a group's start moved after its end: 400" 400 "$(api PATCH "/records/$grpa" '{"set":{"from":"2026-12-20","until":"2026-12-01"}}')"
is "a group's date that is none: 400" 400 "$(api PATCH "/records/$grpa" '{"set":{"from":"someday"}}')"
is "a group's type is not edited: 400" 400 "$(api PATCH "/records/$grpa" '{"set":{"type":"mixed"}}')"
is "undeleting a record not deleted: 400" 400 "$(api POST "/records/$cleo/undelete")"
is "deleting no record: 404" 404 "$(api DELETE /records/ffff)"
is "students/{id}?deleted=2: 400" 400 "$(api GET "/students/$ana?deleted=2")"
check "nothing was written by any of them" unchanged
check "the command line refuses the same unit edit" sh -c "! $A unit edit '$unit' --until 2026-11-01 2>'$TMP/err' && grep -q 'is before from' '$TMP/err'"
is "PATCH a unit's name and dates" 200 "$(api PATCH "/records/$unit" '{"set":{"name":"Fractions and decimals","from":"2026-11-09","until":"2026-12-18"}}')"
api GET /units >/dev/null
check "the units list shows them" sh -c "python3 -c \"
import json; u=json.load(open('$TMP/body'))['units'][0]['fields']
assert u=={'name':'Fractions and decimals','from':'2026-11-09','until':'2026-12-18'}, u\""
is "PATCH a group's dates" 200 "$(api PATCH "/records/$grpa" '{"set":{"from":"2026-11-02","until":"2026-12-11"}}')"
api GET /groups >/dev/null
check "the groups list shows them" sh -c "python3 -c \"
import json; g=[g['fields'] for g in json.load(open('$TMP/body'))['groups'] if g['id']=='$grpa'][0]
assert g['from']=='2026-11-02' and g['until']=='2026-12-11', g\""
is "DELETE a student" 200 "$(api DELETE "/records/$cleo")"
api GET /students >/dev/null
check "the class list leaves her out" sh -c "! grep -q Cleo '$TMP/body'"
is "her page still answers, saying deleted" 200 "$(api GET "/students/$cleo")"
check "deleted: true" sh -c "python3 -c \"
import json; assert json.load(open('$TMP/body'))['student']['deleted']\""
is "POST undelete brings her back" 200 "$(api POST "/records/$cleo/undelete")"
check "in the class list again" sh -c "$A student list | grep -q Cleo"
is "DELETE a goal" 200 "$(api DELETE "/records/$goal")"
is "and an entry" 200 "$(api DELETE "/records/$entry")"
api GET "/students/$ana" >/dev/null
check "her page leaves it out" sh -c "python3 -c \"
import json; assert json.load(open('$TMP/body'))['goals']==[]\""
is "students/{id}?deleted=1" 200 "$(api GET "/students/$ana?deleted=1")"
check "lists them, marked deleted" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body')); g=d['goals']; e=d['deleted_items']
assert len(g)==1 and g[0]['deleted'] and [x['id'] for x in e]==['$entry'] and e[0]['deleted'], d\""
is "GET deleted?kind=entry" 200 "$(api GET '/deleted?kind=entry')"
check "lists the entry alone" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body'))['deleted']; assert [x['id'] for x in d]==['$entry'], d\""
is "GET deleted" 200 "$(api GET /deleted)"
check "lists the goal too, and the second Ana deleted at the start" sh -c "python3 -c \"
import json; d=json.load(open('$TMP/body'))['deleted']; k=sorted(x['kind'] for x in d)
assert {'$entry','$goal'} <= {x['id'] for x in d} and k==['entry','goal','student'], d\""
is "deleted of a kind that is none: 400" 400 "$(api GET '/deleted?kind=pupil')"
is "deleted of members: 400" 400 "$(api GET '/deleted?kind=member')"
api POST "/records/$goal/undelete" >/dev/null
api POST "/records/$entry/undelete" >/dev/null
is "GET scope" 200 "$(api GET /scope)"
check "team, as satchel scope says" sh -c "[ '$(jget 'd["scope"]')' = team ] && [ \$($A scope) = team ]"
is "PUT scope of no such scope: 400" 400 "$(api PUT /scope '{"scope":"secret"}')"
check "in the command line's words" grep -q "neither private nor team" "$TMP/body"
is "PUT scope with nothing: 400" 400 "$(api PUT /scope '{}')"
is "POST scope: 405" 405 "$(api POST /scope '{"scope":"team"}')"
check "the default is still team" sh -c "[ \$($A scope) = team ]"
is "PUT scope private" 200 "$(api PUT /scope '{"scope":"private"}')"
check "the command line says private" sh -c "[ \$($A scope) = private ]"
is "a note with no scope given" 201 "$(api POST /notes '{"student":"Ben Okafor","strengths":"counts on","obstacle":"o","action":"a"}')"
pnote=$(jget 'd["id"]')
is "GET it" 200 "$(api GET "/records/$pnote")"
check "is private" sh -c "[ '$(jget 'd["scope"]')' = private ]"
is "PUT scope team" 200 "$(api PUT /scope '{"scope":"team"}')"
is "an entry asked private" 201 "$(api POST /entries '{"student":"Ben Okafor","title":"My own list","scope":"private"}')"
is "an entry asked nothing" 201 "$(api POST /entries '{"student":"Ben Okafor","title":"Team list"}')"
api GET "/students/$ben" >/dev/null
check "the student's page gives each item's scope" sh -c "python3 -c \"
import json; s={i['fields'].get('title') or i['fields'].get('strengths'): i['scope'] for i in json.load(open('$TMP/body'))['items']}
assert s['counts on']=='private' and s['My own list']=='private' and s['Team list']=='team', s\""
check "show marks the private ones, and only those" sh -c "out=\$($A show 'Ben Okafor'); [ \$(echo \"\$out\" | grep -c '(private)\$') = 2 ] && echo \"\$out\" | grep 'Team list' | grep -vq private"

# --- events, the rest ---
is "GET events" 200 "$(api GET /events)"
seq=$(jget 'd["seq"]')
curl -s -H "Authorization: Bearer $KEY" "http://$PAGE/api/v1/events?since=$seq" >"$TMP/events" &
PIDS="$PIDS $!"
sleep 0.3
$A note add "Cleo" --strengths s --obstacle o --action "from the command line" >/dev/null
wait_for "grep -q seq '$TMP/events'" 30
check "an events request waiting is answered when another process writes" sh -c "python3 -c \"
import json; assert json.load(open('$TMP/events'))['seq'] > $seq\""
is "an unknown endpoint: 404" 404 "$(api GET /nothing)"
is "a method an endpoint lacks: 405" 405 "$(api PUT /students '{}')"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$TMP/big"
is "a body over 1 MiB: 413" 413 "$(api POST /students "" --data-binary "@$TMP/big")"
check "verify passes after all of it" sh -c "$A verify >/dev/null"
stop "$TMP/a"
check "the daemon removed http.addr as it stopped" test ! -e "$TMP/a/http.addr"
