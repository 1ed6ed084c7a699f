# A removed device: its entries up to the cut-off (the last one the
# admin's laptop held when it removed it) stay everywhere; its later ones
# are refused by every device that knows of the removal, by sync, by
# bundle and through a colleague who took them before hearing of it;
# its connections are refused. An invited device that never joined is
# removed the same way.
. "$(dirname "$0")/lib.sh"

a=$TMP/a t=$TMP/t r=$TMP/r o=$TMP/o x=$TMP/box v=$TMP/v
make_team "$a" "$t" "$r" "$o"
add_box "$a" "$x"
serve "$x"
box=$(addr_of "$x")
rid=$("$SATCHEL" -d "$r" id)
note() {		# dir, word
	"$SATCHEL" -d "$1" note add "Ana Lopez" --strengths s --obstacle o \
	    --action "$2" >/dev/null
}
has() { "$SATCHEL" -d "$1" search "$2" 2>/dev/null | grep -q "$2"; }
sync_box() { "$SATCHEL" -d "$1" sync "$box" >/dev/null 2>&1; }

"$SATCHEL" -d "$a" student add "Ana Lopez" --class 3B >/dev/null
sync_box "$a"
for d in "$t" "$r" "$o"; do sync_box "$d"; done
note "$r" before-removal
check "the laptop's note reaches the box and the admin" sh -c \
    "$SATCHEL -d $r sync $box >/dev/null 2>&1 && $SATCHEL -d $a sync $box >/dev/null 2>&1"
check "the admin holds it" has "$a" before-removal

# The laptop is lost. The admin removes it; the laptop (or whoever has
# it) keeps writing.
"$SATCHEL" -d "$a" member remove "$rid" --lost 2>"$TMP/rm.err"
check "the admin removes the lost laptop ($(cat "$TMP/rm.err"))" [ $? -eq 0 ]
check "member list says who removed it" sh -c \
    "$SATCHEL -d $a member list | grep '$rid' | grep -q 'removed (lost) by Teacher a'"
note "$r" after-removal
"$SATCHEL" -d "$r" export "$TMP/r.bundle" >/dev/null
# O takes the new note straight from the laptop before it hears of the
# removal: it will try to relay it.
serve "$r"
check "a colleague who has not heard of the removal takes the later note" sh -c \
    "$SATCHEL -d $o sync $(addr_of "$r") >/dev/null 2>&1 && $SATCHEL -d $o search after-removal | grep -q after-removal"
stop "$r"
check "the removal reaches the box" sync_box "$a"
check "the teacher hears of it from the box" sync_box "$t"

"$SATCHEL" -d "$r" sync "$box" >"$TMP/out" 2>&1
check "the box refuses the removed laptop's connection" sh -c \
    "grep -q 'removed from this team' $x.log"
check "the colleague's relay of the later note is refused by the box" sh -c \
    "$SATCHEL -d $o sync $box >/dev/null 2>&1; grep -q 'refused the entries of .* after seq' $x.log"
check "the teacher refuses the bundle's later entries, and takes the rest" sh -c \
    "$SATCHEL -d $t import $TMP/r.bundle 2>&1 | grep -qi 'skipped\\|not members\\|refused'"
check "the teacher never shows the later note" sh -c "! $SATCHEL -d $t search after-removal 2>/dev/null | grep -q after-removal"
check "the box imports the bundle without it" sh -c \
    "$SATCHEL -d $x import $TMP/r.bundle >/dev/null 2>&1; $SATCHEL -d $t sync $box >/dev/null 2>&1; ! $SATCHEL -d $t search after-removal 2>/dev/null | grep -q after-removal"
check "the admin never shows it either" sh -c \
    "$SATCHEL -d $a sync $box >/dev/null 2>&1; ! $SATCHEL -d $a search after-removal 2>/dev/null | grep -q after-removal"
check "the note written before the removal stays everywhere" sh -c \
    "$(declare -f has); SATCHEL=$SATCHEL; has $t before-removal && has $a before-removal"

# An invited device that never joined is removed like any other.
vid=$("$SATCHEL" -d "$v" init --name Vee)
tok=$("$SATCHEL" -d "$a" member add "$vid" --name Vee 2>/dev/null)
check "an invited device can be removed" "$SATCHEL" -d "$a" member remove "$vid"
check "and shows as removed" sh -c \
    "$SATCHEL -d $a member list --json | jq -e '.[] | select(.name == \"Vee\") | .state == \"removed\"' >/dev/null"
sync_box "$a"
"$SATCHEL" -d "$v" join "$tok" >/dev/null 2>&1
check "its invite no longer gets it in" sh -c "! $SATCHEL -d $v sync $box >/dev/null 2>&1"
