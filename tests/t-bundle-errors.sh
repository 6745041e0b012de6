#!/usr/bin/env bash
# t-bundle-errors.sh - `zprewrite --bundle` refuses what it cannot bundle,
# cleanly, and never leaves a half-written bundle behind.
# zp-test: rewriter
#
# Each refusal must: exit with status 1 (not killed, within the timeout),
# print exactly one line on stderr, "zprewrite: ..." naming what is wrong (a
# pattern per case), print nothing on stdout, and leave the bundle's parent
# directory exactly as it was (no DIR, no temporary `.DIR.zprewrite-*`
# directory, an existing DIR untouched: compared entry by entry, inode and
# checksum, before and after).
# Cases: a needed library that is not found; a needed library that is a text
# file or an ELF file of another architecture (in the program's RPATH); the
# bundle's parent missing, a file, or on a read-only file system; DIR a file;
# a non-empty DIR without --force (and, with --force, a failing bundle keeps
# the old DIR); a path that becomes too long only inside the temporary
# directory (the failure comes after it is made: it must be removed); a
# script; a PT_INTERP without a slash naming no file; an --add-lib that does
# not exist, or is a text file; usage errors (exit 2).  Positive controls:
# each program that is refused for a missing or bad library bundles fine when
# the library is in place, so that a bundler that refuses everything fails
# this test too; a non-empty DIR is replaced with --force; an empty DIR is
# used without --force; a PT_INTERP without a slash, with that loader in the
# current directory (as the kernel finds it), is bundled (it crashed once).
source "$TESTS/harness.sh"

ROOT=$PWD
ZP=$ZPREWRITE
T=${ZP_TIMEOUT:-30}

snapshot() { # DIR: every entry below it, with inode, mode, link, checksum
	(cd "$1" && find . -mindepth 1 -printf '%P %y ino=%i mode=%m ->%l\n' | LC_ALL=C sort &&
		find . -type f -exec sha256sum {} + | LC_ALL=C sort -k 2)
}

