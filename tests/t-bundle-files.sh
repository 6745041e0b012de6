#!/usr/bin/env bash
# t-bundle-files.sh - what `zprewrite --bundle` writes: names, modes, ELF
# validity, determinism, and the libraries it resolves.
# zp-test: rewriter
#
#  - Layout: DIR/PROGRAM with PT_INTERP = DIR/lib/ld-linux-x86-64.so.2 and a
#    library path starting with $ORIGIN/lib (or DIR/lib); DIR/lib holds exactly the loader
#    and the libraries `ldd` lists, under the names the program asks for.
#  - Mode bits: every output file has its original's (a program made 0750, a
#    library 0640, libc.so.6 as the system's).
#  - Symlinked library names (libzt.so.1 -> libzt.so.1.2.3): the bundle has
#    DIR/lib/libzt.so.1 as a regular file, and the program runs.
#  - --add-lib: a plugin the program dlopen()s by name, and the plugin's own
#    dependency, are bundled, and the program maps them from DIR/lib (it
#    prints its /proc/self/maps), not from where they were.
#  - readelf -lW: new LOAD segments (with the .zprewrite sections), still
#    sorted by address, not overlapping, offset and address congruent.
#  - eu-elflint --gnu-ld passes on each bundled file whose original passes,
#    and reports nothing new on the others (one elflint false positive is
#    ignored, see elflint_filter in harness.sh).
#  - Determinism: bundling again (--force, same DIR) gives byte-identical files.
#  - Which file of a name: a library's dependency found through the program's
#    DT_RPATH "$ORIGIN/..." is looked for from the program's directory, not
#    the library's (a decoy sits where the wrong expansion points); an
#    --add-lib name is found through the program's RUNPATH, and (in a mount
#    namespace with another /etc/ld.so.conf, when one can be made) in the
#    directories of /etc/ld.so.conf before the default ones.
# Running the bundled programs needs page 0; without it only the files are
# checked.
# How it fails: a wrong name, mode, missing or extra library, a symlink copied
# as a link, a library loaded from outside the bundle, a segment the kernel
# would refuse or elflint rejects, or any byte that changes between two runs.
source "$TESTS/harness.sh"

ROOT=$PWD
ZP=$ZPREWRITE
T=$RUN_TIMEOUT
export LC_ALL=C
CAN_RUN=1
min=$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null || echo 65536)
if [ "$min" != 0 ] && [ "$(id -u)" != 0 ]; then CAN_RUN=0; note "no page 0: bundled programs are not run"; fi

# bundle ARGS...: zprewrite -q ARGS, a check; false if it failed.
bundle() { check "zprewrite $(echo "$*" | sed "s|$ROOT/||g")" timeout -k 5 "$T" "$ZP" -q "$@"; last_ok; }
run() { [ $CAN_RUN = 1 ] || return 0; timeout "$T" "$@"; }
# mode_is WANT FILE: FILE's mode bits are WANT.
mode_is() { local m; m=$(stat -L -c %a "$2"); [ "$m" = "$1" ] || { note "  $2 has mode $m, expected $1"; return 1; }; }

# ---- programs and libraries ------------------------------------------------
mkdir src ztlib plug out
cat >src/zt.c <<'EOF'
int zt_answer(void) { return 42; }
EOF
gcc -shared -fPIC -Wl,-soname,libzt.so.1 -o ztlib/libzt.so.1.2.3 src/zt.c || fail "cannot build libzt"
ln -s libzt.so.1.2.3 ztlib/libzt.so.1
ln -s libzt.so.1 ztlib/libzt.so
chmod 0640 ztlib/libzt.so.1.2.3

