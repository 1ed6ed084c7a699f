#!/usr/bin/env bash
# Keys at rest, the desktop keyring (#9): on a session bus with a Secret
# Service (GNOME Keyring, through libsecret), the first unlock keeps the
# folder's key there, so later commands and the daemon need no
# passphrase; SATCHEL_NO_KEYRING turns it off; with no session bus the
# keyring is not tried at all. Runs in its own dbus-run-session, with
# its own gnome-keyring-daemon.
. "$(dirname "$0")/lib.sh"

if ! command -v dbus-run-session >/dev/null ||
    ! command -v gnome-keyring-daemon >/dev/null; then
	echo "ok 1 # SKIP no dbus-run-session or gnome-keyring-daemon (contrib/install-deps.sh)"
	exit 0
fi
D=$TMP/laptop
cat >"$TMP/session.sh" <<'EOF'
# In the test's own session bus: a keyring, unlocked, then satchel.
set -u
export XDG_DATA_HOME=$2/xdg	# a keyring of its own, not the user's
mkdir -p "$XDG_DATA_HOME"
eval "$(printf 'keyring password' | gnome-keyring-daemon --unlock \
    --components=secrets --daemonize 2>/dev/null)"
trap '[ -n "${GNOME_KEYRING_PID:-}" ] && kill "$GNOME_KEYRING_PID"' EXIT
unset SATCHEL_NO_KEYRING
D=$1
nopass() { env -u SATCHEL_PASSPHRASE_FILE setsid -w "$SATCHEL" "$@" </dev/null; }
"$SATCHEL" -d "$D" init --name Keyring >/dev/null 2>&1; echo "init $?"
nopass -d "$D" student add "Kiri Keyring" >/dev/null 2>&1; echo "keyring $?"
SATCHEL_NO_KEYRING=1 nopass -d "$D" student list >/dev/null 2>&1; echo "off $?"
env -u SATCHEL_PASSPHRASE_FILE "$SATCHEL" -d "$D" serve --listen \
    127.0.0.1:0 --port-file "$D.port" --no-http 2>"$D.log" </dev/null &
pid=$!
for _ in $(seq 1 600); do
	[ -s "$D.port" ] || ! kill -0 "$pid" 2>/dev/null && break
	sleep 0.1
done
SATCHEL_NO_KEYRING=1 nopass -d "$D" student list 2>&1 | grep -c Kiri |
    sed 's/^/daemon /'
kill "$pid"; wait "$pid"; echo "stopped $?"
EOF
timeout 120 dbus-run-session -- bash "$TMP/session.sh" "$D" "$TMP" \
    >"$TMP/session.out" 2>"$TMP/session.err"
sed 's/^/# /' "$TMP/session.out"
says() { grep -qx "$1" "$TMP/session.out"; }
check "init keeps the key in the keyring (and seals the folder)" \
    sh -c "grep -qx 'init 0' '$TMP/session.out' && [ -f '$D/unlock.key' ]"
check "a command with no passphrase opens it from the keyring" says "keyring 0"
check "SATCHEL_NO_KEYRING=1 keeps it out: locked, exit 2" says "off 2"
check "the daemon started with no passphrase (keyring), and hands the key on" \
    says "daemon 1"
check "the daemon stopped cleanly" says "stopped 0"
check "with no session bus, the keyring is not tried: locked, exit 2" sh -c \
    "env -u DBUS_SESSION_BUS_ADDRESS -u SATCHEL_NO_KEYRING -u SATCHEL_PASSPHRASE_FILE XDG_RUNTIME_DIR=$TMP setsid -w '$SATCHEL' -d '$D' student list </dev/null 2>&1 | grep -q 'is locked'"
