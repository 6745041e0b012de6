#!/usr/bin/env bash
# t-golden.sh - zprewrite's --list output and rewritten program headers for
# the golden sample programs are exactly tests/golden/ (see tests/golden.sh).
# zp-test: rewriter
source "$TESTS/harness.sh"
ls "$BUILD"/samples/golden/* >/dev/null 2>&1 || fail "no golden sample programs in $BUILD/samples/golden"
check "--list and program headers as in tests/golden/" env ZPREWRITE="$ZPREWRITE" "$TESTS/golden.sh" "$BUILD"
