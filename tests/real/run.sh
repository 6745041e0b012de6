#!/usr/bin/env bash
# run.sh - make check-real: third-party test suites, natively and rewritten.
#
# Usage: tests/real/run.sh BUILD_DIR [SUITE...]
#   SUITE: go, py (all of one kind), go:PKG (net/http, os/exec, os/signal, net,
#   or one of ours under tests/real/go: nilcall, stackbottom) or py:MODULE
#   (test_subprocess, test_asyncio.test_events, ...).  Default: everything,
#   or $ZP_REAL_SUITES.
# Environment:
#   ZP_REAL_HOOKS    which rewritten variants to run (default "none count
#                    trace": no hook, build/samples/count.so, trace.so;
#                    also "bigstack": tests/hooks/bigstack.c, 30 KiB of stack
#                    per call)
#   ZP_REAL_TIMEOUT  seconds a single run may take (default 900)
#   ZP_REAL_DIR      work directory (default BUILD_DIR/real)
#   ZP_REAL_OPTS     further zprewrite options for every rewritten variant
#                    (e.g. "--complete --vdso": every call through the hook)
#
# Go standard-library test binaries are built static (CGO_ENABLED=0) and
# rewritten; CPython is bundled (zprewrite --bundle).  Each suite runs once
# natively and once per hook, each run's log becomes one status per test
# (tests/real/results.py) and the rewritten statuses must be the native
# ones.  When they are not, the native side runs a second time: a test whose
# status also changes between native runs is flaky and may differ.  A
# difference listed with its reason in tests/real/known-differences.txt is
# reported but accepted; any other fails the check (exit status 1).  Logs,
# results and traces stay in the work directory.  docs/real-suites.md says
# what runs and what is known to differ.
set -uo pipefail

BUILD=$(cd "${1:?usage: tests/real/run.sh BUILD_DIR [SUITE...]}" && pwd); shift
REAL=$(cd "$(dirname "$0")" && pwd)
ZPREWRITE=$BUILD/zprewrite
WORK=${ZP_REAL_DIR:-$BUILD/real}
HOOKS=${ZP_REAL_HOOKS:-none count trace}
TIMEOUT=${ZP_REAL_TIMEOUT:-900}
KNOWN=$REAL/known-differences.txt
RESULTS="python3 $REAL/results.py"

GO_STD="net/http os/exec os/signal net os syscall"
GO_OURS="nilcall stackbottom"
PY=/usr/bin/python3.11
PY_MODS="test_subprocess test_threading test_signal test_os test_socket
	test_asyncio.test_subprocess test_asyncio.test_events test_asyncio.test_unix_events
	test_asyncio.test_sock_lowlevel test_asyncio.test_streams test_asyncio.test_sendfile
	test_faulthandler test_posix test_pty test_select test_mmap test_fcntl test_time"
# The AF_VSOCK tests of test_socket wait forever for a connection on a
# virtual machine whose host does not answer: natively too.
PY_IGNORE='*VSOCK*'

mkdir -p "$WORK/logs" "$WORK/go/bin" "$WORK/py" "$WORK/run" || exit 2
export GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GOFLAGS='' CGO_ENABLED=0

say() { printf '%s\n' "$*"; }

# ---- what to run -----------------------------------------------------------

suites() { # the suites the arguments name, one per line
	local a p
	for a in "$@"; do
		case $a in
		go) for p in $GO_STD $GO_OURS; do echo "go:$p"; done ;;
		py) for p in $PY_MODS; do echo "py:$p"; done ;;
		go:?* | py:?*) echo "$a" ;;
		*) say "run.sh: unknown suite '$a' (go, py, go:PKG, py:MODULE)"; exit 2 ;;
		esac
	done
}

safe() { echo "$1" | tr ':/' '__'; } # a suite name usable in a file name

hook_args() { # zprewrite options for a variant
	echo "${ZP_REAL_OPTS:-}"
	case $1 in
	none) ;;
	bigstack) echo "--hook $(bigstack_so)" ;;
	*) echo "--hook $BUILD/samples/$1.so" ;;
	esac
}

# The test hook that uses 30 KiB of its stack budget on every call
# (tests/hooks/bigstack.c): ZP_REAL_HOOKS=bigstack, e.g. with
# go:stackbottom, shows goroutines keep their stacks with a hook that uses
# its whole budget.
bigstack_so() {
	local so=$WORK/bigstack.so
	[ -s "$so" ] || gcc -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -nostdlib -ffreestanding \
		-fno-stack-protector -mgeneral-regs-only -fvisibility=hidden -fno-asynchronous-unwind-tables \
		-I"$REAL/../../runtime/include" -o "$so" "$REAL/../hooks/bigstack.c" >&2 || return 1
	echo "$so"
}

