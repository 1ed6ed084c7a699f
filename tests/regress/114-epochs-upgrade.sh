# A laptop on the previous release (b5aa8d1, built by 050-upgrade.sh)
# in a team whose admin removes a device: it keeps syncing (through the
# box, with epoch 0's key, during the grace period), stores the epoch
# record and the notes sealed under the new keys without reading them,
# and, once upgraded, learns the epoch from what it stored and reads
# them all.
. "$(dirname "$0")/lib.sh"
export -f sat
export SATCHEL
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/test/tools}"
OLD=$(cd "$(dirname "$0")/../.." && pwd)/build/prev-b5aa8d1/build/satchel
if [ ! -x "$OLD" ]; then
	echo "ok 1 # skip the previous release is not built (050-upgrade.sh builds it)"
	exit 0
fi

A=$TMP/a C=$TMP/c O=$TMP/o BOX=$TMP/box
make_team "$A" "$C"
add_box "$A" "$BOX"
oid=$("$OLD" -d "$O" init --name "Old laptop") &&
tok=$(sat -d "$A" member add "$("$TOOLS/devid" checked "$oid")" --name "Old laptop" 2>/dev/null) &&
"$OLD" -d "$O" join "$tok" >/dev/null ||
    bail "a laptop on the previous release joins"
serve "$BOX"
sat -d "$A" student add "Ana Lopez" --class 3B >/dev/null
sat -d "$A" note add "Ana Lopez" --strengths s --obstacle o \
    --action "before the removal" >/dev/null
for d in "$A" "$C"; do
	sat -d "$d" sync "$(addr_of "$BOX")" 2>>"$d.sync.log" ||
	    bail "$(basename "$d") syncs with the box" "$d.sync.log"
done
sat -d "$A" member remove "$(sat -d "$C" id)" 2>/dev/null ||
    bail "the admin removes C"
sat -d "$A" note add "Ana Lopez" --strengths s --obstacle o \
    --action "after the removal" >/dev/null
sat -d "$A" sync "$(addr_of "$BOX")" 2>>"$A.sync.log" ||
    bail "the admin syncs the removal" "$A.sync.log"
check "the previous release syncs with the box during the grace period" \
    "$OLD" -d "$O" sync "$(addr_of "$BOX")"
check "it reads the note written before the removal" \
    bash -c "'$OLD' -d '$O' show 'Ana Lopez' | grep -q 'before the removal'"
check "once upgraded, it learns the epoch from what it stored and reads the note written after" \
    bash -c "sat -d '$O' show 'Ana Lopez' 2>/dev/null | grep -q 'after the removal' &&
        sat -d '$O' status | grep -q '^keys .*key epoch 1'"
