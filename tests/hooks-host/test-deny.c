/*
 * test-deny.c - drive samples/hooks/deny.c: which calls are refused, what it
 * says on stderr, and what it warns about at start-up.  Each scenario runs in
 * a child process, so that it starts from the hook's initial state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mock.h"

#define ERR "stderr.out"

/* Run fn in a child with ZP_DENY set to `deny` (NULL: unset) and its
 * stderr going to ERR; returns the child's failure count. */
static int scenario(const char *deny, void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int fd = open(ERR, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		test_log_fd = dup(2);
		dup2(fd, 2);
		close(fd);
		if (deny)
			setenv("ZP_DENY", deny, 1);
		else
			unsetenv("ZP_DENY");
		if (mock_init())
			_exit(100);
		fn();
		_exit(test_failures ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static char *stderr_text(void)
{
	return take_output(ERR);
}

static void check_err(const char *what, const char *want)
{
	char *got = stderr_text();

	expect_str(what, got, want);
	free(got);
}

static void nothing_denied(void)
{
	check_err("no warnings", "");
	expect_long("socket passes", mock_fake(3, SYS_socket, 2, 1, 0, 0, 0, 0), 3);
	expect_long("getpid passes", mock_call(SYS_getpid, 0, 0, 0, 0, 0, 0), getpid());
	check_err("nothing logged", "");
}

static void some_denied(void)
{
	long kernel;

	check_err("warnings",
		  "zprewrite-deny: ZP_DENY: unknown system call \"nosuchcall\", ignored\n"
		  "zprewrite-deny: ZP_DENY: exit_group cannot be denied, ignored\n"
		  "zprewrite-deny: ZP_DENY: unknown system call \"12x\", ignored\n");
	kernel = mock_kernel_calls_nr[SYS_socket];
	expect_long("socket denied", mock_call(SYS_socket, 2, 0x80801, 0, 0, 0, 0), -EPERM);
	expect_long("socket not made", mock_kernel_calls_nr[SYS_socket], kernel);
	check_err("socket logged", "zprewrite-deny: socket(0x2, 0x80801, 0) denied\n");
	expect_long("connect denied", mock_fake(0, SYS_connect, 3, 0, 16, 0, 0, 0), -EPERM);
	check_err("connect logged", "zprewrite-deny: connect(0x3, 0, 0x10) denied\n");
	expect_long("number denied", mock_fake(0, SYS_getppid, 0, 0, 0, 0, 0, 0), -EPERM);
	check_err("getppid logged", "zprewrite-deny: getppid() denied\n");
	expect_long("getpid passes", mock_call(SYS_getpid, 0, 0, 0, 0, 0, 0), getpid());
	expect_long("bind passes", mock_fake(0, SYS_bind, 3, 0, 0, 0, 0, 0), 0);
	expect_long("exit_group passes", mock_fake(0, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	expect_long("out of range passes", mock_fake(-ENOSYS, 100000, 0, 0, 0, 0, 0, 0), -ENOSYS);
	check_err("nothing else logged", "");
}

int main(void)
{
	int failures = 0;

	unlink(ERR);
	failures += scenario(NULL, nothing_denied);
	failures += scenario("", nothing_denied);
	failures += scenario(" , ,", nothing_denied);
	failures += scenario(" socket , connect,nosuchcall,,exit_group, 110,12x", some_denied);
	if (failures) {
		fprintf(stderr, "test-deny: failures\n");
		return 1;
	}
	printf("test-deny: ok\n");
	return 0;
}
