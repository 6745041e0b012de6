#!/usr/bin/env bash
# t-golden-run.sh - the golden programs, rewritten, still do what they
# did.  sites.S keeps a value in the red zone across a system call and exits
# with status 1 if it gets it back changed: a red-zone site patched with a
# plain `call *%rax` fails this test.
source "$TESTS/harness.sh"
need_page0
ZPT_EXPECT_RC=0
for bin in "$BUILD"/tests/golden/*; do
	name=$(basename "$bin")
	rewrite "$bin" "$name.zp" --verify || continue
	check_same "$name" "$bin" "./$name.zp"
	check "$name: prints ok" grep -q "ok" patched.out
done
