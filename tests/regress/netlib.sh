# Sourced after lib.sh by tests that run daemons: ports that no outgoing
# connection can take (ports.py: free, below the kernel's ephemeral
# range), and a daemon that does not come up fails the test with its log.
_netlib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Starts `serve` on a free port, trying another if the bind loses a race;
# sets PORT; its log is AT.log and its pid in AT.pid (AT defaults to DIR).
# Any other failure prints the daemon's log and returns 1.
serve_free() {		# dir [at]
	local try pid at=${2:-$1}
	for try in 1 2 3 4 5; do
		PORT=$(python3 "$_netlib_dir/ports.py") || return 1
		: >"$at.log"
		"$SATCHEL" -d "$1" serve --listen "127.0.0.1:$PORT" 2>>"$at.log" &
		pid=$!
		echo "$pid" >"$at.pid"
		wait_for "grep -q 'serving on' '$at.log' || ! kill -0 $pid 2>/dev/null" 300
		if grep -q 'serving on' "$at.log"; then
			PIDS="$PIDS $pid"
			return 0
		fi
		wait "$pid" 2>/dev/null
		grep -q 'address already in use' "$at.log" || break
	done
	sed 's/^/#   /' "$at.log"
	return 1
}