# refuse NAME PATTERN PARENT [zprewrite args...]: zprewrite must refuse, in
# the way described above; PARENT is the directory that must not change.
# With REFUSE_FILE set, the line must be "zprewrite: $REFUSE_FILE: MESSAGE"
# and PATTERN is matched against MESSAGE only.
refuse() {
	begin_check "$1"; local pat=$2 parent=$3; shift 3
	local before rc
	before=$(snapshot "$parent")
	set +e
	timeout "$T" "$ZP" "$@" >log/out.txt 2>log/err.txt; rc=$?
	set -e
	[ $rc = 1 ] || fault "exit status $rc, expected 1 (stderr: $(head -c 300 log/err.txt))"
	[ "$(wc -l <log/err.txt)" = 1 ] || fault "stderr has $(wc -l <log/err.txt) lines: $(head -c 300 log/err.txt)"
	grep -q '^zprewrite: ' log/err.txt || fault "stderr does not start with 'zprewrite: ': $(head -c 300 log/err.txt)"
	local msg
	msg=$(head -n 1 log/err.txt)
	if [ -n "${REFUSE_FILE:-}" ]; then
		[ "${msg#"zprewrite: $REFUSE_FILE: "}" != "$msg" ] || fault "stderr does not name $REFUSE_FILE: $(head -c 300 log/err.txt)"
		msg=${msg#"zprewrite: $REFUSE_FILE: "}
	fi
	grep -Eqi -- "$pat" <<<"$msg" || fault "stderr does not match /$pat/: $(head -c 300 log/err.txt)"
	! grep -qiE 'success|\(null\)|AddressSanitizer|runtime error' log/err.txt || fault "stderr: $(head -c 300 log/err.txt)"
	[ ! -s log/out.txt ] || fault "stdout not empty: $(head -c 200 log/out.txt)"
	[ "$(snapshot "$parent")" = "$before" ] || fault "$parent changed: $(diff <(echo "$before") <(snapshot "$parent") | head -5)"
	if ls -A "$parent" | grep -q '\.zprewrite-'; then fault "temporary directory left in $parent"; fi
	end_check
	note "$(cat log/err.txt)"
}

# accept NAME [zprewrite args...]: zprewrite must succeed quietly.
accept() {
	begin_check "$1"; shift
	local rc
	set +e
	timeout "$T" "$ZP" -q "$@" >log/out.txt 2>log/err.txt; rc=$?
	set -e
	if [ $rc != 0 ]; then
		fault "refused (status $rc): $(head -c 300 log/err.txt)"
	elif [ -s log/err.txt ]; then
		fault "stderr with -q: $(head -c 300 log/err.txt)"
	fi
	end_check
}

# ---- programs --------------------------------------------------------------
mkdir build libs rp log
cat >build/libzm.c <<'EOF'
int zm_value(void) { return 42; }
EOF
cat >build/m.c <<'EOF'
#include <stdio.h>
int zm_value(void);
int main(void) { printf("%d\n", zm_value()); return 0; }
EOF
gcc -shared -fPIC -Wl,-soname,libzm.so -o build/libzm.so build/libzm.c || fail "cannot build libzm.so"
# m finds libzm.so through its RUNPATH (gcc's default) in libs/ ...
cp build/libzm.so libs/
gcc -o m build/m.c -Lbuild -lzm -Wl,-rpath,"$ROOT/libs" || fail "cannot build m"
# ... and m_rp through its RPATH, in rp/.
gcc -o m_rp build/m.c -Lbuild -lzm -Wl,--disable-new-dtags -Wl,-rpath,"$ROOT/rp" || fail "cannot build m_rp"
cp build/libzm.so rp/

# plain needs only libc: the cases about where the bundle goes use it, so
# that they do not depend on RPATH handling.
printf '#include <stdio.h>\nint main(void) { puts("plain"); return 0; }\n' >build/plain.c
gcc -o plain build/plain.c || fail "cannot build plain"

mkdir out
accept "control: RUNPATH library found" --bundle out/m ./m
check "control: RUNPATH library found: out/m/lib/libzm.so bundled" [ -f out/m/lib/libzm.so ]
accept "control: RPATH library found" --bundle out/m_rp ./m_rp
check "control: RPATH library found: out/m_rp/lib/libzm.so bundled" [ -f out/m_rp/lib/libzm.so ]

# The library is gone.
mv libs/libzm.so libs/libzm.so.away
refuse "missing library" 'libzm\.so.*not found|not found.*libzm\.so' out --bundle out/x ./m
mv libs/libzm.so.away libs/libzm.so

# The library in the RPATH directory is a text file, or for another machine.
echo 'not a library' >rp/libzm.so
refuse "text file as library" 'libzm\.so.*x86-64|x86-64.*libzm\.so' out --bundle out/x ./m_rp
python3 - build/libzm.so rp/libzm.so <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[18:20] = (183).to_bytes(2, "little")     # e_machine = EM_AARCH64
open(sys.argv[2], "wb").write(b)
EOF
refuse "AArch64 library" 'libzm\.so.*x86-64|x86-64.*libzm\.so' out --bundle out/x ./m_rp
python3 - build/libzm.so rp/libzm.so <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[4] = 1                                    # EI_CLASS = ELFCLASS32
open(sys.argv[2], "wb").write(b)
EOF
refuse "32-bit library" 'libzm\.so.*x86-64|x86-64.*libzm\.so' out --bundle out/x ./m_rp
cp build/libzm.so rp/

# Where the bundle cannot go.
mkdir place; echo file >place/afile
refuse "parent missing" 'nodir' place --bundle place/nodir/sub/b ./plain
refuse "parent is a file" 'afile' place --bundle place/afile/b ./plain
refuse "DIR is a file" 'afile.*(not a directory|exists)' place --bundle place/afile ./plain
mkdir ro
on_exit 'umount "$ROOT/ro" 2>/dev/null || true'
if mount -t tmpfs -o ro,size=1m zp-ro ro 2>/dev/null; then
	refuse "read-only file system" 'read-only|permission|cannot' ro --bundle ro/b ./plain
	umount ro
else
	skip_check "read-only file system" "cannot mount a tmpfs here"
fi

# A non-empty DIR.
mkdir -p out/full/keep; echo precious >out/full/keep/file
refuse "non-empty DIR" 'not empty|--force' out --bundle out/full ./plain
mv libs/libzm.so libs/libzm.so.away   # ./m cannot be bundled now
refuse "non-empty DIR, --force, failing bundle" 'libzm\.so' out --force --bundle out/full ./m
mv libs/libzm.so.away libs/libzm.so
accept "non-empty DIR replaced with --force" --force --bundle out/full ./plain
check "non-empty DIR replaced with --force: the old content is gone" [ ! -e out/full/keep ]
check "non-empty DIR replaced with --force: the new bundle is there" eval '[ -x out/full/plain ] && [ -f out/full/lib/libc.so.6 ]'
mkdir out/empty
accept "empty DIR" --bundle out/empty ./plain
check "empty DIR: the bundle is there" [ -x out/empty/plain ]
check_not "no temporary directory left in out/" eval 'ls -A out | grep zprewrite'

# Not a program zprewrite can bundle.
printf '#!/bin/sh\necho hi\n' >script.sh; chmod +x script.sh
refuse "script" 'script|#!' out --bundle out/x ./script.sh
refuse "no such program" 'no-such-prog' out --bundle out/x ./no-such-prog
echo 'plain text' >text; chmod +x text
refuse "text program" 'ELF' out --bundle out/x ./text
refuse "--add-lib not found" 'libnothere' out --add-lib libnothere.so.9 --bundle out/x ./plain
REFUSE_FILE="$ROOT/text" refuse "--add-lib text file" '^library to add to the bundle is not an x86-64 ELF' out \
	--add-lib "$ROOT/text" --bundle out/x ./plain

# A path that fits until the temporary directory is made, and is too long
# inside it (.DIR.zprewrite-XXXXXX/PROGRAM): the failure comes after the
# temporary directory exists, which must then be removed.  The temporary
# directory's own path, T = PARENT/.LEAF.zprewrite-XXXXXX, is made 4080
# characters long: T/lib still fits in PATH_MAX (4096), T/PROGRAM (150
# characters) does not.
long=$(pwd -P)/long
while [ ${#long} -lt 3850 ]; do long=$long/$(printf 'd%.0s' {1..50}); done
mkdir -p "$long"
leaf=$(printf 'b%.0s' $(seq $((4080 - ${#long} - 19))))
longprog=$(printf 'p%.0s' {1..150})
cp plain "$longprog"
[ $(( ${#long} + 19 + ${#leaf} )) = 4080 ] || fail "long path: wrong arithmetic"
refuse "path too long inside the temporary directory" 'path too long' "$long" --bundle "$long/$leaf" "./$longprog"
rm -rf "$ROOT/long"

# A PT_INTERP without a slash: the kernel opens it relative to the current
# directory, so does zprewrite; it is stored under that name in DIR/lib.
gcc -o relinterp build/plain.c -Wl,--dynamic-linker=ld-linux-x86-64.so.2 || fail "cannot build relinterp"
readelf -lW relinterp | grep -q 'interpreter: ld-linux-x86-64.so.2]' || fail "relinterp: PT_INTERP is not relative"
REFUSE_FILE=./relinterp refuse "PT_INTERP without a slash, no such file" '^its loader ld-linux-x86-64\.so\.2 is missing' \
	out --bundle out/x ./relinterp
cp /lib64/ld-linux-x86-64.so.2 .
accept "PT_INTERP without a slash, loader in the current directory" --bundle out/rel ./relinterp
check "PT_INTERP without a slash: the loader and libc in out/rel/lib" \
	eval '[ -f out/rel/lib/ld-linux-x86-64.so.2 ] && [ -f out/rel/lib/libc.so.6 ]'
check "PT_INTERP without a slash: the bundled program's PT_INTERP is the bundle's loader" \
	eval 'readelf -lW out/rel/relinterp 2>&1 | grep -qF "interpreter: $(pwd -P)/out/rel/lib/ld-linux-x86-64.so.2]"'
rm ld-linux-x86-64.so.2

# Usage errors: status 2, nothing written.
begin_check "usage errors"
for args in "--bundle" "--bundle out/x" "--bundle out/x ./m ./m" "--force ./m out/y" \
	"--add-lib libz.so.1 ./m out/y" "--list --bundle out/x ./m"; do
	set +e; timeout "$T" $ZP $args >log/out.txt 2>log/err.txt; rc=$?; set -e
	[ $rc = 2 ] || fault "'zprewrite $args': status $rc, expected 2: $(head -c 300 log/err.txt)"
	[ ! -e out/x ] && [ ! -e out/y ] || fault "'zprewrite $args' wrote something"
done
end_check
