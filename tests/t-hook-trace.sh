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
# 1 and 2 run in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534; strace runs once, on the original, as root).
source "$TESTS/harness.sh"

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

# Built and rewritten once; strace of the unpatched glibc program once.
flavours=(static)
command -v musl-gcc >/dev/null && flavours+=(musl)
fls=()
for fl in "${flavours[@]}"; do
	cc=gcc; [ $fl = musl ] && cc=musl-gcc
	$cc -O2 -static -o prog.$fl prog.c || fail "cannot build the test program ($cc)"
	rewrite prog.$fl prog.$fl.z --hook "$TRACE_SO" || continue
	fls+=("$fl")
done
STRACE_NORM="" STRACE_WHY_ONCE=""
if strace_ok strace.err -o strace.out ./prog.static > /dev/null; then
	check "static: strace wrote a trace" [ -s strace.out ]
	normalise strace.out > strace.norm
	STRACE_NORM=strace.norm
else
	STRACE_WHY_ONCE=$STRACE_WHY
fi

prog_checks() {
	local fl
	for fl in "${fls[@]}"; do
		rm -f trace.$fl
		run_t orig ./prog.$fl
		check "$fl: the unpatched program runs" [ "$RUN_RC" = 0 ]
		ZP_TRACE_FILE=trace.$fl run_t patched ./prog.$fl.z
		check "$fl: the patched program runs" [ "$RUN_RC" = 0 ]
		check "$fl: stdout unchanged with trace.so embedded" cmp -s orig.out patched.out
		check "$fl: a trace written to ZP_TRACE_FILE" [ -s trace.$fl ]
		last_ok || continue

		normalise trace.$fl > trace.$fl.norm
		# The program's own part: from the first openat of /nonexistent.
		sed -n '/^openat(AT_FDCWD, "\/nonexistent"/,$p' trace.$fl.norm > trace.$fl.mine
		check "$fl: the trace of the program's calls is the expected one (- expected, + trace)" \
			diff -u expected trace.$fl.mine
		# Padding: " = " starts at column 40 as in strace, for short lines.
		check "$fl: 'close(3) = 0' aligned as strace aligns it" \
			grep -qxF 'close(3)                                = 0' trace.$fl
		note "$fl: $(wc -l < trace.$fl) trace lines"

		# glibc: the whole trace, start-up included, equals strace's.
		if [ $fl = static ]; then
			if [ -n "$STRACE_NORM" ]; then
				check "$fl: the whole trace equals strace's (- strace, + hook)" diff -u "$STRACE_NORM" trace.$fl.norm
			else
				skip_check "$fl: the whole trace equals strace's" "$STRACE_WHY_ONCE"
			fi
		fi
	done
}

# ---- busybox ------------------------------------------------------------------

BB=$(command -v busybox || true)
if [ -n "$BB" ] && file -L "$BB" | grep -q 'statically linked'; then
	mkdir -p bb
	rewrite "$BB" bb/busybox --hook "$TRACE_SO" || BB=""
else
	BB="" BB_WHY="no static busybox installed"
fi
busybox_checks() {
	[ -n "$BB" ] || { [ -z "${BB_WHY:-}" ] || skip_check "busybox echo hi, traced" "$BB_WHY"; return 0; }
	rm -f bb.trace
	ZPT_EXPECT_RC=0 ZP_TRACE_FILE=$PWD/bb.trace check_same "busybox echo hi: output unchanged (the trace goes to ZP_TRACE_FILE only)" \
		"$BB" bb/busybox echo hi
	check "busybox: 'write(1, \"hi\\n\", 3) = 3' in the trace" grep -qE '^write\(1, "hi\\n", 3\) += 3$' bb.trace
	check "busybox: an exit_group line in the trace" grep -q '^exit_group(0) ' bb.trace
}

all_checks() { prog_checks; busybox_checks; }
in_paths all_checks
