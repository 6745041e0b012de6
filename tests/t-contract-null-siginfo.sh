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
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534) and under ZP_PAGE0=auto as root.  The one documented
# difference: on a host without execute-only memory the page-0 mode runs
# ZP_PAGE0=fast, where a read of page 0, page 1 or the jump pages returns
# trampoline bytes (docs/runtime.md, "NULL stays NULL"): there the read modes
# check that the handler is not called and the rewritten program reads and
# goes on (exit 0, "read N", "MODE: survived").
source "$TESTS/harness.sh"

flavs=()
for f in $(flavours contract-null); do
	rewrite "$(prog contract-null $f)" "cn.$f" && flavs+=("$f")
done
# The handler prints what it saw and exits 0: any other status is a failure
# of the original run itself (a second fault, the handler not called).
ZPT_EXPECT_RC=0
contract() {
	local f m orig
	for f in "${flavs[@]}"; do
		orig=$(prog contract-null $f)
		for m in read0 write0 read8 read-page1 write-page1 read-jumps callnull call-rax0 call-exit call-write jmp-exit call-page1; do
			case $m in read0|read8|read-page1|read-jumps)
				if page0_readable; then
					check_reads_page0 "$f: siginfo $m: reads trampoline bytes (page 0 readable)" \
						"$orig" "./cn.$f" siginfo $m
					continue
				fi ;;
			esac
			check_same "$f: siginfo $m" "$orig" "./cn.$f" siginfo $m
		done
	done
}
in_paths --auto contract
