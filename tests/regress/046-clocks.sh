# A laptop whose clock is two years ahead (a dead clock battery) syncs with
# a correct laptop and the staff-room box. The correct clocks are not
# dragged along, the skewed laptop is named as the one that is off (on
# stderr of commands, in status and in the log), history marks its
# writes, an edit made after seeing its write still wins, and once its
# clock is set right everything recovers by itself. The skew comes from
# SATCHEL_CLOCK_OFFSET, which only test builds honour.
. "$(dirname "$0")/lib.sh"

# On any failure, the logs are shown at the end.
FAILED=""
fail() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $*"; FAILED=1; }
show_logs() {
	[ -n "$FAILED" ] || return 0
	for f in "$TMP"/*.log "$TMP"/*.err; do
		[ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"
	done
}

a=$TMP/a s=$TMP/s x=$TMP/box
make_team "$a" "$s"
add_box "$a" "$x"
sk() { SATCHEL_CLOCK_OFFSET=+2y "$SATCHEL" -d "$s" "$@"; }

# A port from the kernel; a daemon that does not come up fails the test
# with its log (a port taken meanwhile is retried).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start() {		# dir; sets PORT
	local try pid
	for try in 1 2 3 4 5; do
		PORT=$(free_port)
		"$SATCHEL" -d "$1" serve --listen "127.0.0.1:$PORT" 2>>"$1.log" &
		pid=$!
		if wait_for "grep -q 'serving on 127.0.0.1:$PORT' '$1.log' || ! kill -0 $pid 2>/dev/null" 100 &&
		    kill -0 $pid 2>/dev/null; then
			PIDS="$PIDS $pid"
			echo $pid >"$1.pid"
			return 0
		fi
		grep -q 'cannot listen' "$1.log" || break
	done
	fail "daemon $(basename "$1") starts"
	sed 's/^/#   /' "$1.log"
	exit 1
}
start "$x"; box=127.0.0.1:$PORT
start "$a"; pa=127.0.0.1:$PORT
ms_now() { python3 -c 'import time; print(int(time.time() * 1000))'; }
day=86400000 hour=3600000

ana=$("$SATCHEL" -d "$a" student add "Ana Lopez")
check "A syncs with the box" "$SATCHEL" -d "$a" sync "$box" 2>"$TMP/a.sync.err"
check "the skewed laptop syncs with the box" sk sync "$box" 2>"$TMP/s.sync1.err"
sk student edit "$ana" --needs "written two years ahead" >/dev/null 2>&1
check "the skewed laptop syncs with A" sk sync "$pa" 2>"$TMP/s.sync.err"
check "and with the box again" sk sync "$box" 2>/dev/null
check "A has its write" sh -c "$SATCHEL -d $a show '$ana' 2>/dev/null | grep -q 'written two years ahead'"

# A's clock is not dragged: a write after the sync is stamped today.
"$SATCHEL" -d "$a" student edit "$ana" --interests "written on A after the sync" >/dev/null 2>&1
"$SATCHEL" -d "$a" history "$ana" --json 2>/dev/null >"$TMP/h.json"
stamp=$(jq '[.[] | select(.field == "interests")][-1].stamp_ms' "$TMP/h.json")
now=$(ms_now)
check "A's next write is stamped within a day of its own clock ($stamp vs $now)" \
    [ "$stamp" -le $((now + day)) ]
skewed=$(jq '[.[] | select(.value == "written two years ahead")][0].stamp_ms' "$TMP/h.json")
check "the skewed write carries its writer's clock, two years ahead" \
    [ "$skewed" -gt $((now + 700 * day)) ]

# An edit made after seeing the skewed write wins over it.
"$SATCHEL" -d "$a" student edit "$ana" --needs "A's later edit" >/dev/null 2>&1
check "A's edit made after seeing the skewed one wins" sh -c \
    "$SATCHEL -d $a show '$ana' 2>/dev/null | grep -q \"A's later edit\""
"$SATCHEL" -d "$a" sync "$box" 2>/dev/null
sk sync "$box" 2>/dev/null
check "and wins on the skewed laptop too" sh -c \
    "SATCHEL_CLOCK_OFFSET=+2y $SATCHEL -d $s show '$ana' 2>/dev/null | grep -q \"A's later edit\""
check "both show the same digest" sh -c \
    "[ \"\$($SATCHEL -d $a digest 2>/dev/null)\" = \"\$(SATCHEL_CLOCK_OFFSET=+2y $SATCHEL -d $s digest 2>/dev/null)\" ]"

# Who is off, said everywhere.
sid=$("$SATCHEL" -d "$s" id --hex 2>/dev/null | cut -c1-12)
sk student list >"$TMP/out" 2>"$TMP/err"
check "a command on the skewed laptop still succeeds" [ $? -eq 0 ]
check "and warns on stderr that this device is two years ahead" \
    grep -q "warning: this device's clock is 2 years ahead of its peers'.*date" "$TMP/err"
check "the warning is one line and stdout is untouched" sh -c \
    "[ \$(wc -l <$TMP/err) -eq 1 ] && grep -q 'Ana Lopez' $TMP/out"
"$SATCHEL" -d "$a" student list >"$TMP/out" 2>"$TMP/err"
check "a command on A succeeds" [ $? -eq 0 ]
check "and names the skewed laptop as off on stderr" \
    grep -q "warning: the clock of $sid (Teacher s) is 2 years ahead" "$TMP/err"
check "status on A names it (text)" sh -c \
    "$SATCHEL -d $a status 2>/dev/null | grep -q '^clock    warning: the clock of $sid'"
"$SATCHEL" -d "$a" status --json >"$TMP/st.json" 2>/dev/null
check "status --json on A names it" sh -c \
    "jq -e '.clock.ok == false and .clock.off == \"peer\" and (.clock.device | startswith(\"$sid\"))' $TMP/st.json >/dev/null"
check "status --json on the skewed laptop says this device" sh -c \
    "sk() { SATCHEL_CLOCK_OFFSET=+2y $SATCHEL -d $s \"\$@\"; }; sk status --json 2>/dev/null | jq -e '.clock.off == \"this device\" and .clock.offset_ms > 0' >/dev/null"
check "status on A shows the skewed laptop's clock on its peer line" sh -c \
    "$SATCHEL -d $a status 2>/dev/null | grep -q '^peer .*  $sid.*its clock 2 years ahead'"
check "and its offset in --json" sh -c \
    "jq -e '[.peers[] | select(.device | startswith(\"$sid\"))][0].clock_offset_ms > 700 * 86400000' $TMP/st.json >/dev/null"
check "A's log names the skewed laptop" grep -q "warning: the clock of $sid" "$a.log"
check "the box's log too" grep -q "warning: the clock of $sid" "$x.log"
check "the skewed laptop's sync log says it is off" \
    grep -q "warning: this device's clock is 2 years ahead" "$TMP/s.sync.err"

# history marks the skewed write, by the clock of whoever received it.
"$SATCHEL" -d "$a" history "$ana" 2>/dev/null >"$TMP/h.txt"
check "history on A marks the skewed write" \
    grep -q 'written two years ahead.*\[clock: stamped 2 years after it arrived here' "$TMP/h.txt"
check "and not A's own writes" sh -c \
    "! grep -q \"A's later edit.*clock:\" $TMP/h.txt"
check "history --json says ahead, with when it arrived" sh -c \
    "jq -e '[.[] | select(.value == \"written two years ahead\")][0] | .clock == \"ahead\" and .received_ms > 0' $TMP/h.json >/dev/null"

# The clock is set right: the skewed laptop's warning goes at once (what
# it saw was seen under the wrong clock), its next write is stamped
# today, and its peers' warnings go at its next connection.
"$SATCHEL" -d "$s" student list >/dev/null 2>"$TMP/err"
check "once fixed, the laptop no longer warns" sh -c "! grep -q warning $TMP/err"
"$SATCHEL" -d "$s" student edit "$ana" --goals "written once fixed" >/dev/null 2>&1
check "the fixed laptop syncs with A" "$SATCHEL" -d "$s" sync "$pa" 2>/dev/null
check "and with the box" "$SATCHEL" -d "$s" sync "$box" 2>/dev/null
"$SATCHEL" -d "$a" history "$ana" --json 2>/dev/null >"$TMP/h2.json"
stamp=$(jq '[.[] | select(.value == "written once fixed")][0].stamp_ms' "$TMP/h2.json")
now=$(ms_now)
check "its write after the fix is stamped today, not two years ahead" \
    [ "$stamp" -le $((now + hour)) -a "$stamp" -ge $((now - day)) ]
check "and is not marked" sh -c \
    "jq -e '[.[] | select(.value == \"written once fixed\")][0].clock == \"\"' $TMP/h2.json >/dev/null"
"$SATCHEL" -d "$a" student list >/dev/null 2>"$TMP/err"
check "A no longer warns" sh -c "! grep -q warning $TMP/err"
check "A's status says the clocks agree" sh -c \
    "$SATCHEL -d $a status --json 2>/dev/null | jq -e '.clock.ok' >/dev/null"
check "the fixed laptop's status too" sh -c \
    "$SATCHEL -d $s status --json 2>/dev/null | jq -e '.clock.ok' >/dev/null"
check "history still marks the write made under the wrong clock" \
    grep -q "written two years ahead.*clock:" "$TMP/h.txt"
show_logs
