# student import: a school's roster (CSV, a header row naming the
# columns) becomes student records in one transaction. --dry-run writes
# nothing; importing again changes nothing; a bad row is named by its
# line and nothing is written; a row finds its student by external id,
# else by name and class; empty cells clear nothing.
. "$(dirname "$0")/lib.sh"

sat init --name "Ms. Rivera" >/dev/null
R=$TMP/roster.csv
printf 'Name,Class,Needs,External ID\nAna Lopez,3B,fluency,S1\n"Okafor, Ben",3B,,S2\n\nCara Díaz,3A,"reads\nslowly",\n' >"$R"

before=$(sat digest)
out=$(sat student import "$R" --dry-run)
check "dry-run exits 0 and says what it would add" \
    grep -q "would add 3 students" <<<"$out"
check "dry-run names each row by its line" \
    grep -q "^line 5: would add Cara Díaz (3A)" <<<"$out"
check "dry-run writes nothing" [ "$(sat digest)" = "$before" ]

out=$(sat student import "$R")
check "import adds three students" grep -q "added 3 students" <<<"$out"
check "a quoted cell with a comma is one name" \
    grep -q "Okafor, Ben" <(sat show "Okafor, Ben")
check "a quoted cell spanning lines is one field" \
    grep -q "reads" <(sat show "Cara Díaz")
after=$(sat digest)

out=$(sat student import "$R")
check "importing the same roster again changes nothing" \
    [ "$(sat digest)" = "$after" ]
check "and says so" grep -q "nothing to change (3 students here already)" <<<"$out"

# A bad row anywhere: its line, exit 2, and not even the good rows.
printf 'name,class\nDan,4A\nEve,4A\n"Fay,4A\n' >"$TMP/unclosed.csv"
expect_refusal "an unclosed quote is refused by its line" \
    student import "$TMP/unclosed.csv"
grep -q "line 4" "$TMP/err" && ok "the message names line 4" ||
    fail "the message names line 4: $(cat "$TMP/err")"
printf 'name,class\nDan,4A\nEve\n' >"$TMP/short.csv"
expect_refusal "a row with a cell missing is refused" \
    student import "$TMP/short.csv"
grep -q "line 3" "$TMP/err" && ok "... at line 3" || fail "at line 3: $(cat "$TMP/err")"
printf 'name,class\nDan,4A\n,4A\n' >"$TMP/noname.csv"
expect_refusal "a row without a name is refused" \
    student import "$TMP/noname.csv"
printf 'name,class\nDan,4A\nBad\001,4A\n' >"$TMP/ctl.csv"
expect_refusal "a control character is refused" \
    student import "$TMP/ctl.csv"
printf 'name,grade\nDan,4A\n' >"$TMP/col.csv"
expect_refusal "an unknown column is refused, naming it" \
    student import "$TMP/col.csv"
grep -q "'grade'" "$TMP/err" && ok "... named" || fail "named: $(cat "$TMP/err")"
printf 'name,class\nDan,4A\ndan,4a\n' >"$TMP/twice.csv"
expect_refusal "one student twice in a file is refused" \
    student import "$TMP/twice.csv"
expect_refusal "a file that is not there" student import "$TMP/nope.csv"
check "nothing of the refused files was written" [ "$(sat digest)" = "$after" ]

# The next year's roster: Ana's external id, a new spelling and class;
# an empty cell leaves her needs alone; Ben by his id.
printf '\xef\xbb\xbfexternal_id;name;class;needs\r\nS1;Ana López;4B;\r\nS2;Okafor, Ben;4B;\r\n' >"$TMP/next.csv"
out=$(sat student import "$TMP/next.csv")
check "a semicolon roster with a BOM and CRLF updates by external id" \
    grep -q "updated 2" <<<"$out"
check "Ana is renamed, not added" \
    [ "$(sat student list | grep -c "Ana L")" -eq 1 ]
check "her class follows the roster" grep -q "Ana López  (class 4B)" <(sat show "Ana López")
check "an empty cell cleared nothing" grep -q "fluency" <(sat show "Ana López")

# Two students with one name and class here: the roster cannot tell them
# apart, and says so.
sat student add "Gus Hale" --class 5C >/dev/null
sat student add "Gus Hale" --class 5C --same-name >/dev/null
printf 'name,class,interests\nGus Hale,5C,chess\n' >"$TMP/gus.csv"
expect_refusal "a row matching two students is refused" \
    student import "$TMP/gus.csv"
grep -q "merge them first" "$TMP/err" && ok "... saying to merge them" ||
    fail "saying to merge them: $(cat "$TMP/err")"

# A spreadsheet's trailing empty columns are no columns; a value under
# one is refused.
printf 'name,class,,\nHal Ng,6A,,\n' >"$TMP/trail.csv"
check "trailing empty columns are read as none" \
    grep -q "added 1 student" <(sat student import "$TMP/trail.csv")
printf 'name,class,,\nIda Ng,6A,x,\n' >"$TMP/trail2.csv"
expect_refusal "a value under a column without a name" \
    student import "$TMP/trail2.csv"
