/*
 * hostcheck.c - the probes behind `zprewrite --check-host` (see hostcheck.h).
 *
 * Each probe that maps memory, faults or changes how the process makes
 * system calls runs in a forked child that reports through its exit status;
 * the parent waits for it with a deadline and kills it past that, so a
 * probe that hangs or crashes becomes an "unknown" answer, never a hung or
 * crashed zprewrite.  The children end with _exit and touch no stdio, so
 * nothing buffered is written twice.
 */
#define _GNU_SOURCE   /* pkey_alloc, MAP_FIXED_NOREPLACE */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "hostcheck.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#endif

#define PAGE 4096
#define PROBE_SECONDS 5

/* A child's exit status: 0 is "yes", 1..PROBE_MAX_ERRNO the errno of the
 * refused call, and these. */
#define PROBE_MAX_ERRNO 240
#define PROBE_FAULTED   250   /* the read faulted (SIGSEGV handler) */
#define PROBE_READ_OK   251   /* the read succeeded */
#define PROBE_ELSEWHERE 252   /* the mapping landed elsewhere */
#define PROBE_OTHER     253   /* an errno above PROBE_MAX_ERRNO */

static int err_status(int e)
{
	return e > 0 && e <= PROBE_MAX_ERRNO ? e : PROBE_OTHER;
}

/* Child: map page 0 the way runtime/trampoline.c does. */
static int child_page0(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return err_status(errno);
	munmap(p, PAGE);
	/* Kernels before 4.17 take MAP_FIXED_NOREPLACE as a mere hint. */
	return p ? PROBE_ELSEWHERE : 0;
}

static void on_segv(int sig)
{
	(void)sig;
	_exit(PROBE_FAULTED);
}

/* Child: does reading a PROT_EXEC page fault?  (It does when the kernel can
 * give the page a protection key that forbids data access.) */
static int child_exec_only(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_segv;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) < 0)
		return err_status(errno);
	unsigned char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return err_status(errno);
	p[0] = 0xc3;
	if (mprotect(p, PAGE, PROT_EXEC) < 0)
		return err_status(errno);
	unsigned v;
	/* A plain load the compiler (and a sanitizer) cannot look at. */
	__asm__ volatile("movzbl (%1), %0" : "=r"(v) : "r"(p) : "memory");
	(void)v;
	return PROBE_READ_OK;
}

static int child_pkeys(void)
{
	int k = pkey_alloc(0, 0);
	if (k < 0)
		return err_status(errno);
	pkey_free(k);
	return 0;
}

/* Child: switch Syscall User Dispatch on with a selector that lets every
 * call through, then off again. */
static int child_sud(void)
{
	static volatile char selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &selector) < 0)
		return err_status(errno);
	prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Wait for pid until the deadline, then kill it: 0 and its wait status, or
 * -1 if it had to be killed or cannot be waited for. */
static int wait_deadline(pid_t pid, int *status)
{
	double end = now() + PROBE_SECONDS + 1;
	const struct timespec tick = { 0, 2 * 1000 * 1000 };

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now() > end) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		nanosleep(&tick, NULL);
	}
}

/* Run child() in a child process and decode its exit status into pr; the
 * raw status (or -1) is returned for the probes that read more from it. */
static int run_probe(int (*child)(void), struct zp_probe *pr)
{
	int status;

	memset(pr, 0, sizeof *pr);
	pr->answer = -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(pr->how, sizeof pr->how, "fork failed: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		const struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		alarm(PROBE_SECONDS);
		_exit(child());
	}
	if (wait_deadline(pid, &status) < 0) {
		snprintf(pr->how, sizeof pr->how, "the probe did not end within %d s", PROBE_SECONDS);
		return -1;
	}
	if (WIFSIGNALED(status)) {
		snprintf(pr->how, sizeof pr->how, "the probe was killed by %s", strsignal(WTERMSIG(status)));
		return status;
	}
	int code = WEXITSTATUS(status);
	if (code == 0) {
		pr->answer = 1;
	} else if (code <= PROBE_MAX_ERRNO) {
		pr->answer = 0;
		pr->err = code;
	} else if (code == PROBE_ELSEWHERE) {
		pr->answer = 0;
		pr->elsewhere = 1;
	} else if (code != PROBE_FAULTED && code != PROBE_READ_OK) {
		snprintf(pr->how, sizeof pr->how, "the probe ended with status %d", code);
	}
	return status;
}

static void probe_exec_only(struct zp_probe *pr)
{
	int status = run_probe(child_exec_only, pr);

	if (status < 0)
		return;
	if (pr->answer == 0) {   /* (an errno: the page could not be set up) */
		snprintf(pr->how, sizeof pr->how, "the probe could not set up its page: %s",
			 strerror(pr->err));
		pr->answer = -1;
		return;
	}
	/* Only here does a fault mean "yes". */
	if ((WIFEXITED(status) && WEXITSTATUS(status) == PROBE_FAULTED) ||
	    (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)) {
		pr->answer = 1;
		pr->how[0] = 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == PROBE_READ_OK) {
		pr->answer = 0;
	}
}

static int has_cap_sys_rawio(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	return (data[CAP_TO_INDEX(CAP_SYS_RAWIO)].effective & CAP_TO_MASK(CAP_SYS_RAWIO)) != 0;
}

static void read_min_addr(struct zp_host *h)
{
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");

	h->mmap_min_addr = -1;
	if (!f) {
		h->min_addr_err = errno;
		return;
	}
	if (fscanf(f, "%lld", &h->mmap_min_addr) != 1) {
		h->mmap_min_addr = -1;
		h->min_addr_err = EINVAL;
	}
	fclose(f);
}

void zp_host_probe(struct zp_host *h)
{
	struct utsname u;

	memset(h, 0, sizeof *h);
	/* A SIGCHLD ignored by whoever started us would leave nothing to wait for. */
	signal(SIGCHLD, SIG_DFL);
	if (uname(&u) == 0)
		snprintf(h->kernel, sizeof h->kernel, "%s", u.release);
	read_min_addr(h);
	h->cap_sys_rawio = has_cap_sys_rawio();
	run_probe(child_page0, &h->page0);
	probe_exec_only(&h->exec_only);
	run_probe(child_pkeys, &h->pkeys);
	run_probe(child_sud, &h->sud);
}
