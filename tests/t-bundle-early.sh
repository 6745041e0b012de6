#!/usr/bin/env bash
# t-bundle-early.sh - in a bundle, hooking starts with the dynamic loader's
# first system call, and nothing after it escapes the hook.
#
# 1. The trace hook in a bundled `ls`: the first traced call is the one the
#    loader makes first (the original program's first call under strace); the
#    loader's own openat of DIR/lib/libc.so.6 and its mmap calls of that file
#    are traced, before the first write of ls's output.
# 2. Nothing escapes: every openat that strace sees the traced bundle make
#    (except the trace hook's own open of its output file) is in the trace, in
#    the same order.
# 3. The rewritten loader run as a command (`DIR/lib/ld-linux-x86-64.so.2
#    PROG`, as ldd does) still works, and traces its own calls.
# 4. Secure mode: with file capabilities (`setcap cap_sys_rawio+ep`, which
#    the runtime suggests) and run by another user, the bundle still maps
#    only its own libraries, and libc's calls are still counted.
# 5. Exact counts with count.so: a dynamic C program makes exactly 1000
#    getppid (through libc's syscall()), 500 getuid (inline `syscall` in the
#    program), and 300 getgid (inline, in a library of its own, found through
#    the program's RUNPATH and discovered at its first call); the table must
#    say exactly that.
# How it fails: if the loader were not rewritten or installed the trampoline
# late, the first lines (brk, the openat of libc) would be missing; if any of
# libc, the program or a library were not discovered, their calls would be
# missing from the trace or the counts would be short.
source "$TESTS/harness.sh"
need_page0

ZP=$ZPREWRITE
TRACE=$BUILD/samples/trace.so
COUNT=$BUILD/samples/count.so
ROOT=$PWD
export LC_ALL=C

mkdir w; printf 'x\n' >w/file-one; printf 'y\n' >w/file-two

# ---- 1. the loader's calls are traced ------------------------------------
check "ls bundled with trace.so" timeout -k 5 "$RUN_TIMEOUT" "$ZP" -q --hook "$TRACE" --bundle lst /bin/ls
last_ok || exit 1
ZP_TRACE_FILE=$ROOT/ls.trace run_t ls lst/ls w
check "the traced bundled ls runs" [ "$RUN_RC" = 0 ]
last_ok || zph_diag "$(head -3 ls.err)"
check "the traced bundled ls lists the directory" [ "$(cat ls.out)" = "$(printf 'file-one\nfile-two')" ]
check "a trace written" [ -s ls.trace ]
last_ok || exit 1

first=$(head -n 1 ls.trace)
if command -v strace >/dev/null; then
	# The original's first call after execve is the loader's first call.
	strace -o orig.strace /bin/ls w >/dev/null
	want=$(sed -n 2p orig.strace | sed 's/(.*//')
	check "the first traced call is the loader's first call ($want)" [ "${first%%(*}" = "$want" ]
else
	note "no strace: checking the first call against brk"
	check "the first traced call is the loader's brk" eval '[[ $first == brk\(* ]]'
fi
last_ok || note "  first traced call: $first"

libc_open=$(grep -n "^openat(AT_FDCWD, \"$ROOT/lst/lib/libc.so.6\", O_RDONLY|O_CLOEXEC) = [0-9]" ls.trace | head -n 1 | cut -d: -f1 || true)
check "the loader's openat of the bundle's libc.so.6 is traced" [ -n "$libc_open" ]
fd=$(sed -n "${libc_open:-1}p" ls.trace | sed 's/.* = //')
first_write=$(grep -n '^write(1, ' ls.trace | head -n 1 | cut -d: -f1 || true)
check "ls's write of its output is traced" [ -n "$first_write" ]
check "the openat of libc.so.6 comes before the first write" [ "${libc_open:-1}" -lt "${first_write:-0}" ]
# Between the openat and its close: the loader reads the header and maps the file.
close_at=$(awk -v s="${libc_open:-1}" -v fd="$fd" 'NR > s && index($0, "close(" fd ")") == 1 { print NR; exit }' ls.trace)
check "a close($fd) after the openat of libc.so.6" [ -n "$close_at" ]
maps=$(sed -n "${libc_open:-1},${close_at:-1}p" ls.trace | grep -c "^mmap(.*MAP_DENYWRITE, $fd, " || true)
check "at least 3 mmap calls of libc.so.6 traced" [ "$maps" -ge 3 ]
check "the loader's readlink of /proc/self/exe (for \$ORIGIN) is traced" grep -q '^readlink("/proc/self/exe"' ls.trace
check "at least 5 calls traced before libc.so.6 is opened" [ "$(sed -n "1,${libc_open:-1}p" ls.trace | grep -c .)" -ge 5 ]

