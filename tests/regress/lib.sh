# Shared by the regression scripts: a private data directory per test and
# TAP helpers. Each script sources this, then calls ok/fail per check.
set -u
: "${SATCHEL:?SATCHEL must name the satchel binary}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/satchel-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export SATCHEL_HOME=$TMP/home
unset SATCHEL_DIR
n=0

ok()   { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); echo "not ok $n - $*"; }
check() {		# description, command...: passes if the command does
	local d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
sat() { "$SATCHEL" "$@"; }

# Runs satchel expecting a usage error: exit 2, one line on stderr,
# nothing on stdout and no change in digest.
expect_refusal() {	# description, args...
	local d=$1 before after rc lines
	shift
	before=$(sat digest 2>/dev/null)
	sat "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	after=$(sat digest 2>/dev/null)
	lines=$(wc -l <"$TMP/err")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$TMP/out" ] &&
	    [ "$before" = "$after" ]; then
		ok "$d: $(cat "$TMP/err")"
	else
		fail "$d (exit $rc, $lines stderr lines, digest $([ "$before" = "$after" ] && echo same || echo changed))"
		sed 's/^/#   /' "$TMP/err"
	fi
}
