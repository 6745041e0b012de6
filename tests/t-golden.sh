#!/usr/bin/env bash
# t-golden.sh - zprewrite's --list output and rewritten program headers for
# the golden programs are exactly tests/golden/ (see tests/golden.sh).
# zp-test: rewriter
source "$TESTS/harness.sh"
ls "$BUILD"/tests/golden/* >/dev/null 2>&1 || fail "no golden programs in $BUILD/tests/golden (make test-programs)"
check "--list and program headers as in tests/golden/" \
	timeout -k 5 "$RUN_TIMEOUT" env ZPREWRITE="$ZPREWRITE" "$TESTS/golden.sh" "$BUILD"
