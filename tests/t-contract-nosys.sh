#!/usr/bin/env bash
# t-contract-nosys.sh - unknown system call numbers inside page 0 give -ENOSYS.
#
# A rewritten `syscall` is `call *%rax`: the number is the address called, in
# the trampoline at address 0.  The kernel answers numbers it does not know
# with -ENOSYS, and the rewritten program must too.  contract-numbers nosys
# makes raw calls with 512, 1000 and 4095 (named), every number from 512 to
# 4095 (the rest of page 0) and the unassigned gap 387-423, and prints what
# came back; the rewritten program (no hook, and with the tcount hook making
# the calls itself) must print the same and exit the same, for glibc static,
# static-pie and musl.  A number whose entry point in the trampoline is broken
# shows up as a crash or a different result.  (Negative numbers, numbers past
# page 0 and the x32 bit are in t-contract-numbers.sh.)
# The hooks saw the calls: tcount counted calls with numbers of 512 and up
# (its "other" row), the trace hook logged the call with number 4095
# (syscall_0xfff).
# All of it in the runtime's two paths (in_paths: page 0, trap path as root,
# trap path as uid 65534).
source "$TESTS/harness.sh"
# (the trace hook's lines go to a file: the outputs compared stay the program's)
export ZP_TRACE_FILE=$PWD/trace.log

build_test_hook tcount
flavs=()
for f in $(flavours contract-numbers); do
	rewrite_three "$(prog contract-numbers $f)" "cn.$f" && flavs+=("$f")
done
contract() {
	local f orig
	for f in "${flavs[@]}"; do
		orig=$(prog contract-numbers $f)
		check_same "$f: nosys" "$orig" "./cn.$f" nosys
		fresh count
		ZPT_FORWARD=1 ZPT_COUNT_FILE=$PWD/count check_again "$f with hook: nosys" "./cn.$f.hooked" nosys
		check "$f with hook: nosys: the hook saw numbers 512 and up" hook_counted count other
		fresh trace.log
		check_again "$f with trace hook: nosys" "./cn.$f.traced" nosys
		check "$f with trace hook: nosys: traced syscall 4095" trace_has trace.log '^syscall_0xfff\('
	done
}
in_paths contract
