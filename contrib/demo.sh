#!/usr/bin/env bash
# The demo, on throw-away data directories and 127.0.0.1 only: Ms. Rivera
# keeps a student's page on her laptop; Mr. Kim and a staff-room box join
# her team; the three run `satchel serve`, and a note written on Rivera's
# laptop reaches Kim's through the box, which cannot read it.
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
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() { printf '\033[1m$ satchel %s\033[0m\n' "$*" >&2; "$S" "$@"; }

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

say "Mr. Kim's laptop and the staff-room box join her team"
serve "$rivera"
kim_id=$(run -d "$kim" init --name "Mr. Kim")
box_id=$(run -d "$box" init --box)
invite=$(run -d "$rivera" member add "$kim_id" --name "Mr. Kim" --addr "127.0.0.1:$(cat "$rivera.port")")
run -d "$kim" join "$invite"
invite=$(run -d "$rivera" member add "$box_id" --name "Staff room" --box)
run -d "$box" join "$invite"
run -d "$rivera" member list

say "Everyone runs the daemon; the laptops know only the box"
serve "$box"
serve "$kim"
run -d "$rivera" peer add "127.0.0.1:$(cat "$box.port")"
run -d "$kim" peer add "127.0.0.1:$(cat "$box.port")"
for _ in $(seq 1 100); do
	"$S" -d "$kim" show "Ana Lopez" >/dev/null 2>&1 && break
	sleep 0.1
done
run -d "$kim" show "Ana Lopez"

say "A note written on Rivera's laptop reaches Kim's through the box"
run -d "$rivera" note add "Ana Lopez" --strengths "read a whole chapter" \
    --obstacle "lost her place" --action "use a bookmark" >/dev/null
for _ in $(seq 1 50); do
	"$S" -d "$kim" search "bookmark" >/dev/null 2>&1 && break
	sleep 0.1
done
run -d "$kim" search "bookmark"
run -d "$kim" status
printf 'Rivera %s\nKim    %s\n' "$("$S" -d "$rivera" digest)" "$("$S" -d "$kim" digest)"

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
