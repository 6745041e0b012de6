#!/usr/bin/env bash
# t-contract-process.sh - the runtime contract for vfork, clone, clone3,
# posix_spawn, threads, fork, exec and exit_group.
#
# contract-process (tests/programs/contract-process.c) has one mode per
# behaviour; each prints deterministic lines and checks itself.  For each
# build (glibc static, static-pie, musl) and each mode, the rewritten program
# must behave exactly like the original (stdout, stderr, exit status):
#   - rewritten without a hook (pass-through runtime);
#   - rewritten with the tcount test hook making the calls through the
#     helpers (ZPT_FORWARD=1; clone/vfork/exec are handed back to the runtime).
# Modes: vfork (children on the parent's stack, scribbling over it; vfork+exec;
# nested; from 6 threads at once), spawn (posix_spawn success, ENOENT, file
# actions, 50 in a row), clone3 (raw, with and without a stack, vfork-like,
# thread-like with CLONE_CHILD_CLEARTID, failures), clone (raw legacy clone),
# threads-exit, fork-mt, exit-threads (exit status 3 with threads in calls),
# exit-from-thread (status 4), spawn-segv (the program's SIGSEGV handler
# survives posix_spawn, system() and vfork children that set SIGSEGV for
# themselves in memory they share with it), and clone3-bigsize (clone3 with a
# 512-byte, zero-tailed struct, which the kernel accepts), which is checked
# apart so that its failure is visible on its own, and ptrace (children that
# ask to be traced and exec, after fork, vfork or a SIGSTOP of their own:
# the tracer sees the same stops as natively; on the trap path the runtime
# puts PTRACE_TRACEME off until the exec, or a traced child would stop at
# every call).
# exec: the rewritten program execs a rewritten and an unrewritten program, and
# a dynamically linked system program, from the main thread and from a second
# thread while others run; and with SIGSEGV ignored, which must stay ignored
# in the new program (the runtime keeps a SIGSEGV handler of its own).
# The hooks ran, in each run: the trace hook's log has a line for the mode's
# own calls (vfork(), clone3(...), exit_group(3), execve("./target", ...));
# tcount's table counts them (vfork, clone3, ...).  A run that ends in an
# exec of a program without the hook leaves no table (tcount writes it at
# exit_group): those are checked with the trace hook only.
# dlopen (bundled dynamic build): rewritten libraries loaded and unloaded in
# turn, each where the one before was (libcpb's call at another offset,
# libcpc of another size), must be found and work.
# hook-changes: with the hswap hook (below), which changes marked calls:
# the output must be hswap.expected (the runtime makes a call as the hook
# left it, but refuses to have changed a call it makes itself).
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534).  The one documented difference: on a host without
# execute-only memory the page-0 mode runs ZP_PAGE0=fast, where the kernel
# reads trampoline bytes at a pointer into page 0: clone3's "bad pointer"
# case (args at address 16) gets EINVAL instead of EFAULT, and that line of
# the output is compared as such (ZPT_ORIG_SED); the rest as everywhere.
# The uid 65534 mode runs each case with one hook (every_variant).
source "$TESTS/harness.sh"
# (the trace hook's lines go to a file: the outputs compared stay the program's)
export ZP_TRACE_FILE=$PWD/trace.log

build_test_hook tcount
export ZPT_FORWARD=1 ZPT_COUNT_FILE=$PWD/counts

# with_hooks NAME COUNTED TRACED PROGRAM ARGS...: check_again with
# ./cp.$f.hooked and ./cp.$f.traced, each followed by the check that its hook
# ran: tcount counted a call whose name matches ^(COUNTED)$ (- : no table to
# look at), the trace log has a line matching TRACED.  Where not
# every_variant, one of them: tcount, or the trace hook where there is no table.
with_hooks() {
	local name=$1 counted=$2 traced=$3 p=$4; shift 4
	if every_variant || [ "$counted" != - ]; then
		fresh counts
		check_again "$f with hook: $name" "$p.hooked" "$@"
		[ "$counted" = - ] || check "$f with hook: $name: the hook counted $counted" hook_counted counts "$counted"
		every_variant || return 0
	fi
	fresh trace.log
	check_again "$f with trace hook: $name" "$p.traced" "$@"
	check "$f with trace hook: $name: traced" trace_has trace.log "$traced"
}

