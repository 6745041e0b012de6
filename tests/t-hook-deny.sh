#!/usr/bin/env bash
# t-hook-deny.sh - the deny sample hook (samples/hooks/deny.c), embedded with
# `zprewrite --hook`, refuses exactly the calls ZP_DENY names.
#
# A static program (built here; glibc, and musl if installed) calls
# socket(AF_INET, SOCK_STREAM) and connect() through libc and prints their
# errno, then writes a file, reads it back and prints what it read.
#   - ZP_DENY=socket,connect: socket fails with EPERM (connect then gets
#     EPERM as well: denied before the kernel could say EBADF), the file part
#     works, and stderr holds exactly one "zprewrite-deny: socket(...) denied"
#     and one "zprewrite-deny: connect(...) denied" line;
#   - ZP_DENY unset, or empty: nothing denied, output and stderr identical to
#     the unpatched program's;
#   - ZP_DENY=open,openat: the file part fails with EPERM, socket works (the list
#     is really read, not hard-wired).
#
# How it fails: a runtime that ignores the hook's answer (socket succeeds),
# makes the call anyway, or garbles other calls (the file part), or a hook
# that denies too much or logs nothing.
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534).
source "$TESTS/harness.sh"

DENY_SO=$BUILD/samples/deny.so
[ -f "$DENY_SO" ] || fail "missing $DENY_SO (run make)"

cat > prog.c <<'EOF'
/* socket, connect, then a file written and read back, for t-hook-deny.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static const char *ename(int e)
{
	return e == EPERM ? "EPERM" : e == EBADF ? "EBADF" : e == ECONNREFUSED ?
		"ECONNREFUSED" : e == 0 ? "0" : "other";
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	char buf[64] = "";
	int fd, r, e;
	ssize_t n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	errno = 0;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	printf("socket: %s errno=%s\n", fd >= 0 ? "ok" : "failed", ename(errno));
	errno = 0;
	r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	e = errno;
	printf("connect: %d errno=%s\n", r, r ? ename(e) : "0");
	if (fd >= 0)
		close(fd);

	fd = open("data.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open for writing: errno=%s\n", ename(errno));
		return 3;
	}
	if (write(fd, "written and read back\n", 22) != 22 || close(fd))
		return 4;
	fd = open("data.txt", O_RDONLY);
	if (fd < 0)
		return 5;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("read %zd: %s", n, buf);
	return 0;
}
EOF

# Built and rewritten once.
flavours=(static)
command -v musl-gcc >/dev/null && flavours+=(musl)
fls=()
for fl in "${flavours[@]}"; do
	cc=gcc; [ $fl = musl ] && cc=musl-gcc
	$cc -O2 -static -o prog.$fl prog.c || fail "cannot build the test program ($cc)"
	rewrite prog.$fl prog.$fl.z --hook "$DENY_SO" || continue
	fls+=("$fl")
done

deny_checks() {
	local fl v
	for fl in "${fls[@]}"; do
		run_t orig ./prog.$fl
		check "$fl: the unpatched program runs" [ "$RUN_RC" = 0 ]
		check "$fl: socket works unpatched" grep -q '^socket: ok errno=0$' orig.out

		# ZP_DENY=socket,connect
		rm -f data.txt
		ZP_DENY=socket,connect run_t deny ./prog.$fl.z
		check "$fl: ZP_DENY=socket,connect: the program runs" [ "$RUN_RC" = 0 ]
		printf '%s\n' 'socket: failed errno=EPERM' 'connect: -1 errno=EPERM' \
			'read 22: written and read back' > deny.expected
		check "$fl: ZP_DENY=socket,connect: both fail with EPERM, file I/O works (- expected, + got)" \
			diff -u deny.expected deny.out
		check "$fl: ZP_DENY=socket,connect: the file was written" grep -qx 'written and read back' data.txt
		check "$fl: ZP_DENY=socket,connect: 2 lines on stderr, one per denial" [ "$(wc -l < deny.err)" = 2 ]
		check "$fl: ZP_DENY=socket,connect: the socket call's denial is logged" \
			grep -qE '^zprewrite-deny: socket\(0x2, 0x1, 0\) denied$' deny.err
		check "$fl: ZP_DENY=socket,connect: the connect call's denial is logged" \
			grep -qE '^zprewrite-deny: connect\(0x(ffffffff)?ffffffff, 0x[0-9a-f]+, 0x10\) denied$' deny.err
		last_ok || zph_diag "$(cat deny.err)"

		# Unset, then empty: nothing denied, exactly the unpatched behaviour.
		for v in unset empty; do
			rm -f data.txt
			if [ $v = unset ]; then
				run_t $v env -u ZP_DENY ./prog.$fl.z
			else
				ZP_DENY='' run_t $v ./prog.$fl.z
			fi
			check "$fl: ZP_DENY $v: the program runs" [ "$RUN_RC" = 0 ]
			check "$fl: ZP_DENY $v: output as the unpatched program's" diff orig.out $v.out
			check "$fl: ZP_DENY $v: stderr as the unpatched program's" diff orig.err $v.err
		done

		# Another list (musl opens with open, glibc with openat): open denied, socket allowed.
		rm -f data.txt
		ZP_DENY=open,openat run_t open ./prog.$fl.z
		check "$fl: ZP_DENY=open,openat: exit status 3 (open refused)" [ "$RUN_RC" = 3 ]
		check "$fl: ZP_DENY=open,openat: socket allowed" grep -qx 'socket: ok errno=0' open.out
		check "$fl: ZP_DENY=open,openat: open fails with EPERM" grep -qx 'open for writing: errno=EPERM' open.out
		check "$fl: ZP_DENY=open,openat: the denial is logged" grep -q '^zprewrite-deny: open\(at\)\?(' open.err
		check "$fl: ZP_DENY=open,openat: the file was not created (the call did not reach the kernel)" [ ! -e data.txt ]
	done
}
in_paths deny_checks
