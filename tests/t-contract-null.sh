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
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534) and under ZP_PAGE0=auto as root: NULL reads fault under
# auto and never on every host.  The one documented difference: on a host
# without execute-only memory the page-0 mode runs ZP_PAGE0=fast, where a
# read of page 0, page 1 or the jump pages returns trampoline bytes
# (docs/runtime.md, "NULL stays NULL"): there the read modes check that the
# rewritten program reads and goes on (exit 0, "read N", "MODE: survived")
# while the original dies; writes and calls still fault as natively.  The
# uid 65534 and auto modes leave out the trace hook (every_variant).
source "$TESTS/harness.sh"
# (the trace hook's lines go to a file: the outputs compared stay the program's)
export ZP_TRACE_FILE=$PWD/trace.log

build_test_hook tcount
died_of_segv() { [ "$LAST_RC" = 139 ] || { note "  original exited $LAST_RC, not 139"; return 1; }; }
traced_no_call() { # trace file: the hook ran, and made no call for the NULL call
	trace_has "$1" '^set_tid_address\(' || return 1
	! grep -E 'exit_group\(42\)|A SYSTEM CALL WAS MADE' "$1" | sed 's/^/#   traced: /' | grep .
}
# same_or_read NAME ORIG PATCHED MODE: check_same (ORIG "-": check_again),
# but a read mode on a readable page 0 reads trampoline bytes
# (check_reads_page0).
same_or_read() {
	case $4 in
	read0|read8|read-page1|read-jumps)
		if page0_readable; then check_reads_page0 "$1: reads trampoline bytes (page 0 readable)" "${@:2}"; return; fi ;;
	esac
	if [ "$2" = - ]; then check_again "$1" "${@:3}"; else check_same "$@"; fi
}
flavs=()
for f in $(flavours contract-null); do
	rewrite_three "$(prog contract-null $f)" "cn.$f" && flavs+=("$f")
done
# Every run, original and rewritten, dies of SIGSEGV (status 139).
ZPT_EXPECT_RC=139
contract() {
	local f m orig
	for f in "${flavs[@]}"; do
		orig=$(prog contract-null $f)
		for m in read0 write0 read8 read-page1 write-page1 read-jumps callnull call-rax0 call-exit call-write jmp-exit call-page1; do
			same_or_read "$f: $m" "$orig" "./cn.$f" $m
			check "$f: $m: the original died of SIGSEGV" died_of_segv
			ZPT_FORWARD=1 same_or_read "$f with hook: $m" - "./cn.$f.hooked" $m
			every_variant || continue
			fresh trace.log
			same_or_read "$f with trace hook: $m" - "./cn.$f.traced" $m
			check "$f with trace hook: $m: traced, no call made" traced_no_call trace.log
		done
		fresh count
		ZPT_COUNT_FILE=$PWD/count ZPT_FORWARD=1 run_t hooked "./cn.$f.hooked" siginfo call-exit
		check "$f with hook: the tcount hook ran (siginfo call-exit, status $RUN_RC)" hook_saw_calls count 1
	done
}
in_paths --auto contract
