#!/usr/bin/env bash
# t-backtrace.sh - gdb (and perf) see the application's frames through the
# runtime and the hook: the unwind tables and symbols zprewrite adds.
#
# A program (built here: main -> say -> write, a raw syscall(), a thread, a
# vfork, a signal, a red-zone site) is run under gdb -batch, natively and
# rewritten (static, and dynamic in a bundle; without a hook, with the trace
# sample hook, with a test hook that raises a signal inside itself), on the
# trap path (the default here when page 0 cannot be execute-only) and on
# page 0 (ZP_PAGE0=fast, root only).  gdb stops at the same point in both
# and prints the backtrace's function names (tests/zpgdb.py).  The
# rewritten backtrace must hold every native frame, in order, ending with
# the same outermost ones (write <- say <- main), and nothing else but the
# runtime's or the hook's frames (zp_* names), signal frames and code
# without a name (the trampoline, the address a call faulted at):
#   - `catch syscall write` in say, `catch syscall getppid` in raw (the
#     fast path; with a hook, zp_dispatch and the hook's own calls);
#   - `break zp_hook_leave` (a function of the hook) during say's write;
#   - a breakpoint in the application's SIGUSR1 handler, which runs on the
#     runtime's stack because the hook raised the signal inside itself:
#     handler <- <signal> <- the hook's frames <- ... <- main;
#   - `catch syscall clone3 / vfork / rt_sigreturn`, the calls entry.S
#     makes itself (each has its own stack layout);
#   - `catch syscall getpid` at a site the rewriter sent through a red-zone
#     stub (its own unwind rules: rewriter/stubcfi.c);
#   - single-stepping (stepi) from write's first instruction until it
#     returns, through the trampoline or the trap path's SIGSEGV handler,
#     zp_entry and the hook, and through the function with the stub: the
#     backtrace is checked at every instruction.
# With perf (linux-perf) and tracepoints available, `perf record -g` of the
# write in say must have main in its call chain, natively and rewritten,
# with and without a hook (frame pointers: perf's default).
# How it fails: missing or wrong unwind information for any instruction of
# entry.S or the C code, FDEs not moved to where the runtime or the hook
# landed, symbols missing, a broken signal-frame description.
source "$TESTS/harness.sh"

command -v gdb >/dev/null || skip "gdb is not installed (scripts/deps.sh test installs it)"
gdb -batch -ex run /bin/true >gdb-probe.log 2>&1 || true
grep -q 'exited normally' gdb-probe.log || skip "gdb cannot run programs here: $(tail -n 1 gdb-probe.log)"
TRACE_SO=$BUILD/samples/trace.so
[ -f "$TRACE_SO" ] || fail "missing $TRACE_SO (run make)"

cat > bt.c <<'EOF'
/* Frames for t-backtrace.sh: main -> say -> write, and the calls the
 * runtime makes itself (clone3, vfork, rt_sigreturn). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static volatile sig_atomic_t got;

__attribute__((noinline)) void on_signal(int sig) { got = sig; }
__attribute__((noinline)) void say(const char *s) { write(1, s, strlen(s)); }
__attribute__((noinline)) void raw(void) { syscall(SYS_getppid); }
static void *thread_main(void *arg) { return arg; }

__attribute__((noinline)) void threads(void)
{
	pthread_t t;
	if (pthread_create(&t, 0, thread_main, 0) == 0)
		pthread_join(t, 0);
}

__attribute__((noinline)) void forks(void)
{
	pid_t pid = vfork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, 0, 0);
}

__attribute__((noinline)) void signals(void) { kill(getpid(), SIGUSR2); }

/* Data in the red zone across the call: the rewriter sends this site
 * through a stub (checked with --list below). */
