# Upgrades: the previous release, built from git history, and this one side
# by side. A school upgrades one machine at a time, so:
#  - in a team founded on the old release and in one founded on the new,
#    devices of both releases invite each other, sync both ways through
#    each other's daemons and by bundle, and every note reaches everyone;
#    devices of the same release end with the same digest (two releases
#    may encode records differently, so digests are compared within one);
#  - an old data directory opens under the new binary (migrated once),
#    verifies, holds every note and keeps syncing; the old binary then
#    refuses it with one line, writing nothing; a store or a bundle of a
#    newer format than the new binary knows is refused naming it;
#  - kill -9 during the migration of a biggish store, several times: it
#    opens and verifies after each kill.
# Checks are on what a user sees (notes, digests, exit codes), never on
# byte formats, so they hold as formats gain versions.
#
# The previous release is built once into build/prev-$PREV_RELEASE and
# reused. A clone without that commit (a shallow clone) fails this test:
# run 'git fetch --unshallow'.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemons.sh"

PREV_RELEASE=b5aa8d1
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PREV=$REPO/build/prev-$PREV_RELEASE
OLD=$PREV/build/satchel
OLD_FILL=$PREV/build/rel/tools/fill
: "${TOOLS:=$REPO/build/test/tools}"
NEW=$SATCHEL
BIG=${UPGRADE_BIG_ENTRIES:-2000}
KILLS=${UPGRADE_KILL_ROUNDS:-3}

# Builds the previous release from history, optimised and without
# sanitizers, in a private directory moved into place when done.
build_prev() {
	local tmp
	[ -x "$OLD" ] && [ -x "$OLD_FILL" ] && return 0
	if ! command -v git >/dev/null; then
		fail "git is not installed: the previous release is built from git history (make deps)"
		exit 1
	fi
	if ! git -C "$REPO" cat-file -e "$PREV_RELEASE^{commit}" 2>/dev/null; then
		fail "previous release $PREV_RELEASE is not in this clone's history (shallow clone? run 'git fetch --unshallow')"
		exit 1
	fi
	mkdir -p "$REPO/build"
	tmp=$(mktemp -d "$REPO/build/prev-$PREV_RELEASE.XXXXXX")
	if ! git -C "$REPO" archive "$PREV_RELEASE" | tar -x -C "$tmp" ||
	    ! env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -C "$tmp" -j2 \
	    build/satchel build/rel/tools/fill >"$tmp/build.log" 2>&1; then
		fail "building the previous release $PREV_RELEASE"
		tail -n 20 "$tmp/build.log" | sed 's/^/#   /'
		rm -rf "$tmp"
		exit 1
	fi
	# Another run may have won the race: keep its build.
	mv -T "$tmp" "$PREV" 2>/dev/null || rm -rf "$tmp"
	[ -x "$OLD" ] && [ -x "$OLD_FILL" ]
}
check "the previous release $PREV_RELEASE builds from git history" build_prev
[ -x "$OLD" ] || exit 1

addr() { echo "127.0.0.1:$(cat "$1.port")"; }

# One-shot sync of DIR, running BIN, with the daemon of PEER.
syncs() {		# bin, dir, peer
	"$1" -d "$2" sync "$(addr "$3")" 2>>"$2.sync.log" >/dev/null
}

# Joins DIR, running BIN, to the team of FOUNDER, running FBIN.
join() {		# fbin, founder, bin, dir
	local id tok
	id=$("$3" -d "$4" init --name "Teacher $(basename "$4")") &&
	# Each release's member add reads the id form its init prints.
	id=$("$TOOLS/devid" "$([ "$1" = "$OLD" ] && echo hex || echo checked)" "$id") &&
	tok=$("$1" -d "$2" member add "$id" --name "Teacher $(basename "$4")" 2>/dev/null) &&
	"$3" -d "$4" join "$tok" >/dev/null
}

note() {		# bin, dir, student, word
	"$1" -d "$2" note add "$3" --strengths "$4-strengths" --obstacle o \
	    --action "$4-action" >/dev/null
}

# Every word is found by search on every device, each with its binary.
all_see() {		# words..., then "--", then bin:dir pairs
	local words=() pair w
	while [ "$1" != "--" ]; do words+=("$1"); shift; done
	shift
	for pair in "$@"; do
		for w in "${words[@]}"; do
			"${pair%%:*}" -d "${pair#*:}" search "$w-action" 2>/dev/null |
			    grep -q "$w" || { echo "# ${pair#*:} lacks $w"; return 1; }
		done
	done
}

same_digest() {		# bin, dir, bin, dir
	local x y
	x=$("$1" -d "$2" digest) && y=$("$3" -d "$4" digest) && [ "$x" = "$y" ]
}

