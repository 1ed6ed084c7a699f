#!/usr/bin/env bash
# The teacher's page in a real browser: Debian's chromium driven by npm
# playwright-core (tests/browser/), against real `satchel serve` devices
# on 127.0.0.1. Installs the test's one npm package with `npm ci` the
# first time. Screenshots go to $SCREENSHOTS (build/screenshots).
set -u
cd "$(dirname "$0")/../.."
: "${SATCHEL:?SATCHEL must name the satchel binary}"
for tool in node npm; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok 1 - $tool is not installed (run 'make deps')"
		exit 1
	fi
done
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	echo "not ok 1 - ${CHROMIUM:-/usr/bin/chromium} is not installed (run 'make deps')"
	exit 1
fi
if ! "$SATCHEL" serve --help 2>&1 | grep -q -- '--http'; then
	echo "ok 1 # SKIP this satchel serves no page yet"
	exit 0
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
	if ! (cd tests/browser && npm ci --no-audit --no-fund) >&2; then
		echo "not ok 1 - npm ci in tests/browser failed (see above)"
		exit 1
	fi
fi
exec node tests/browser/run.mjs
