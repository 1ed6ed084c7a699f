#!/usr/bin/env bash
# Keys at rest (#9): a laptop's data directory, copied off while the
# daemon is stopped, gives away no key and no note text without the
# passphrase, and no command opens it; with the passphrase it works; a wrong one is refused
# with exit 2 and nothing written. The running daemon hands the key to
# this user's commands. An older folder with keys in the clear still
# opens, and `protect` seals it; `passphrase` changes the passphrase. A
# box needs none.
. "$(dirname "$0")/lib.sh"
: "${TOOLS:?TOOLS must name the test tools directory}"

L=$TMP/laptop
C=$TMP/copy
nopass() { env -u SATCHEL_PASSPHRASE_FILE setsid -w "$SATCHEL" "$@" </dev/null; }

# Exit 2, one line on stderr saying $1, nothing on stdout.
refused() {		# what the line says, args...
	local want=$1 rc
	shift
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
	    [ ! -s "$TMP/out" ] && grep -q "$want" "$TMP/err" ||
	    { echo "# exit $rc: $(cat "$TMP/err")"; return 1; }
}

# Whether any file under dir holds any of the keys (hex, one a line).
holds_any() {		# dir, keys file
	python3 - "$1" "$2" <<'EOF'
import os, sys
keys = [bytes.fromhex(l) for l in open(sys.argv[2]).read().split()]
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        data = open(p, 'rb').read()
        for k in keys:
            if k in data:
                print("# %s holds a key in the clear" % p)
                sys.exit(0)
sys.exit(1)
EOF
}

# The raw key of every key file in dir, one a line in hex.
raw_keys() {		# dir
	local f
	for f in "$1"/*.key; do
		case ${f##*/} in unlock.key|api.key) continue ;; esac
		"$TOOLS/keyfile" "$f" | xxd -p | tr -d '\n'
		echo
	done
}

make_team "$L"
id=$(sat -d "$L" student add "Quokkafield Zanzibar") || bail "student add failed"
sat -d "$L" note add "$id" --strengths "juxtaposedmarmalade" --obstacle o \
    --action a >/dev/null || bail "note add failed"
sat -d "$L" note add "$id" --strengths "privateporcupine" --obstacle o \
    --action a --private >/dev/null || bail "private note add failed"
serve "$L"
stop "$L"

# (api.key is the page's token, which its user reads: see the README)
check "init sealed the laptop's keys: unlock.key and every key file has the header" \
    sh -c "[ -f '$L/unlock.key' ] && for f in '$L'/*.key; do [ \"\${f##*/}\" = api.key ] || [ \"\$(head -c 6 \"\$f\")\" = SATKEY ] || exit 1; done"
raw_keys "$L" >"$TMP/keys.hex"
check "the test hook reads 4 keys (identity, team, store, personal)" \
    sh -c "[ \$(grep -c . '$TMP/keys.hex') -ge 4 ] && [ \$(grep -c '^\$' '$TMP/keys.hex') -eq 0 ]"

cp -a "$L" "$C"
check "the copied folder holds none of its keys in the clear" \
    eval "! holds_any '$C' '$TMP/keys.hex'"

check "nor any note text, name or private note" \
    eval "! grep -r -a -q -i -E 'juxtaposedmarmalade|privateporcupine|Quokkafield' '$C'"

check "without the passphrase, list is refused: one line, exit 2" \
    refused "is locked" nopass -d "$C" student list
check "so is dump" refused "is locked" nopass -d "$C" dump
check "so is serve" refused "is locked" nopass -d "$C" serve --listen 127.0.0.1:0

printf 'not the passphrase\n' >"$TMP/wrong"
chmod 600 "$TMP/wrong"
before=$(cd "$C" && md5sum data.mdb *.key)
check "a wrong passphrase is refused: one line, exit 2" \
    refused "wrong passphrase" env SATCHEL_PASSPHRASE_FILE="$TMP/wrong" \
    "$SATCHEL" -d "$C" student add "Someone New"
check "and nothing was written" [ "$before" = "$(cd "$C" && md5sum data.mdb *.key)" ]

check "with the passphrase, the copy opens" \
    sh -c "'$SATCHEL' -d '$C' student list | grep -q 'Quokkafield Zanzibar'"
check "and reads the private note" \
    sh -c "'$SATCHEL' -d '$C' search privateporcupine | grep -q ."

# The daemon, once unlocked, hands the key to this user's commands.
serve "$L"
check "the daemon listens on keys.sock, owner only" \
    sh -c "[ -S '$L/keys.sock' ] && [ \$(stat -c %a '$L/keys.sock') = 600 ]"
check "beside a running daemon, a command needs no passphrase" \
    sh -c "$(declare -f nopass); nopass -d '$L' student list | grep -q Quokkafield"
stop "$L"
check "once it stops, the passphrase is needed again" \
    refused "is locked" nopass -d "$L" student list

# A folder from before protection (keys in the clear) opens as it is,
# and `protect` seals it.
O=$TMP/old
sat -d "$O" init --name Old --no-protect >/dev/null 2>&1 || bail "init --no-protect failed"
sat -d "$O" student add "Oldfolder Student" >/dev/null
check "an unprotected folder opens with no passphrase" \
    sh -c "$(declare -f nopass); nopass -d '$O' student list | grep -q Oldfolder"
raw_keys "$O" >"$TMP/old.hex"
check "its keys are in the clear (the check sees them)" holds_any "$O" "$TMP/old.hex"
serve "$O"
check "protect is refused while the daemon serves the folder" \
    refused "stop 'satchel serve'" "$SATCHEL" -d "$O" protect
stop "$O"
check "protect seals them" sh -c "'$SATCHEL' -d '$O' protect | grep -q '4 key files sealed'"
check "no key of it is left in the clear" eval "! holds_any '$O' '$TMP/old.hex'"
check "it is locked without the passphrase" refused "is locked" nopass -d "$O" student list
check "and opens with it" sh -c "'$SATCHEL' -d '$O' student list | grep -q Oldfolder"

printf 'a brand new passphrase\n' >"$TMP/new"
chmod 600 "$TMP/new"
check "passphrase changes it" sh -c "'$SATCHEL' -d '$O' passphrase --new-file '$TMP/new' | grep -q changed"
check "the old passphrase is refused now" refused "wrong passphrase" \
    "$SATCHEL" -d "$O" student list
check "the new one opens it" sh -c "SATCHEL_PASSPHRASE_FILE='$TMP/new' '$SATCHEL' -d '$O' student list | grep -q Oldfolder"
printf 'short\n' >"$TMP/short"
chmod 600 "$TMP/short"
check "a passphrase under 8 characters is refused" refused "at least 8" \
    env SATCHEL_PASSPHRASE_FILE="$TMP/new" "$SATCHEL" -d "$O" passphrase --new-file "$TMP/short"

# A headless box reads nothing: it is not asked for a passphrase.
B=$TMP/box
add_box "$L" "$B"
check "a box has no unlock.key" [ ! -e "$B/unlock.key" ]
check "and opens with no passphrase" sh -c "$(declare -f nopass); nopass -d '$B' status >/dev/null"
