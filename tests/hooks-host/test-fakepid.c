/*
 * test-fakepid.c - drive samples/hooks/fakepid.c through fork, a vfork-like
 * clone that shares memory, clone3 and threads: getpid must always give the
 * caller's own pid, and come from the cache (no kernel call) whenever that is
 * safe.  The mock counts the calls that reach the kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mock.h"

static long hook_getpid(void)
{
	return mock_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
}

static long real_getpid(void)
{
	return syscall(SYS_getpid);
}

/* getpid through the hook must be right, and cached (or not). */
static void expect_getpid(const char *what, int cached)
{
	long before = mock_kernel_calls, pid = hook_getpid();
	char w[128];

	snprintf(w, sizeof(w), "%s: pid", what);
	expect_long(w, pid, real_getpid());
	snprintf(w, sizeof(w), "%s: kernel calls", what);
	expect_long(w, mock_kernel_calls - before, cached ? 0 : 1);
}

/* The first call after a fork asks the kernel, the next ones do not. */
static int child_checks(void)
{
	expect_getpid("child first", 0);
	expect_getpid("child second", 1);
	expect_getpid("child third", 1);
	return test_failures;
}

static void test_fork(void)
{
	struct zp_syscall c = { SYS_fork, { 0 }, 0 };
	pid_t pid;
	int status;

	expect_getpid("after init", 1);
	expect_getpid("again", 1);

	expect_long("fork passes", zp_hook_enter(&c), ZP_PASS);
	expect_getpid("parent, fork in flight", 0);
	pid = fork();
	if (pid == 0) {
		int f = child_checks();
		struct zp_syscall c2 = { SYS_fork, { 0 }, 0 };
		pid_t gpid;

		/* The child forks in turn: same again one level down. */
		zp_hook_enter(&c2);
		gpid = fork();
		if (gpid == 0)
			_exit(child_checks() ? 1 : 0);
		zp_hook_leave(&c2, gpid);
		expect_getpid("child after its fork", 1);
		waitpid(gpid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			f++;
		_exit(f || test_failures ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	expect_long("fork child ok", WIFEXITED(status) && WEXITSTATUS(status) == 0, 1);
	zp_hook_leave(&c, pid);
	expect_getpid("parent after fork", 1);

	/* clone without CLONE_VM is a fork too (glibc's fork uses it). */
	c.nr = SYS_clone;
	c.args[0] = CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD;
	zp_hook_enter(&c);
	pid = fork();
	if (pid == 0) {
		/* A runtime that calls leave in the child too (result 0). */
		zp_hook_leave(&c, 0);
		_exit(child_checks() ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	expect_long("clone child ok", WIFEXITED(status) && WEXITSTATUS(status) == 0, 1);
	zp_hook_leave(&c, pid);
	expect_getpid("parent after clone", 1);

	/* A failed fork leaves things as they were. */
	c.nr = SYS_fork;
	zp_hook_enter(&c);
	zp_hook_leave(&c, -EAGAIN);
	expect_getpid("after failed fork", 1);
}

/* A child that shares the parent's memory, as vfork makes. */
static long vm_child_pid[3], vm_child_real;
static long vm_child_kernel;

static int vm_child(void *arg)
{
	long before = mock_kernel_calls;

	(void)arg;
	vm_child_real = real_getpid();
	vm_child_pid[0] = hook_getpid();
	vm_child_pid[1] = hook_getpid();
	vm_child_pid[2] = hook_getpid();
	vm_child_kernel = mock_kernel_calls - before;
	return 0;
}

static void test_vfork(void)
{
	static char stack[256 * 1024] __attribute__((aligned(16)));
	struct zp_syscall c = { SYS_vfork, { 0 }, 0 };
	pid_t pid;
	int status;

	expect_long("vfork passes", zp_hook_enter(&c), ZP_PASS);
	pid = clone(vm_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	if (pid < 0) {
		perror("clone");
		test_failures++;
		return;
	}
	waitpid(pid, &status, 0);
	for (int i = 0; i < 3; i++)
		expect_long("vfork child sees its own pid", vm_child_pid[i], vm_child_real);
	expect_long("vfork child asks the kernel each time", vm_child_kernel, 3);
	expect_getpid("parent, vfork still in flight", 0);
	zp_hook_leave(&c, pid);
	expect_getpid("parent after vfork", 1);

	/* posix_spawn's way: clone3 with CLONE_VM|CLONE_VFORK. */
	{
		uint64_t args[11] = { CLONE_VM | CLONE_VFORK, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0 };
		struct zp_syscall c3 = { SYS_clone3, { (long)args, sizeof(args) }, 0 };

		zp_hook_enter(&c3);
		pid = clone(vm_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
		waitpid(pid, &status, 0);
		for (int i = 0; i < 3; i++)
			expect_long("clone3 child sees its own pid", vm_child_pid[i], vm_child_real);
		zp_hook_leave(&c3, pid);
		expect_getpid("parent after clone3", 1);
	}
}

static void test_threads(void)
{
	uint64_t args[11] = { 0x3d0f00, 0, 0, 0, 0, 0x7000, 0x1000, 0, 0, 0, 0 };
	struct zp_syscall c = { SYS_clone3, { (long)args, sizeof(args) }, 0 };

	/* A new thread is the same process: the cache stays. */
	zp_hook_enter(&c);
	expect_getpid("thread creation in flight", 1);
	zp_hook_leave(&c, 12345);
	c.nr = SYS_clone;
	c.args[0] = 0x3d0f00;
	zp_hook_enter(&c);
	zp_hook_leave(&c, 12345);
	expect_getpid("after threads", 1);
}

static void test_shared_for_good(void)
{
	struct zp_syscall c = { SYS_clone, { CLONE_VM | SIGCHLD }, 0 };

	/* A child that shares memory and outlives the call: no more caching. */
	zp_hook_enter(&c);
	zp_hook_leave(&c, 12345);
	expect_getpid("after clone(CLONE_VM)", 0);
	expect_getpid("after clone(CLONE_VM), again", 0);
}

int main(void)
{
	if (mock_init())
		return 2;
	expect_long("other calls pass", mock_call(SYS_getppid, 0, 0, 0, 0, 0, 0), getppid());
	test_fork();
	test_vfork();
	test_threads();
	test_shared_for_good();
	if (test_failures) {
		fprintf(stderr, "test-fakepid: %d failure(s)\n", test_failures);
		return 1;
	}
	printf("test-fakepid: ok\n");
	return 0;
}
