#!/usr/bin/env bash
# t-golden-run.sh - the golden sample programs, rewritten, still do what they
# did.  sites.S keeps a value in the red zone across a system call and exits
# with status 1 if it gets it back changed: a red-zone site patched with a
# plain `call *%rax` fails this test.
source "$TESTS/lib.sh"
need_page0
for bin in "$BUILD"/samples/golden/*; do
	name=$(basename "$bin")
	rewrite "$bin" "$name.zp" --verify
	same_run "$bin" "./$name.zp"
	grep -q "ok" patched.out || fail "$name: did not print ok"
done
