#!/usr/bin/env bash
# t-contract-process.sh - the runtime contract for vfork, clone, clone3,
# posix_spawn, threads, fork, exec and exit_group.
#
# contract-process (samples/programs/contract-process.c) has one mode per
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
# exit-from-thread (status 4), and clone3-bigsize (clone3 with a 512-byte,
# zero-tailed struct, which the kernel accepts), which is checked apart so that
# its failure is visible on its own.
# exec: the rewritten program execs a rewritten and an unrewritten program, and
# a dynamically linked system program, from the main thread and from a second
# thread while others run; and with SIGSEGV ignored, which must stay ignored
# in the new program (the runtime keeps a SIGSEGV handler of its own).
source "$TESTS/lib.sh"
need_page0
source "$TESTS/zptest.sh"
# (the trace hook's lines go to a file: the outputs compared stay the program's)
export ZP_TRACE_FILE=$PWD/trace.log

build_test_hook tcount
export ZPT_FORWARD=1 ZPT_COUNT_FILE=$PWD/counts

for f in $(flavours contract-process); do
	orig=$(prog contract-process $f)
	target=$(prog hook-getppid $f)
	rw_three "$orig" "cp.$f" || continue
	rw "$target" "target.$f" || continue
	for m in vfork spawn clone3 clone threads-exit fork-mt exit-threads exit-from-thread clone3-bigsize; do
		check_same "$f: $m" "$orig" "./cp.$f" "$m"
		check_again "$f with hook: $m" "./cp.$f.hooked" "$m"
		check_again "$f with trace hook: $m" "./cp.$f.traced" "$m"
	done
	# exec: ./target is the original target during the original's run,
	# then points at the rewritten target for the rewritten runs.
	for m in exec exec-thread; do
		ln -sfn "$target" target
		check_same "$f: $m of an unrewritten program" "$orig" "./cp.$f" "$m" ./target 5
		check_again "$f with hook: $m of an unrewritten program" "./cp.$f.hooked" "$m" ./target 5
		check_again "$f with trace hook: $m of an unrewritten program" "./cp.$f.traced" "$m" ./target 5
		ZPT_BETWEEN="ln -sfn ./target.$f target" \
			check_same "$f: $m of a rewritten program" "$orig" "./cp.$f" "$m" ./target 6
		check_again "$f with hook: $m of a rewritten program" "./cp.$f.hooked" "$m" ./target 6
		check_again "$f with trace hook: $m of a rewritten program" "./cp.$f.traced" "$m" ./target 6
		check_same "$f: $m of /bin/echo (dynamic)" "$orig" "./cp.$f" "$m" /bin/echo hello
		check_again "$f with hook: $m of /bin/echo (dynamic)" "./cp.$f.hooked" "$m" /bin/echo hello
		check_again "$f with trace hook: $m of /bin/echo (dynamic)" "./cp.$f.traced" "$m" /bin/echo hello
	done
	# SIGSEGV set to SIG_IGN stays ignored across exec: seen by an
	# unrewritten program (the kernel's SigIgn mask) and by a rewritten one
	# (sigaction, in the program exec'ing itself).
	check_same "$f: SIGSEGV ignored across exec (unrewritten program)" "$orig" "./cp.$f" \
		exec-segv-ign /bin/sed -n /^SigIgn/p /proc/self/status
	check_again "$f with hook: SIGSEGV ignored across exec (unrewritten program)" "./cp.$f.hooked" \
		exec-segv-ign /bin/sed -n /^SigIgn/p /proc/self/status
	check_again "$f with trace hook: SIGSEGV ignored across exec (unrewritten program)" "./cp.$f.traced" \
		exec-segv-ign /bin/sed -n /^SigIgn/p /proc/self/status
	check_same "$f: SIGSEGV ignored across exec (rewritten program)" "$orig" "./cp.$f" exec-segv-ign
	check_again "$f with hook: SIGSEGV ignored across exec (rewritten program)" "./cp.$f.hooked" exec-segv-ign
	check_again "$f with trace hook: SIGSEGV ignored across exec (rewritten program)" "./cp.$f.traced" exec-segv-ign
done
finish
