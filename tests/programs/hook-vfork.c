/*
 * hook-vfork.c - a program that opens its own files, then runs children that
 * share its memory (posix_spawn, vfork + exec, a CPython-style subprocess
 * child that closes every descriptor from 3 up) and a fork child, and then
 * checks that its own descriptors still work.
 *
 * Used by tests/t-hook-vfork.sh, which runs it unpatched and rewritten with
 * every sample hook.  A hook runs inside the children too; if one of them
 * changed the hook's memory, which a vfork child shares with its parent (say
 * it recorded a new number for the hook's log descriptor after the child's
 * close_range), the parent's hook could take the program's fd 3 for its own:
 * then the program's close(3) fails and the hook writes into its file.  The
 * program checks both, and prints only deterministic lines (ptest.h).
 *
 * The children also make a few calls the test script counts in the hooks'
 * output: each vfork child makes one sched_yield (as does the parent: deny
 * refuses it, count must show only the parent's), opens /dev/null (so do the
 * posix_spawn child's file actions; the parent never opens it) and takes the
 * numbers 500 and 1000 with dup2, where the sample hooks keep their logs.
 */
#define _GNU_SOURCE
#include "ptest.h"
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

/* Written by vfork children, which share this memory. */
static volatile long child_getpid;

static char *true_argv[] = { "true", NULL };

static int wait_status(pid_t pid)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid, "waitpid: %s", errname(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void put(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));

	CHECK(n == (ssize_t)strlen(s), "write to own fd %d: %s", fd, n < 0 ? errname(errno) : "short");
}

static void close_range_raw(unsigned int first, unsigned int last)
{
	raw_syscall3(SYS_close_range, first, last, 0);
}

static void spawn_child(void)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int e;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addclose(&fa, 3);
	posix_spawn_file_actions_addclose(&fa, 4);
	e = posix_spawn(&pid, "/bin/true", &fa, NULL, true_argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	CHECK(e == 0, "posix_spawn: %s", errname(e));
	say("posix_spawn /bin/true: exit %d\n", wait_status(pid));
}

/* vfork, take fds 0, 500 and 1000 in the child, exec path. */
static void vfork_child(const char *path)
{
	pid_t pid;

	child_getpid = 0;
	pid = vfork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);

		dup2(fd, 0);
		dup2(fd, 500);
		dup2(fd, 1000);
		close(fd);
		raw_syscall0(SYS_sched_yield);
		child_getpid = raw_syscall0(SYS_getpid);
		execve(path, true_argv, environ);
		_exit(127);
	}
	CHECK(pid > 0, "vfork: %s", errname(errno));
	say("vfork + exec %s: exit %d, child's getpid %s\n", path, wait_status(pid),
	    child_getpid == pid ? "right" : "wrong");
}

/* Like CPython's _posixsubprocess: vfork, close every descriptor from 3 up
 * but the error pipe (whose number is above the program's own), exec; the
 * child reports a failed exec through the pipe.  Without the pipe, with one
 * close_range(3, ~0U). */
static void subprocess_child(int errpipe)
{
	int p[2] = { -1, -1 }, err = 0;
	pid_t pid;

	if (errpipe)
		CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe2: %s", errname(errno));
	pid = vfork();
	if (pid == 0) {
		if (errpipe) {
			close_range_raw(3, (unsigned int)p[1] - 1);
			close_range_raw((unsigned int)p[1] + 1, ~0U);
		} else {
			close_range_raw(3, ~0U);
		}
		execve("/bin/true", true_argv, environ);
		err = errno;
		if (errpipe && write(p[1], &err, sizeof err) < 0)
			_exit(126);
		_exit(127);
	}
	CHECK(pid > 0, "vfork: %s", errname(errno));
	if (errpipe) {
		close(p[1]);
		CHECK(read(p[0], &err, sizeof err) == 0, "the child could not exec: %s", errname(err));
		close(p[0]);
	}
	say("subprocess-style child (%s): exit %d\n",
	    errpipe ? "close_range around an error pipe" : "close_range(3, ~0U)", wait_status(pid));
}

/* A fork child closes every descriptor from 3 up, then goes on talking. */
static void fork_child(void)
{
	long parent = raw_syscall0(SYS_getpid);
	pid_t pid = fork();

	if (pid == 0) {
		close_range_raw(3, ~0U);
		CHECK(raw_syscall0(SYS_getpid) != parent, "the fork child's getpid is its parent's");
		say("fork child: still talking after close_range(3, ~0U)\n");
		_exit(0);
	}
	CHECK(pid > 0, "fork: %s", errname(errno));
	say("fork child: exit %d\n", wait_status(pid));
}

static void expect_contents(const char *path, const char *want)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	CHECK(fd >= 0, "open %s: %s", path, errname(errno));
	n = read(fd, buf, sizeof buf - 1);
	CHECK(n >= 0, "read %s: %s", path, errname(errno));
	buf[n] = '\0';
	close(fd);
	CHECK(!strcmp(buf, want), "%s holds \"%s\", expected \"%s\"", path, buf, want);
	say("%s: right\n", path);
}

int main(void)
{
	int a = open("hook-vfork-a.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int b = open("hook-vfork-b.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CHECK(a >= 0 && b >= 0, "open: %s", errname(errno));
	say("own files: fds %d and %d\n", a, b);
	put(a, "a0\n");
	put(b, "b0\n");
	raw_syscall0(SYS_sched_yield);

	subprocess_child(1);
	subprocess_child(0);
	spawn_child();
	vfork_child("/bin/true");
	vfork_child("/nonexistent/program");
	fork_child();

	put(a, "a1\n");
	put(b, "b1\n");
	/* The program takes a number a hook may be using (hookutil.h's). */
	CHECK(dup2(a, 1000) == 1000, "dup2(%d, 1000): %s", a, errname(errno));
	put(1000, "a2\n");
	CHECK(close(1000) == 0, "close(1000): %s", errname(errno));
	CHECK(close(a) == 0, "close(%d) of an own file: %s", a, errname(errno));
	CHECK(close(b) == 0, "close(%d) of an own file: %s", b, errname(errno));
	say("own fds: written and closed\n");
	expect_contents("hook-vfork-a.txt", "a0\na1\na2\n");
	expect_contents("hook-vfork-b.txt", "b0\nb1\n");
	return 0;
}
