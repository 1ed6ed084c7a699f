# The page's security rules, one by one (issue #8): no key, a wrong key,
# a foreign Host, a foreign Origin, a cookie request without the page's
# Origin, a replayed or expired login link, an idle or locked session,
# the headers on every answer; loopback only unless --http-remote; a
# taken port costs the page, not the sync; a box serves its status only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/webapi.sh"

A="$SATCHEL -d $TMP/a"
make_team "$TMP/a"
ana=$($A student add "Ana Lopez" --class 3B)
serve_page "$TMP/a"
port=${PAGE##*:}
before=$($A digest)
unchanged() { [ "$($A digest)" = "$before" ]; }
hdr() { grep -qi "^$1" "$TMP/headers"; }

is "no key: 401" 401 "$(raw GET /api/v1/students)"
check "and no data" sh -c "! grep -q Ana '$TMP/body'"
is "a wrong key: 401" 401 "$(raw GET /api/v1/students "" -H "Authorization: Bearer $(echo "$KEY" | tr 0-9a-f 1-9a-f0)")"
is "a key in another form: 401" 401 "$(raw GET /api/v1/students "" -H "Authorization: Basic $KEY")"
is "the key: 200" 200 "$(api GET /students)"
is "a foreign Host: 421" 421 "$(api GET /students "" -H "Host: evil.example:$port")"
is "the listening address as Host: 200" 200 "$(api GET /status "" -H "Host: 127.0.0.1:$port")"
is "localhost as Host: 200" 200 "$(api GET /status "" -H "Host: localhost:$port")"
is "localhost on another port: 421" 421 "$(api GET /status "" -H "Host: localhost:1")"
is "a foreign Origin on a POST, even with the key: 403" 403 "$(api POST /students '{"name":"Mallory"}' -H 'Origin: http://evil.example')"
is "a foreign Origin on a GET: 403" 403 "$(api GET /students "" -H 'Origin: http://evil.example')"
check "nothing was written" unchanged
is "the page's own Origin with the key: 201" 201 "$(api POST /students '{"name":"Ben"}' -H "Origin: http://127.0.0.1:$port")"
before=$($A digest)

# Every answer: the CSP, no framing, no sniffing, no caching.
for what in "/api/v1/status:key" "/api/v1/students:none" "/:none" "/nothing:none"; do
	p=${what%%:*}
	if [ "${what#*:}" = key ]; then raw GET "$p" "" -H "Authorization: Bearer $KEY" >/dev/null
	else raw GET "$p" >/dev/null; fi
	check "$p carries the CSP, frame denial, nosniff and no-store" sh -c "
	    grep -qi \"^Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\" '$TMP/headers' &&
	    grep -qi '^X-Frame-Options: DENY' '$TMP/headers' &&
	    grep -qi '^X-Content-Type-Options: nosniff' '$TMP/headers' &&
	    grep -qi '^Cache-Control: no-store' '$TMP/headers'"
done
is "the page's files need no key (they hold no data)" 200 "$(raw GET /)"
check "index.html, as HTML" hdr "Content-Type: text/html"

# The one-time login link.
is "a made-up login token: 403" 403 "$(raw GET "/login?token=$(printf '%064d' 0)")"
link=$($A open --no-browser)
check "satchel open prints a link to this page" sh -c "echo '$link' | grep -qE '^http://127\\.0\\.0\\.1:$port/login\\?token=[0-9a-f]{64}\$'"
code=$(curl -s -o /dev/null -D "$TMP/headers" -w '%{http_code}' "$link")
check "the link logs in: 303 to /" sh -c "[ $code = 303 ] && grep -qi '^Location: /' '$TMP/headers'"
check "with an HttpOnly, SameSite=Strict session cookie" hdr "Set-Cookie: satchel_session=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict"
cookie=$(sed -n 's/^Set-Cookie: \(satchel_session=[0-9a-f]*\);.*/\1/Ip' "$TMP/headers" | tr -d '\r')
is "the link replayed: 403" 403 "$(raw GET "${link#http://$PAGE}")"
check "saying to run satchel open again" grep -q "satchel open" "$TMP/body"
is "the session reads" 200 "$(raw GET /api/v1/students "" -H "Cookie: $cookie")"
is "a POST with the session and no Origin: 403" 403 "$(raw POST /api/v1/students '{"name":"Cleo"}' -H "Cookie: $cookie")"
is "and with another site's Origin: 403" 403 "$(raw POST /api/v1/students '{"name":"Cleo"}' -H "Cookie: $cookie" -H 'Origin: http://evil.example')"
check "nothing was written" unchanged
is "with the page's own Origin: 201" 201 "$(raw POST /api/v1/students '{"name":"Cleo"}' -H "Cookie: $cookie" -H "Origin: http://127.0.0.1:$port")"
is "a made-up session: 401" 401 "$(raw GET /api/v1/students "" -H "Cookie: satchel_session=$(printf '%064d' 1)")"
code=$(curl -s -o /dev/null -D "$TMP/headers" "$($A open --no-browser)" -w '%{http_code}')
cookie=$(sed -n 's/^Set-Cookie: \(satchel_session=[0-9a-f]*\);.*/\1/Ip' "$TMP/headers" | tr -d '\r')
is "a new link, a new session" 200 "$(raw GET /api/v1/students "" -H "Cookie: $cookie")"
is "POST lock" 200 "$(raw POST /api/v1/lock "" -H "Cookie: $cookie" -H "Origin: http://localhost:$port")"
check "clears the cookie" hdr "Set-Cookie: satchel_session=;"
is "the locked session: 401" 401 "$(raw GET /api/v1/students "" -H "Cookie: $cookie")"
SATCHEL_CLOCK_OFFSET=-10m $A open --no-browser >"$TMP/old-link" 2>/dev/null
is "a link older than 5 minutes: 403" 403 "$(raw GET "$(sed "s|http://$PAGE||" "$TMP/old-link")")"
# A session left alone locks (--http-idle 1 s here); a locked one stays
# locked across a restart (122 has the sessions that survive one).
stop "$TMP/a"
serve_page "$TMP/a" --http-idle 1
is "the locked session, after a restart: 401" 401 "$(raw GET /api/v1/students "" -H "Cookie: $cookie")"
curl -s -o /dev/null -D "$TMP/headers" "$($A open --no-browser)"
cookie=$(sed -n 's/^Set-Cookie: \(satchel_session=[0-9a-f]*\);.*/\1/Ip' "$TMP/headers" | tr -d '\r')
sleep 2
is "left alone past --http-idle, the session has locked: 401" 401 "$(raw GET /api/v1/students "" -H "Cookie: $cookie")"
check "open never runs a browser with --no-browser, display or not" sh -c "DISPLAY=:99 PATH=/nonexistent $A open --no-browser | grep -q login"

# Listening: loopback only unless --http-remote; a taken port.
check "--http on a non-loopback address is refused" sh -c "$SATCHEL -d '$TMP/b0' init --name X >/dev/null && ! timeout 60 $SATCHEL -d '$TMP/b0' serve --listen 127.0.0.1:0 --http 0.0.0.0:0 2>'$TMP/remote.err' && grep -q -- --http-remote '$TMP/remote.err'"
make_team "$TMP/c"
serve "$TMP/c" --http "$PAGE"
wait_for "grep -q 'page:' '$TMP/c.log'" 60
check "a second daemon on the page's port says so" grep -q "cannot listen on $PAGE: Address already in use" "$TMP/c.log"
check "and serves no page" test ! -e "$TMP/c/http.addr"
check "but syncs: it answers a sync" sh -c "$SATCHEL -d '$TMP/c' sync 127.0.0.1:$(port_of "$TMP/c") 2>&1 | grep -q 'sync done'"
check "satchel open there says there is no page" sh -c "! $SATCHEL -d '$TMP/c' open --no-browser 2>&1 | grep -q login"
stop "$TMP/c"
expect_refusal "satchel open without a daemon" -d "$TMP/c" open --no-browser
serve "$TMP/c" --no-http
check "--no-http serves no page" sh -c "! grep -q 'page on' '$TMP/c.log' && test ! -e '$TMP/c/http.addr'"

# A box reads no records: its page shows its status only.
add_box "$TMP/a" "$TMP/box"
serve_page "$TMP/box"
is "the box's status: 200" 200 "$(api GET /status)"
is "the box's students: 403" 403 "$(api GET /students)"
check "saying it serves its status only" grep -q "status only" "$TMP/body"
is "a note to the box: 403" 403 "$(api POST /notes '{"student":"x","strengths":"s","obstacle":"o","action":"a"}')"
