#!/usr/bin/env bash
# t-contract-null.sh - NULL pointers still fault in a rewritten program, and a
# call into page 0 that is not a rewritten site makes no system call.
#
# The runtime maps its trampoline at address 0 (pages 0 and 1) and jump pages
# near 0x2e2e2e2e.  contract-null does one bad thing per mode: load/store at
# 0, at 8, at 0x1800 (page 1), load at 0x2e2e3000; call through a NULL
# function pointer; `call *%rax` with rax = 0 from code that is not a
# rewritten site; the same with rax = 231 (exit_group) and rdi = 42, with rax
# = 1 (write of a message to stdout), `jmp *%rax` to 231, and a call to
# 4096+39.  The original dies of SIGSEGV in every mode (checked: status 139);
# the rewritten one (no hook, tcount hook) must die the same way with the same
# (empty) output: exiting with status 42 or printing the message would mean a
# system call was made for a NULL call.  (What a SIGSEGV handler would see is
# compared in t-contract-null-siginfo.sh.)
# The hooks ran: the trace hook's log of each run has libc's start-up calls
# (set_tid_address) and no exit_group(42) or write of the message; the tcount
# hook writes its table only at exit_group, which these runs never reach, so
# it is checked once per build on a run that exits (siginfo call-exit: the
# program's own SIGSEGV handler calls _exit(0)).
source "$TESTS/harness.sh"
need_page0
# (the trace hook's lines go to a file: the outputs compared stay the program's)
export ZP_TRACE_FILE=$PWD/trace.log

build_test_hook tcount
died_of_segv() { [ "$LAST_RC" = 139 ] || { note "  original exited $LAST_RC, not 139"; return 1; }; }
traced_no_call() { # trace file: the hook ran, and made no call for the NULL call
	trace_has "$1" '^set_tid_address\(' || return 1
	! grep -E 'exit_group\(42\)|A SYSTEM CALL WAS MADE' "$1" | sed 's/^/#   traced: /' | grep .
}
# Every run, original and rewritten, dies of SIGSEGV (status 139).
ZPT_EXPECT_RC=139
for f in $(flavours contract-null); do
	orig=$(prog contract-null $f)
	rewrite_three "$orig" "cn.$f" || continue
	for m in read0 write0 read8 read-page1 write-page1 read-jumps callnull call-rax0 call-exit call-write jmp-exit call-page1; do
		check_same "$f: $m" "$orig" "./cn.$f" $m
		check "$f: $m: the original died of SIGSEGV" died_of_segv
		ZPT_FORWARD=1 check_same "$f with hook: $m" "$orig" "./cn.$f.hooked" $m
		fresh trace.log
		check_same "$f with trace hook: $m" "$orig" "./cn.$f.traced" $m
		check "$f with trace hook: $m: traced, no call made" traced_no_call trace.log
	done
	fresh count
	ZPT_COUNT_FILE=$PWD/count ZPT_FORWARD=1 run_t hooked "./cn.$f.hooked" siginfo call-exit
	check "$f with hook: the tcount hook ran (siginfo call-exit, status $RUN_RC)" hook_saw_calls count 1
done
