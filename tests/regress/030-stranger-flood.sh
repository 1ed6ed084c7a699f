# Strangers cannot exhaust the daemon: 300 connections from the LAN that
# never finish a handshake (idle, slow, or declaring a 64 KiB message)
# neither stop a member from syncing nor grow the daemon's memory by more
# than a few MB. Ports come from the kernel's view (ports.py: free, below
# the ephemeral range); a daemon that does not come up fails with its log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"
here=$(cd "$(dirname "$0")" && pwd)

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

a=$TMP/a b=$TMP/b
make_team "$a" "$b"
if ! serve_free "$a"; then
	fail "the daemon starts"
	exit 1
fi
ok "the daemon starts on 127.0.0.1:$PORT"
pid=$(cat "$a.pid")

# Warm up: one full sync, so the baseline holds what a sync needs.
"$SATCHEL" -d "$b" student add "Warm Up" --class 1A >/dev/null
check "a member syncs before the flood" "$SATCHEL" -d "$b" sync "127.0.0.1:$PORT" 2>>"$b.sync.log"
sleep 1
base=$(rss_kb "$pid")

python3 "$here/flood.py" 127.0.0.1 "$PORT" 300 "$TMP/flood.ready" "$TMP/flood.stop" &
flood=$!
PIDS="$PIDS $flood"
check "300 stranger connections were opened" wait_for "[ -s '$TMP/flood.ready' ]" 600
echo "# flood: $(cat "$TMP/flood.ready" 2>/dev/null) connections held"

"$SATCHEL" -d "$b" student add "During Flood" --class 1A >/dev/null
check "a member syncs during the flood" "$SATCHEL" -d "$b" sync "127.0.0.1:$PORT" 2>>"$b.sync.log"
check "the daemon took the member's new student" sh -c "'$SATCHEL' -d '$a' show 'During Flood' >/dev/null"
sleep 1
peak=$(hwm_kb "$pid")
grow=$((peak - base))
echo "# daemon RSS: baseline ${base} kB, peak during the flood ${peak} kB (+${grow} kB)"
if [ "$grow" -le 4096 ]; then
	ok "the daemon's memory grew by at most 4 MB during the flood (+${grow} kB)"
else
	fail "the daemon's memory grew by ${grow} kB during the flood"
fi
check "the daemon said it closed the oldest unfinished handshakes" grep -q 'too many unfinished handshakes' "$a.log"
check "strangers' oversized first messages were refused" grep -q 'refused: frame length out of bounds\|more data than a frame may hold' "$a.log"
touch "$TMP/flood.stop"
wait "$flood" 2>/dev/null
check "the daemon is still running" kill -0 "$pid"
echo "1..$_tap_n"
