# One teacher's device, offline: every command and what a teacher sees.
. "$(dirname "$0")/lib.sh"

id=$(sat init --name "Ms. Rivera")
check "init prints the checked device id (8 groups of 7)" sh -c \
    "echo '$id' | grep -Eq '^[A-Z2-7]{7}(-[A-Z2-7]{7}){7}\$'"
check "id prints the same id" [ "$(sat id)" = "$id" ]
check "secret keys are readable only by their owner" \
    [ "$(stat -c %a "$SATCHEL_HOME/identity.key")" = 600 ]
before=$(sat digest)
sat init --name "Again" >/dev/null 2>&1
rc=$?
check "init on an existing store refuses and changes nothing" \
    [ "exit $rc, $(sat id), $(sat digest)" = "exit 2, $id, $before" ]

ana=$(sat student add "Ana Lopez" --class 3B --strengths "retells well" --interests horses)
ben=$(sat student add "Ben Okafor" --class 3B)
cy=$(sat student add "Cy Park" --class 4A)
check "student add prints a 32-hex id" [ "${#ana}" -eq 32 ]
sat student edit "Ana Lopez" --needs "fluency with longer texts" >/dev/null
check "student edit by name" sh -c "$SATCHEL show 'Ana Lopez' | grep -q 'fluency with longer texts'"
sat student edit "${ben:0:6}" --goals "finish a chapter book" >/dev/null
check "student edit by id prefix" sh -c "$SATCHEL show '$ben' | grep -q 'finish a chapter book'"
check "student list --class filters" sh -c \
    "$SATCHEL student list --class 3B | grep -q 'Ana Lopez' && ! $SATCHEL student list --class 3B | grep -q 'Cy Park'"
check "student list --json is an array of 3" sh -c \
    "[ \$($SATCHEL student list --json | grep -o '\"kind\":\"student\"' | wc -l) -eq 3 ]"

note=$(sat note add "Ana Lopez" --strengths "retells the story in order" \
    --obstacle "skips the endings" --action "reread the last page aloud" \
    --date 2026-11-20 --follow-up 2026-12-01)
sat note edit "$note" --action "partner reading of the last page" >/dev/null
older=$(sat note add "$ana" --strengths "s" --obstacle "o" --action "early note" --date 2026-10-01)
entry=$(sat entry add "Ana Lopez" --title "Fractions quiz" --body "7/10" \
    --tag pre-assessment --tag formative --date 2026-11-21)
sat entry edit "$entry" --untag formative --tag post-assessment >/dev/null
grp=$(sat group add "Group A" --same-need --member "Ana Lopez")
sat group join "Group A" "Ben Okafor"
sat group join "Group A" "Cy Park"
sat group leave "Group A" "Cy Park"
goal=$(sat goal add "Ana Lopez" "Read 20 minutes a day" \
    --checkpoint 2026-12-01:"half way" --checkpoint 2027-01-10:"every day")
sat goal check "$goal" 1

sat show "Ana Lopez" >"$TMP/show"
check "show has the profile" grep -q "fluency with longer texts" "$TMP/show"
check "show has the group" grep -q "Group A (same-need)" "$TMP/show"
check "show has the goal and its checked checkpoint" grep -q "1. \[x\] 2026-12-01  half way" "$TMP/show"
check "show has the edited note" grep -q "partner reading of the last page" "$TMP/show"
check "show lists newest first" sh -c \
    "grep -n 'Fractions quiz\|early note\|partner reading' '$TMP/show' | cut -d: -f1 | tr '\n' ' ' | awk '{exit !(\$1 < \$2 && \$2 < \$3)}'"
check "show has current tags only" sh -c \
    "grep -q '#post-assessment' '$TMP/show' && ! grep -q '#formative' '$TMP/show'"
check "group membership: Ben in, Cy out" sh -c \
    "$SATCHEL show 'Ben Okafor' | grep -q 'Group A' && ! $SATCHEL show 'Cy Park' | grep -q 'Group A'"
check "show --json: the student, then groups, goals, notes and entries" sh -c \
    "$SATCHEL show --json 'Ana Lopez' | python3 -c 'import json,sys; p=json.load(sys.stdin); assert p[\"student\"][\"fields\"][\"name\"]==\"Ana Lopez\"; assert len(p[\"groups\"])==1 and len(p[\"goals\"])==1; assert len(p[\"notes_and_entries\"])==3'"
check "every --json output parses as JSON" sh -c \
    "for c in 'student list --json' 'history --json $note' 'conflicts --json' 'search --json endings' 'dump' 'member list --json' 'status --json' 'peer list --json'; do $SATCHEL \$c | python3 -m json.tool >/dev/null || { echo \"bad: \$c\"; exit 1; }; done"

check "search finds a note, any case" sh -c "$SATCHEL search 'SKIPS THE' | grep -q '$note'"
check "search finds an entry" sh -c "$SATCHEL search 'fractions' | grep -q '$entry'"
check "search --json" sh -c "$SATCHEL search --json endings | grep -q '\"id\":\"$note\"'"

sat history "$note" >"$TMP/hist"
check "history shows both writes of action" sh -c \
    "grep -c 'set action' '$TMP/hist' | grep -qx 2"
check "history names this device" grep -q "(Ms. Rivera)" "$TMP/hist"
check "history --json" sh -c "$SATCHEL history --json $note | grep -q '\"op\":\"set\"'"

sat delete "$older"
check "a deleted note leaves show" sh -c "! $SATCHEL show 'Ana Lopez' | grep -q 'early note'"
check "dump still holds it, marked deleted" sh -c "$SATCHEL dump | grep '$older' | grep -q '\"deleted\":true'"
sat undelete "$older"
check "undelete brings it back" sh -c "$SATCHEL show 'Ana Lopez' | grep -q 'early note'"

check "dump is stable" [ "$(sat dump)" = "$(sat dump)" ]
check "digest is 64 hex" sh -c "$SATCHEL digest | grep -qE '^[0-9a-f]{64}$'"
check "conflicts: none on one device" sh -c "$SATCHEL conflicts | grep -q 'no conflicts'"
check "conflicts --json is an empty array" [ "$(sat conflicts --json)" = "[]" ]
check "verify: chains, signatures and replay agree" sh -c "$SATCHEL verify | grep -q '^ok: '"
missing=""
for c in init id "student add" "student edit" "student list" "note add" \
    "note edit" "entry add" "entry edit" "group add" "group edit" \
    "group join" "group leave" "goal add" "goal edit" "goal check" show \
    delete undelete history conflicts restore search dump digest verify \
    "member add" "member list" join "peer add" "peer list" "peer remove" \
    export import serve sync status; do
	sat $c --help | grep -q "example:" || missing="$missing [$c]"
done
check "every command's --help explains it with an example${missing:+ (missing:$missing)}" \
    [ -z "$missing" ]
check "satchel --help lists every command" sh -c "$SATCHEL --help | grep -q 'satchel export FILE'"
check "--version" sh -c "$SATCHEL --version | grep -q '^satchel '"
