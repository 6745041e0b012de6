#!/usr/bin/env bash
# t-golden-run.sh - the golden programs, rewritten, still do what they
# did.  sites.S keeps a value in the red zone across a system call and exits
# with status 1 if it gets it back changed: a red-zone site patched with a
# plain `call *%rax` fails this test.  In the runtime's two paths (in_paths:
# page 0, the trap path as root and as uid 65534, which runs copies here).
source "$TESTS/harness.sh"
ZPT_EXPECT_RC=0
names=()
for bin in "$BUILD"/tests/golden/*; do
	name=$(basename "$bin")
	cp "$bin" "./$name.orig" || fail "cannot copy $bin"
	rewrite "./$name.orig" "$name.zp" --verify && names+=("$name")
done
golden_checks() {
	local name
	for name in "${names[@]}"; do
		check_same "$name" "./$name.orig" "./$name.zp"
		check "$name: prints ok" grep -q "ok" patched.out
	done
}
in_paths golden_checks
