#!/usr/bin/env bash
# The demo, on throw-away data directories and 127.0.0.1 only: Ms. Rivera
# keeps a student's page on her laptop; a staff-room box and Mr. Kim join
# her team; the three run `satchel serve`, each laptop knowing only the
# box, and a note written on Rivera's laptop reaches Kim's through the
# box, which cannot read it. Each laptop's status then shows the box as
# the only peer it synced with.
#
#	bash contrib/demo.sh [--serve]
#
# With --serve, Ms. Rivera's daemon then keeps running with her page, and
# the demo prints a login link for it, until Ctrl-C.
set -eu
keep=0
[ "${1:-}" = --serve ] && keep=1
cd "$(dirname "$0")/.."
S=${SATCHEL:-$PWD/build/satchel}
top=$(mktemp -d "${TMPDIR:-/tmp}/satchel-demo.XXXXXX")
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$top"' EXIT
rivera=$top/rivera kim=$top/kim box=$top/box
# The laptops' keys are sealed under a passphrase (the README's "Keys at
# rest"): the demo's is a throw-away one, read from a file, not asked.
printf 'a demo passphrase, not a secret\n' >"$top/passphrase"
chmod 600 "$top/passphrase"
export SATCHEL_PASSPHRASE_FILE=$top/passphrase
# Bold only on a terminal: a log or a pipe gets plain text.
if [ -t 1 ]; then b=$(printf '\033[1m') n=$(printf '\033[0m'); else b= n=; fi
say() { printf '\n%s# %s%s\n' "$b" "$*" "$n"; }
run() { printf '%s$ satchel %s%s\n' "$b" "$*" "$n" >&2; "$S" "$@"; }

say "Ms. Rivera's laptop: one teacher, offline"
run -d "$rivera" init --name "Ms. Rivera" >/dev/null
ana=$(run -d "$rivera" student add "Ana Lopez" --class 3B \
    --strengths "retells stories in order" --interests "horses")
run -d "$rivera" student add "Ben Okafor" --class 3B >/dev/null
run -d "$rivera" note add "Ana Lopez" --strengths "retells the story in order" \
    --obstacle "skips the endings" --action "reread the last page aloud" \
    --follow-up 2026-12-01 >/dev/null
run -d "$rivera" entry add "Ana Lopez" --title "Fractions quiz" --body "7 of 10 right" \
    --tag pre-assessment >/dev/null
run -d "$rivera" group add "Group A" --same-need --member "Ana Lopez" --member "Ben Okafor" >/dev/null
run -d "$rivera" goal add "Ana Lopez" "Read 20 minutes a day" \
    --checkpoint 2026-12-01:"half way" --checkpoint 2027-01-15:"every day" >/dev/null
run -d "$rivera" show "Ana Lopez"

# Each daemon takes a port the kernel gives it and writes it to DIR.port.
# Only Rivera's serves a page, on a port the kernel gives it too.
serve() {
	"$S" -d "$1" serve --listen 127.0.0.1:0 --port-file "$1.port" \
	    $([ "$1" = "$rivera" ] && echo "--http 127.0.0.1:0" || echo --no-http) \
	    2>"$1.log" & pids="$pids $!"
	for _ in $(seq 1 100); do [ -s "$1.port" ] && return; sleep 0.1; done
	echo "satchel serve did not start; its log:" >&2; cat "$1.log" >&2
	exit 1
}

say "The staff-room box joins her team; her laptop syncs with it"
box_id=$(run -d "$box" init --box)
invite=$(run -d "$rivera" member add "$box_id" --name "Staff room" --box)
run -d "$box" join "$invite"
serve "$box"
boxaddr="127.0.0.1:$(cat "$box.port")"
run -d "$rivera" peer add "$boxaddr"
serve "$rivera"

say "Mr. Kim's laptop joins; it knows the box's address, not her laptop's"
kim_id=$(run -d "$kim" init --name "Mr. Kim")
invite=$(run -d "$rivera" member add "$kim_id" --name "Mr. Kim")
run -d "$kim" join "$invite"
run -d "$kim" peer add "$boxaddr"
serve "$kim"
run -d "$rivera" member list
for _ in $(seq 1 300); do
	"$S" -d "$kim" show "Ana Lopez" >/dev/null 2>&1 && break
	sleep 0.1
done
run -d "$kim" show "Ana Lopez"

say "A note written on Rivera's laptop reaches Kim's through the box"
run -d "$rivera" note add "Ana Lopez" --strengths "read a whole chapter" \
    --obstacle "lost her place" --action "use a bookmark" >/dev/null
for _ in $(seq 1 300); do
	"$S" -d "$kim" search "bookmark" >/dev/null 2>&1 && break
	sleep 0.1
done
run -d "$kim" search "bookmark"
printf 'Rivera %s\nKim    %s\n' "$("$S" -d "$rivera" digest)" "$("$S" -d "$kim" digest)"

say "The evidence: each laptop synced with the box and with nothing else"
for who in rivera kim; do
	run -d "${!who}" status | grep '^peer'
	peers=$("$S" -d "${!who}" status --json | grep -o '"name":"[^"]*","dials_in"' |
	    sed 's/"name":"\([^"]*\)".*/\1/' | sort -u)
	if [ "$peers" != "Staff room" ]; then
		echo "$who synced with: $peers; expected only the box" >&2
		exit 1
	fi
done
echo "Both laptops' only peer is the staff-room box."
run -d "$box" status | grep '^peer'

say "The box holds every entry and can read none"
run -d "$box" show "Ana Lopez" || true
if grep -rqa "bookmark" "$box"; then
	echo "the box holds plaintext: this is a bug" >&2
	exit 1
fi
echo "grep -r bookmark $box: nothing (ciphertext only)"

if [ "$keep" = 1 ]; then
	say "Ms. Rivera's page, until Ctrl-C"
	for _ in $(seq 1 100); do [ -s "$rivera/http.addr" ] && break; sleep 0.1; done
	run -d "$rivera" open --no-browser
	echo "Open that link in a browser on this machine (it works once; run"
	echo "'$S -d $rivera open' for another). Ctrl-C stops the daemons."
	trap 'exit 0' INT TERM
	while :; do sleep 3600; done
fi
printf '\nDemo data was in %s and is now removed.\n' "$top"
echo "To try the teacher's page on this data: bash contrib/demo.sh --serve"