# Libraries for the dlopen check, each with a system call of its own.
cat >cpdl.c <<'EOF'
long cp_dl_getppid(void)
{
	long r;
	__asm__ volatile(PAD "syscall" : "=a"(r) : "a"(110L) : "rcx", "r11", "memory");
	return r;
}
#ifdef BIG
const char cp_dl_big[1 << 20] = { 1 };
#endif
EOF
gcc -shared -fPIC -O2 -DPAD='""' -o libcpa.so cpdl.c
gcc -shared -fPIC -O2 -DPAD='"nop; nop; nop; "' -o libcpb.so cpdl.c
gcc -shared -fPIC -O2 -DPAD='""' -DBIG -o libcpc.so cpdl.c

# The hswap hook, and what contract-process hook-changes prints with it.
cat >hswap.c <<'EOF'
#include <asm/unistd.h>
#include <linux/sched.h>
#include <zprewrite/hook.h>
#define HOOK_MARK(n) (0x5a9e1100L + (n))
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *c)
{
	if (c->nr == __NR_clone && c->args[5] == HOOK_MARK(1))
		c->args[0] = 17;                   /* SIGCHLD only: fork-like */
	else if (c->nr == __NR_clone && c->args[5] == HOOK_MARK(2))
		c->args[0] &= ~(long)CLONE_VFORK;  /* still with a stack */
	else if (c->nr == __NR_getppid && c->args[5] == HOOK_MARK(3))
		c->nr = __NR_vfork;
	else if (c->nr == __NR_clone3 && c->args[5] == HOOK_MARK(4))
		return 4242;
	return ZP_PASS;
}
EOF
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -nostdlib -ffreestanding \
	-fno-stack-protector -mgeneral-regs-only -fvisibility=hidden -fno-asynchronous-unwind-tables \
	-I"$TESTS/../runtime/include" -o hswap.so hswap.c || fail "cannot build the hswap hook"
cat >hswap.expected <<'EOF'
vfork-like clone, made fork-like by the hook: status 1, shared 0
clone with a stack, flags changed by the hook: -EINVAL(22)
getppid made vfork by the hook: -EINVAL(22)
clone3 with a stack, answered by the hook: 4242
hook-changes: done
EOF
# prints_expected EXPECTED PROGRAM ARGS...: exit 0, stdout and stderr as EXPECTED
prints_expected() {
	local exp=$1; shift
	run_t hswap "$@"
	cat hswap.err >>hswap.out
	[ "$RUN_RC" = 0 ] || note "  exit status $RUN_RC"
	diff "$exp" hswap.out | head -15 | sed 's/^/#   /'
	[ "$RUN_RC" = 0 ] && cmp -s "$exp" hswap.out
}

# Rewritten once; every check below runs in each path.
flavs=()
for f in $(flavours contract-process); do
	orig=$(prog contract-process $f)
	rewrite_three "$orig" "cp.$f" || continue
	rewrite "$(prog hook-getppid $f)" "target.$f" || continue
	flavs+=("$f")
	# (found by name: in the bundle's lib/, for the original in .)
	[ $f != dynamic ] || rewrite "$orig" "cpdl.$f" -a ./libcpa.so -a ./libcpb.so -a ./libcpc.so || true
	rewrite "$orig" "cp.$f.hswap" --hook hswap.so || true
done