__attribute__((noinline)) long redzone(void)
{
	long r;
	__asm__ volatile("movq $42, -8(%%rsp)\n\t"
			 "mov $39, %%eax\n\t"   /* getpid */
			 "syscall\n\t"
			 "add -8(%%rsp), %%rax"
			 : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, 0);
	sigaction(SIGUSR2, &sa, 0);
	say("hello\n");
	raw();
	threads();
	forks();
	signals();
	return got != SIGUSR2 || redzone() != getpid() + 42;
}
EOF
# The test hook: a write to fd 1 raises SIGUSR1 inside the hook, so that
# the application's handler runs on the runtime's stack, above the hook.
cat > sighook.c <<'EOF'
#include <zprewrite/hook.h>
#include <asm/unistd.h>
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	if (call->nr == __NR_write && call->args[0] == 1)
		zp_syscall6(__NR_tgkill, zp_getpid(), zp_syscall0(__NR_gettid), 10 /* SIGUSR1 */, 0, 0, 0);
	return ZP_PASS;
}
EOF
CFLAGS_BT="-O1 -fno-omit-frame-pointer -pthread"
gcc $CFLAGS_BT -static -o bt.static bt.c || fail "cannot build the static test program"
gcc $CFLAGS_BT -o bt.dynamic bt.c || fail "cannot build the dynamic test program"
gcc -std=gnu11 -O2 -g -fno-omit-frame-pointer -fPIC -shared -nostdlib -ffreestanding \
	-fno-stack-protector -mgeneral-regs-only -fvisibility=hidden -fno-asynchronous-unwind-tables \
	-I"$TESTS/../runtime/include" -o sighook.so sighook.c || fail "cannot build the test hook"

# bt.gz: the static program with its own .debug_frame, compressed (as Go's
# linker and gcc -gz write theirs): zprewrite decompresses it to add the
# runtime's tables, silently.
if gcc $CFLAGS_BT -g -fno-asynchronous-unwind-tables -static -o bt.gz bt.c &&
	objcopy --compress-debug-sections=zlib bt.gz && readelf -SW bt.gz | grep -q '\.debug_frame .* C '; then
	"$ZPREWRITE" bt.gz rw.gz 2>rw-gz.err
	check "compressed .debug_frame: zprewrite exits 0 without a warning" \
		eval "[ $? = 0 ] && [ ! -s rw-gz.err ] || { head -c 300 rw-gz.err; false; }"
	check "compressed .debug_frame: the output's is not compressed" \
		eval "readelf -SW rw.gz | grep '\.debug_frame ' | grep -qv ' C '"
else
	note "no compressed .debug_frame (objcopy --compress-debug-sections): its checks are left out"
fi

list=$("$ZPREWRITE" --list bt.static) || fail "zprewrite --list bt.static failed"
grep -q ' redzone+.* stub ' <<<"$list" ||
	fail "the red-zone site of the test program is not sent through a stub: $(grep redzone <<<"$list")"
for f in static dynamic; do
	rewrite bt.$f rw.$f || true
	rewrite bt.$f rw-trace.$f --hook "$TRACE_SO" || true
	rewrite bt.$f rw-sig.$f --hook sighook.so || true
done
export ZP_TRACE_FILE=/dev/null

# gdb_names OUT PROGRAM COMMANDS...: run PROGRAM under gdb with the
# commands (one per argument, then zp-bt); OUT gets the last ZPBT line's
# names, one per line.  No separate debug files (libc6-dbg): the same names
# on every machine, and a faster gdb.
gdb_names() {
	local out=$1 prog=$2; shift 2
	local args=(-batch -nx -iex 'set debug-file-directory /nonexistent'
		-iex 'set debuginfod enabled off' -ex 'set pagination off' -ex 'set confirm off'
		-ex 'handle SIGSEGV nostop noprint pass' -ex 'handle SIGUSR1 SIGUSR2 nostop noprint pass'
		-ex "source $TESTS/zpgdb.py")
	for c in "$@"; do args+=(-ex "$c"); done
	args+=(-ex 'zp-bt')
	timeout -k 5 120 gdb "${args[@]}" "$prog" >"$out.log" 2>&1 </dev/null || true
	grep '^ZPBT: ' "$out.log" | tail -n 1 | sed 's/^ZPBT: //' | sed 's/ | /\n/g' >"$out"
}

# ends_with NATIVE REWRITTEN: REWRITTEN ends with NATIVE's frames, in
# order, from main out; the frames it has besides are the runtime's or the
# hook's (zp_*), signal frames or nameless (where the runtime runs, a
# signal may arrive: it then interrupts zp_entry, not the C library's
# wrapper).  NATIVE must hold main.
ends_with() {
	local nat=$1 new=$2
	grep -qx main "$nat" || { echo "   native backtrace has no main: $(tr '\n' ' ' <"$nat")"; return 1; }
	echo "   $(tr '\n' ' ' <"$new")"
	python3 - "$nat" "$new" <<'PY' || { echo "   native:    $(tr '\n' ' ' <"$nat")"; return 1; }
import re, sys
nat = open(sys.argv[1]).read().split("\n")[:-1]
new = open(sys.argv[2]).read().split("\n")[:-1]
ours = re.compile(r"zp_.*|\?\?|<signal>$")
i, j = len(new) - 1, len(nat) - 1
while j >= 0 and i >= 0:
    if new[i] == nat[j]:
        j -= 1
    elif not ours.fullmatch(new[i]):
        sys.exit("   unexpected frame %r" % new[i])
    i -= 1
if j >= 0:
    sys.exit("   native frames missing: %s" % " ".join(nat[:j + 1]))
if any(not ours.fullmatch(f) for f in new[:i + 1]):
    sys.exit("   unexpected frames before them: %s" % " ".join(new[:i + 1]))
PY
}

