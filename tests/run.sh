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
# ZP_JOBS scripts run at a time (default: the number of CPUs): most of them
# run one program after another and leave the other CPUs idle.  Their lines
# come in the order the scripts were started.
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

JOBS=${ZP_JOBS:-$(nproc 2>/dev/null || echo 1)}
RES=$(mktemp -d "${TMPDIR:-/tmp}/zp-results.XXXXXX")
trap 'rm -rf "$RES"' EXIT

# run_one SCRIPT ZPREWRITE LABEL: its report on stdout, and "VERDICT CHECKS
# LABEL" as the last line of stderr (VERDICT: pass, skip or fail).
run_one() {
	local s=$1 zp=$2 label=$3 dir rc start n
	dir=$(mktemp -d "${TMPDIR:-/tmp}/zp-test.XXXXXX")
	start=$(date +%s)
	(cd "$dir" && ZPREWRITE="$zp" timeout -k 10 "${ZP_SCRIPT_TIMEOUT:-1800}" bash "$s" </dev/null) >"$dir.log" 2>&1
	rc=$?
	local secs=$(( $(date +%s) - start ))
	n=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$dir.log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		printf 'ok    %-28s %4ss %5s checks\n' "$label" "$secs" "${n:-?}"
		echo "pass ${n:-0} $label" >&2
	elif [ $rc -eq 77 ]; then
		printf 'SKIP  %-28s %s\n' "$label" "$(tail -n 1 "$dir.log" | sed 's/.*# SKIP //')"
		echo "skip ${n:-0} $label" >&2
	else
		printf 'FAIL  %-28s (exit %d) %5s checks\n' "$label" "$rc" "${n:-?}"
		grep -v '^ok ' "$dir.log" | sed 's/^/      | /' | tail -n 60
		echo "fail ${n:-0} $label" >&2
	fi
	rm -rf "$dir" "$dir.log"
}

# start SCRIPT ZPREWRITE LABEL: run_one in the background, the K-th started
# writing RES/K.out and RES/K.verdict, once a job's place is free; the
# reports of those finished are printed, in order.
started=0 printed=0 missing=()
start() {
	local k=$started
	(run_one "$@" >"$RES/$k.out" 2>"$RES/$k.err"; tail -n 1 "$RES/$k.err" >"$RES/$k.verdict") &
	started=$((started + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n || true
		print_finished
	done
}
print_finished() {
	while [ -f "$RES/$printed.verdict" ]; do
		cat "$RES/$printed.out"
		printed=$((printed + 1))
	done
}

for s in "${scripts[@]}"; do
	[ -f "$s" ] || { echo "no such test: $s"; missing+=("$s"); continue; }
	name=$(basename "$s" .sh); name=${name#t-}
	rewriter_only=0; grep -q '^# zp-test: rewriter' "$s" && rewriter_only=1
	if [ "${ZP_ONLY_REWRITER:-0}" = 1 ]; then
		[ $rewriter_only = 1 ] && start "$s" "$ZPREWRITE" "$name"
		continue
	fi
	start "$s" "$ZPREWRITE" "$name"
	if [ $rewriter_only = 1 ] && [ -x "$BUILD/asan/zprewrite" ] && [ "$ZPREWRITE" = "$BUILD/zprewrite" ]; then
		start "$s" "$BUILD/asan/zprewrite" "$name (asan)"
	fi
done
wait
print_finished

pass=0 fail=${#missing[@]} skip=0 checks=0 failed=("${missing[@]}")
for ((k = 0; k < started; k++)); do
	read -r verdict n label <"$RES/$k.verdict" || { verdict=fail n=0 label="job $k"; }
	checks=$((checks + n))
	case $verdict in
	pass) pass=$((pass + 1)) ;;
	skip) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); failed+=("$label") ;;
	esac
done
echo "tests: $pass passed, $fail failed, $skip skipped ($checks checks)"
[ $fail -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