cat >src/plugdep.c <<'EOF'
int plugdep_value(void) { return 7; }
EOF
cat >src/plug.c <<'EOF'
int plugdep_value(void);
int plug_value(void) { return plugdep_value() * 6; }
EOF
gcc -shared -fPIC -Wl,-soname,libplugdep.so -o plug/libplugdep.so src/plugdep.c || fail "cannot build libplugdep"
gcc -shared -fPIC -Wl,-soname,libplug.so -o plug/libplug.so src/plug.c -Lplug -lplugdep '-Wl,-rpath,$ORIGIN' ||
	fail "cannot build libplug"

# The program: links libzt, dlopen()s libplug.so by name (found through its
# RUNPATH, which lists plug/), prints the answers and the files it maps.
cat >src/prog.c <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
int zt_answer(void);
int main(void)
{
	void *h = dlopen("libplug.so", RTLD_NOW);
	if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
	int (*pv)(void) = (int (*)(void))dlsym(h, "plug_value");
	printf("answers %d %d\n", zt_answer(), pv());
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	while (f && fgets(line, sizeof line, f)) {
		char *path = strchr(line, '/');
		if (path && strstr(line, " r-xp ")) printf("maps %s", path);
	}
	return 0;
}
EOF
gcc -o prog src/prog.c -Lztlib -lzt -ldl -Wl,-rpath,"$ROOT/ztlib:$ROOT/plug" || fail "cannot build prog"
chmod 0750 prog
[ "$(./prog | head -1)" = "answers 42 42" ] || fail "prog (original) does not work"

# ---- layout, names, modes -----------------------------------------------
bundle --add-lib "$ROOT/plug/libplug.so" --add-lib libz.so.1 --bundle out/b ./prog
B=$ROOT/out/b
check "the bundle has its program" [ -f "$B/prog" ]
last_ok || exit 1
interp=$(readelf -lW "$B/prog" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
check "PT_INTERP is DIR/lib/ld-linux-x86-64.so.2" [ "$interp" = "$B/lib/ld-linux-x86-64.so.2" ]
path=$(readelf -dW "$B/prog" | sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]$/\1/p')
# $ORIGIN/lib first (or DIR/lib: an absolute path also works in secure mode).
case $path in '$ORIGIN/lib'|'$ORIGIN/lib:'*|"$B/lib"|"$B/lib:"*) good "the library path starts with \$ORIGIN/lib" ;;
*) bad "the library path starts with \$ORIGIN/lib" "it is '$path'" ;; esac
(cd "$B/lib" && ls -A) >names.txt
printf '%s\n' ld-linux-x86-64.so.2 libc.so.6 libplug.so libplugdep.so libz.so.1 libzt.so.1 | sort >want.txt
check "DIR/lib holds exactly the expected names (< expected, > there)" diff want.txt names.txt
for f in "$B/prog" "$B"/lib/*; do
	check "$(basename "$f") is a regular file" eval '[ -f "$f" ] && [ ! -L "$f" ]'
done
check "the program keeps its mode 750" mode_is 750 "$B/prog"
check "libzt.so.1 keeps its mode 640" mode_is 640 "$B/lib/libzt.so.1"
sys_libc=$(ldd ./prog | sed -n 's/.*libc.so.6 => \([^ ]*\) .*/\1/p')
check "libc.so.6 keeps its mode" mode_is "$(stat -L -c %a "$sys_libc")" "$B/lib/libc.so.6"
check "the loader keeps its mode" mode_is "$(stat -L -c %a /lib64/ld-linux-x86-64.so.2)" "$B/lib/ld-linux-x86-64.so.2"
check "libz.so.1 keeps its mode" \
	mode_is "$(stat -L -c %a "$(ldconfig -p | sed -n 's/.*libz.so.1 (libc6,x86-64) => //p' | head -1)")" "$B/lib/libz.so.1"
check "DIR has mode 755" mode_is 755 "$B"

