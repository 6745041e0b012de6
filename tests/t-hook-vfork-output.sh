#!/usr/bin/env bash
# t-hook-vfork-output.sh - the trace and count sample hooks keep their output
# descriptor right across a vfork child that closes or takes descriptors.
#
# A vfork child runs the hook in its parent's memory with a descriptor table
# of its own.  CPython's subprocess does exactly this: its vfork child closes
# every descriptor above the ones it keeps (close_range(9, ~0)), which
# covers the hooks' output descriptor (>= 1000).  The hooks move their
# descriptor out of the way of such calls; done from the vfork child, the
# move changed the parent's variable too, which then named one of the
# parent's own descriptors: the parent's close of that one was refused with
# EBADF (test_subprocess failed on every Popen under the count hook), or the
# trace went into the parent's file.
#
# The program here (static glibc) opens a file (3) and six pipe ends
# (4..9), vforks; the child dup2s onto 0 and 2, closes 3..7 and 9..~0 with
# close_range and execs /bin/true.  The parent then checks that its file is
# still empty and closes 3..9: every close must succeed.  Rewritten with
# count.so and trace.so, writing to a file and to stderr:
#  - the program's own checks pass (exit status 0, "closed 7");
#  - trace: the child's calls are in the trace (the close_range line, with
#    the child's pid), and so are the parent's closes after the vfork;
#  - count: the table lands in its file (or on stderr), with no error
#    counted for close.
source "$TESTS/lib.sh"
need_page0

cat > vfork.c <<'EOF'
/* A file on 3, pipes on 4..9, a vfork child that closes ranges over them;
 * then the parent checks that nothing was written to its file and closes
 * everything.  Exit 0 if all went well. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int main(void)
{
	int p[3][2], bad = 0, closed = 0, status;
	struct stat st;
	pid_t pid;

	if (open("data", O_WRONLY | O_CREAT | O_TRUNC, 0644) != 3)
		return 2;
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], 0) != 0)
			return 2;
	pid = vfork();
	if (pid == 0) {
		char *argv[] = { "true", NULL };
		dup2(p[0][0], 0);
		dup2(p[1][1], 2);
		syscall(SYS_close_range, 3, 7, 0);
		syscall(SYS_close_range, 9, ~0U, 0);
		execv("/bin/true", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
		return 3;
	if (fstat(3, &st) != 0 || st.st_size != 0) {
		printf("%lld bytes in the program's file\n", (long long)st.st_size);
		bad++;
	}
	for (int fd = 3; fd <= 9; fd++) {
		if (close(fd) == 0) {
			closed++;
		} else {
			perror("close");
			bad++;
		}
	}
	printf("closed %d\n", closed);
	return bad != 0;
}
EOF
gcc -O2 -static -o vfork vfork.c || fail "cannot build the test program"

# run HOOK VAR [FILE]: rewritten with HOOK, output to FILE (or stderr);
# the program must succeed.
run() {
	local hook=$1 var=$2 file=${3:-} out
	rewrite vfork vfork.$hook --hook "$BUILD/samples/$hook.so"
	if [ -n "$file" ]; then
		rm -f "$file"
		out=$(env "$var=$PWD/$file" ./vfork.$hook 2>"$hook.err") || true
	else
		out=$(env -u "$var" ./vfork.$hook 2>"$hook.err") || true
	fi
	[ "$out" = "closed 7" ] || { cat "$hook.err" >&2; fail "$hook (${file:-stderr}): the program said '$out'"; }
}

# parent_closes OUT: the parent's successful closes of 3..9 are in trace OUT.
parent_closes() {
	local n
	n=$(grep -cE '^(\[pid +[0-9]+\] )?close\([3-9]\) += 0$' "$1" || true)
	[ "$n" = 7 ] || { cat "$1" >&2; fail "trace: $n of the parent's 7 closes traced as successful"; }
}

run trace ZP_TRACE_FILE trace.file
grep -qE '^\[pid +[0-9]+\] close_range\(9, ' trace.file || { cat trace.file >&2; fail "trace: no line for the child's close_range"; }
parent_closes trace.file
note "trace to a file: the child's lines and the parent's closes are there"

run trace ZP_TRACE_FILE
parent_closes trace.err
note "trace to stderr: the parent's closes are there"

run count ZP_COUNT_FILE count.file
awk '$NF == "close" && NF == 6 { exit 1 }' count.file || { cat count.file >&2; fail "count: errors counted for close"; }
grep -qE ' close$' count.file || { cat count.file >&2; fail "count: no close row in the table"; }
note "count to a file: a table, no close failed"

run count ZP_COUNT_FILE
grep -qE ' close$' count.err || { cat count.err >&2; fail "count to stderr: no close row"; }
note "count to stderr: a table, the program's closes all succeeded"
