#!/usr/bin/env bash
# t-slide.sh - every entry of the trampoline, 0 to 8191, reaches the hook with
# the number, the arguments, the other registers, the flags and the stack as
# the site had them, and comes back to the site (tests/slide/slide.S with the
# answer hook, tests/slide/answer.c).  Numbers up to 8187 slide; 8188 to 8191
# fault just past the trampoline and are finished by the runtime's SIGSEGV
# handler: both ways are checked.
source "$TESTS/harness.sh"
need_page0
src=$TESTS/slide
gcc -std=gnu11 -O2 -fPIC -shared -nostdlib -ffreestanding -fno-stack-protector \
	-mgeneral-regs-only -fvisibility=hidden -I"$TESTS/../runtime/include" \
	-o answer.so "$src/answer.c" || fail "cannot build the answer hook"
gcc -nostdlib -static -o slide "$src/slide.S" || fail "cannot build slide.S"
rewrite slide slide.zp --hook answer.so
check "the site in slide.S is patched" eval '"$ZPREWRITE" --list slide | grep -q "_start+.*patch"'
run_t slide ./slide.zp
check "every number reaches the hook and comes back (status 0)" [ "$RUN_RC" -eq 0 ]
last_ok || note "  stopped at number $(cat slide.out) ($(cat slide.err))"
# Without the hook the same program cannot pass (exit 13 or a crash): the
# test does depend on the hook answering.
rewrite slide plain.zp
run_t plain ./plain.zp
check_not "negative control: without its hook the slide test fails" [ "$RUN_RC" -eq 0 ]
