#!/usr/bin/env bash
# t-hook-example.sh - docs/hooks.md's example works exactly as the page says.
#
# docs/hooks.md and samples/hooks/example-openlog.c must not drift apart:
#  1. the C block after "<!-- doctest: source samples/hooks/example-openlog.c -->"
#     in docs/hooks.md must be byte for byte that file;
#  2. every console block after "<!-- doctest: session -->" is replayed, in
#     order, in this test's directory: each "$ " line (with its "\"
#     continuation lines) is run with `bash -c`, ZP set to the source tree
#     and `zprewrite` on PATH being the zprewrite under test, and its stdout
#     and stderr together must be exactly the lines the page shows under it;
#  3. the build flags the page shows are the project's own: every flag of
#     the session's gcc command (but -O2, -I and -o) is in ZP_HOOK_CFLAGS of
#     samples/hooks/hooks.mk and the other way round;
#  4. `make` built build/samples/example-openlog.so (hooks.mk lists it) and
#     zprewrite embeds it.
# So the page's source, flags, commands and outputs are all real.
#
# How it fails: an edit to the page or to the example that the other does
# not get, a helper (zp_read_app, zp_dprintf, zp_errno_*) or entry point
# (init/leave/exit, the 127 exit on init failure) that stops behaving as the
# page shows, a change to the hook flags not reflected on the page.
source "$TESTS/lib.sh"
need_page0

ROOT=$(cd "$TESTS/.." && pwd)
DOC=$ROOT/docs/hooks.md
SRC=$ROOT/samples/hooks/example-openlog.c
[ -f "$DOC" ] || fail "docs/hooks.md is missing"
[ -f "$SRC" ] || fail "samples/hooks/example-openlog.c is missing"
[ -x /bin/busybox ] || skip "the page's session uses /bin/busybox (Debian's busybox-static), not installed"

# ---- 1. the source block ------------------------------------------------------
# block FILE MARKER-REGEX N: the body of the fenced block that follows the
# N-th line matching the marker (1-based).
block() {
	awk -v re="$2" -v want="$3" '
		!inb && $0 ~ re { n++; armed = (n == want); next }
		armed && !inb && /^```/ { inb = 1; next }
		inb && /^```$/ { exit }
		inb { print }
	' "$1"
}
marker_src='^<!-- doctest: source samples/hooks/example-openlog\.c -->$'
[ "$(grep -cE "$marker_src" "$DOC")" = 1 ] || fail "docs/hooks.md: no (or several) source marker(s) for example-openlog.c"
block "$DOC" "$marker_src" 1 > doc-source.c
diff -u "$SRC" doc-source.c >&2 ||
	fail "the example's source in docs/hooks.md differs from samples/hooks/example-openlog.c (- file, + doc)"
note "docs/hooks.md shows samples/hooks/example-openlog.c exactly ($(wc -l < "$SRC") lines)"

# ---- 2. replay the sessions --------------------------------------------------------
mkdir bin session
ln -s "$ZPREWRITE" bin/zprewrite
export ZP=$ROOT PATH=$PWD/bin:$PATH
unset OPENLOG_FILE
marker_sess='^<!-- doctest: session -->$'
nsess=$(grep -cE "$marker_sess" "$DOC" || true)
[ "$nsess" -ge 1 ] || fail "docs/hooks.md has no doctest session"
ncmd=0
all_cmds=""
for s in $(seq 1 "$nsess"); do
	block "$DOC" "$marker_sess" "$s" > session.$s
	[ -s session.$s ] || fail "doctest session $s is empty"
	# Split into commands (cmd.K) and their expected output (exp.K).
	rm -f cmd.* exp.*
	awk '
		cont { sub(/^ +/, ""); cmd = cmd " " $0; if (cmd ~ /\\$/) { sub(/ *\\$/, "", cmd) } else { cont = 0; print cmd > ("cmd." k) }; next }
		/^\$ / { k++; cmd = substr($0, 3); printf "" > ("exp." k)
			if (cmd ~ /\\$/) { sub(/ *\\$/, "", cmd); cont = 1 } else print cmd > ("cmd." k); next }
		k { print > ("exp." k) }
	' session.$s
	k=1
	while [ -f cmd.$k ]; do
		cmd=$(cat cmd.$k)
		all_cmds="$all_cmds$cmd"$'\n'
		set +e
		(cd session && bash -c "$cmd" > ../got.out 2>&1)
		set -e
		if ! diff -u exp.$k got.out > diff.out; then
			cat diff.out >&2
			fail "docs/hooks.md session $s: \`$cmd\` prints something else than the page shows (- page, + real)"
		fi
		ncmd=$((ncmd + 1)); k=$((k + 1))
	done
done
note "replayed $ncmd commands of $nsess session(s): outputs as on the page"

# ---- 3. the page's flags are the project's ----------------------------------------
doc_gcc=$(printf '%s' "$all_cmds" | grep -m1 -- '-nostdlib.*-o openlog\.so' || true)
[ -n "$doc_gcc" ] || fail "no gcc command building openlog.so with -nostdlib in the page's sessions"
mk_flags=$(make -s -C "$ROOT" --no-print-directory -f Makefile -f - zp-print-hook-flags BUILD="$BUILD" <<'EOF'
zp-print-hook-flags:
	@echo $(ZP_HOOK_CFLAGS)
EOF
) || fail "cannot read ZP_HOOK_CFLAGS from the Makefile"
norm() { tr ' ' '\n' | grep -E '^-' | grep -vE '^-(I|O[0-9s]?$|o$)' | LC_ALL=C sort -u; }
# shellcheck disable=SC2001
diff -u <(echo "$mk_flags" | norm) <(echo "$doc_gcc" | sed 's/^gcc //' | norm) >&2 ||
	fail "the page's build flags differ from ZP_HOOK_CFLAGS (- hooks.mk, + docs/hooks.md)"
note "the page builds with ZP_HOOK_CFLAGS: $(echo "$mk_flags" | norm | tr '\n' ' ')"

# ---- 4. make builds it, zprewrite embeds it ------------------------------------------
so=$BUILD/samples/example-openlog.so
[ -f "$so" ] || fail "$so was not built: add example-openlog to ZP_SAMPLE_HOOKS in samples/hooks/hooks.mk"
printf 'int main(void) { return 0; }\n' > t.c
gcc -O2 -static -o t t.c
rewrite t t.z --hook "$so"
./t.z 2> t.err || fail "a program with build/samples/example-openlog.so failed"
grep -qx 'openlog: 0 opens, 0 failed, exit status 0' t.err || { cat t.err >&2; fail "build/samples/example-openlog.so: no summary line"; }
note "build/samples/example-openlog.so embeds and runs"
