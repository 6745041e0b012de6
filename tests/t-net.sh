#!/usr/bin/env bash
# t-net.sh - --complete and --vdso: every system call reaches the hook, also
# those of code no rewriter saw.
#
# tests/programs/net.c makes known numbers of raw system calls from code in
# no rewritten file: a `syscall` written at run time into an anonymous page
# (RWX, and RW then RX), from 4 threads and a fork child, from a signal
# handler, from a library loaded from outside the bundle (dlopen, the
# dynamic build only), and rt_sigreturn and vfork from run-time pages; it
# installs a seccomp RET_TRAP filter with its own SIGSYS handler, and turns
# Syscall User Dispatch on itself (as Wine does).  Each build is rewritten
# with --complete (and --vdso for the clock) and the count and trace hooks,
# and every mode runs on the page-0 path (ZP_PAGE0=fast, as root), on the
# trap path (ZP_PAGE0=never), and as uid 65534 (the trap path).  Checks:
#   - the program prints what the original prints (its own checks of the
#     results: right pids, 4242 from its seccomp handler, 777 from its SUD
#     handler);
#   - the count hook's rows for getpid, getppid, getuid, rt_sigreturn and
#     vfork equal strace -c's for the original (exact counts; threads: strace
#     -f, less the fork child's, which count reports in its own table);
#   - with --vdso, the count hook sees every clock_gettime (strace sees none:
#     the vDSO answers them); without --vdso it sees none;
#   - the trace hook's log has a line for each getppid strace counts;
#   - without --complete the hook misses the run-time calls (a negative
#     control: the net is what catches them).
# Without Syscall User Dispatch in the kernel (Linux < 5.11), --complete does
# nothing: the checks that need it say so and are skipped, and the programs
# must still run as the originals.
source "$TESTS/harness.sh"

HOOKS=$BUILD/samples
N=300
LIB=$TEST_PROGRAMS_DIR/libnetlib.so
SUD=no
"$ZPREWRITE" --check-host | grep -qx 'syscall_user_dispatch: yes' && SUD=yes
[ $SUD = yes ] || note "no Syscall User Dispatch in this kernel: --complete runs as without it"
ROOT=no
[ "$(id -u)" = 0 ] && ROOT=yes

# rows TABLE NAMES: "name calls" of the rows of a count or strace -c table
# whose name matches ^(NAMES)$.
rows() {
	awk -v re="^($2)\$" 'NF >= 5 && $1 ~ /^[0-9]+\.[0-9]+$/ && $NF ~ re { print $NF, (NF == 6 ? $(NF-2) : $(NF-1)) }' "$1" |
		LC_ALL=C sort
}

# calls TABLE NAME: the calls of NAME's row, 0 if none.
calls() { awk -v n="$2" '$NF == n && $1 ~ /^[0-9]+\.[0-9]+$/ { print (NF == 6 ? $(NF-2) : $(NF-1)); f = 1 } END { if (!f) print 0 }' "$1"; }

same_rows() { # count-table strace-table names
	diff <(rows "$2" "$3") <(rows "$1" "$3") >&2 || { echo "   (- strace -c, + the count hook)" >&2; return 1; }
}

# strace_table OUT ARGS...: strace -c (-f with STRACE_F=1) of the original,
# into OUT; 1 if strace cannot run here (STRACE_WHY).
strace_table() {
	local out=$1; shift
	strace_ok strace.err -c ${STRACE_F:+-f} -o "$out" "$@" >/dev/null </dev/null
}

# One mode of one build: the original's run and strace table, the rewritten
# runs with the count and trace hooks.  $1 = label, $2 = build, rest = args.
NAMES='getpid|getppid|getuid|rt_sigreturn|vfork'
net_case() {
	local label=$1 f=$2; shift 2
	local orig
	orig=$(prog net "$f")
	[ "${1:-}" != dlopen ] || set -- dlopen "$LIB" "${@:2}"
	fresh count trace.log
	ZP_COUNT_FILE=$PWD/count check_same "$f: $label" "$orig" "./net.$f.count" "$@"
	[ $SUD = yes ] || return 0
	if strace_table strace.tab "$orig" "$@"; then
		if [ "$1" = threads ]; then
			# (the fork child's table is the second one: the first is the process's)
			awk '/^% time/ { n++ } n == 1' count > count.first
			check "$f: $label: count = strace -f -c less the fork child's $((N + 1))" \
				test "$(calls count.first getpid)" = "$(( $(calls strace.tab getpid) - N - 1 ))"
		else
			check "$f: $label: the count hook's rows = strace -c's" same_rows count strace.tab "$NAMES"
		fi
	else
		skip_check "$f: $label: counts against strace" "$STRACE_WHY"
	fi
}