# ---- Go: build, rewrite, where to run --------------------------------------

go_is_ours() { case " $GO_OURS " in *" $1 "*) return 0 ;; esac; return 1; }

# The test binary runs in its package's directory, as `go test` runs it: a
# copy of the source, with the testdata shared by several packages.
go_dir() {
	if go_is_ours "$1"; then echo "$REAL/go/$1"; else echo "$WORK/go/src/$1"; fi
}

go_prepare() { # pkg: build the test binary and its rewritten variants
	local pkg=$1 bin goroot h
	bin=$WORK/go/bin/$(safe "$pkg")
	if go_is_ours "$pkg"; then
		(cd "$REAL/go" && go test -c -o "$bin.test" "./$pkg") || return 1
	else
		goroot=$(go env GOROOT)
		mkdir -p "$WORK/go/src/$pkg" "$WORK/go/src/testdata"
		cp -r "$goroot/src/$pkg/." "$WORK/go/src/$pkg/" &&
			cp -r "$goroot/src/testdata/." "$WORK/go/src/testdata/" &&
			go test -c -o "$bin.test" "$pkg" || return 1
	fi
	for h in $HOOKS; do
		# shellcheck disable=SC2046
		"$ZPREWRITE" $(hook_args "$h") "$bin.test" "$bin.$h.test" || return 1
	done
}

go_command() { # pkg variant: set cmd to the command line of one run
	local bin
	bin=$WORK/go/bin/$(safe "$1")
	if [ "$2" = native ]; then bin=$bin.test; else bin=$bin.$2.test; fi
	# -test.short: the long variants of net's and net/http's tests take
	# minutes each and add no system calls of another kind.
	cmd=("$bin" -test.v -test.short -test.timeout "$((TIMEOUT - 30))s")
}

# ---- CPython: bundle, where to run -----------------------------------------

py_prepare() { # bundle python once per variant (shared by every module)
	local h
	for h in $HOOKS; do
		# shellcheck disable=SC2046
		"$ZPREWRITE" $(hook_args "$h") -q --force --bundle "$WORK/py/$h" "$PY" || return 1
	done
}

py_command() { # module variant: set cmd
	local exe=$PY
	[ "$2" = native ] || exe=$WORK/py/$2/python3.11
	cmd=("$exe" -m test -v --timeout "$((TIMEOUT - 30))" -i "$PY_IGNORE" "$1")
}

# ---- one run -----------------------------------------------------------------

# run_once suite variant tag: run the suite as the variant (native, or a
# hook) into $WORK/logs/SUITE.TAG.{log,res,run}.  Every run gets the
# same environment, the hooks' output files included, so that native and
# rewritten runs see the same variables.
run_once() {
	local suite=$1 variant=$2 tag=$3 kind=${1%%:*} what=${1#*:} dir out start rc
	out=$WORK/logs/$(safe "$suite").$tag
	if [ "$kind" = go ]; then
		go_command "$what" "$variant"; dir=$(go_dir "$what")
	else
		py_command "$what" "$variant"; dir=$WORK/run/$(safe "$suite").$tag
		rm -rf "$dir"; mkdir -p "$dir"
	fi
	rm -f "$out.trace" "$out.count"
	start=$SECONDS
	(cd "$dir" && ZP_TRACE_FILE=$out.trace ZP_COUNT_FILE=$out.count \
		timeout -k 10 "$TIMEOUT" "${cmd[@]}") </dev/null >"$out.log" 2>&1
	rc=$?
	echo "$rc $((SECONDS - start))" >"$out.run" # exit status, seconds
	$RESULTS parse "$kind" "$out.log" >"$out.res"
}

# hooked suite variant tag: did the hook run in the rewritten program?
# Without this a rewrite that lost its hook would compare as identical.
hooked() {
	local out
	out=$WORK/logs/$(safe "$1").$3
	case $2 in
	trace) [ -s "$out.trace" ] ;;
	count) grep -q 'syscall' "$out.count" 2>/dev/null ;;
	*) true ;;
	esac
}

# Trace files of whole suites run into gigabytes: keep the last 16 MiB (the
# end of a crashed run is what one reads).
trim_trace() {
	local f=$1 size
	[ -f "$f" ] || return 0
	size=$(stat -c %s "$f")
	[ "$size" -le $((64 << 20)) ] && return 0
	tail -c $((16 << 20)) "$f" >"$f.tail" && mv "$f.tail" "$f"
}

# ---- comparing ---------------------------------------------------------------

# compare suite hook: the hook's run against the native run(s) so far;
# prints the differences, leaves the verdict line in $WORK/logs/...cmp.
compare() {
	local suite=$1 hook=$2 base natives
	base=$WORK/logs/$(safe "$suite")
	natives=$base.native.res
	[ -f "$base.native2.res" ] && natives=$natives,$base.native2.res
	$RESULTS compare "$suite" "$hook" "$KNOWN" "$natives" "$base.$hook.res" >"$base.$hook.cmp"
}

