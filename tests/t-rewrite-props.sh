#!/usr/bin/env bash
# t-rewrite-props.sh - properties of every rewritten file, on several kinds of
# input (static, static-pie, musl, a dynamic PIE program, a shared library,
# the dynamic loader):
#   - eu-elflint --gnu-ld passes on the output wherever it passes on the input,
#     and reports nothing on the output that it does not on the input;
#   - readelf -lW shows the new R, R+X and RW segments, above the old ones;
#   - the same input gives byte-identical output (twice, and --verify too);
#   - the output has the input's mode bits, the input is unchanged;
#   - rewriting a rewritten file is refused with a clear message;
#   - a program whose library path uses $ORIGIN gets a warning when it is
#     written to another directory (where $ORIGIN now points), none otherwise.
# zp-test: rewriter
source "$TESTS/lib.sh"
cat >prog.c <<'C'
#include <stdio.h>
int main(void) { puts("props"); return 0; }
C
gcc -static -O2 -o static prog.c
gcc -static-pie -fPIE -O2 -o static-pie prog.c
inputs=(static static-pie /bin/ls /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2 /bin/busybox)
if command -v musl-gcc >/dev/null; then musl-gcc -static -O2 -o musl prog.c; inputs+=(musl); fi

for in in "${inputs[@]}"; do
	name=$(basename "$in")
	sum_before=$(sha256sum "$in" | cut -d' ' -f1)
	cp -p "$in" "$name.in"
	chmod 0751 "$name.in"
	"$ZPREWRITE" -q "$name.in" "$name.1" || fail "$name: rewrite failed"
	"$ZPREWRITE" -q --verify "$name.in" "$name.2" || fail "$name: rewrite --verify failed"
	cmp -s "$name.1" "$name.2" || fail "$name: two rewrites differ"
	[ "$(sha256sum "$in" | cut -d' ' -f1)" = "$sum_before" ] || fail "$name: the input changed"
	[ "$(stat -c %a "$name.1")" = 751 ] || fail "$name: mode $(stat -c %a "$name.1"), expected 751"
	if command -v eu-elflint >/dev/null; then
		if eu-elflint --gnu-ld "$name.in" >/dev/null 2>&1; then
			eu-elflint --gnu-ld "$name.1" >lint.txt 2>&1 || { cat lint.txt >&2; fail "$name: elflint fails on the output only"; }
		fi
		# Inputs elflint already complains about: nothing new on the output.
		lint_pair "$name.1" "$name.in"
	fi
	# The new segments, and nothing below them moved.
	readelf -lW "$name.1" >ph.txt
	grep -q '\.zprewrite$\|\.zprewrite ' ph.txt || fail "$name: no .zprewrite segment in readelf -lW"
	grep -q '\.zprewrite\.text' ph.txt || fail "$name: no .zprewrite.text segment"
	diff <(readelf -lW "$name.in" | awk '$1 == "LOAD"') <(awk '$1 == "LOAD"' ph.txt | head -n "$(readelf -lW "$name.in" | awk '$1 == "LOAD"' | wc -l)") \
		|| fail "$name: the original segments changed"
	set +e
	"$ZPREWRITE" "$name.1" "$name.3" 2>err.txt; rc=$?
	set -e
	[ $rc = 1 ] || fail "$name: rewriting a rewritten file: status $rc"
	grep -q "^zprewrite: $name.1: already rewritten" err.txt || fail "$name: message: $(cat err.txt)"
	[ ! -e "$name.3" ] || fail "$name: output left after refusal"
done

# $ORIGIN: the rewritten program finds its libraries relative to where it is
# written.  Elsewhere, they are not found: zprewrite says so (and -q not).
note '$ORIGIN'
mkdir -p app/lib elsewhere
cat >lib.c <<'C'
int answer(void) { return 42; }
C
cat >app.c <<'C'
int answer(void);
int main(void) { return answer(); }
C
gcc -shared -fPIC -o app/lib/libanswer.so lib.c
gcc -o app/app app.c -Lapp/lib -lanswer -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/lib'
"$ZPREWRITE" app/app app/app.zp 2>err.txt || fail "rewrite next to the input failed"
[ ! -s err.txt ] || fail "a warning for an output next to its input: $(cat err.txt)"
"$ZPREWRITE" app/app elsewhere/app.zp 2>err.txt || fail "rewrite elsewhere failed"
[ "$(wc -l <err.txt)" = 1 ] || fail "expected one warning line, got: $(cat err.txt)"
grep -q "^zprewrite: elsewhere/app.zp: warning: .*\$ORIGIN/lib.*$PWD/app" err.txt || fail "warning: $(cat err.txt)"
"$ZPREWRITE" -q app/app elsewhere/app.q 2>err.txt || fail "rewrite -q failed"
[ ! -s err.txt ] || fail "-q still warns: $(cat err.txt)"
cmp -s elsewhere/app.zp elsewhere/app.q || fail "the warning changed the output"
