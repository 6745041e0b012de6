#!/usr/bin/env bash
# t-hook-stack.sh - hooks run on the runtime's own stack: system calls near
# the bottom of small stacks (goroutine-like coroutines of 8 KiB, threads of
# 16 KiB) keep working with a hook that uses most of ZP_HOOK_STACK_BUDGET.
#
# tests/programs/tinystack.c makes its calls with about 900 bytes left on
# each stack (what Go leaves below a system call) and checks that nothing
# more than 160 bytes below the calls' stack pointer was written (the
# runtime's pass-through uses 152).  It is rewritten with no hook and with
# tests/hooks/bigstack.c, which writes 30 KiB of its stack on every call:
# on the application's stack that would overwrite the neighbouring
# coroutines (the runtime before its per-thread stacks crashed here).  Both
# run on the page-0 path (ZP_PAGE0=fast, as root) and on the trap path
# (ZP_PAGE0=never), where each call also raises a signal, whose frame must
# go on a signal stack (the runtime gives threads without one its own).
# Checks: the same output as the original, and the hook saw the calls.
source "$TESTS/harness.sh"

build_test_hook bigstack
big_ran() { # count file
	local n
	n=$(awk '$1 == "bigstack" { print $2 }' "$1" 2>/dev/null | tail -n 1)
	echo "   bigstack hook calls: ${n:-none}"
	[ "${n:-0}" -gt 10000 ]
}

stack_checks() {
	local f=$1 orig
	orig=$(prog tinystack "$f")
	check_same "$f: no hook" "$orig" "./ts.$f"
	fresh count
	ZPT_COUNT_FILE=$PWD/count check_same "$f: 30 KiB hook" "$orig" "./ts.$f.big"
	check "$f: 30 KiB hook: it ran" big_ran count
}

for f in $(flavours tinystack); do
	orig=$(prog tinystack "$f")
	rewrite "$orig" "ts.$f" || continue
	rewrite "$orig" "ts.$f.big" --hook ./bigstack.so || continue
	if [ "$(id -u)" = 0 ]; then
		in_mode "page 0" ZP_PAGE0=fast -- stack_checks "$f"
	else
		skip_check "page 0: $f" "page 0 needs root here"
	fi
	in_mode "trap" ZP_PAGE0=never -- stack_checks "$f"
done
