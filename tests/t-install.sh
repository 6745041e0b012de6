#!/usr/bin/env bash
# t-install.sh - `make install` into a staging directory, then a hook built
# only with what was installed (pkg-config --cflags --libs zprewrite-hook).
#
#   make install DESTDIR=$PWD/stage PREFIX=/usr/local
# must install bin/zprewrite (which runs and prints the Makefile's VERSION),
# include/zprewrite/hook.h (identical to runtime/include's),
# lib/pkgconfig/zprewrite-hook.pc (no @...@ left, prefix /usr/local, the
# version, every flag of ZP_HOOK_CFLAGS in samples/hooks/hooks.mk) and
# share/man/man1/zprewrite.1.  Then, with PKG_CONFIG_PATH pointing into the
# stage and PKG_CONFIG_SYSROOT_DIR=stage (the usual way to use a staged
# .pc), `gcc -O2 $(pkg-config --cflags --libs zprewrite-hook)` builds
# samples/hooks/example-openlog.c, copied away from the source tree (gcc -M
# proves hook.h came from the stage); the installed zprewrite embeds it in
# a static program, and (if page 0 can be mapped) the program runs and the
# hook's log is as expected.
#
# make runs in a scratch tree of symbolic links to the sources (BUILD is the
# tested build directory, so nothing is rebuilt when the build is current):
# that way docs/zprewrite.1, if the source tree does not have it yet, is an
# empty placeholder in the scratch tree only (noted in the output).
#
# How it fails: a missing or wrong file in the install, a .pc whose flags
# cannot build a hook (or build one zprewrite refuses), an installed
# zprewrite that does not work away from the build tree.
source "$TESTS/harness.sh"

ROOT=$(cd "$TESTS/.." && pwd)
STAGE=$PWD/stage
P=$STAGE/usr/local
command -v pkg-config >/dev/null || skip "pkg-config is not installed"

mkdir tree tree/docs
for f in Makefile runtime samples scripts rewriter bench tests; do
	[ -e "$ROOT/$f" ] && ln -s "$ROOT/$f" "tree/$f"
done
ln -s "$ROOT/docs/zprewrite-hook.pc.in" tree/docs/
if [ -f "$ROOT/docs/zprewrite.1" ]; then
	ln -s "$ROOT/docs/zprewrite.1" tree/docs/
else
	note "docs/zprewrite.1 does not exist yet: an empty placeholder is installed"
	: > tree/docs/zprewrite.1
fi
run_t make make -C tree --no-print-directory BUILD="$BUILD" install DESTDIR="$STAGE" PREFIX=/usr/local
check "make install" [ "$RUN_RC" = 0 ]
last_ok || { zph_diag "$(tail -n 20 make.out make.err)"; exit 1; }

VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
[ -n "$VERSION" ] || fail "no VERSION in the Makefile"

# ---- the files -----------------------------------------------------------
for f in bin/zprewrite include/zprewrite/hook.h lib/pkgconfig/zprewrite-hook.pc share/man/man1/zprewrite.1; do
	check "make install installed $f" [ -f "$P/$f" ]
done
check "bin/zprewrite is executable" [ -x "$P/bin/zprewrite" ]
check "the installed hook.h is runtime/include/zprewrite/hook.h" \
	cmp -s "$P/include/zprewrite/hook.h" "$ROOT/runtime/include/zprewrite/hook.h"
run_t version "$P/bin/zprewrite" --version
check "the installed zprewrite --version runs" [ "$RUN_RC" = 0 ]
check "zprewrite --version says the Makefile's VERSION $VERSION" grep -qF "$VERSION" version.out
pc=$P/lib/pkgconfig/zprewrite-hook.pc
check_not "zprewrite-hook.pc has no @...@ placeholder left" grep '@[A-Z]*@' "$pc"
check "zprewrite-hook.pc: prefix is /usr/local" grep -qx 'prefix=/usr/local' "$pc"
note "installed: $(cd "$P" && find . -type f | sort | tr '\n' ' ')"

# ---- pkg-config -------------------------------------------------------------
export PKG_CONFIG_PATH=$P/lib/pkgconfig
unset PKG_CONFIG_LIBDIR
v=$(pkg-config --modversion zprewrite-hook) || fail "pkg-config does not find zprewrite-hook"
check "pkg-config --modversion is $VERSION" [ "$v" = "$VERSION" ]
plain=$(pkg-config --cflags --libs zprewrite-hook)
# (-I/usr/local/include, or no -I at all)
check "pkg-config --cflags points at no other include directory" \
	eval '[[ " $plain " == *" -I/usr/local/include "* ]] || [[ " $plain " != *" -I"* ]]'
flags=$(PKG_CONFIG_SYSROOT_DIR=$STAGE pkg-config --cflags --libs zprewrite-hook)
note "pkg-config --cflags --libs zprewrite-hook: $flags"
# Every flag the project builds its own hooks with (but -I) must be there.
mk_flags=$(make -s -C "$ROOT" --no-print-directory -f Makefile -f - zp-print-hook-flags BUILD="$BUILD" <<'EOF'
zp-print-hook-flags:
	@echo $(ZP_HOOK_CFLAGS)
EOF
) || fail "cannot read ZP_HOOK_CFLAGS from the Makefile"
for f in $mk_flags; do
	case $f in -I*) continue ;; esac
	check "zprewrite-hook.pc has $f (ZP_HOOK_CFLAGS has it)" eval '[[ " $flags " == *" $f "* ]]'
done

# ---- a hook built with those flags only ---------------------------------------
mkdir hook && cp "$ROOT/samples/hooks/example-openlog.c" hook/openlog.c
cd hook || fail "no hook directory"
# shellcheck disable=SC2086  # word splitting of the flags is intended
check "the example hook builds with pkg-config's flags" gcc -O2 $flags -o openlog.so openlog.c
# shellcheck disable=SC2086
gcc $flags -M openlog.c > deps || fail "gcc -M failed"
check "hook.h came from the installed copy" grep -q "$P/include/zprewrite/hook.h" deps
last_ok || note "  from: $(grep -o '[^ ]*hook\.h' deps)"
cat > target.c <<'EOF'
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
	int fd = open("target.c", O_RDONLY);
	return fd == 3 && close(fd) == 0 && open("/nonexistent", O_RDONLY) < 0 ? 0 : 1;
}
EOF
gcc -O2 -static -o target target.c || fail "cannot build the target program"
check "the installed zprewrite embeds the hook" "$P/bin/zprewrite" --hook openlog.so target target.z
min=$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null || echo 65536)
if [ "$min" != 0 ] && [ "$(id -u)" != 0 ]; then
	skip_check "the program with the installed-built hook runs" "page 0 cannot be mapped here"
	exit 0
fi
OPENLOG_FILE=opens.log run_t target ./target.z
check "the program with the installed-built hook runs" [ "$RUN_RC" = 0 ]
cat > expected <<'EOF'
openlog: "target.c" = 3
openlog: "/nonexistent" = -1 ENOENT (No such file or directory)
openlog: 2 opens, 1 failed, exit status 0
EOF
check "the hook's log is the expected one" diff -u expected opens.log
