# Text is Unicode: what a user types is normalised to NFC, so "José"
# typed decomposed (as macOS sends it) and composed is one student for
# show, search and name lookup, and is not added twice; search folds case
# (and Latin, Greek and Cyrillic accents) in every script; bidi controls,
# C1 controls and bytes that are not UTF-8 are refused with exit 2 and
# nothing written; joiners are kept; --json is valid UTF-8 JSON; a store
# indexed under the old rules is re-indexed when opened.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:?TOOLS must name the test tools directory}"

nfc=$(printf 'Jos\303\251 Mart\303\255nez')	# é, í composed
nfd=$(printf 'Jose\314\201 Marti\314\201nez')	# e, i + U+0301
sat init --name "Ms. Rivera" >/dev/null
jose=$(sat student add "$nfd" --class 3B)
check "a decomposed name is stored composed" \
    sh -c "\"\$SATCHEL\" show '$jose' --json | grep -qF '\"name\":\"$nfc\"'"
check "show finds it by the composed name" \
    sh -c "\"\$SATCHEL\" show '$nfc' | grep -q '^id $jose'"
check "show finds it by the decomposed name" \
    sh -c "\"\$SATCHEL\" show '$nfd' | grep -q '^id $jose'"
expect_refusal "the same name composed is not a second student" \
    student add "$nfc" --class 3B
expect_refusal "nor decomposed" student add "$nfd"
check "one José in the list" [ "$(sat student list | grep -c Mart)" -eq 1 ]
check "--same-name adds a second one on purpose" \
    sh -c "\"\$SATCHEL\" student add '$nfc' --class 4A --same-name >/dev/null"
expect_refusal "then the name is ambiguous" show "$nfd"

ana=$(sat student add "Ana Lopez")
sat note add "$ana" --strengths "$(printf '\303\211lodie helped her')" \
    --obstacle "$(printf 'the dict\303\251e')" \
    --action "$(printf '\320\264\320\270\320\272\321\202\320\260\320\275\321\202 \316\243\316\277\317\206\316\257\316\261')" >/dev/null
found() { sat search "$1" >/dev/null 2>&1; }
check "search: élodie finds Élodie" found "$(printf '\303\251lodie')"
check "search: DICTÉE finds dictée" found "$(printf 'DICT\303\211E')"
check "search: a decomposed DICTÉE too" found "$(printf 'DICTE\314\201E')"
check "search: accents are ignored on Latin letters" found "ELODIE"
check "search: Cyrillic folds (ДИКТАНТ)" \
    found "$(printf '\320\224\320\230\320\232\320\242\320\220\320\235\320\242')"
check "search: Greek folds (ΣΟΦΙΑ)" found "$(printf '\316\243\316\237\316\246\316\231\316\221')"
check "search: no false match" sh -c "! \"\$SATCHEL\" search zebra 2>/dev/null"

# Refused at input: exit 2, one line, digest unchanged.
rlo=$(printf '\342\200\256')	# U+202E RIGHT-TO-LEFT OVERRIDE
expect_refusal "bidi override in a name" student add "Eve${rlo}gpj.exe"
expect_refusal "bidi isolate in a note" note add "$ana" --strengths s \
    --obstacle o --action "$(printf 'a \342\201\246b\342\201\251')"
expect_refusal "bidi embedding in a tag" entry add "$ana" --title t \
    --tag "$(printf '\342\200\252x')"
expect_refusal "bidi control in a search" search "$(printf 'x\342\200\255')"
expect_refusal "C1 control in a class" student edit "$ana" --class "$(printf '3\302\205B')"
expect_refusal "C0 escape in a body" entry add "$ana" --title t --body "$(printf 'a\033[2Jb')"
expect_refusal "DEL in a group name" group add "$(printf 'G\177')" --mixed
expect_refusal "invalid UTF-8 in a note" note add "$ana" --strengths "$(printf 'bad \377')" \
    --obstacle o --action a
