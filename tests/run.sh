#!/usr/bin/env bash
# run.sh - run every test script tests/t-*.sh and report.
#
# Usage: tests/run.sh BUILD_DIR [NAME...]
# Each test script runs in its own temporary directory with BUILD, ZPREWRITE
# and TESTS set (see tests/harness.sh), prints a TAP line per check ("ok N -
# NAME", "not ok N - NAME") and a plan ("1..N"), and fails by exiting
# non-zero (77: skipped, its last line saying why).  A script gets
# ZP_SCRIPT_TIMEOUT seconds (1800) in all; each run in it has its own limit.
# The log of a script that fails is shown (its last 60 lines, passed checks
# left out).
# Scripts whose header has the line "# zp-test: rewriter" exercise only the
# rewriter; they are run a second time with the ASan+UBSan build of zprewrite
# (build/asan/zprewrite) when it exists.  ZP_ONLY_REWRITER=1 runs only those.
set -uo pipefail
BUILD=$(cd "${1:?usage: tests/run.sh BUILD_DIR [NAME...]}" && pwd); shift
TESTS=$(cd "$(dirname "$0")" && pwd)
export BUILD TESTS
ZPREWRITE=${ZPREWRITE:-$BUILD/zprewrite}
ZPREWRITE=$(cd "$(dirname "$ZPREWRITE")" && pwd)/$(basename "$ZPREWRITE")

if [ $# -gt 0 ]; then
	scripts=(); for n in "$@"; do scripts+=("$TESTS/t-$n.sh"); done
else
	scripts=("$TESTS"/t-*.sh)
fi

pass=0 fail=0 skip=0 checks=0 failed=()
run_one() { # script zprewrite label
	local s=$1 zp=$2 label=$3 dir rc start n
	dir=$(mktemp -d "${TMPDIR:-/tmp}/zp-test.XXXXXX")
	start=$(date +%s)
	(cd "$dir" && ZPREWRITE="$zp" timeout -k 10 "${ZP_SCRIPT_TIMEOUT:-1800}" bash "$s" </dev/null) >"$dir.log" 2>&1
	rc=$?
	local secs=$(( $(date +%s) - start ))
	n=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$dir.log" | tail -n 1)
	checks=$((checks + ${n:-0}))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); printf 'ok    %-28s %4ss %5s checks\n' "$label" "$secs" "${n:-?}"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); printf 'SKIP  %-28s %s\n' "$label" "$(tail -n 1 "$dir.log" | sed 's/.*# SKIP //')"
	else
		fail=$((fail + 1)); failed+=("$label")
		printf 'FAIL  %-28s (exit %d) %5s checks\n' "$label" "$rc" "${n:-?}"
		grep -v '^ok ' "$dir.log" | sed 's/^/      | /' | tail -n 60
	fi
	rm -rf "$dir" "$dir.log"
}

for s in "${scripts[@]}"; do
	[ -f "$s" ] || { echo "no such test: $s"; fail=$((fail + 1)); continue; }
	name=$(basename "$s" .sh); name=${name#t-}
	rewriter_only=0; grep -q '^# zp-test: rewriter' "$s" && rewriter_only=1
	if [ "${ZP_ONLY_REWRITER:-0}" = 1 ]; then
		[ $rewriter_only = 1 ] && run_one "$s" "$ZPREWRITE" "$name"
		continue
	fi
	run_one "$s" "$ZPREWRITE" "$name"
	if [ $rewriter_only = 1 ] && [ -x "$BUILD/asan/zprewrite" ] && [ "$ZPREWRITE" = "$BUILD/zprewrite" ]; then
		run_one "$s" "$BUILD/asan/zprewrite" "$name (asan)"
	fi
done

echo "tests: $pass passed, $fail failed, $skip skipped ($checks checks)"
[ $fail -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