# One team: founder F on fbin, J on the other release, T1 on fbin and T2
# on the other. J and F sync both ways through each other's daemons; T1
# only through J and T2 only through F, so each relays the other
# release's entries; then bundles both ways between F and J.
team() {		# label, fbin, fname, obin, oname
	local L=$1 fb=$2 fn=$3 ob=$4 on=$5
	local f=$TMP/$L-f j=$TMP/$L-j t1=$TMP/$L-t1 t2=$TMP/$L-t2 ana
	"$fb" -d "$f" init --name "Founder $L" >/dev/null
	check "$L: $on device joins with an invite from the $fn founder" join "$fb" "$f" "$ob" "$j"
	check "$L: a second $fn device joins" join "$fb" "$f" "$fb" "$t1"
	check "$L: a second $on device joins" join "$fb" "$f" "$ob" "$t2"
	check "$L: $fn daemon starts" start "$fb" "$f"
	check "$L: $on daemon starts" start "$ob" "$j"
	ana=$("$fb" -d "$f" student add "Ana Lopez" --class 3B)
	note "$fb" "$f" "$ana" "$L-zebra-f"
	check "$L: $on syncs with the $fn daemon" syncs "$ob" "$j" "$f"
	note "$ob" "$j" "$ana" "$L-zebra-j"
	"$ob" -d "$j" student edit "$ana" --needs "needs by $L-j" >/dev/null
	note "$fb" "$f" "$ana" "$L-okapi-f"
	check "$L: $fn syncs with the $on daemon" syncs "$fb" "$f" "$j"
	check "$L: second $fn device syncs with the $on daemon" syncs "$fb" "$t1" "$j"
	check "$L: second $on device syncs with the $fn daemon" syncs "$ob" "$t2" "$f"
	note "$fb" "$t1" "$ana" "$L-zebra-t1"
	note "$ob" "$t2" "$ana" "$L-zebra-t2"
	for round in 1 2; do
		syncs "$fb" "$t1" "$j" && syncs "$ob" "$t2" "$f" &&
		    syncs "$fb" "$f" "$j" || fail "$L: round $round of syncs"
	done
	check "$L: every note reaches every device of both releases" all_see \
	    "$L-zebra-f" "$L-okapi-f" "$L-zebra-j" "$L-zebra-t1" "$L-zebra-t2" \
	    -- "$fb:$f" "$ob:$j" "$fb:$t1" "$ob:$t2"
	check "$L: the two $fn devices end with one digest" same_digest "$fb" "$f" "$fb" "$t1"
	check "$L: the two $on devices end with one digest" same_digest "$ob" "$j" "$ob" "$t2"
	echo "# $L: $fn digest $("$fb" -d "$f" digest | cut -c1-16), $on digest $("$ob" -d "$j" digest | cut -c1-16)"

	# Bundles both ways between the releases.
	note "$fb" "$f" "$ana" "$L-bundle-f"
	note "$ob" "$j" "$ana" "$L-bundle-j"
	check "$L: $fn exports a bundle" sh -c "'$fb' -d '$f' export '$TMP/$L-f.bundle' >/dev/null"
	check "$L: $on exports a bundle" sh -c "'$ob' -d '$j' export '$TMP/$L-j.bundle' >/dev/null"
	check "$L: $on imports the $fn bundle" sh -c "'$ob' -d '$j' import '$TMP/$L-f.bundle' >/dev/null"
	check "$L: $fn imports the $on bundle" sh -c "'$fb' -d '$f' import '$TMP/$L-j.bundle' >/dev/null"
	check "$L: bundle notes reach both" all_see "$L-bundle-f" "$L-bundle-j" \
	    -- "$fb:$f" "$ob:$j"
	for d in "$fb:$f" "$ob:$j" "$fb:$t1" "$ob:$t2"; do
		check "$L: verify passes on $(basename "${d#*:}")" sh -c \
		    "'${d%%:*}' -d '${d#*:}' verify >/dev/null"
	done
}

team old-founder "$OLD" old "$NEW" new
team new-founder "$NEW" new "$OLD" old

# The old founder's data directory, with its students and notes, opens
# under the new binary. Its daemon stops first: one binary at a time.
f=$TMP/old-founder-f u=$TMP/upgraded j=$TMP/old-founder-j
stop_daemon "$f"
cp -a "$f" "$u"
words="old-founder-zebra-f old-founder-okapi-f old-founder-zebra-j old-founder-zebra-t1 old-founder-zebra-t2 old-founder-bundle-f old-founder-bundle-j"
old_entries=$("$OLD" -d "$u" status --json | grep -o '"entries":[0-9]*')
"$NEW" -d "$u" status >"$TMP/out" 2>"$TMP/err"
check "the new binary opens the old data directory" [ $? -eq 0 ]
check "and says once that it rebuilds its records ($(cat "$TMP/err"))" sh -c \
    "[ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q 'rebuilding' '$TMP/err'"
check "the next command does not rebuild again" sh -c "! '$NEW' -d '$u' status 2>&1 >/dev/null | grep -q rebuilding"
check "it holds the same entries" sh -c "'$NEW' -d '$u' status --json | grep -q '$old_entries'"
check "verify passes on the migrated directory" sh -c "'$NEW' -d '$u' verify >/dev/null"
# The old release kept a plaintext copy of every note: none is left, not
# even in the pages LMDB freed.
check "no note text is left in the clear in the migrated directory" sh -c \
    "! grep -r -a -q -e old-founder-zebra-f -e 'Ana Lopez' '$u'"
# shellcheck disable=SC2086
check "every note is there after the migration" all_see $words -- "$NEW:$u"
check "the student is there" sh -c "'$NEW' -d '$u' show 'Ana Lopez' | grep -q 'Ana Lopez'"
sum_before=$(sha256sum "$u/data.mdb")
"$OLD" -d "$u" status >"$TMP/out" 2>"$TMP/err"
rc=$?
check "the old binary refuses the migrated directory: exit 2, one line ($(cat "$TMP/err"))" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ] && [ ! -s '$TMP/out' ]"
check "and leaves it as it was" [ "$sum_before" = "$(sha256sum "$u/data.mdb")" ]
"$OLD" -d "$u" init --name again >/dev/null 2>&1
check "the old binary's init does not overwrite it" [ "$sum_before" = "$(sha256sum "$u/data.mdb")" ]
note "$NEW" "$u" "Ana Lopez" "after-upgrade"
check "the upgraded device syncs with the team" syncs "$NEW" "$u" "$j"
check "its new note reaches a device still on the new release" all_see "after-upgrade" -- "$NEW:$j"

