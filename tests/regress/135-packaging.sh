# What make install and make deb ship, checked piece by piece: the box's
# system unit rates "OK" (2.0 or lower) in systemd-analyze security, and
# a unit without the hardening does not; the man page renders with
# scdoc; bash completion completes commands, subcommands and flags; the
# units name the installed binary.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
if command -v systemd-analyze >/dev/null; then
	check "the box unit rates 2.0 or lower" \
	    bash "$REPO/contrib/check-units.sh" "$REPO/contrib/satchel-box.service"
	grep -vE '^(Protect|Private|Restrict|SystemCall|Capability|NoNew|Lock|Memory|Device|Remove|Keyring|ProcSubset|UMask)' \
	    "$REPO/contrib/satchel-box.service" >"$TMP/weak.service"
	check "a unit without the hardening fails the check" \
	    sh -c "! bash '$REPO/contrib/check-units.sh' '$TMP/weak.service' >/dev/null"
else
	ok "# SKIP systemd-analyze is not installed"
fi
for u in satchel-box.service satchel.service; do
	check "$u runs satchel serve" grep -q "^ExecStart=/usr/local/bin/satchel .*serve" "$REPO/contrib/$u"
done
check "the box unit runs as its own user, in its state directory" \
    sh -c "grep -q '^User=satchel' '$REPO/contrib/satchel-box.service' && grep -q '^StateDirectory=satchel' '$REPO/contrib/satchel-box.service' && grep -q '^u satchel ' '$REPO/contrib/satchel.sysusers'"
if command -v scdoc >/dev/null; then
	scdoc <"$REPO/contrib/satchel.1.scd" >"$TMP/satchel.1"
	check "the man page renders, with the exit status" grep -q "EXIT STATUS" "$TMP/satchel.1"
else
	ok "# SKIP scdoc is not installed"
fi

# Completion, with satchel on the PATH being the binary under test.
mkdir -p "$TMP/bin"
ln -s "$SATCHEL" "$TMP/bin/satchel"
complete_of() {		# words...: what completing the last one offers
	PATH=$TMP/bin:$PATH bash -c '
	    . "$1"; shift
	    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	    _satchel; printf "%s\n" "${COMPREPLY[@]}"' - \
	    "$REPO/contrib/satchel.bash-completion" "$@"
}
check "completion: a command" grep -qx student <(complete_of satchel stu)
check "completion: a second word" grep -qx import <(complete_of satchel student im)
check "completion: a flag" grep -qx -- --dry-run <(complete_of satchel student import --d)
check "completion: after -d DIR too" grep -qx status <(complete_of satchel -d /tmp sta)
check "the README gives every exit code" \
    sh -c "grep -q '^## Exit codes' '$REPO/README.md'"