# ---- it runs, from the bundle ---------------------------------------------
if [ $CAN_RUN = 1 ]; then
	run_t run "$B/prog"
	check "the bundled prog runs" [ "$RUN_RC" = 0 ]
	last_ok || zph_diag "$(head -3 run.err)"
	check "the bundled prog prints 'answers 42 42'" [ "$(head -1 run.out)" = "answers 42 42" ]
	for lib in libzt.so.1 libplug.so libplugdep.so libc.so.6 ld-linux-x86-64.so.2; do
		check "the bundled prog maps $lib from DIR/lib" grep -qx "maps $B/lib/$lib" run.out
	done
	outside=$(grep '^maps ' run.out | grep -v "^maps $B/" || true)
	check "the bundled prog maps no code from outside the bundle" [ -z "$outside" ]
	last_ok || zph_diag "$outside"
else
	skip_check "the bundled prog runs from its bundle" "no page 0"
fi

# ---- program headers ---------------------------------------------------------
# readelf -lW: LOAD rows as "offset vaddr filesz memsz flags align".
loads() { readelf -lW "$1" | awk '$1 == "LOAD" { f = $7; if ($8 != "" && $8 !~ /^0x/) f = f $8; print $2, $3, $5, $6, f, $NF }'; }
check_loads() { # FILE ORIGINAL: false, saying why, if a segment is wrong
	local f=$1 o=$2 n_new n_old
	n_new=$(loads "$f" | wc -l); n_old=$(loads "$o" | wc -l)
	[ "$n_new" -ge $((n_old + 2)) ] || { note "  $f: $n_new LOAD segments, original $n_old: no new ones"; return 1; }
	loads "$f" | python3 -c '
import sys
prev_end = -1
for line in sys.stdin:
    off, va, fs, ms, fl, al = line.split()
    off, va, fs, ms, al = (int(x, 16) for x in (off, va, fs, ms, al))
    if va < prev_end: sys.exit("LOAD at %#x overlaps or is out of order" % va)
    if (off - va) % al: sys.exit("LOAD at %#x: offset %#x not congruent" % (va, off))
    if fs > ms: sys.exit("LOAD at %#x: filesz > memsz" % va)
    prev_end = (va + ms + 4095) & ~4095
' || { note "  $f: bad LOAD segments"; return 1; }
	readelf -lW "$f" | grep -qE '^ +[0-9]+ +.*\.zprewrite\.text' || { note "  $f: no segment holds .zprewrite.text"; return 1; }
	# The new code segment is R E.
	local rx
	rx=$(readelf -lW "$f" | awk '$1 == "LOAD" && $7 == "R" && $8 == "E"' | wc -l)
	[ "$rx" -ge 2 ] || { note "  $f: no new R E segment"; return 1; }
}
check "prog: new LOAD segments, in order, R E code" check_loads "$B/prog" ./prog
check "libc.so.6: new LOAD segments, in order, R E code" check_loads "$B/lib/libc.so.6" "$sys_libc"
check "libzt.so.1: new LOAD segments, in order, R E code" check_loads "$B/lib/libzt.so.1" ztlib/libzt.so.1.2.3
check "the loader: new LOAD segments, in order, R E code" check_loads "$B/lib/ld-linux-x86-64.so.2" /lib64/ld-linux-x86-64.so.2

