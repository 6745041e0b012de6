#!/usr/bin/env bash
# t-golden.sh - zprewrite's --list output and rewritten program headers for
# the golden sample programs are exactly tests/golden/ (see tests/golden.sh).
# zp-test: rewriter
source "$TESTS/lib.sh"
ls "$BUILD"/samples/golden/* >/dev/null 2>&1 || fail "no golden sample programs in $BUILD/samples/golden"
ZPREWRITE=$ZPREWRITE "$TESTS/golden.sh" "$BUILD"