field() { # file word: the value after word on the file's COUNTS line
	sed -n "s/^COUNTS.* $2 \([^ ]*\).*/\1/p" "$1"
}

# row suite hook verdict: one line of the final table
row() {
	local base n=native nrc nsecs rc secs
	base=$WORK/logs/$(safe "$1")
	[ -f "$base.native2.res" ] && n="native x2"
	read -r nrc nsecs <"$base.native.run"
	read -r rc secs <"$base.$2.run"
	printf '%-32s %-5s %-11s %5ss  %-11s %5ss  %3s/%-3s %s\n' "$1" "$2" \
		"$(field "$base.$2.cmp" native)" "$nsecs" \
		"$(field "$base.$2.cmp" rewritten)" "$secs" "$nrc" "$rc" "$3 ($n)"
}

# crash_hint base hook: when the rewritten run ended differently from the
# native one, the first line of its log that says why (Go's fatal errors
# and panics, CPython's fatal errors, the shell's "Segmentation fault").
crash_hint() {
	local nrc rc hint
	read -r nrc _ <"$1.native.run"
	read -r rc _ <"$1.$2.run"
	[ "$nrc" = "$rc" ] && return 0
	hint=$(grep -m 3 -E '^(fatal error|panic|unexpected fault|SIG[A-Z]+:|runtime: )|Fatal Python error|Segmentation fault|Timeout|timed out' \
		"$1.$2.log" | cut -c1-160)
	echo "    exit status $nrc natively, $rc rewritten${hint:+; its log says:}"
	[ -z "$hint" ] || printf '      | %s\n' "${hint//$'\n'/$'\n      | '}"
}

# check_hook suite hook: run, compare (with a second native run if the
# first disagrees), print the differences, append a row to $TABLE.
check_hook() {
	local suite=$1 h=$2 base verdict
	base=$WORK/logs/$(safe "$suite")
	run_once "$suite" "$h" "$h"
	trim_trace "$base.$h.trace"
	if ! compare "$suite" "$h" && [ ! -f "$base.native2.res" ]; then
		say "   $suite: $h differs; running it natively again to tell flaky tests"
		run_once "$suite" native native2
		compare "$suite" "$h"
	fi
	verdict=same
	grep -q '^    known' "$base.$h.cmp" && verdict="same but known differences"
	grep -q '^    DIFFERS' "$base.$h.cmp" && verdict=DIFFERS
	hooked "$suite" "$h" "$h" || verdict="DIFFERS: the $h hook left no output"
	[ "$verdict" = "${verdict#DIFFERS}" ] || FAILED=$((FAILED + 1))
	grep '^    ' "$base.$h.cmp"
	crash_hint "$base" "$h"
	row "$suite" "$h" "$verdict" | tee -a "$TABLE"
}

check_suite() { # suite: prepare, run natively, then every hook
	local suite=$1 base
	base=$WORK/logs/$(safe "$suite")
	rm -f "$base".*
	if [ "${suite%%:*}" = go ] && ! go_prepare "${suite#go:}"; then
		say "$suite: cannot build or rewrite it"; FAILED=$((FAILED + 1)); return
	fi
	run_once "$suite" native native
	for h in $HOOKS; do check_hook "$suite" "$h"; done
}

# ---- main ----------------------------------------------------------------------

min=$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null || echo 65536)
if [ "$min" != 0 ] && [ "$(id -u)" != 0 ]; then
	say "run.sh: rewritten programs need page 0: run as root, or sysctl -w vm.mmap_min_addr=0"
	exit 2
fi
# shellcheck disable=SC2086 # a list of names
[ $# -gt 0 ] || set -- ${ZP_REAL_SUITES:-go py}
list=$(suites "$@") || exit 2
TABLE=$WORK/table.txt FAILED=0 T0=$SECONDS
: >"$TABLE"
if echo "$list" | grep -q '^py:' && ! py_prepare; then
	say "run.sh: cannot bundle $PY"; exit 1
fi
for suite in $list; do
	say "== $suite"
	check_suite "$suite"
done
echo
printf '%-32s %-5s %-11s %6s  %-11s %6s  %-7s %s\n' suite hook native time rewritten time "exit" result
printf '%-32s %-5s %-11s %6s  %-11s %6s  %-7s %s\n' "" "" "pass/fail/skip" "" "pass/fail/skip" "" "" ""
cat "$TABLE"
echo "check-real: $((SECONDS - T0))s; $FAILED suite/hook pairs differ without a known reason (logs: $WORK/logs)"
[ "$FAILED" -eq 0 ]
