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
source "$TESTS/harness.sh"
cat >prog.c <<'C'
#include <stdio.h>
int main(void) { puts("props"); return 0; }
C
gcc -static -O2 -o static prog.c || fail "cannot build a static program"
gcc -static-pie -fPIE -O2 -o static-pie prog.c || fail "cannot build a static-pie program"
inputs=(static static-pie /bin/ls /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2 /bin/busybox)
if command -v musl-gcc >/dev/null; then musl-gcc -static -O2 -o musl prog.c || fail "musl-gcc failed"; inputs+=(musl); fi

# elflint_passes FILE: eu-elflint --gnu-ld has nothing to say.
elflint_passes() { eu-elflint --gnu-ld "$1" >lint.txt 2>&1 || { zph_diag "$(cat lint.txt)"; return 1; }; }
# old_loads_kept IN OUT-PHDRS: the input's LOAD rows are the output's first ones.
old_loads_kept() {
	local n
	n=$(readelf -lW "$1" | awk '$1 == "LOAD"' | wc -l)
	diff <(readelf -lW "$1" | awk '$1 == "LOAD"') <(awk '$1 == "LOAD"' "$2" | head -n "$n")
}

for in in "${inputs[@]}"; do
	name=$(basename "$in")
	sum_before=$(sha256sum "$in" | cut -d' ' -f1)
	cp -p "$in" "$name.in"
	chmod 0751 "$name.in"
	check "$name: rewritten" timeout -k 5 "$RUN_TIMEOUT" "$ZPREWRITE" -q "$name.in" "$name.1"
	last_ok || continue
	check "$name: rewritten with --verify" timeout -k 5 "$RUN_TIMEOUT" "$ZPREWRITE" -q --verify "$name.in" "$name.2"
	check "$name: the two rewrites are identical" cmp -s "$name.1" "$name.2"
	check "$name: the input is unchanged" [ "$(sha256sum "$in" | cut -d' ' -f1)" = "$sum_before" ]
	check "$name: the output has the input's mode 751" [ "$(stat -c %a "$name.1")" = 751 ]
	if command -v eu-elflint >/dev/null; then
		if eu-elflint --gnu-ld "$name.in" >/dev/null 2>&1; then
			check "$name: eu-elflint passes on the output as on the input" elflint_passes "$name.1"
		fi
		# Inputs elflint already complains about: nothing new on the output.
		check "$name: eu-elflint says nothing new on the output" lint_pair "$name.1" "$name.in"
	fi
	# The new segments, and nothing below them moved.
	readelf -lW "$name.1" >ph.txt
	check "$name: a .zprewrite segment in readelf -lW" grep -q '\.zprewrite$\|\.zprewrite ' ph.txt
	check "$name: a .zprewrite.text segment" grep -q '\.zprewrite\.text' ph.txt
	check "$name: the original segments are unchanged" old_loads_kept "$name.in" ph.txt
	run_t again "$ZPREWRITE" "$name.1" "$name.3"
	check "$name: rewriting a rewritten file: status 1" [ "$RUN_RC" = 1 ]
	check "$name: rewriting a rewritten file: 'already rewritten'" \
		grep -q "^zprewrite: $name.1: already rewritten" again.err
	check "$name: rewriting a rewritten file: no output" [ ! -e "$name.3" ]
done

# $ORIGIN: the rewritten program finds its libraries relative to where it is
# written.  Elsewhere, they are not found: zprewrite says so (and -q not).
mkdir -p app/lib elsewhere
cat >lib.c <<'C'
int answer(void) { return 42; }
C
cat >app.c <<'C'
int answer(void);
int main(void) { return answer(); }
C
gcc -shared -fPIC -o app/lib/libanswer.so lib.c || fail "cannot build libanswer.so"
gcc -o app/app app.c -Lapp/lib -lanswer -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/lib' || fail "cannot build app"
run_t next "$ZPREWRITE" app/app app/app.zp
check '$ORIGIN: rewritten next to the input' [ "$RUN_RC" = 0 ]
check '$ORIGIN: no warning for an output next to its input' [ ! -s next.err ]
run_t far "$ZPREWRITE" app/app elsewhere/app.zp
check '$ORIGIN: rewritten elsewhere' [ "$RUN_RC" = 0 ]
check '$ORIGIN: elsewhere, one warning line' [ "$(wc -l <far.err)" = 1 ]
check '$ORIGIN: the warning names $ORIGIN/lib and the directory it meant' \
	grep -q "^zprewrite: elsewhere/app.zp: warning: .*\$ORIGIN/lib.*$PWD/app" far.err
last_ok || note "  warning: $(cat far.err)"
run_t quiet "$ZPREWRITE" -q app/app elsewhere/app.q
check '$ORIGIN: rewritten with -q' [ "$RUN_RC" = 0 ]
check '$ORIGIN: -q does not warn' [ ! -s quiet.err ]
check '$ORIGIN: the warning does not change the output' cmp -s elsewhere/app.zp elsewhere/app.q
