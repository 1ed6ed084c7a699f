# Shared by the regression scripts: a private data directory per test and
# TAP helpers. Each script sources this, then calls ok/fail per check.
set -u
: "${SATCHEL:?SATCHEL must name the satchel binary}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/satchel-test.XXXXXX")
PIDS=""
cleanup() {
	[ -n "${KEEP:-}" ] && { echo "# kept $TMP"; for p in $PIDS; do kill "$p" 2>/dev/null; done; return; }
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
export SATCHEL_HOME=$TMP/home
unset SATCHEL_DIR
_tap_n=0

ok()   { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
fail() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $*"; }
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

# A free-looking loopback port range per run; tests only use 127.0.0.1.
PORT_BASE=$((20000 + (RANDOM % 400) * 100))

# Polls a shell condition every 0.1 s, up to tries times.
wait_for() {		# condition, tries
	local i
	for i in $(seq 1 "$2"); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

# Starts a daemon on 127.0.0.1:port, logging to DIR.log; waits until it
# listens.
serve() {		# dir, port
	"$SATCHEL" -d "$1" serve --listen "127.0.0.1:$2" 2>>"$1.log" &
	PIDS="$PIDS $!"
	echo $! >"$1.pid"
	wait_for "grep -q 'serving on' '$1.log'" 100
}

stop() {		# dir
	kill "$(cat "$1.pid")" 2>/dev/null
	wait "$(cat "$1.pid")" 2>/dev/null
}

# A team: the founder at $1, teachers at the rest; prints nothing.
make_team() {		# founder-dir, other-dirs...
	local founder=$1 dir id tok
	shift
	"$SATCHEL" -d "$founder" init --name "Teacher $(basename "$founder")" >/dev/null
	for dir in "$@"; do
		id=$("$SATCHEL" -d "$dir" init --name "Teacher $(basename "$dir")")
		tok=$("$SATCHEL" -d "$founder" member add "$id" --name "Teacher $(basename "$dir")" 2>/dev/null)
		"$SATCHEL" -d "$dir" join "$tok" >/dev/null
	done
}

add_box() {		# founder-dir, box-dir
	local id tok
	id=$("$SATCHEL" -d "$2" init --box)
	tok=$("$SATCHEL" -d "$1" member add "$id" --name "Staff room" --box 2>/dev/null)
	"$SATCHEL" -d "$2" join "$tok" >/dev/null
}
