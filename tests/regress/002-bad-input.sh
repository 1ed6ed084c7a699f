# Bad input from a user: one clear line, exit 2, nothing written.
. "$(dirname "$0")/lib.sh"

sat init --name "Ms. Rivera" >/dev/null
ana=$(sat student add "Ana Lopez" --class 3B)
sat student add "Ana Lopez" --class 4A --same-name >/dev/null	# a second Ana
sat student add "Ben Okafor" >/dev/null
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18; do
	sat student add "Student $i" >/dev/null
done

expect_refusal "unknown id" show 0123456789abcdef
expect_refusal "unknown name" show "Nobody Here"
expect_refusal "ambiguous name" show "Ana Lopez"
# 21 students, 16 hex digits: some first digit is shared.
shared=$(sat student list | cut -c1 | sort | uniq -d | head -1)
expect_refusal "ambiguous prefix" show "$shared"
expect_refusal "missing required field" note add "$ana" --strengths s --obstacle o
expect_refusal "empty required field" note add "$ana" --strengths "" --obstacle o --action a
expect_refusal "bad date" note add "$ana" --strengths s --obstacle o --action a --date 2026-02-30
expect_refusal "bad date format" entry add "$ana" --title t --date 20/11/2026
expect_refusal "unknown flag" student add "Cy" --colour blue
expect_refusal "unknown command" fly
expect_refusal "flag without its value" student add "Cy" --class
expect_refusal "missing argument" note add --strengths s --obstacle o --action a
expect_refusal "extra argument" digest now
big=$(head -c 70000 /dev/zero | tr '\0' 'x')
expect_refusal "field over 64 KiB" student edit "$ana" --needs "$big"
expect_refusal "not UTF-8" student edit "$ana" --needs "$(printf 'bad \377 byte')"
expect_refusal "wrong kind" note edit "$ana" --action a
expect_refusal "group needs a type" group add "G"
expect_refusal "goal check past its checkpoints" goal check "$(sat goal add "$ana" "Goal" --checkpoint 2026-12-01:one)" 2
expect_refusal "bad checkpoint" goal add "$ana" "Goal" --checkpoint "soon:one"
expect_refusal "edit with nothing to change" student edit "$ana"
expect_refusal "restore of an unknown value" restore "$ana" needs ffff:9

expect_refusal "peer add with a name that is no host name" peer add school_box:7420
expect_refusal "peer add with a bad port" peer add 10.0.0.1:99999
expect_refusal "member add with a bad device id" member add 1234 --name "Mr. Kim"
expect_refusal "member add without a name" member add "$(sat id)"
expect_refusal "join with a damaged invite" join satchel-invite:AAAA
expect_refusal "import of a missing file" import "$TMP/no-such.bundle"

mkdir -p "$TMP/notastore"
echo hello >"$TMP/notastore/data.mdb"
before=$(sat digest)
"$SATCHEL" -d "$TMP/notastore" digest >"$TMP/out" 2>"$TMP/err"
rc=$?
check "a directory that is not a store: exit 2, one line" \
    [ "exit $rc, $(wc -l <"$TMP/err") lines" = "exit 2, 1 lines" ]
"$SATCHEL" -d "$TMP/empty" digest >"$TMP/out" 2>"$TMP/err"
rc=$?
check "an empty directory: exit 2, one line, nothing created" \
    [ "exit $rc, $(wc -l <"$TMP/err") lines, $(ls -d "$TMP/empty" 2>/dev/null)" = "exit 2, 1 lines, " ]
check "the real store is untouched" [ "$(sat digest)" = "$before" ]
