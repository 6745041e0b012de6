#!/usr/bin/env bash
# t-targets-static.sh - static programs, rewritten, behave exactly like the
# originals: same stdout, stderr and exit status.
#
# Targets (tests/programs/, each built with gcc -static, gcc -static-pie and
# musl-gcc -static): targets-basic, an ordinary program going through files,
# directories, pipes, fork, malloc/mmap, signals, longjmp and atexit, exiting
# with status 7; targets-threads, eight threads making thousands of calls of
# different kinds with futex hand-offs between them.  Each is run
#   - rewritten without a hook (the pass-through runtime),
#   - rewritten with the test hook tcount (tests/hooks/tcount.c), which makes
#     every call itself through the runtime's helpers (ZPT_FORWARD=1) and
#     writes its counts at exit: the count file must show that it saw calls
#     and that every call came from a known site.
# `zprewrite --list` must report every site of these programs patched
# ("0 skipped"): otherwise some calls would silently bypass the hook.
# Fails if: the original does not exit with its own status (7, 0), a rewritten
# program's output or status differs, it hangs, a site is left unpatched, or
# the hook saw no call.
source "$TESTS/harness.sh"

build_test_hook tcount

all_patched() {
	local summary
	summary=$("$ZPREWRITE" --list "$1" | tail -n 1)
	note "  $(basename "$1"): $summary"
	[[ $summary == *" 0 skipped"* ]]
}

# Rewritten once; the checks run in the runtime's two paths (in_paths: page
# 0, the trap path as root and as uid 65534).
for p in targets-basic targets-threads; do
	for f in $(flavours $p); do
		orig=$(prog $p $f)
		check "$p.$f: --list, every site patched" all_patched "$orig"
		rewrite "$orig" "$p.$f" || continue
		rewrite "$orig" "$p.$f.hooked" --hook tcount.so || true
	done
done

targets_checks() {
	local p f orig
	for p in targets-basic targets-threads; do
		# targets-basic exits 7 when all its checks pass, targets-threads 0.
		local ZPT_EXPECT_RC=0; [ $p != targets-basic ] || ZPT_EXPECT_RC=7
		for f in $(flavours $p); do
			orig=$(prog $p $f)
			[ -e "$p.$f" ] || continue
			check_same "$p.$f" "$orig" "./$p.$f"
			[ -e "$p.$f.hooked" ] || continue
			rm -f "count.$p.$f"
			ZPT_FORWARD=1 ZPT_COUNT_FILE=$PWD/count.$p.$f \
				check_same "$p.$f with the tcount hook" "$orig" "./$p.$f.hooked"
			check "$p.$f: the hook saw the calls" hook_saw_calls "count.$p.$f"
		done
	done
}
in_paths targets_checks
