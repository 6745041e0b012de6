#!/usr/bin/env bash
# t-slide.sh - every entry of the trampoline, 0 to 8191, reaches the hook with
# the number, the arguments, the other registers, the flags and the stack as
# the site had them, and comes back to the site (tests/slide/slide.S with the
# answer hook, tests/slide/answer.c).  Numbers up to 8187 slide; 8188 to 8191
# fault just past the trampoline and are finished by the runtime's SIGSEGV
# handler: both ways are checked.
source "$TESTS/lib.sh"
need_page0
src=$TESTS/slide
gcc -std=gnu11 -O2 -fPIC -shared -nostdlib -ffreestanding -fno-stack-protector \
	-mgeneral-regs-only -fvisibility=hidden -I"$TESTS/../runtime/include" \
	-o answer.so "$src/answer.c"
gcc -nostdlib -static -o slide "$src/slide.S"
rewrite slide slide.zp --hook answer.so
"$ZPREWRITE" --list slide | grep -q '_start+.*patch' || fail "the site in slide.S was not patched"
set +e
./slide.zp >out.txt 2>err.txt
rc=$?
set -e
[ $rc -eq 0 ] || fail "slide test failed with status $rc at number $(cat out.txt) ($(cat err.txt))"
# Without the hook the same program cannot pass (exit 13 or a crash): the
# test does depend on the hook answering.
rewrite slide plain.zp
set +e; ./plain.zp >/dev/null 2>&1; rc=$?; set -e
[ $rc -ne 0 ] || fail "the slide test passes without its hook: it checks nothing"
