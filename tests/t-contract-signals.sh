#!/usr/bin/env bash
# t-contract-signals.sh - the runtime contract for signals.
#
# contract-signals (tests/programs/contract-signals.c) has one mode per
# behaviour, each printing deterministic lines and checking itself:
#   handler-calls  handlers that make system calls, 2000 in a row;
#   storm          5000 queued real-time signals sent by one thread to another
#                  busy in system calls, then 1000 SIGALRMs from a 50 us timer;
#   restart        SA_RESTART vs EINTR on a read from an empty pipe (libc and
#                  raw), nanosleep's EINTR, SIGSTOP/SIGCONT around nanosleep
#                  (the kernel's restart_syscall);
#   altstack       SA_ONSTACK handlers making system calls on an 8 KiB
#                  sigaltstack with a PROT_NONE guard page (5000 signals, 2000
#                  of them from another thread), a handler on a 16 KiB one
#                  that raises its own signal again, nested below itself
#                  (SA_NODEFER, as Python's faulthandler chains), handlers
#                  that set another signal stack (EPERM; with SS_AUTODISARM
#                  allowed until they return), and a stack overflow caught
#                  on it;
#   sigreturn      rt_sigreturn of a context whose rax the handler changed,
#                  sigsuspend;
#   siglongjmp     out of handlers (also from a blocking read);
#   segv           the program's own SIGSEGV handler (PROT_NONE page, left by
#                  siglongjmp or repaired and returned from; sigaction reads
#                  back what it set);
#   segv-sent      SIGSEGV sent with kill, tgkill, sigqueue (not a fault):
#                  dropped while ignored, the default action at the first one
#                  (nothing makes it happen again, as a fault would);
#   segv-nested    sigaction(SIGSEGV) in a loop, interrupted 2000-20000 times by a
#                  timer whose handler calls it too (the runtime's lock must
#                  not make a handler wait for its own thread).
# For each build (glibc static, static-pie, musl) the rewritten program must
# behave exactly like the original (stdout, stderr, exit status), run
#   - without a hook,
#   - with the tcount test hook making every call itself (ZPT_FORWARD=1),
#   - for the modes that use small stacks and nested calls (handler-calls,
#     altstack), with the vector test hook, whose calls the runtime wraps in
#     XSAVE/XRSTOR of the whole extended state on the stack -- on an 8 KiB
#     alternate stack that is most of it.
# And the hooks ran, in each run: tcount's table and the trace hook's log have
# the mode's own calls (rt_sigreturn of the 2000 handlers, setitimer,
# sigaltstack, rt_sigsuspend, ...); the vector hook wrote its call count.
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534), where the runtime's own SIGSEGV handler takes every call
# on (the uid 65534 mode: without a hook and with tcount, see every_variant
# in tests/harness.sh).
source "$TESTS/harness.sh"
# (the trace hook's lines go to a file: the outputs compared stay the program's)
export ZP_TRACE_FILE=$PWD/trace.log

build_test_hook tcount
vector=0
if grep -qw avx2 /proc/cpuinfo; then
	build_test_hook vector --vector -mavx2
	vector=1
fi
export ZPT_FORWARD=1 ZPT_COUNT_FILE=$PWD/counts

flavs=()
for f in $(flavours contract-signals); do
	orig=$(prog contract-signals $f)
	rewrite_three "$orig" "cs.$f" || continue
	flavs+=("$f")
	[ $vector = 0 ] || rewrite "$orig" "cs.$f.vector" --hook vector.so || true
done

contract() {
	local f m orig counted traced
	for f in "${flavs[@]}"; do
		orig=$(prog contract-signals $f)
		for m in handler-calls storm restart altstack sigreturn siglongjmp segv segv-sent segv-nested; do
			# The mode's own call, as tcount names it and the trace shows it.
			case $m in
			handler-calls) counted=rt_sigreturn ;;
			storm) counted=setitimer ;;
			restart) counted=kill ;;
			altstack) counted=sigaltstack ;;
			sigreturn) counted=rt_sigsuspend ;;
			siglongjmp) counted=tgkill ;;
			segv|segv-nested) counted=rt_sigaction ;;
			segv-sent) counted=rt_sigqueueinfo ;;
			esac
			traced="^$counted\\("
			[ $m != segv ] && [ $m != segv-nested ] || traced='^rt_sigaction\(SIGSEGV, '
			check_same "$f: $m" "$orig" "./cs.$f" "$m"
			fresh counts
			check_again "$f with hook: $m" "./cs.$f.hooked" "$m"
			check "$f with hook: $m: the hook counted $counted" hook_counted counts "$counted"
			every_variant || continue
			fresh trace.log
			check_again "$f with trace hook: $m" "./cs.$f.traced" "$m"
			check "$f with trace hook: $m: traced" trace_has trace.log "$traced"
			case $m in handler-calls|altstack)
				if [ -e "cs.$f.vector" ]; then
					fresh counts
					check_again "$f with vector hook: $m" "./cs.$f.vector" "$m"
					check "$f with vector hook: $m: the hook ran" vector_hook_ran counts
				fi ;;
			esac
		done
	done
}
in_paths contract
