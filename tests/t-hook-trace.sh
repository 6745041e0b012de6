#!/usr/bin/env bash
# t-hook-trace.sh - the trace sample hook (samples/hooks/trace.c), embedded
# with `zprewrite --hook`, prints exactly the system calls a program makes, in
# strace's notation.
#
#  1. A static program (built here, glibc and musl) makes a known list of
#     raw system calls (syscall(2): no libc wrapper adds or hides calls):
#     openat of a missing and of an existing file, read of known content,
#     write, close (good and bad fd), getpid, mmap/munmap, socket.  Its part
#     of the trace (ZP_TRACE_FILE), from the first openat on, must be exactly
#     the expected lines (addresses normalised, getpid's result checked
#     against the pid the kernel gave set_tid_address) - and, for glibc, the
#     whole trace must equal `strace` of the unpatched program, line for
#     line, after normalising addresses, pids and the few calls whose
#     arguments strace decodes further than the hook (prlimit64's struct,
#     getrandom's random bytes, readlink of /proc/self/exe).
#  2. `busybox echo hi` rewritten with trace.so: the trace holds
#     `write(1, "hi\n", 3) = 3`, and stdout/exit status are unchanged.
#
# How it fails: a runtime that skips the hook (no trace), calls it twice or
# not at all for some sites (missing/duplicated lines), passes wrong
# arguments/results (a line differs), or breaks the program (its stdout
# differs from the original's) - and a trace hook whose format drifts from
# strace's (the strace comparison).
source "$TESTS/lib.sh"
need_page0

TRACE_SO=$BUILD/samples/trace.so
[ -f "$TRACE_SO" ] || fail "missing $TRACE_SO (run make)"

cat > prog.c <<'EOF'
/* Known raw system calls, in a known order, for t-hook-trace.sh. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>

int main(void)
{
	char buf[64];
	long fd, n;
	void *p;

	syscall(SYS_openat, AT_FDCWD, "/nonexistent", O_RDONLY);
	fd = syscall(SYS_openat, AT_FDCWD, "input.txt", O_RDONLY | O_CLOEXEC);
	n = syscall(SYS_read, fd, buf, sizeof buf);
	syscall(SYS_write, 1, buf, n);
	syscall(SYS_close, fd);
	syscall(SYS_close, 99);
	syscall(SYS_getpid);
	p = (void *)syscall(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	syscall(SYS_munmap, p, 8192);
	fd = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	syscall(SYS_close, fd);
	return 0;
}
EOF
printf 'hello, trace\n' > input.txt

# The program's part of the trace, after normalisation (ADDR for addresses).
cat > expected <<'EOF'
openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)
openat(AT_FDCWD, "input.txt", O_RDONLY|O_CLOEXEC) = 3
read(3, "hello, trace\n", 64) = 13
write(1, "hello, trace\n", 13) = 13
close(3) = 0
close(99) = -1 EBADF (Bad file descriptor)
getpid() = PID
mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ADDR
munmap(ADDR, 8192) = 0
socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3
close(3) = 0
exit_group(0) = ?
+++ exited with 0 +++
EOF

# normalise FILE: addresses -> ADDR, the pid -> PID, columns collapsed, and
# the calls strace decodes further than the hook reduced to their name.
normalise() {
	local pid
	pid=$(sed -n 's/^set_tid_address(.*= \([0-9]*\)$/\1/p' "$1" | head -n 1)
	[ -n "$pid" ] || pid=NOPID
	sed -E -e 's/ +=/ =/' \
		-e "s/= $pid\$/= PID/" \
		-e 's/0x[0-9a-f]{5,}/ADDR/g' \
		-e 's/^(prlimit64|getrandom|readlink)\(.*\) = /\1(...) = /' \
		-e 's/^(readlink\(\.\.\.\)) = [0-9]+$/\1 = N/' \
		-e '/^execve\(/d' "$1"
}

flavours=(static)
command -v musl-gcc >/dev/null && flavours+=(musl)
for fl in "${flavours[@]}"; do
	cc=gcc; [ $fl = musl ] && cc=musl-gcc
	$cc -O2 -static -o prog.$fl prog.c || fail "cannot build the test program ($cc)"
	rewrite prog.$fl prog.$fl.z --hook "$TRACE_SO"

	rm -f trace.$fl
	./prog.$fl > orig.out || fail "$fl: the unpatched program failed"
	ZP_TRACE_FILE=trace.$fl ./prog.$fl.z > patched.out || fail "$fl: the patched program failed"
	cmp -s orig.out patched.out || fail "$fl: stdout differs with trace.so embedded"
	[ -s trace.$fl ] || fail "$fl: no trace written to ZP_TRACE_FILE"

	normalise trace.$fl > trace.$fl.norm
	# The program's own part: from the first openat of /nonexistent.
	sed -n '/^openat(AT_FDCWD, "\/nonexistent"/,$p' trace.$fl.norm > trace.$fl.mine
	if ! diff -u expected trace.$fl.mine >&2; then
		cat trace.$fl >&2
		fail "$fl: the trace of the program's calls is not the expected one"
	fi
	# Padding: " = " starts at column 40 as in strace, for short lines.
	grep -qxF 'close(3)                                = 0' trace.$fl ||
		fail "$fl: 'close(3) = 0' is not aligned as strace aligns it"
	note "$fl: $(wc -l < trace.$fl) trace lines, the program's $(wc -l < expected) as expected"

	# glibc: the whole trace, start-up included, equals strace's.
	if [ $fl = static ]; then
		if strace_ok strace.err -o strace.out ./prog.$fl > /dev/null; then
			[ -s strace.out ] || fail "$fl: strace wrote no trace"
			normalise strace.out > strace.norm
			if ! diff -u strace.norm trace.$fl.norm >&2; then
				fail "$fl: the trace differs from strace's (- strace, + hook)"
			fi
			note "$fl: whole trace equals strace's ($(wc -l < strace.norm) lines)"
		else
			note "$STRACE_WHY: comparison with strace skipped"
		fi
	fi
done

# ---- busybox ------------------------------------------------------------------

BB=$(command -v busybox || true)
[ -n "$BB" ] || skip "busybox is not installed: its part was skipped (the rest passed)"
file -L "$BB" | grep -q 'statically linked' || skip "busybox is not static here"
mkdir -p bb
rewrite "$BB" bb/busybox --hook "$TRACE_SO"
rm -f bb.trace
set +e
"$BB" echo hi > bb.orig.out 2> bb.orig.err; ra=$?
ZP_TRACE_FILE=$PWD/bb.trace bb/busybox echo hi > bb.patched.out 2> bb.patched.err; rb=$?
set -e
[ $ra = $rb ] || fail "busybox echo hi: exit status $ra, patched $rb"
cmp -s bb.orig.out bb.patched.out || fail "busybox echo hi: stdout differs"
cmp -s bb.orig.err bb.patched.err || fail "busybox echo hi: stderr differs (the trace must go to ZP_TRACE_FILE only)"
grep -qE '^write\(1, "hi\\n", 3\) += 3$' bb.trace || { cat bb.trace >&2; fail "busybox: no 'write(1, \"hi\\n\", 3) = 3' line in the trace"; }
grep -q '^exit_group(0) ' bb.trace || fail "busybox: no exit_group line in the trace"
note "busybox echo hi: output unchanged, write line present ($(wc -l < bb.trace) lines)"
