#!/usr/bin/env bash
# t-contract-numbers.sh - system call numbers outside page 0: beyond 4095,
# negative, with the x32 bit, with high bits set.
#
# The kernel looks only at the low 32 bits of rax, as a signed int: numbers it
# does not know give -ENOSYS (negative ones, 4096 and up, the x32 bit when x32
# is disabled), and getpid with bit 32 set is getpid.  A rewritten site calls
# the address in rax, which for these lands outside the trampoline's page 0
# (or in page 1, the trampoline's spill-over).  contract-numbers prints what
# each raw call returns; the rewritten program must print the same and exit
# the same (glibc static, static-pie, musl; no hook and tcount hook).
# Modes of contract-numbers: page1 (4096-8191), big (8192 .. 2^32-1), negative
# (-1 .. INT_MIN), noncanonical (bit 63 or bit 47 set: `call *%rax` faults on
# the call instruction itself), x32 (0x40000000 | n), high32 (bit 32 set),
# with-segv-handler (some of them after the program set its own SIGSEGV handler).
# The runtime handles numbers outside the trampoline through its SIGSEGV
# handler (runtime/signals.c); these checks are kept in a script of their own
# so that a failure here is visible by itself.
# The hooks saw the calls: tcount counted the mode's odd numbers (its "other"
# row: every number outside 0-511), the trace hook logged one of them
# (syscall_0x... lines).
# All of it in the runtime's two paths (in_paths: page 0, trap path as root,
# trap path as uid 65534, there without the trace hook: every_variant).
source "$TESTS/harness.sh"
# (the trace hook's lines go to a file: the outputs compared stay the program's)
export ZP_TRACE_FILE=$PWD/trace.log

build_test_hook tcount
flavs=()
for f in $(flavours contract-numbers); do
	rewrite_three "$(prog contract-numbers $f)" "cn.$f" && flavs+=("$f")
done
contract() {
	local f m orig traced
	for f in "${flavs[@]}"; do
		orig=$(prog contract-numbers $f)
		for m in page1 big negative noncanonical x32 high32 with-segv-handler; do
			case $m in
			page1) traced='^syscall_0x1000\(' ;;
			big) traced='^syscall_0x2000\(' ;;
			negative) traced='^syscall_0xffffffffffffffff\(' ;;
			noncanonical) traced='^syscall_0x8000000000000000\(' ;;
			x32|with-segv-handler) traced='^syscall_0x40000027\(' ;;
			high32) traced='^syscall_0x100000027\(' ;;
			esac
			check_same "$f: $m" "$orig" "./cn.$f" $m
			fresh count
			ZPT_FORWARD=1 ZPT_COUNT_FILE=$PWD/count check_again "$f with hook: $m" "./cn.$f.hooked" $m
			check "$f with hook: $m: the hook saw the numbers" hook_counted count other
			every_variant || continue
			fresh trace.log
			check_again "$f with trace hook: $m" "./cn.$f.traced" $m
			check "$f with trace hook: $m: traced" trace_has trace.log "$traced"
		done
	done
}
in_paths contract
