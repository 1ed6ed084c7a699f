#!/usr/bin/env bash
# Rates a system unit with systemd-analyze security (offline): exits 1 if
# its overall exposure is above 2.0 ("OK"), 0 if at or below, and 0 with
# a line saying so where systemd-analyze is not installed.
set -u
unit=${1:?unit file}
max=${MAX_EXPOSURE:-2.0}
if ! command -v systemd-analyze >/dev/null; then
	echo "systemd-analyze is not installed: $unit not rated"
	exit 0
fi
line=$(systemd-analyze security --offline=true "$unit" 2>&1 | grep "Overall exposure")
score=$(printf '%s\n' "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
if [ -z "$score" ]; then
	echo "systemd-analyze could not rate $unit:"
	systemd-analyze security --offline=true "$unit" 2>&1 | tail -5
	exit 1
fi
echo "$unit: exposure $score (at most $max)"
awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }'
