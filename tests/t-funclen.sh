#!/usr/bin/env bash
# t-funclen.sh - the function-length rule of the code base (issue 11): no
# function of rewriter/ or runtime/ over 80 lines, at most 5 over 60, and
# each of those says in a comment why it is long ("(Long: ...)" in the
# comment above it).  scripts/funclen.py measures; a negative control
# checks that it does find a long function.
source "$TESTS/harness.sh"
ROOT=$TESTS/..
FL="python3 $ROOT/scripts/funclen.py"

check "no function over 80 lines" $FL -n 80 "$ROOT/rewriter" "$ROOT/runtime"
$FL -n 60 "$ROOT/rewriter" "$ROOT/runtime" >long.txt || true
check "at most 5 functions over 60 lines ($(wc -l <long.txt))" [ "$(wc -l <long.txt)" -le 5 ]
# said_why FILE LINE: the four lines above the function (its first line is
# LINE: its comment, perhaps a prototype) say it is long.
said_why() { sed -n "$(($2 - 4)),$(($2 - 1))p" "$1" | grep -q '(Long'; }
while read -r n where name; do
	check "$name ($n lines) says why it is long" said_why "$ROOT/${where%%:*}" "${where##*:}"
done < <(sed "s|$ROOT/||" long.txt)

# Negative control: a function of 81 lines is found.
{ echo 'int f(void)'; echo '{'; for i in $(seq 79); do echo "	(void)$i;"; done; echo '}'; } >long.c
check_not "negative control: an 81-line function is found" $FL -n 80 long.c
