# zptest.sh - helpers for the tests that run rewritten programs (sourced after
# lib.sh by t-targets-*, t-busybox, t-hook-runs, t-contract-*, t-stress).
#
# These scripts run many independent checks; each check is reported on its
# own ("ok   NAME" or "FAIL NAME: why", with a diff of the outputs) and the
# script fails at the end if any check failed, so that one broken behaviour
# does not hide the others.  Every run has a time limit (ZP_RUN_TIMEOUT,
# default 60 s): a hang is a failure, not a stuck test suite.
#
#   prog NAME FLAVOUR        path of $BUILD/samples/NAME.FLAVOUR, or "" if that
#                            build does not exist (musl-gcc missing)
#   flavours                 static static-pie musl dynamic (those that exist for
#                            NAME; rw bundles a dynamic one, run through a link)
#   build_test_hook NAME [--vector] [CFLAGS...]
#                            build tests/hooks/NAME.c into ./NAME.so; --vector
#                            leaves out -mgeneral-regs-only
#   rw IN OUT [zprewrite options]   rewrite, or record a failed check
#   rw_three IN OUT          rw three ways: OUT (pass-through), OUT.hooked
#                            (./tcount.so, from build_test_hook tcount) and
#                            OUT.traced (the trace sample); 1 if one failed
#   check_same NAME ORIG PATCHED [ARGS...]
#                            run both (stdin from $STDIN or /dev/null, in the
#                            current directory), compare exit status, stdout
#                            and stderr; $ZPT_BETWEEN, if set, is eval'ed
#                            between the two runs (e.g. to repoint a symlink).
#                            The original must also have done its own job:
#                            with $ZPT_EXPECT_RC set, it must exit with that
#                            status (139: killed by SIGSEGV); without, it
#                            must not have failed its own checks (status 101
#                            or "FAILED: " on stderr, see samples/programs/
#                            ptest.h), died of a signal, timed out or failed
#                            to start (124-127): otherwise a rewritten program
#                            failing the same way would pass
#   check_again NAME PATCHED [ARGS...]
#                            the same against the original's run of the last
#                            check_same (not run again, nor judged again: its
#                            $ZPT_EXPECT_RC is the one that counts)
#   check NAME COMMAND...    a check that passes when COMMAND succeeds
# Checks that a hook really ran in a run (for `check`; remove the file with
# fresh before the run, the hooks append to it):
#   fresh FILE...            rm -f
#   hook_saw_calls FILE [MIN]
#                            the tcount hook's count file ($ZPT_COUNT_FILE):
#                            more than MIN (20) calls, all from known sites
#   hook_counted FILE NAMES  the count file has a row "NAME N", N > 0, with
#                            NAME matching the regex ^(NAMES)$ (tcount names
#                            numbers 0-511, "other" counts the rest)
#   vector_hook_ran FILE     the vector test hook's "vector-hook calls N"
#                            line, N > 100
#   trace_has FILE ERE       the trace hook's log ($ZP_TRACE_FILE) has a line
#                            matching ERE (after strace -f's "[pid N] ")
#   bad NAME WHY             record a failed check
#   finish                   summary; exit 1 if any check failed
# ZP_ONLY=REGEX runs only the checks whose names match (check_same, check).

ulimit -c 0
ZPT_FAILED=()
ZPT_OK=0
RUN_TIMEOUT=${ZP_RUN_TIMEOUT:-60}
SAMPLES_DIR=$BUILD/samples

[ -x "$ZPREWRITE" ] || fail "no zprewrite binary at $ZPREWRITE (build it first: make)"

prog() {
	local p=$SAMPLES_DIR/$1.$2
	if [ -x "$p" ]; then echo "$p"; else echo ""; fi
}

flavours() {
	local f out=""
	[ -x "$SAMPLES_DIR/$1.static" ] || fail "$SAMPLES_DIR/$1.static is missing: build the test programs first (make sample-programs)"
	for f in static static-pie musl dynamic; do
		[ -x "$SAMPLES_DIR/$1.$f" ] && out="$out $f"
	done
	echo $out
}

selected() { [ -z "${ZP_ONLY:-}" ] || [[ $1 =~ $ZP_ONLY ]]; }

bad() {
	echo "FAIL $1: $2" >&2
	ZPT_FAILED+=("$1")
}

good() {
	echo "ok   $1"
	ZPT_OK=$((ZPT_OK + 1))
}

build_test_hook() {
	local name=$1; shift
	local regs=-mgeneral-regs-only
	if [ "${1:-}" = --vector ]; then regs=; shift; fi
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -nostdlib -ffreestanding \
		-fno-stack-protector $regs -fvisibility=hidden -fno-asynchronous-unwind-tables \
		-I"$TESTS/../runtime/include" "$@" -o "$name.so" "$TESTS/hooks/$name.c" ||
		fail "cannot build the test hook $name"
}

rw() {
	local in=$1 out=$2; shift 2
	if readelf -lW "$in" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		# A dynamically linked program: bundle it with its loader and
		# libraries, and run it through a link to the bundle's copy.
		if ! "$ZPREWRITE" -q "$@" --force --bundle "$out.bundle" "$in" 2>rw.err; then
			bad "bundle $(basename "$in")" "zprewrite $* --bundle $out.bundle $in failed: $(cat rw.err)"
			return 1
		fi
		ln -sfn "$out.bundle/$(basename "$in")" "$out"
		return 0
	fi
	if ! "$ZPREWRITE" -q "$@" "$in" "$out" 2>rw.err; then
		bad "rewrite $(basename "$in")" "zprewrite $* $in $out failed: $(cat rw.err)"
		return 1
	fi
}