expect_refusal "overlong form" student edit "$ana" --needs "$(printf '\300\257etc')"
expect_refusal "surrogate" goal add "$ana" "$(printf 'read \355\240\200')"
expect_refusal "newline in a name" student add "$(printf 'Two\nLines')"
expect_refusal "tab in a class" student edit "$ana" --class "$(printf '3\tB')"
expect_refusal "newline in a title" entry add "$ana" --title "$(printf 'a\nb')"
expect_refusal "newline in a checkpoint" goal add "$ana" Goal \
    --checkpoint "$(printf '2026-12-01:a\nb')"
expect_refusal "direction mark in a name" student add "$(printf 'Sara\342\200\217')"
expect_refusal "bad text in a member name" member add "$(sat id)" \
    --name "$(printf 'Mr\302\233Kim')"
"$SATCHEL" -d "$TMP/other" init --name "$(printf 'Ms\342\200\256X')" >/dev/null 2>&1
check "bad text in a device name: exit 2, no store" \
    [ "$?" -eq 2 ] && [ ! -e "$TMP/other/data.mdb" ]

# Allowed: joiners, and newline and tab in long text.
persian=$(printf '\331\205\331\207\330\261\342\200\214\330\257\330\247\330\257')	# ZWNJ
hindi=$(printf '\340\244\225\340\245\215\342\200\215\340\244\267\340\244\277\340\244\244\340\244\277')	# ZWJ
check "a Persian name with ZWNJ is taken" sh -c "\"\$SATCHEL\" student add '$persian' >/dev/null"
check "a Devanagari name with ZWJ is taken" sh -c "\"\$SATCHEL\" student add '$hindi' >/dev/null"
check "and found again byte for byte, joiner kept" \
    sh -c "\"\$SATCHEL\" show '$persian' | head -1 | grep -qF '$persian'"
check "the Devanagari one too" \
    sh -c "\"\$SATCHEL\" show '$hindi' | head -1 | grep -qF '$hindi'"
check "newline and tab in a profile field" \
    sat student edit "$ana" --needs "$(printf 'line one\n\tline two')"

# --json is valid UTF-8 JSON, and gives the text back exactly.
body=$(printf 'tab\there\nnew line, \303\251t\303\251, \346\227\245\346\234\254, %s "quoted" \\\\ back' "$persian")
sat entry add "$ana" --title "$(printf 'caf\303\251')" --body "$body" --tag "$(printf '\303\251t\303\251')" >/dev/null
sat show "$ana" --json >"$TMP/show.json"
check "show --json parses, the body round-trips" python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))
bodies = [x["fields"].get("body") for x in d["notes_and_entries"]]
sys.exit(0 if sys.argv[2] in bodies else 1)' "$TMP/show.json" "$body"
check "dump and search --json parse as strict UTF-8" sh -c '
"$SATCHEL" dump >"$1/dump.json" && "$SATCHEL" search "$2" --json >"$1/search.json" &&
python3 -c "import json,sys; [json.load(open(f, encoding=\"utf-8\", errors=\"strict\")) for f in sys.argv[1:]]" "$1/dump.json" "$1/search.json"' \
    sh "$TMP" "$(printf 'CAF\303\211')"

# A store indexed by the old rules (ASCII lower case, a name stored
# decomposed by an older version) is re-indexed once when opened.
old=$("$TOOLS/oldindex" "$SATCHEL_HOME" "$(printf 'ZOE\314\210 \303\205berg')")
check "the old-style store is re-indexed: found by its composed name" \
    sh -c "\"\$SATCHEL\" show '$(printf 'ZO\303\213 \303\205berg')' | grep -q '^id $old'"
check "and by the name José again" sh -c "\"\$SATCHEL\" show '$nfd' 2>&1 | grep -q 'more than one'"
check "student list still lists every student" [ "$(sat student list | wc -l)" -eq 6 ]
check "verify passes" sat verify