# ---- eu-elflint ---------------------------------------------------------------
# (elflint_filter and lint_pair, in harness.sh, ignore one elflint false positive.)
# elflint_passes FILE: eu-elflint --gnu-ld -q has nothing to say.
elflint_passes() { eu-elflint --gnu-ld -q "$1" >lint.txt 2>&1 || { zph_diag "$(head -3 lint.txt)"; return 1; }; }
if command -v eu-elflint >/dev/null; then
	# The program passes outright if its original does.
	if eu-elflint --gnu-ld -q ./prog >/dev/null 2>&1; then
		check "eu-elflint passes on the bundled prog" elflint_passes "$B/prog"
	fi
	check "eu-elflint: nothing new on prog" lint_pair "$B/prog" ./prog
	check "eu-elflint: nothing new on libc.so.6" lint_pair "$B/lib/libc.so.6" "$sys_libc"
	check "eu-elflint: nothing new on the loader" lint_pair "$B/lib/ld-linux-x86-64.so.2" /lib64/ld-linux-x86-64.so.2
	check "eu-elflint: nothing new on libzt.so.1" lint_pair "$B/lib/libzt.so.1" ztlib/libzt.so.1.2.3
	check "eu-elflint: nothing new on libplug.so" lint_pair "$B/lib/libplug.so" plug/libplug.so
	bundle --bundle out/ls /bin/ls
	if eu-elflint --gnu-ld -q /bin/ls >/dev/null 2>&1; then
		check "eu-elflint passes on the bundled ls" elflint_passes out/ls/ls
	fi
	for l in out/ls/lib/*; do
		check "eu-elflint: nothing new on the bundled ls's $(basename "$l")" \
			lint_pair "$l" "$(ldd /bin/ls | awk -v n="$(basename "$l")" '$1 == n { print $3 }' | grep . || echo /lib64/ld-linux-x86-64.so.2)"
	done
else
	skip_check "eu-elflint on the bundled files" "no eu-elflint"
fi

# ---- determinism ------------------------------------------------------------
cp -a out/b first
bundle --force --add-lib "$ROOT/plug/libplug.so" --add-lib libz.so.1 --bundle out/b ./prog
check "bundling twice gives the same files" diff -rq first out/b
check_not "no temporary directory left in out/" eval 'ls -A out | grep zprewrite'

# ---- which file of a name ----------------------------------------------------
# ori/p has the DT_RPATH $ORIGIN/plibs and needs libone.so (there), which
# needs libtwo.so and has no path of its own: the loader finds libtwo.so
# through the program's RPATH, $ORIGIN being the program's directory
# (ori/plibs/libtwo.so), not libone's (ori/plibs/plibs/, where a decoy is).
mkdir -p ori/plibs/plibs
echo 'int two_value(void) { return 7; }' >src/two.c
echo 'int two_value(void) { return 13; } int decoy_marker(void) { return 0; }' >src/decoy.c
echo 'int two_value(void); int one_value(void) { return two_value() * 6; }' >src/one.c
printf '#include <stdio.h>\nint one_value(void);\nint main(void) { printf("%%d\\n", one_value()); return 0; }\n' >src/p.c
gcc -shared -fPIC -Wl,-soname,libtwo.so -o ori/plibs/libtwo.so src/two.c || fail "cannot build libtwo"
gcc -shared -fPIC -Wl,-soname,libtwo.so -o ori/plibs/plibs/libtwo.so src/decoy.c || fail "cannot build the decoy"
gcc -shared -fPIC -Wl,-soname,libone.so -o ori/plibs/libone.so src/one.c -Lori/plibs -ltwo || fail "cannot build libone"
gcc -o ori/p src/p.c -Lori/plibs -lone -Wl,--disable-new-dtags '-Wl,-rpath,$ORIGIN/plibs' || fail "cannot build ori/p"
[ "$(ori/p)" = 42 ] || fail "ori/p (original) prints $(ori/p)"
bundle --bundle out/ori ./ori/p
check "\$ORIGIN in the program's RPATH: libtwo.so bundled" [ -f out/ori/lib/libtwo.so ]
check_not "\$ORIGIN in the program's RPATH is the program's directory, not libone's (no decoy)" \
	eval 'readelf -sW --dyn-syms out/ori/lib/libtwo.so | grep decoy_marker >/dev/null'
if [ $CAN_RUN = 1 ]; then
	check "the bundled ori/p prints 42" [ "$(run out/ori/p 2>&1 | head -3)" = 42 ]
fi

# --add-lib by name is resolved like a dependency of the program: libplug.so
# is only in a directory of prog's RUNPATH.
bundle --add-lib libplug.so --bundle out/byname ./prog
check "--add-lib libplug.so (by name, in the program's RUNPATH) bundles it and its dependency" \
	eval '[ -f out/byname/lib/libplug.so ] && [ -f out/byname/lib/libplugdep.so ]'

# The directories of /etc/ld.so.conf come before the default ones, for an
# --add-lib name too: with an /etc/ld.so.conf naming conf/ (a private mount
# in a mount namespace, nothing else sees it), --add-lib libz.so.1 is the
# conf/libz.so.1 made here, not the system's.
mkdir conf
echo 'int zconf_marker(void) { return 0; }' >src/zconf.c
gcc -shared -fPIC -Wl,-soname,libz.so.1 -o conf/libz.so.1 src/zconf.c || fail "cannot build conf/libz.so.1"
printf '# t-bundle-files\n%s\n' "$ROOT/conf" >ld.so.conf
if unshare -m sh -c "mount --bind '$ROOT/ld.so.conf' /etc/ld.so.conf && grep -q '^$ROOT/conf\$' /etc/ld.so.conf" 2>/dev/null; then
	check "zprewrite --add-lib libz.so.1, with conf/ in /etc/ld.so.conf" \
		unshare -m sh -c "mount --bind '$ROOT/ld.so.conf' /etc/ld.so.conf && exec '$ZP' -q --add-lib libz.so.1 --bundle out/conf ./prog"
	check "--add-lib libz.so.1 is the one in the directory of /etc/ld.so.conf" \
		eval 'readelf -sW --dyn-syms out/conf/lib/libz.so.1 | grep zconf_marker >/dev/null'
else
	skip_check "/etc/ld.so.conf's directories come first" "cannot mount over /etc/ld.so.conf in a mount namespace"
fi

# ---- a DT_NEEDED entry with a path -------------------------------------------
# Linking a library that has no soname by its path records that path in
# DT_NEEDED, and the loader then opens exactly that file, whatever the
# library path says: the bundle must not leave such an entry pointing
# outside DIR, or the unrewritten original is loaded.  (Refusing such a
# program with a clear message would do too.)
gcc -shared -fPIC -o "$ROOT/src/libnoso.so" src/zt.c || fail "cannot build libnoso.so"
gcc -o absprog src/prog.c "$ROOT/src/libnoso.so" -ldl -Wl,-rpath,"$ROOT/plug" || fail "cannot build absprog"
readelf -dW absprog | grep -q "Shared library: \[$ROOT/src/libnoso.so\]" || fail "absprog has no path in DT_NEEDED"
# (absprog also dlopen()s libplug.so by name: bundle it, or it comes from
# outside, which is the documented limit, not what is checked here.)
rc=0; "$ZP" -q --add-lib "$ROOT/plug/libplug.so" --bundle out/abs ./absprog 2>abs.zperr || rc=$?
if [ $rc = 1 ] && [ "$(wc -l <abs.zperr)" = 1 ] && grep -q '^zprewrite: .*libnoso' abs.zperr && [ ! -e out/abs ]; then
	good "a path in DT_NEEDED: refused with one line"
	note "$(cat abs.zperr)"
	exit 0
fi
check "a path in DT_NEEDED: bundled (or refused with one line)" [ $rc = 0 ]
last_ok || { zph_diag "status $rc: $(cat abs.zperr)"; exit 1; }
needed=$(readelf -dW out/abs/absprog | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
outside_needed=""
for n in $needed; do
	case $n in */*) case $n in "$ROOT/out/abs/"*) ;; *) outside_needed="$outside_needed $n";; esac;; esac
done
check "the bundled absprog needs no path outside the bundle" [ -z "$outside_needed" ]
last_ok || note "  it needs:$outside_needed"
if [ $CAN_RUN = 1 ]; then
	run_t abs out/abs/absprog
	check "the bundled absprog runs" [ "$RUN_RC" = 0 ]
	outside=$(grep '^maps ' abs.out | grep -v "^maps $ROOT/out/abs/" || true)
	check "the bundled absprog maps no code from outside the bundle" [ -z "$outside" ]
	last_ok || zph_diag "$outside"
fi