paths() { # label-prefix, function, args...: on page 0 (as root) and on the trap path
	local fn=$1; shift
	if [ $ROOT = yes ]; then
		in_mode "page 0" ZP_PAGE0=fast -- "$fn" "$@"
	else
		skip_check "page 0: $*" "page 0 needs root here"
	fi
	in_mode "trap" ZP_PAGE0=never -- "$fn" "$@"
}

all_modes() { # build
	local f=$1
	STRACE_F= net_case "jit $N" "$f" jit $N
	STRACE_F=1 net_case "threads $N" "$f" threads $N
	STRACE_F= net_case "signal $N" "$f" signal $N
	STRACE_F= net_case "seccomp" "$f" seccomp
	STRACE_F= net_case "sud" "$f" sud
	STRACE_F= net_case "special" "$f" special
	[ "$f" != dynamic ] || STRACE_F= net_case "dlopen $N" "$f" dlopen $N
}

clock_and_trace() { # build
	local f=$1 orig want
	orig=$(prog net "$f")
	fresh count
	ZP_COUNT_FILE=$PWD/count check_same "$f: clock $N (--vdso)" "$orig" "./net.$f.count" clock $N
	check "$f: clock: the count hook saw all $N clock_gettime (--vdso)" test "$(calls count clock_gettime)" -ge $N
	fresh count
	ZP_COUNT_FILE=$PWD/count run_t plain "./net.$f.novdso" clock $N
	check "$f: clock: without --vdso, the vDSO answers (no clock_gettime call)" test "$(calls count clock_gettime)" = 0
	[ $SUD = yes ] || return 0
	fresh trace.log
	if strace_table strace.tab "$orig" jit $N; then
		want=$(calls strace.tab getppid)
		ZP_TRACE_FILE=$PWD/trace.log run_t traced "./net.$f.trace" jit $N
		check "$f: trace: a line for each of strace's $want getppid" \
			test "$(grep -cE '^getppid\(\) += [0-9]+$' trace.log)" = "$want"
		fresh count
		ZP_COUNT_FILE=$PWD/count run_t plain "./net.$f.nonet" jit $N
		check_not "$f: negative control: without --complete the hook misses the run-time calls" \
			test "$(calls count getppid)" = "$want"
	fi
}

for f in $(flavours net); do
	orig=$(prog net "$f")
	rewrite "$orig" "net.$f.count" --complete --vdso --hook "$HOOKS/count.so" || continue
	rewrite "$orig" "net.$f.trace" --complete --hook "$HOOKS/trace.so" || continue
	rewrite "$orig" "net.$f.novdso" --complete --hook "$HOOKS/count.so" || continue
	rewrite "$orig" "net.$f.nonet" --hook "$HOOKS/count.so" || continue
	paths all_modes "$f"
	paths clock_and_trace "$f"
done

# As uid 65534 (no page 0: the trap path), from a folder it can read: the
# static build and a bundle made there (a bundle is tied to its path).
as_nobody() {
	local d f orig
	d=$(mktemp -d "${TMPDIR:-/tmp}/zp-net.XXXXXX")
	on_exit "rm -rf '$d'"
	chmod 1777 "$d"
	for f in static dynamic; do
		orig=$(prog net "$f")
		[ -n "$orig" ] || continue
		cp "$orig" "$d/net.$f.orig"
		if [ $f = dynamic ]; then
			"$ZPREWRITE" -q --complete --hook "$HOOKS/count.so" --bundle "$d/b" "$orig" ||
				{ bad "uid 65534: bundle" "zprewrite --bundle failed"; continue; }
			ln -s "b/$(basename "$orig")" "$d/net.$f.zp"
			cp "$LIB" "$d/libnetlib.so"
		else
			"$ZPREWRITE" -q --complete --hook "$HOOKS/count.so" "$orig" "$d/net.$f.zp" ||
				{ bad "uid 65534: rewrite" "zprewrite failed"; continue; }
		fi
		chmod -R a+rX "$d"
		local as=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
		local args=(jit $N)
		[ $f = static ] || args=(dlopen "$d/libnetlib.so" $N)
		run_t orig "${as[@]}" "$d/net.$f.orig" "${args[@]}"
		LAST_RC=$RUN_RC
		cp orig.out want.out
		rm -f "$d/count"
		ZP_COUNT_FILE=$d/count run_t nobody "${as[@]}" "$d/net.$f.zp" "${args[@]}"
		check "uid 65534: $f ${args[0]}: runs as the original" eval '[ "$RUN_RC" = "$LAST_RC" ] && cmp -s want.out nobody.out'
		if [ $SUD = yes ]; then
			check "uid 65534: $f ${args[0]}: the hook saw the $N run-time calls" \
				test "$(calls "$d/count" getppid)" -ge $N
		fi
	done
}
if [ $ROOT = yes ] && command -v setpriv >/dev/null; then
	as_nobody
else
	skip_check "uid 65534" "needs root and setpriv to run as another user"
fi
