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
# 2 and 4 run in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534: the session's commands, all of them, as that user).
#
# How it fails: an edit to the page or to the example that the other does
# not get, a helper (zp_read_app, zp_dprintf, zp_errno_*) or entry point
# (init/leave/exit, the 127 exit on init failure) that stops behaving as the
# page shows, a change to the hook flags not reflected on the page.
source "$TESTS/harness.sh"

ROOT=$(cd "$TESTS/.." && pwd)
DOC=$ROOT/docs/hooks.md
SRC=$ROOT/samples/hooks/example-openlog.c
[ -f "$DOC" ] || fail "docs/hooks.md is missing"
[ -f "$SRC" ] || fail "samples/hooks/example-openlog.c is missing"
[ -x /bin/busybox ] || skip "the page's session uses /bin/busybox (Debian's busybox-static), not installed"

# same_text WANT GOT: identical, or the unified diff as diagnostics.
same_text() { diff -u "$1" "$2" >text.diff || { zph_diag "$(head -n 40 text.diff)"; return 1; }; }

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
check "docs/hooks.md has one source marker for example-openlog.c" [ "$(grep -cE "$marker_src" "$DOC")" = 1 ]
block "$DOC" "$marker_src" 1 > doc-source.c
check "docs/hooks.md shows samples/hooks/example-openlog.c exactly (- file, + doc)" same_text "$SRC" doc-source.c

# ---- 2. replay the sessions --------------------------------------------------------
# In each of the runtime's paths (in_paths), in a fresh session directory, as
# the mode runs programs: the source tree's files the page uses and zprewrite
# are copies here, which uid 65534 can read wherever the tree is.
mkdir -p bin zp/samples/hooks zp/runtime
cp "$ZPREWRITE" bin/zprewrite
cp "$SRC" zp/samples/hooks/
cp -r "$ROOT/runtime/include" zp/runtime/
export ZP=$PWD/zp PATH=$PWD/bin:$PATH
unset OPENLOG_FILE
marker_sess='^<!-- doctest: session -->$'
nsess=$(grep -cE "$marker_sess" "$DOC" || true)
[ "$nsess" -ge 1 ] || fail "docs/hooks.md has no doctest session"
all_cmds=""
for s in $(seq 1 "$nsess"); do
	block "$DOC" "$marker_sess" "$s" > session.$s
	[ -s session.$s ] || fail "doctest session $s is empty"
	# Split into commands (split.S/cmd.K) and their expected output (exp.K).
	mkdir split.$s
	(cd split.$s && awk '
		cont { sub(/^ +/, ""); cmd = cmd " " $0; if (cmd ~ /\\$/) { sub(/ *\\$/, "", cmd) } else { cont = 0; print cmd > ("cmd." k) }; next }
		/^\$ / { k++; cmd = substr($0, 3); printf "" > ("exp." k)
			if (cmd ~ /\\$/) { sub(/ *\\$/, "", cmd); cont = 1 } else print cmd > ("cmd." k); next }
		k { print > ("exp." k) }
	' ../session.$s)
	k=1
	while [ -f split.$s/cmd.$k ]; do
		all_cmds="$all_cmds$(cat split.$s/cmd.$k)"$'\n'
		k=$((k + 1))
	done
done

replay() {
	local s k cmd
	rm -rf session
	# shellcheck disable=SC2086
	${ZPT_RUN_AS:-} mkdir session || fail "cannot make the session directory"
	for s in $(seq 1 "$nsess"); do
		k=1
		while [ -f split.$s/cmd.$k ]; do
			cmd=$(cat split.$s/cmd.$k)
			set +e
			# shellcheck disable=SC2086
			(cd session && timeout -k 5 "$RUN_TIMEOUT" ${ZPT_RUN_AS:-} bash -c "$cmd" > ../got.out 2>&1)
			set -e
			check "session $s: \`$cmd\` prints what the page shows (- page, + real)" same_text split.$s/exp.$k got.out
			k=$((k + 1))
		done
	done
}

# ---- 3. the page's flags are the project's ----------------------------------------
doc_gcc=$(printf '%s' "$all_cmds" | grep -m1 -- '-nostdlib.*-o openlog\.so' || true)
check "the page's sessions build openlog.so with gcc -nostdlib" [ -n "$doc_gcc" ]
mk_flags=$(make -s -C "$ROOT" --no-print-directory -f Makefile -f - zp-print-hook-flags BUILD="$BUILD" <<'EOF'
zp-print-hook-flags:
	@echo $(ZP_HOOK_CFLAGS)
EOF
) || fail "cannot read ZP_HOOK_CFLAGS from the Makefile"
norm() { tr ' ' '\n' | grep -E '^-' | grep -vE '^-(I|O[0-9s]?$|o$)' | LC_ALL=C sort -u; }
echo "$mk_flags" | norm > flags.mk
# shellcheck disable=SC2001
echo "$doc_gcc" | sed 's/^gcc //' | norm > flags.doc
check "the page builds with ZP_HOOK_CFLAGS (- hooks.mk, + docs/hooks.md)" same_text flags.mk flags.doc

# ---- 4. make builds it, zprewrite embeds it ------------------------------------------
so=$BUILD/samples/example-openlog.so
check "make built build/samples/example-openlog.so (ZP_SAMPLE_HOOKS in samples/hooks/hooks.mk)" [ -f "$so" ]
last_ok || exit 1
printf 'int main(void) { return 0; }\n' > t.c
gcc -O2 -static -o t t.c || fail "cannot build a static program"
rewrite t t.z --hook "$so"
embedded() {
	run_t t ./t.z
	check "a program with example-openlog.so runs" [ "$RUN_RC" = 0 ]
	check "example-openlog.so prints its summary line" grep -qx 'openlog: 0 opens, 0 failed, exit status 0' t.err
}

# 2 and 4 run in the runtime's two paths.
run_paths() { replay; embedded; }
in_paths run_paths