# ---- 2. nothing escapes (openat, in order) ---------------------------------
if command -v strace >/dev/null; then
	rm -f ls2.trace
	check "the traced bundle runs under strace" \
		eval 'ZP_TRACE_FILE=$ROOT/ls2.trace timeout -k 5 "$RUN_TIMEOUT" strace -o bundle.strace lst/ls w >/dev/null'
	# Only successful and failed openat calls, their path: the strace one
	# without the hook's open of its output file.
	grep '^openat(' bundle.strace | grep -v "\"$ROOT/ls2.trace\"" | sed 's/^openat([^,]*, \("[^"]*"\).*/\1/' >s.paths
	grep '^openat(' ls2.trace | sed 's/^openat([^,]*, \("[^"]*"\).*/\1/' >t.paths
	# (the loader opens the bundle's libraries by path: libselinux, libpcre2,
	# libc, plus ld.so.preload and the directory listed)
	check "strace sees at least 4 openat calls" [ "$(wc -l <s.paths)" -ge 4 ]
	check "every openat strace sees is in the trace, in order (< strace, > trace)" diff s.paths t.paths
else
	skip_check "every openat strace sees is in the trace" "no strace"
fi

# ---- 3. the rewritten loader as a command ---------------------------------
run_t echo lst/lib/ld-linux-x86-64.so.2 /bin/echo from-ld.so
check "the bundle's loader runs /bin/echo" [ "$RUN_RC" = 0 ]
check "/bin/echo run by the bundle's loader prints its argument" [ "$(cat echo.out)" = from-ld.so ]
ZP_TRACE_FILE=$ROOT/ld.trace run_t true lst/lib/ld-linux-x86-64.so.2 /bin/true
check "the traced loader runs /bin/true as a command" [ "$RUN_RC" = 0 ]
check "the loader's openat of /bin/true is traced" grep -q '^openat(AT_FDCWD, "/bin/true", O_RDONLY|O_CLOEXEC) = ' ld.trace
run_t ldd lst/lib/ld-linux-x86-64.so.2 --list lst/ls
check "ld.so --list runs" [ "$RUN_RC" = 0 ]
# ("libc.so.6 => PATH" for a name found by searching, "PATH (...)" for a
# DT_NEEDED given as a path, as bundles now name their libraries)
check "ld.so --list resolves libc.so.6 in the bundle" \
	grep -qE "libc.so.6 => .*lst/lib/libc.so.6|^[[:space:]]*/.*lst/lib/libc.so.6 \(" ldd.out

