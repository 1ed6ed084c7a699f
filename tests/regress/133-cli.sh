# The command line as a new user meets it: -d DIR after the command,
# --version in --help, every --help example runs as written, counts
# that are grammatical, blank note parts and a follow-up before the
# note refused, and errors that name their fix (the chmod of a key file,
# the user a folder belongs to, a read-only store).
. "$(dirname "$0")/lib.sh"

D=$TMP/d
sat -d "$D" init --name "Ms. Rivera" >/dev/null
check "-d DIR after the command" grep -q "Ms. Rivera" <(sat status -d "$D")
check "--dir=DIR after the command" grep -q "Ms. Rivera" <(sat status --dir="$D")
check "-d DIR between a command's arguments" \
    grep -q . <(sat student add "Ana Lopez" -d "$D" --class 3B)
check "--version is in --help" grep -q -- "--version" <(sat --help)
check "--help gives the exit codes" grep -q "Exit codes" <(sat --help)

# Every example, run as written against a small store (not serve and
# sync, which would wait on the network). None may fail on its own
# form: an example naming a record that is not here may be refused for
# that, never for a flag or argument.
export SATCHEL_HOME=$D
satchel() { "$SATCHEL" "$@"; }
sat student add "Ben Okafor" --class 3B >/dev/null
sat group add "Group A" --same-need >/dev/null
printf 'name,class\nCara Diaz,3A\n' >"$TMP/roster.csv"
cd "$TMP" || exit 1
sat --help | sed -n 's/^  satchel \([a-z]*\( [a-z]*\)\?\).*/\1/p' | sort -u >"$TMP/cmds"
n=0 bad=0
while read -r cmd; do
	case $cmd in ""|serve|sync|help|init*) continue ;; esac
	ex=$(sat $cmd --help | sed -n 's/^ *example: //p')
	[ -n "$ex" ] || { fail "$cmd --help has an example"; continue; }
	n=$((n + 1))
	eval "$ex" >/dev/null 2>"$TMP/ex.err" </dev/null
	rc=$?
	if [ "$rc" -ne 0 ] && grep -qiE "unknown flag|missing argument|unexpected argument|needs a value|unknown command|usage:" "$TMP/ex.err"; then
		bad=$((bad + 1))
		fail "example of $cmd runs as written: $ex: $(cat "$TMP/ex.err")"
	fi
done <"$TMP/cmds"
check "the $n examples run as written" [ "$bad" -eq 0 ]
check "history takes a name, as its example does" \
    eval "$(sat history --help | sed -n 's/^ *example: //p') >/dev/null"
check "the roster example reads the roster" grep -q "would add Cara Diaz" \
    <(eval "$(sat student import --help | sed -n 's/^ *example: //p')")

# Counts.
sat -d "$TMP/e" init --name "Mr. Kim" >/dev/null
sat -d "$TMP/e" student add "Dan" >/dev/null
out=$(sat -d "$TMP/e" export "$TMP/one.bundle"; sat -d "$TMP/e" status; sat -d "$TMP/e" verify)
check "no \"1 entries\" or \"1 devices\" anywhere" \
    sh -c "! printf '%s' \"\$1\" | grep -qE '(^|[^0-9])1 (entries|devices|peers)'" - "$out"
check "... but \"from 1 device\"" grep -q "from 1 device$" <<<"$out"

# Notes.
expect_refusal "a note whose parts are only blank" \
    note add "Ana Lopez" --strengths " " --obstacle "	" --action "  "
expect_refusal "a note with one blank part" \
    note add "Ana Lopez" --strengths "reads" --obstacle " " --action "x"
expect_refusal "a follow-up before the note's date" \
    note add "Ana Lopez" --strengths a --obstacle b --action c \
    --date 2026-05-01 --follow-up 2026-04-30
n1=$(sat note add "Ana Lopez" --strengths a --obstacle b --action c --date 2026-05-01)
expect_refusal "an edit that moves the follow-up before the date" \
    note edit "$n1" --follow-up 2026-01-01
check "a follow-up on the note's own day is fine" \
    sat note edit "$n1" --follow-up 2026-05-01

# Errors that name their fix.
chmod 644 "$D/identity.key"
sat status >/dev/null 2>"$TMP/err"
check "a key file others can read: names the chmod" \
    grep -q "run chmod 600 $D/identity.key" "$TMP/err"
chmod 600 "$D/identity.key"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	chmod 755 "$TMP"
	nobody "$SATCHEL" -d "$D" status >/dev/null 2>"$TMP/err"
	check "another user's folder: names the user to run as" \
	    grep -q "belongs to the user root.*run Satchel as root" "$TMP/err"
	cp -a "$D" "$TMP/ro"
	chown -R 65534:65534 "$TMP/ro"
	chmod 400 "$TMP/ro/data.mdb"
	nobody "$SATCHEL" -d "$TMP/ro" status >/dev/null 2>"$TMP/err"
	check "a read-only store says read-only, not locked" \
	    grep -q "data.mdb is read-only for this user (mode 0400).*chmod 600" "$TMP/err"
else
	ok "# SKIP not root: the other-user and read-only checks need setpriv"
fi