# modes F ORIG: every mode of contract-process, rewritten without a hook and
# with each hook.
modes() {
	local f=$1 orig=$2 m counted traced
	for m in vfork spawn clone3 clone threads-exit fork-mt exit-threads exit-from-thread spawn-segv clone3-bigsize ptrace; do
		# What the mode does, as tcount names it and as the trace shows it
		# (glibc and musl: posix_spawn is clone3 or clone, fork is clone or
		# fork, threads come from clone3 or clone).
		case $m in
		vfork) counted=vfork traced='^vfork\(\)' ;;
		spawn) counted=execve traced='^execve\("[^"]*/no-such-program-zp"' ;;
		clone3|clone3-bigsize) counted=clone3 traced='^clone3\(' ;;
		clone) counted=clone traced='^clone\(child_stack=' ;;
		threads-exit) counted=exit traced='^exit\(0\)' ;;
		fork-mt) counted='fork|clone' traced='^(fork\(\)|clone\(child_stack=NULL)' ;;
		exit-threads) counted='clone|clone3' traced='^exit_group\(3\)' ;;
		exit-from-thread) counted='clone|clone3' traced='^exit_group\(4\)' ;;
		spawn-segv) counted=rt_sigaction traced='^rt_sigaction\(SIGSEGV, ' ;;
		ptrace) counted=ptrace traced='^ptrace\(' ;;
		esac
		# exit-threads and exit-from-thread exit with 3 and 4 on purpose.
		local ZPT_EXPECT_RC=0 ZPT_ORIG_SED=""
		case $m in exit-threads) ZPT_EXPECT_RC=3 ;; exit-from-thread) ZPT_EXPECT_RC=4 ;; esac
		# The documented difference of a readable page 0: clone3 given the
		# address 16 reads trampoline bytes there (EINVAL), not EFAULT.
		if [ $m = clone3 ] && page0_readable; then
			ZPT_ORIG_SED='s/^clone3 bad pointer: -EFAULT(14)$/clone3 bad pointer: -EINVAL(22)/'
		fi
		check_same "$f: $m" "$orig" "./cp.$f" "$m"
		with_hooks "$m" "$counted" "$traced" "./cp.$f" "$m"
	done
}

# execs F ORIG: exec of an unrewritten, a rewritten and a system program, and
# SIGSEGV ignored across exec.
execs() {
	local f=$1 orig=$2 m
	local ZPT_EXPECT_RC=0
	# exec: ./target is the original target during the original's run,
	# then points at the rewritten target for the rewritten runs.
	for m in exec exec-thread; do
		ln -sfn "$(prog hook-getppid $f)" target
		check_same "$f: $m of an unrewritten program" "$orig" "./cp.$f" "$m" ./target 5
		with_hooks "$m of an unrewritten program" - '^execve\("\./target"' "./cp.$f" "$m" ./target 5
		ZPT_BETWEEN="ln -sfn ./target.$f target" \
			check_same "$f: $m of a rewritten program" "$orig" "./cp.$f" "$m" ./target 6
		with_hooks "$m of a rewritten program" - '^execve\("\./target"' "./cp.$f" "$m" ./target 6
		check_same "$f: $m of /bin/echo (dynamic)" "$orig" "./cp.$f" "$m" /bin/echo hello
		with_hooks "$m of /bin/echo (dynamic)" - '^execve\("/bin/echo"' "./cp.$f" "$m" /bin/echo hello
	done
	# SIGSEGV set to SIG_IGN stays ignored across exec: seen by an
	# unrewritten program (the kernel's SigIgn mask) and by a rewritten one
	# (sigaction, in the program exec'ing itself; that one, hooked, writes
	# a table).
	check_same "$f: SIGSEGV ignored across exec (unrewritten program)" "$orig" "./cp.$f" \
		exec-segv-ign /bin/sed -n /^SigIgn/p /proc/self/status
	with_hooks "SIGSEGV ignored across exec (unrewritten program)" - '^execve\("/bin/sed"' "./cp.$f" \
		exec-segv-ign /bin/sed -n /^SigIgn/p /proc/self/status
	check_same "$f: SIGSEGV ignored across exec (rewritten program)" "$orig" "./cp.$f" exec-segv-ign
	with_hooks "SIGSEGV ignored across exec (rewritten program)" rt_sigaction '^rt_sigaction\(SIGSEGV, NULL' \
		"./cp.$f" exec-segv-ign
}

contract() {
	local f orig
	local ZPT_EXPECT_RC=0
	for f in "${flavs[@]}"; do
		orig=$(prog contract-process $f)
		modes "$f" "$orig"
		if [ -e "cpdl.$f" ]; then
			LD_LIBRARY_PATH=$PWD check_same "$f: dlopen after dlclose" "$orig" "./cpdl.$f" \
				dlopen libcpa.so libcpb.so libcpa.so libcpc.so libcpb.so
		fi
		if [ -e "cp.$f.hswap" ]; then
			check "$f with hswap hook: hook-changes" prints_expected hswap.expected ./cp.$f.hswap hook-changes
		fi
		execs "$f" "$orig"
	done
}
in_paths contract