# native FLAVOUR KEY COMMANDS...: the native program's names at that stop,
# kept in nat.FLAVOUR.KEY (the same for every rewritten variant and path).
native() {
	local f=$1 key=$2; shift 2
	[ -s "nat.$f.$key" ] || gdb_names "nat.$f.$key" "./bt.$f" "$@"
}

# compare NAME FLAVOUR KEY REWRITTEN COMMANDS...: the same stop in both.
# A stop where gdb cannot unwind the native program to main either (the
# dynamic C library's signal restorer, without its debugging information)
# is noted and left out.
compare() {
	local name=$1 f=$2 key=$3 new=$4; shift 4
	selected "$name" || return 0
	native "$f" "$key" "$@"
	if ! grep -qx main "nat.$f.$key"; then
		note "$name: gdb does not unwind the original to main here ($(tr '\n' ' ' <"nat.$f.$key")): left out"
		return 0
	fi
	gdb_names new.names "$new" "$@"
	check "$name" ends_with "nat.$f.$key" new.names
}

catch_write() { compare "$1: catch write in say" "$2" write "$3" 'break say' run 'catch syscall write' continue; }
catch_raw() { compare "$1: catch getppid in raw" "$2" raw "$3" 'break raw' run 'catch syscall getppid' continue; }
catch_clone3() { compare "$1: catch clone3 (thread)" "$2" clone3 "$3" 'break threads' run 'catch syscall clone3' continue; }
catch_vfork() { compare "$1: catch vfork" "$2" vfork "$3" 'break forks' run 'catch syscall vfork' continue; }
catch_stub() { compare "$1: catch getpid in a red-zone stub" "$2" stub "$3" 'break redzone' run 'catch syscall getpid' continue; }
catch_sigreturn() {
	compare "$1: catch rt_sigreturn" "$2" sigreturn "$3" 'break on_signal' run 'catch syscall rt_sigreturn' continue
}

# step NAME PROGRAM [FUNCTION]: stepi through write (called from say), or
# through FUNCTION; every backtrace on the way ends with its callers.
step() {
	local name=$1 prog=$2 func=${3:-}
	selected "$name" || return 0
	if [ -n "$func" ]; then
		gdb_names step.names "$prog" "break $func" run 'zp-stepcheck 100000'
	else
		gdb_names step.names "$prog" 'break say' run 'break write' continue 'zp-stepcheck 100000'
	fi
	grep '^ZPSTEP' step.names.log | head -n 6 | sed 's/^/   /' || echo "   no ZPSTEP line"
	check "$name" grep -Eq '^ZPSTEP: steps [0-9]+ bad 0 returned 1 through .*zp_entry' step.names.log
}

# hook_stop NAME FLAVOUR REWRITTEN: a breakpoint in the trace hook's
# zp_hook_leave, for say's write: the hook's frame, then the application's.
hook_stop() {
	local name=$1 f=$2 new=$3
	selected "$name" || return 0
	native "$f" write 'break say' run 'catch syscall write' continue
	gdb_names new.names "$new" 'break say' run 'break zp_hook_leave' continue
	check "$name" ends_with "nat.$f.write" new.names
	check "$name: stopped in the hook" grep -qx zp_hook_leave new.names
}

# signal_in_hook NAME FLAVOUR REWRITTEN: the application's handler, run by
# a signal the test hook raised inside itself during say's write.
signal_in_hook() {
	local name=$1 f=$2 new=$3
	selected "$name" || return 0
	native "$f" write 'break say' run 'catch syscall write' continue
	gdb_names new.names "$new" 'break on_signal' run
	check "$name: the handler, then a signal frame, then the hook" \
		test "$(head -n 3 new.names | tr '\n' ' ')" = "on_signal <signal> zp_syscall6 "
	tail -n +2 new.names >new.below
	check "$name" ends_with "nat.$f.write" new.below
}

