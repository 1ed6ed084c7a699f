# Shared by the regression scripts: a private data directory per test and
# TAP helpers. Each script sources this, then calls ok/fail per check.
set -u
: "${SATCHEL:?SATCHEL must name the satchel binary}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/satchel-test.XXXXXX")
PIDS=""			# every background process, killed at exit
DAEMONS=""		# data directories of daemons still running
cleanup() {
	local d p i
	for d in $DAEMONS; do stop "$d"; done
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait_for "! any_alive $PIDS" 30 >/dev/null
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
any_alive() {		# pid...
	local p
	for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
	return 1
}
export SATCHEL_HOME=$TMP/home
unset SATCHEL_DIR
# Keys at rest (daemon/keys/keys.c): every teacher's folder a test makes is
# sealed under this passphrase, at Argon2id's least cost (a test build
# only), and no desktop keyring is asked.
printf 'a regress passphrase\n' >"$TMP/passphrase"
chmod 600 "$TMP/passphrase"
export SATCHEL_PASSPHRASE_FILE=$TMP/passphrase SATCHEL_TEST_FAST_KDF=1
export SATCHEL_NO_KEYRING=1
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

# Prints a file's last lines as TAP comments, so that run.sh shows them.
show_log() {		# file, [lines]
	[ -f "$1" ] || { echo "#   ($1 does not exist)"; return; }
	tail -n "${2:-40}" "$1" | sed 's/^/#   /'
}

# Fails the test here and now: a not-ok line, the log that says why, and
# exit (the EXIT trap stops the daemons). For a step that everything
# after it needs, so that nothing passes on top of it by accident.
bail() {		# description, [log file]
	fail "$1"
	[ -n "${2:-}" ] && show_log "$2"
	exit 1
}

# Polls a shell condition until it holds or secs seconds have passed:
# every 0.1 s at first, every 0.5 s after 5 s, so that a long wait does
# not take the CPU from what it waits for. Bounds are generous (a busy
# 2-core box runs the sanitizer build slowly); giving up says which
# condition it was.
wait_for() {		# condition, secs
	local start=$SECONDS end=$((SECONDS + $2))
	until eval "$1"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "# gave up after $2 s waiting for: $1"
			return 1
		fi
		if [ $((SECONDS - start)) -lt 5 ]; then sleep 0.1; else sleep 0.5; fi
	done
}

# Starts a daemon on 127.0.0.1, on a port the kernel picks; logs to
# DIR.log and returns once it listens, with its port in DIR.port (see
# port_of and addr_of). A daemon that does not come up fails the test at
# once, with its log. More arguments go to serve. SERVE_WRAP (a command
# to run it under, such as "ip netns exec NS") and SERVE_LISTEN change
# where it runs and listens.
serve() {		# dir, [more serve arguments]
	local pid end=$((SECONDS + 120)) name=${1##*/}
	rm -f "$1.port"
	${SERVE_WRAP:-} "$SATCHEL" -d "$1" serve --listen \
	    "${SERVE_LISTEN:-127.0.0.1:0}" --port-file "$1.port" "${@:2}" \
	    2>>"$1.log" &
	pid=$!
	PIDS="$PIDS $pid"
	DAEMONS="$DAEMONS $1"
	echo "$pid" >"$1.pid"
	until [ -s "$1.port" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			_forget "$1"
			wait "$pid"
			bail "daemon $name exited ($?) before it listened; its log:" "$1.log"
		fi
		[ "$SECONDS" -ge "$end" ] && _forget "$1" &&
		    bail "daemon $name did not listen within 120 s; its log:" "$1.log"
		sleep 0.05
	done
}

port_of() { cat "$1.port"; }			# dir
addr_of() { echo "127.0.0.1:$(cat "$1.port")"; }	# dir

# The daemon is no longer expected to run.
_forget() {		# dir
	DAEMONS=$(echo "$DAEMONS" | tr ' ' '\n' | grep -vxF -- "$1" | tr '\n' ' ')
	return 0
}

# Stops a daemon with SIGTERM. One that does not stop within 60 s, or
# stops with an error (a sanitizer report, say), fails the test, with its
# log.
stop() {		# dir
	local pid rc name=${1##*/}
	pid=$(cat "$1.pid")
	_forget "$1"
	kill "$pid" 2>/dev/null
	if ! wait_for "! kill -0 $pid 2>/dev/null" 60 >/dev/null; then
		kill -9 "$pid" 2>/dev/null
		fail "daemon $name did not stop within 60 s of SIGTERM; its log:"
		show_log "$1.log"
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "daemon $name ended with status $rc, not 0; its log:"
		show_log "$1.log"
	fi
	return 0
}

# kill -9 of a daemon, as a crash or a power cut would.
crash() {		# dir
	local pid
	pid=$(cat "$1.pid")
	_forget "$1"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# A team: the founder at $1, teachers at the rest; prints nothing. A
# step that fails ends the test, with what it said.
make_team() {		# founder-dir, other-dirs...
	local founder=$1 dir id tok err=$TMP/make_team.err
	shift
	"$SATCHEL" -d "$founder" init --name "Teacher $(basename "$founder")" \
	    >/dev/null 2>"$err" || bail "make_team: init of $founder failed" "$err"
	for dir in "$@"; do
		id=$("$SATCHEL" -d "$dir" init --name "Teacher $(basename "$dir")" 2>"$err") &&
		tok=$("$SATCHEL" -d "$founder" member add "$id" --name "Teacher $(basename "$dir")" 2>"$err") &&
		"$SATCHEL" -d "$dir" join "$tok" >/dev/null 2>"$err" ||
		    bail "make_team: $dir could not join" "$err"
	done
}

add_box() {		# founder-dir, box-dir
	local id tok err=$TMP/add_box.err
	id=$("$SATCHEL" -d "$2" init --box 2>"$err") &&
	tok=$("$SATCHEL" -d "$1" member add "$id" --name "Staff room" --box 2>"$err") &&
	"$SATCHEL" -d "$2" join "$tok" >/dev/null 2>"$err" ||
	    bail "add_box: $2 could not join" "$err"
}