# ---- 4. file capabilities (secure mode) -----------------------------------
# `setcap cap_sys_rawio+ep DIR/PROGRAM` lets other users map page 0 (the
# runtime suggests it), and makes the kernel start the program in secure
# mode (AT_SECURE), where glibc's loader ignores $ORIGIN in library paths.
# The bundle must still load its own (rewritten) libraries, or libc's calls
# would silently go unhooked.
SECURE="secure mode: the bundle maps only its own libraries, libc's calls counted"
if [ "$(id -u)" = 0 ] && command -v setcap >/dev/null && command -v setpriv >/dev/null; then
	check "cat bundled with count.so" timeout -k 5 "$RUN_TIMEOUT" "$ZP" -q --hook "$COUNT" --bundle capb /bin/cat
	chmod 755 "$ROOT"
	if setcap cap_sys_rawio+ep capb/cat 2>/dev/null; then
		ZP_COUNT_FILE=/dev/null run_t cap setpriv --reuid=65534 --regid=65534 --clear-groups \
			capb/cat /proc/self/maps
		if [ "$RUN_RC" = 127 ] && grep -q 'cannot map the system-call trampoline' cap.err; then
			skip_check "$SECURE" "file capabilities not honoured here (nosuid mount?)"
		else
			check "secure mode: capb/cat runs as nobody" [ "$RUN_RC" = 0 ]
			last_ok || zph_diag "$(head -3 cap.err)"
			outside=$(grep ' r-xp .* /' cap.out | grep -v " $ROOT/capb/" || true)
			check "secure mode: the bundle loads no code from outside" [ -z "$outside" ]
			last_ok || zph_diag "$outside"
			# The count table goes to stderr: libc's read of the file is in it.
			run_t capcount setpriv --reuid=65534 --regid=65534 --clear-groups capb/cat /proc/self/maps
			check "secure mode: capb/cat runs as nobody, counting" [ "$RUN_RC" = 0 ]
			check "secure mode: libc's read calls counted" grep -qE ' read$' capcount.err
		fi
	else
		skip_check "$SECURE" "setcap failed (file system without security xattrs?)"
	fi
else
	skip_check "$SECURE" "not root, or no setcap/setpriv"
fi

# ---- 5. exact counts (last: it needs a library found through RUNPATH) ----
cat >libzg.c <<'EOF'
/* A library of its own with an inline system call: discovered at its first call. */
#include <sys/syscall.h>
long zg_getgid(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getgid) : "rcx", "r11", "memory");
	return r;
}
EOF
cat >counted.c <<'EOF'
/* Exactly 1000 getppid through libc's syscall(), 500 getuid through an inline
 * syscall in the program, 300 getgid through the library's; each compared
 * with the first answer, so that no other call is made. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
long zg_getgid(void);
static long my_getuid(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getuid) : "rcx", "r11", "memory");
	return r;
}
int main(void)
{
	long p0 = syscall(SYS_getppid), u0 = my_getuid(), g0 = zg_getgid();
	int p = 1, u = 1, g = 1;
	for (int i = 1; i < 1000; i++)
		p += syscall(SYS_getppid) == p0;
	for (int i = 1; i < 500; i++)
		u += my_getuid() == u0;
	for (int i = 1; i < 300; i++)
		g += zg_getgid() == g0;
	printf("%d %d %d\n", p, u, g);
	return 0;
}
EOF
gcc -O2 -shared -fPIC -Wl,-soname,libzg.so -o libzg.so libzg.c || fail "cannot build libzg.so"
gcc -O2 -o counted counted.c -L. -lzg -Wl,-rpath,"$ROOT" || fail "cannot build counted"
check "the original counted prints 1000 500 300" [ "$(./counted)" = "1000 500 300" ]
check "counted bundled with count.so" timeout -k 5 "$RUN_TIMEOUT" "$ZP" -q --hook "$COUNT" --bundle cnt ./counted
last_ok || exit 1
check "libzg.so is in the bundle" [ -f cnt/lib/libzg.so ]
ZP_COUNT_FILE=$ROOT/counted.count run_t cnt cnt/counted
check "the bundled counted runs" [ "$RUN_RC" = 0 ]
check "the bundled counted prints 1000 500 300" [ "$(cat cnt.out)" = "1000 500 300" ]
count_of() { awk -v c="$1" '$NF == c { print $4 }' counted.count; }
check "count.so: getppid 1000" [ "$(count_of getppid)" = 1000 ]
check "count.so: getuid 500 (the program's own site)" [ "$(count_of getuid)" = 500 ]
check "count.so: getgid 300 (libzg.so's site)" [ "$(count_of getgid)" = 300 ]
# The loader's calls are counted too: it opens at least libzg.so and libc.so.6.
check "count.so: the loader's openat calls are counted" [ "$(count_of openat)" -ge 2 ]
last_ok || zph_diag "$(cat counted.count)"
note "count.so: $(awk '$NF == "total" { print $(NF-2) }' counted.count) calls in all"
