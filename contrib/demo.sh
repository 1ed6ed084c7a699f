#!/usr/bin/env bash
# A short demo on a throw-away data directory: one teacher records a
# student, a conference note, a portfolio entry, a group and a goal, then
# shows the student's page. Nothing outside the temporary folder is touched.
set -eu
cd "$(dirname "$0")/.."
S=${SATCHEL:-$PWD/build/satchel}
export SATCHEL_HOME
SATCHEL_HOME=$(mktemp -d "${TMPDIR:-/tmp}/satchel-demo.XXXXXX")
trap 'rm -rf "$SATCHEL_HOME"' EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "satchel $*"; "$S" "$@"; }

run init --name "Ms. Rivera"
run student add "Ana Lopez" --class 3B --strengths "retells stories in order" --interests "horses"
run student add "Ben Okafor" --class 3B
run note add "Ana Lopez" --strengths "retells the story in order" \
    --obstacle "skips the endings" --action "reread the last page aloud" --follow-up 2026-12-01
run entry add "Ana Lopez" --title "Fractions quiz" --body "7 of 10 right" --tag pre-assessment
run group add "Group A" --same-need --member "Ana Lopez" --member "Ben Okafor"
run goal add "Ana Lopez" "Read 20 minutes a day" --checkpoint 2026-12-01:"half way" --checkpoint 2027-01-15:"every day"
run show "Ana Lopez"
run verify
printf '\nDemo data was in %s and is now removed.\n' "$SATCHEL_HOME"
