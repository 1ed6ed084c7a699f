# Daemons of any Satchel release on 127.0.0.1 with ports from the kernel,
# for scripts that run more than one binary. Sourced after lib.sh.

# A port from the kernel: bind port 0 and report what it gave.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

new_has_port_file() { "$SATCHEL" serve --help 2>&1 | grep -q -- --port-file; }

# Starts BIN serve for DIR on 127.0.0.1; writes the port to DIR.port. The
# new binary asks the kernel for the port itself when it can; otherwise a
# port the kernel just gave out is used, and taken again if someone else
# got it first. A daemon that does not come up fails the test with its
# log.
NSTART=0
start() {		# bin, dir
	local bin=$1 dir=$2 try port pid log up
	for try in 1 2 3 4 5; do
		NSTART=$((NSTART + 1))
		log=$dir.serve$NSTART.log
		rm -f "$dir.port"
		if [ "$bin" = "$SATCHEL" ] && new_has_port_file; then
			"$bin" -d "$dir" serve --listen 127.0.0.1:0 \
			    --port-file "$dir.port" 2>>"$log" &
			up="[ -s '$dir.port' ]"
		else
			port=$(free_port)
			"$bin" -d "$dir" serve --listen "127.0.0.1:$port" 2>>"$log" &
			up="grep -q 'serving on' '$log'"
		fi
		pid=$!
		PIDS="$PIDS $pid"
		echo "$pid" >"$dir.pid"
		wait_for "$up || ! kill -0 $pid 2>/dev/null" 300
		if eval "$up" && kill -0 "$pid" 2>/dev/null; then
			[ -s "$dir.port" ] &&
			    port=$(sed 's/.*://; s/[^0-9]//g' "$dir.port")
			echo "$port" >"$dir.port"
			return 0
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		grep -qi 'in use' "$log" || break
	done
	echo "# $(basename "$dir") did not start:"
	sed 's/^/#   /' "$log"
	return 1
}

stop_daemon() {		# dir
	kill "$(cat "$1.pid")" 2>/dev/null
	wait "$(cat "$1.pid")" 2>/dev/null
}

addr() { echo "127.0.0.1:$(cat "$1.port")"; }

# One-shot sync of DIR, running BIN, with the daemon of PEER.
syncs() {		# bin, dir, peer
	"$1" -d "$2" sync "$(addr "$3")" 2>>"$2.sync.log" >/dev/null
}