# Newer formats than the new binary knows: refused naming them.
cp -a "$u" "$TMP/newer"
"$TOOLS/storemeta" "$TMP/newer" store_release "$(printf 9.9.9 | od -An -tx1 | tr -d ' \n')" &&
    "$TOOLS/storemeta" "$TMP/newer" store_version 0000000000000063
sum_before=$(sha256sum "$TMP/newer/data.mdb")
"$NEW" -d "$TMP/newer" status >"$TMP/out" 2>"$TMP/err"
rc=$?
check "a store of a newer format is refused naming the release to install ($(cat "$TMP/err"))" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q 'store format 99' '$TMP/err' && grep -q '9.9.9 or newer' '$TMP/err'"
check "and is left as it was" [ "$sum_before" = "$(sha256sum "$TMP/newer/data.mdb")" ]
"$NEW" -d "$j" export "$TMP/newer.bundle" >/dev/null
printf '\002' | dd of="$TMP/newer.bundle" bs=1 seek=8 conv=notrunc 2>/dev/null
before=$("$NEW" -d "$u" digest)
"$NEW" -d "$u" import "$TMP/newer.bundle" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "a bundle of a newer format is refused naming its version ($(cat "$TMP/err"))" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q 'version 2' '$TMP/err'"
check "and nothing of it is applied" [ "$before" = "$("$NEW" -d "$u" digest)" ]

tok=satchel-invite:$(printf '\222\002\241x' | base64 | tr '+/' '-_' | tr -d '=\n')
"$NEW" -d "$TMP/joiner" init --name Joiner >/dev/null
"$NEW" -d "$TMP/joiner" join "$tok" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "an invite of a newer format is refused naming its version ($(cat "$TMP/err"))" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q 'invite version 2' '$TMP/err'"

# kill -9 during the migration of a biggish old store.
big=$TMP/big
"$OLD" -d "$big" init --name Big >/dev/null
sid=$("$OLD" -d "$big" student add "Big Student")
check "the old release fills a store of $BIG notes" "$OLD_FILL" "$big" "$sid" "$BIG"
cp -a "$big" "$TMP/big-ref"
start_ns=$(date +%s%N)
"$NEW" -d "$TMP/big-ref" status >/dev/null
full_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
ref=$("$NEW" -d "$TMP/big-ref" digest)
echo "# a migration of $BIG notes took ${full_ms} ms"
killed=0 tries=0 delay=$((full_ms * 4 / 5))
while [ "$killed" -lt "$KILLS" ] && [ "$tries" -lt $((KILLS * 3)) ]; do
	tries=$((tries + 1))
	c=$TMP/big-$tries
	cp -a "$big" "$c"
	at=$(( (RANDOM % (delay > 20 ? delay - 10 : 10)) + 10 ))
	"$NEW" -d "$c" status >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((at / 1000)) $((at % 1000)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ $? -ne 137 ]; then
		delay=$(( delay / 2 > 20 ? delay / 2 : 20 ))
		echo "# try $tries: the migration ended before the kill at ${at} ms"
		rm -rf "$c"
		continue
	fi
	killed=$((killed + 1))
	if "$OLD" -d "$c" digest >/dev/null 2>&1; then
		state="not yet migrated"
	elif [ "$("$TOOLS/storemeta" "$c" derived_version)" = 0000000000000000 ]; then
		state="migrated, records not yet rebuilt"
	else
		state="migrated and rebuilt"
	fi
	if "$NEW" -d "$c" verify >"$TMP/verify" 2>&1 &&
	    [ "$("$NEW" -d "$c" digest)" = "$ref" ]; then
		ok "kill -9 at ${at} ms ($state): the store opens, verifies and holds every note"
	else
		fail "kill -9 at ${at} ms ($state): $(cat "$TMP/verify")"
	fi
	rm -rf "$c"
done
check "$KILLS runs were killed during the migration" [ "$killed" -ge "$KILLS" ]