# The trap path (the default here: page 0 would not be execute-only) gets
# every stop in the static program, without a hook, and with the trace hook
# those where its frames sit under the call (an ordinary one, a special
# one); the bundled dynamic program (the runtime and hook in shared objects
# at a load bias) the ordinary ones.  Page 0 (root only) differs in how a
# call arrives at zp_entry: the stops before it, and the steps through the
# trampoline.
for f in static dynamic; do
	unset ZP_PAGE0
	catch_write "trap $f rw" $f ./rw.$f
	catch_write "trap $f rw-trace" $f ./rw-trace.$f
	if [ $f = static ]; then
		catch_raw "trap $f rw" $f ./rw.$f
		catch_clone3 "trap $f rw" $f ./rw.$f
		catch_vfork "trap $f rw" $f ./rw.$f
		catch_sigreturn "trap $f rw" $f ./rw.$f
		catch_stub "trap $f rw" $f ./rw.$f
		catch_clone3 "trap $f rw-trace" $f ./rw-trace.$f
		step "trap $f trace: stepi through write and the hook" ./rw-trace.$f
		step "trap $f: stepi through a red-zone stub" ./rw.$f redzone
	fi
	if [ $f = static ] && [ -x rw.gz ]; then
		catch_write "trap gz rw (compressed .debug_frame)" gz ./rw.gz
		catch_raw "trap gz rw (compressed .debug_frame)" gz ./rw.gz
	fi
	hook_stop "trap $f trace: break in the hook" $f ./rw-trace.$f
	signal_in_hook "trap $f sighook: signal handler above the hook" $f ./rw-sig.$f
	step "trap $f: stepi through write" ./rw.$f
	[ "$(id -u)" = 0 ] || continue
	export ZP_PAGE0=fast
	catch_write "page0 $f rw" $f ./rw.$f
	hook_stop "page0 $f trace: break in the hook" $f ./rw-trace.$f
	step "page0 $f: stepi through write" ./rw.$f
	[ $f = static ] && step "page0 $f: stepi through a red-zone stub" ./rw.$f redzone
done
unset ZP_PAGE0
[ "$(id -u)" = 0 ] || note "not root: page 0 (ZP_PAGE0=fast) is not checked"

# perf: the call chain of say's write reaches main (frame pointers: the
# program, the runtime and the trace hook keep them; `say` itself is not in
# it, natively either: write does not set up a frame).  A rewritten file
# keeps its original's build ID, and perf reads symbols from the copy of a
# file its build-ID cache ($HOME/.debug) holds: a fresh HOME for each run.
perf_chain() { # prog expected-frames (ERE, one per line of the chain, in order)
	local home; home=$(mktemp -d "$PWD/perfhome.XXXXXX")
	HOME=$home perf record -q -o perf.data -e syscalls:sys_enter_write -g "$1" >/dev/null 2>perf.err ||
		{ echo "   perf record failed: $(tail -n 1 perf.err)"; return 1; }
	HOME=$home perf script -i perf.data 2>/dev/null >perf.out
	# The event of the write of "hello\n" (fd 1, 6 bytes) and its chain.
	awk '/sys_enter_write: fd: 0x0*1, .*count: 0x0*6$/ { p = 1; next } p && NF == 0 { exit } p { print $2 }' \
		perf.out >perf.chain
	echo "   $(tr '\n' ' ' <perf.chain)"
	tr '\n' ' ' <perf.chain | grep -Eq "$2"
}
if ! command -v perf >/dev/null; then
	note "perf is not installed: its call graphs are not checked"
elif ! HOME=$PWD perf record -q -o perf.data -e syscalls:sys_enter_write -g /bin/true >perf.err 2>&1; then
	note "perf cannot record tracepoints here ($(tail -n 1 perf.err)): its call graphs are not checked"
else
	check "perf: native chain" perf_chain ./bt.static '^[^ ]*write[^ ]* main\+'
	check "perf: rewritten chain" perf_chain ./rw.static '^zp_entry\+[^ ]* main\+'
	check "perf: rewritten with a hook, chain" perf_chain ./rw-trace.static \
		'^(zp_[^ ]* )+zp_dispatch\+[^ ]* zp_entry\+[^ ]* main\+'
fi
