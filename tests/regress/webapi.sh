# Shared by the page's API tests (110-, 111-): a daemon serving its page
# on a port the kernel picks, and curl with the key or a session.
: "${TMP:?source lib.sh first}"
command -v curl >/dev/null || { echo "not ok 1 - curl is not installed (make deps)"; exit 1; }

# Starts DIR's daemon with its page on 127.0.0.1:0 (more serve arguments
# may follow) and waits for DIR/http.addr, which says where it is.
serve_page() {		# dir, [serve arguments]
	rm -f "$1/http.addr"
	serve "$1" --http 127.0.0.1:0 "${@:2}"
	wait_for "[ -s '$1/http.addr' ]" 60 ||
	    bail "the page of $1 did not start; its log:" "$1.log"
	PAGE=$(cat "$1/http.addr")
	KEY=$(cat "$1/api.key")
}

# api METHOD PATH [BODY] [curl arguments...]: the status on stdout, the
# body in $TMP/body, the headers in $TMP/headers; with the key.
api() {			# method, path, [body], [curl args]
	local m=$1 p=$2 b=${3:-}
	shift 2
	[ $# -gt 0 ] && shift
	curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$m" \
	    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
	    ${b:+--data-binary "$b"} "$@" "http://$PAGE/api/v1$p"
}

# The same without the key: the caller gives what it sends.
raw() {			# method, path, [body], [curl args]
	local m=$1 p=$2 b=${3:-}
	shift 2
	[ $# -gt 0 ] && shift
	curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$m" \
	    -H 'Content-Type: application/json' ${b:+--data-binary "$b"} "$@" \
	    "http://$PAGE$p"
}

# A value from the last body: jget 'd["students"][0]["id"]'.
jget() {		# python expression over d
	python3 -c "import json,sys; d=json.load(open('$TMP/body')); print($1)"
}

# Passes if the last answer had this status (the body is shown if not).
is() {			# description, expected status, actual status
	if [ "$2" = "$3" ]; then ok "$1"; else
		fail "$1 (HTTP $3, expected $2)"
		sed 's/^/#   /' "$TMP/body" | head -5; echo
	fi
}