rw_three() {
	rw "$1" "$2" &&
		rw "$1" "$2.hooked" --hook tcount.so &&
		rw "$1" "$2.traced" --hook "$BUILD/samples/trace.so"
}

# run_t OUTPREFIX PROGRAM ARGS...: one run, with a time limit; sets RUN_RC.
run_t() {
	local o=$1; shift
	set +e
	timeout -k 5 "$RUN_TIMEOUT" "$@" <"${STDIN:-/dev/null}" >"$o.out" 2>"$o.err"
	RUN_RC=$?
	set -e
}

signame() { # status: " (signal N)" for a status above 128
	[ "$1" -le 128 ] || echo " (signal $(($1 - 128)))"
}

# judge_orig: ORIG_WHY, what is wrong with the original's run (LAST_RC,
# orig.err), "" if nothing.
judge_orig() {
	local ra=$LAST_RC
	ORIG_WHY=""
	if [ -n "${ZPT_EXPECT_RC:-}" ]; then
		[ "$ra" = "$ZPT_EXPECT_RC" ] ||
			ORIG_WHY="the original exited $ra$(signame "$ra"), expected $ZPT_EXPECT_RC$(signame "$ZPT_EXPECT_RC"); "
	elif [ "$ra" = 101 ]; then
		ORIG_WHY="the original failed its own checks (status 101); "
	elif [ "$ra" -ge 124 ] && [ "$ra" -le 127 ]; then
		ORIG_WHY="the original timed out or did not start (status $ra); "
	elif [ "$ra" -gt 128 ]; then
		ORIG_WHY="the original was killed$(signame "$ra"); "
	fi
	if grep -q '^FAILED: ' orig.err; then
		ORIG_WHY="${ORIG_WHY}the original printed \"$(grep -m1 '^FAILED: ' orig.err | cut -c1-100)\"; "
	fi
}

check_same() {
	local name=$1 a=$2; shift 2
	selected "$name" || return 0
	run_t orig "$a" "${@:2}"
	LAST_RC=$RUN_RC
	judge_orig
	[ -z "${ZPT_BETWEEN:-}" ] || eval "$ZPT_BETWEEN"
	compare_with_orig "$name" "$@"
}

# check_again NAME PATCHED [ARGS...]: like check_same, against the original's
# run of the previous check_same (same arguments), without running it again.
check_again() {
	local name=$1
	selected "$name" || return 0
	shift
	compare_with_orig "$name" "$@"
}

compare_with_orig() { # name patched args...: orig.out/orig.err/LAST_RC/ORIG_WHY hold the original's run
	local name=$1 b=$2; shift 2
	local ra=$LAST_RC rb why=${ORIG_WHY:-}
	run_t patched "$b" "$@"; rb=$RUN_RC
	[ $rb -eq 124 ] && why="${why}patched run timed out after ${RUN_TIMEOUT}s; "
	[ $ra -eq $rb ] || why="${why}exit status: original $ra, patched $rb$(signame $rb); "
	cmp -s orig.out patched.out || why="${why}stdout differs; "
	cmp -s orig.err patched.err || why="${why}stderr differs; "
	if [ -n "$why" ]; then
		bad "$name" "${why%; }"
		{
			echo "   command: $b $*"
			[ -z "${ORIG_WHY:-}" ] || tail -n 5 orig.err | sed 's/^/   original stderr| /'
			diff orig.out patched.out | head -15 | sed 's/^/   stdout| /'
			diff orig.err patched.err | head -15 | sed 's/^/   stderr| /'
		} >&2 || true
	else
		good "$name"
	fi
}

check() {
	local name=$1; shift
	selected "$name" || return 0
	if "$@"; then good "$name"; else bad "$name" "failed: $*"; fi
}

fresh() { rm -f "$@"; }

hook_saw_calls() { # count file [min]
	[ -s "$1" ] || { echo "   no count file $1" >&2; return 1; }
	local total nosite
	total=$(awk '$1 == "total" { print $2; exit }' "$1")
	nosite=$(awk '$1 == "nosite" { print $2; exit }' "$1")
	echo "   hook: total $total calls, $nosite without a site"
	[ "${total:-0}" -gt "${2:-20}" ] && [ "${nosite:-1}" -eq 0 ]
}

hook_counted() { # count file, names (regex)
	[ -s "$1" ] || { echo "   no count file $1: the hook did not run (or did not reach exit_group)" >&2; return 1; }
	local rows
	rows=$(awk -v re="^($2)\$" '$1 ~ re && $2 > 0 { printf " %s %s", $1, $2 }' "$1")
	echo "   hook counted:${rows:- no $2}"
	[ -n "$rows" ]
}

vector_hook_ran() { # count file
	local n; n=$(awk '$1 == "vector-hook" { print $3 }' "$1" 2>/dev/null | tail -n 1)
	echo "   vector hook calls: ${n:-none}"
	[ "${n:-0}" -gt 100 ]
}

trace_has() { # trace file, ERE
	[ -s "$1" ] || { echo "   no trace file $1: the trace hook did not run" >&2; return 1; }
	local n
	n=$(sed 's/^\[pid  *[0-9]*\] //' "$1" | grep -cE -- "$2" || true)
	echo "   trace: $n lines match $2"
	[ "$n" -gt 0 ]
}

finish() {
	echo "-- $ZPT_OK checks passed, ${#ZPT_FAILED[@]} failed"
	if [ ${#ZPT_FAILED[@]} -gt 0 ]; then
		printf 'failed: %s\n' "${ZPT_FAILED[@]}"
		exit 1
	fi
	exit 0
}
