/*
 * test-count.c - drive samples/hooks/count.c with a fake clock and check its
 * strace -c table, exact counts under threads, and that only the process
 * that started with the hook prints a table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mock.h"

#define OUT "count.out"

static long fake_result;
static long fake_forward(const struct zp_syscall *call)
{
	(void)call;
	return fake_result;
}

/* Calls the hook makes itself (zp_forward) with a given duration. */
static void timed(long result, uint64_t ns, long nr)
{
	fake_result = result;
	mock_clock_step = ns;
	expect_long("forwarded result", mock_call(nr, 0, 0, 0, 0, 0, 0), result);
}

static void *thread_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10000; i++)
		mock_call(SYS_getppid, 0, 0, 0, 0, 0, 0);
	return NULL;
}

static void test_table(void)
{
	char *got;
	pid_t pid;
	int status;

	mock_forward_fn = fake_forward;
	mock_clock_fake = 1;
	timed(1234, 1000, SYS_getpid);
	timed(1234, 1000, SYS_getpid);
	timed(1234, 1000, SYS_getpid);
	timed(-EBADF, 5000, SYS_close);
	timed(-EBADF, 5000, SYS_close);
	timed(-ENOENT, 2000000, SYS_openat);
	timed(-ENOSYS, 1000, 600);
	/* Passed to the runtime, counted without time; the error comes with leave. */
	expect_long("vfork passes", mock_fake(-EAGAIN, SYS_vfork, 0, 0, 0, 0, 0, 0), -EAGAIN);
	expect_long("clone passes", mock_fake(1000, SYS_clone, 0x11, 0, 0, 0, 0, 0), 1000);
	/* Not counted: they do not return. */
	{
		struct zp_syscall c = { SYS_exit_group, { 0 }, 0 };
		expect_long("exit_group passes", zp_hook_enter(&c), ZP_PASS);
	}
	mock_forward_fn = NULL;
	mock_clock_fake = 0;

	/* A forked child does not print its copy of the counters. */
	pid = fork();
	if (pid == 0) {
		zp_hook_exit(0);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	got = take_output(OUT);
	expect_str("child prints nothing", got, "");
	free(got);

	zp_hook_exit(0);
	got = take_output(OUT);
	expect_str("table", got,
		"% time     seconds  usecs/call     calls    errors syscall\n"
		"------ ----------- ----------- --------- --------- ----------------\n"
		" 99.30    0.002000        2000         1         1 openat\n"
		"  0.50    0.000010           5         2         2 close\n"
		"  0.15    0.000003           1         3           getpid\n"
		"  0.05    0.000001           1         1         1 syscall_other\n"
		"  0.00    0.000000           0         1           clone\n"
		"  0.00    0.000000           0         1         1 vfork\n"
		"------ ----------- ----------- --------- --------- ----------------\n"
		"100.00    0.002014         223         9         5 total\n");
	free(got);
}

static void test_threads(void)
{
	pthread_t t[4];
	char *got, *line;

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_main, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	zp_hook_exit(0);
	got = take_output(OUT);
	line = strstr(got, " getppid\n");
	while (line && line > got && line[-1] != '\n')
		line--;
	if (!line || !strstr(line, "     40000           getppid\n")) {
		test_failures++;
		fprintf(stderr, "FAIL: 40000 getppid calls from 4 threads not counted exactly:\n%s", got);
	}
	free(got);
}

int main(void)
{
	unlink(OUT);
	setenv("ZP_COUNT_FILE", OUT, 1);
	if (mock_init())
		return 2;
	test_table();
	test_threads();
	if (test_failures) {
		fprintf(stderr, "test-count: %d failure(s)\n", test_failures);
		return 1;
	}
	printf("test-count: ok\n");
	return 0;
}
