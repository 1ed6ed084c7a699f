# The page's sessions survive a restart of satchel serve (issue #8): a
# session cookie keeps working after the daemon restarts, while a locked,
# an expired or a made-up one does not, a used login link stays used, and
# the data directory holds no cookie.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/webapi.sh"

A="$SATCHEL -d $TMP/a"
make_team "$TMP/a"
$A student add "Ana Lopez" >/dev/null
serve_page "$TMP/a"
# login LINK: follows a login link (on the page's port now); the status.
login() {
	curl -s -o /dev/null -D "$TMP/headers" -w '%{http_code}' \
	    "http://$PAGE/${1#http://*/}"
}
# The cookie the last login set.
cookie() {
	sed -n 's/^Set-Cookie: \(satchel_session=[0-9a-f]*\);.*/\1/Ip' \
	    "$TMP/headers" | tr -d '\r'
}
as() {			# cookie, method, path, [body]: status, with the page's Origin
	raw "$2" "/api/v1$3" "${4:-}" -H "Cookie: $1" -H "Origin: http://$PAGE"
}
restart() {		# [serve arguments]
	stop "$TMP/a"
	serve_page "$TMP/a" "$@"
}

link=$($A open --no-browser)
spare=$($A open --no-browser)
is "the link logs in" 303 "$(login "$link")"
first=$(cookie)
is "the session reads" 200 "$(as "$first" GET /students)"
restart
is "after a restart, the session still reads" 200 "$(as "$first" GET /students)"
is "and writes, with the page's Origin" 201 "$(as "$first" POST /students '{"name":"Ben"}')"
is "but not without it" 403 "$(raw POST /api/v1/students '{"name":"Cleo"}' -H "Cookie: $first")"
is "the used link, replayed after the restart: 403" 403 "$(login "$link")"
is "a link made before the restart and not used works once" 303 "$(login "$spare")"
second=$(cookie)
is "and not twice" 403 "$(login "$spare")"
is "a made-up session: 401" 401 "$(as "satchel_session=$(printf '%064d' 7)" GET /students)"
is "a session in capitals: 401" 401 "$(as "$(echo "$first" | sed 's/=\(.*\)/=\U\1/')" GET /students)"
check "the data directory holds neither cookie" sh -c "! grep -rqa -e '${first#*=}' -e '${second#*=}' '$TMP/a'"

is "lock the second session" 200 "$(as "$second" POST /lock)"
restart
is "a locked session stays locked after a restart" 401 "$(as "$second" GET /students)"
is "the other still reads" 200 "$(as "$first" GET /students)"

# Idle past 30 minutes while the daemon was down: expired, and deleted.
stop "$TMP/a"
export SATCHEL_CLOCK_OFFSET=+31m
serve_page "$TMP/a"
unset SATCHEL_CLOCK_OFFSET
is "a session idle past --http-idle across a restart: 401" 401 "$(as "$first" GET /students)"
restart
is "and it was deleted: 401 with the clock back where it was" 401 "$(as "$first" GET /students)"
is "the key still works" 200 "$(api GET /students)"
is "a new link, a new session" 303 "$(login "$($A open --no-browser)")"
is "which reads" 200 "$(as "$(cookie)" GET /students)"
echo "1..$_tap_n"
