#!/usr/bin/env bash
# t-contract-null-siginfo.sh - what the program's own SIGSEGV handler sees of
# a NULL access or a NULL call is the same as without the rewrite.
#
# Programs with a SIGSEGV handler (language runtimes, crash reporters) look at
# si_code, si_addr and the faulting rip.  contract-null siginfo MODE installs
# such a handler, does what MODE does (see t-contract-null.sh) and prints
# si_code (SEGV_MAPERR for an unmapped page), whether si_addr is the bad
# address, and whether rip is (for a call to 0, the original faults at rip 0).
# The rewritten program must print the same.  Kept apart from t-contract-null
# because page 0 being mapped (execute-only) can change si_code (SEGV_ACCERR
# or SEGV_PKUERR instead of SEGV_MAPERR) and a refused call may fault
# elsewhere: differences a program can see, worth reporting on their own.
source "$TESTS/harness.sh"
need_page0

# The handler prints what it saw and exits 0: any other status is a failure
# of the original run itself (a second fault, the handler not called).
ZPT_EXPECT_RC=0
for f in $(flavours contract-null); do
	orig=$(prog contract-null $f)
	rewrite "$orig" "cn.$f" || continue
	for m in read0 write0 read8 read-page1 write-page1 read-jumps callnull call-rax0 call-exit call-write jmp-exit call-page1; do
		check_same "$f: siginfo $m" "$orig" "./cn.$f" siginfo $m
	done
done
