/*
 * net.c - system calls no rewriter saw, for --complete and --vdso
 * (tests/t-net.sh).
 *
 * Each mode makes a known number of raw system calls from code that is not
 * in any file zprewrite rewrites, and prints what it saw (the same natively
 * and rewritten); the test compares the hook's counts with these numbers
 * and with strace -c -f's:
 *   jit N          getpid N times from a `syscall` written at run time into
 *                  an anonymous RWX page, and getppid N times from one
 *                  written into an RW page then made RX (as W^X JITs do)
 *   threads N      4 threads and a fork child, each getpid N times from a
 *                  run-time page
 *   signal N       a SIGUSR1 handler making getppid from a run-time page,
 *                  raised N times
 *   dlopen LIB N   LIB's zp_net_lib_calls(N) (a library loaded from outside
 *                  the bundle that makes raw getppid calls)
 *   seccomp        a seccomp filter traps getuid with SECCOMP_RET_TRAP; the
 *                  program's own SIGSYS handler answers 4242, for a getuid
 *                  from the C library and one from a run-time page
 *   sud            the program turns Syscall User Dispatch on itself (as Wine
 *                  does): a call from a run-time page while its selector
 *                  blocks reaches its SIGSYS handler, one while it allows is
 *                  made
 *   clock N        clock_gettime N times (the vDSO's, unless hidden)
 *   special        rt_sigreturn, and vfork+_exit, from run-time pages
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>

#include "ptest.h"

/* The kernel's seccomp-bpf ABI (linux/filter.h and linux/seccomp.h, which
 * musl's compiler does not see). */
struct bpf_insn {
	unsigned short code;
	unsigned char jt, jf;
	unsigned int k;
};
struct bpf_prog {
	unsigned short len;
	struct bpf_insn *insns;
};
#define BPF_LD_NR 0x20          /* BPF_LD | BPF_W | BPF_ABS, of seccomp_data.nr (offset 0) */
#define BPF_JEQ_K 0x15          /* BPF_JMP | BPF_JEQ | BPF_K */
#define BPF_RET_K 0x06          /* BPF_RET | BPF_K */
#define RET_TRAP 0x00030000u
#define RET_ALLOW 0x7fff0000u
#define MODE_FILTER 2

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif

typedef long raw_fn(void);

/* A function `mov $nr, %eax; syscall; ret` written at run time. */
static raw_fn *runtime_call(int nr, int w_then_x)
{
	unsigned char code[] = { 0xb8, (unsigned char)nr, (unsigned char)(nr >> 8), 0, 0, 0x0f, 0x05, 0xc3 };
	int prot = w_then_x ? PROT_READ | PROT_WRITE : PROT_READ | PROT_WRITE | PROT_EXEC;
	unsigned char *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap");
	memcpy(p, code, sizeof code);
	if (w_then_x)
		CHECK(mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0, "mprotect");
	return (raw_fn *)p;
}

static void mode_jit(int n)
{
	raw_fn *pid = runtime_call(SYS_getpid, 0), *ppid = runtime_call(SYS_getppid, 1);
	long me = raw_syscall0(SYS_getpid), parent = raw_syscall0(SYS_getppid), ok = 0;
	for (int i = 0; i < n; i++)
		ok += pid() == me;
	for (int i = 0; i < n; i++)
		ok += ppid() == parent;
	say("jit: %ld of %d calls right\n", ok, 2 * n);
}

static raw_fn *thread_fn;
static int thread_n;

static void *thread_body(void *arg)
{
	(void)arg;
	long me = raw_syscall0(SYS_getpid), ok = 0;
	for (int i = 0; i < thread_n; i++)
		ok += thread_fn() == me;
	return (void *)ok;
}

static void mode_threads(int n)
{
	pthread_t t[4];
	long ok = 0;
	thread_fn = runtime_call(SYS_getpid, 0);
	thread_n = n;
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, thread_body, NULL) == 0, "pthread_create");
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok += (long)r;
	}
	pid_t c = fork();
	if (c == 0)
		_exit((long)thread_body(NULL) == n ? 0 : 1);
	int st;
	CHECK(waitpid(c, &st, 0) == c, "waitpid");
	say("threads: %ld of %d calls right, fork child %s\n", ok, 4 * n,
	    WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "right" : "WRONG");
}

static raw_fn *signal_fn;
static volatile long signal_ok;

static void usr1(int sig)
{
	(void)sig;
	signal_ok += signal_fn() == getppid();
}

static void mode_signal(int n)
{
	signal_fn = runtime_call(SYS_getppid, 0);
	signal(SIGUSR1, usr1);
	for (int i = 0; i < n; i++)
		raise(SIGUSR1);
	say("signal: %ld of %d handler calls right\n", signal_ok, n);
}

static void mode_dlopen(const char *lib, int n)
{
	void *h = dlopen(lib, RTLD_NOW);
	CHECK(h, "dlopen %s: %s", lib, dlerror());
	long (*calls)(int) = (long (*)(int))dlsym(h, "zp_net_lib_calls");
	CHECK(calls, "dlsym");
	say("dlopen: %ld of %d calls right\n", calls(n), n);
}

static void seccomp_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig;
	if (si->si_code == 1 /* SYS_SECCOMP */ && si->si_syscall == SYS_getuid)
		uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

static void mode_seccomp(void)
{
	struct bpf_insn f[] = {
		{ BPF_LD_NR, 0, 0, 0 },
		{ BPF_JEQ_K, 0, 1, SYS_getuid },
		{ BPF_RET_K, 0, 0, RET_TRAP },
		{ BPF_RET_K, 0, 0, RET_ALLOW },
	};
	struct bpf_prog prog = { sizeof f / sizeof f[0], f };
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = seccomp_handler;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGSYS, &sa, NULL) == 0, "sigaction");
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs");
	CHECK(prctl(PR_SET_SECCOMP, MODE_FILTER, &prog) == 0, "seccomp");
	raw_fn *uid = runtime_call(SYS_getuid, 0);
	say("seccomp: getuid from libc %ld, from a run-time page %ld\n", (long)getuid(), uid());
}

static volatile char app_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile long app_caught;

static void sud_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig;
	app_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (si->si_code == 2 /* SYS_USER_DISPATCH */ && si->si_syscall == SYS_getppid) {
		app_caught++;
		uc->uc_mcontext.gregs[REG_RAX] = 777;
	}
}

static void mode_sud(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sud_handler;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGSYS, &sa, NULL) == 0, "sigaction");
	raw_fn *ppid = runtime_call(SYS_getppid, 0);
	/* The whole program but the run-time page is allowed: libc's restorer
	 * and the handler's own calls are below it. */
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, (unsigned long)ppid,
		  &app_selector)) {
		say("sud: not supported here\n");
		return;
	}
	app_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	long blocked = ppid();
	long allowed = ppid();    /* the handler set the selector to allow */
	CHECK(prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0) == 0, "off");
	say("sud: blocked call answered %ld (%ld caught), allowed call %s\n", blocked, app_caught,
	    allowed == getppid() ? "made" : "WRONG");
}

static void mode_clock(int n)
{
	struct timespec ts;
	long ok = 0;
	for (int i = 0; i < n; i++)
		ok += clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec > 0;
	say("clock: %ld of %d right\n", ok, n);
}

static volatile long special_seen;

static void special_handler(int sig)
{
	(void)sig;
	special_seen++;
}

static void mode_special(void)
{
	/* A handler whose return goes through a restorer written at run time. */
	unsigned char ret[] = { 0xb8, 15, 0, 0, 0, 0x0f, 0x05 };   /* mov $15,%eax; syscall */
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap");
	memcpy(p, ret, sizeof ret);
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} ka = { (void *)special_handler, 0x04000000 /* SA_RESTORER */, p, 0 };
	CHECK(raw_syscall6(SYS_rt_sigaction, SIGUSR2, (long)&ka, 0, 8, 0, 0) == 0, "rt_sigaction");
	for (int i = 0; i < 5; i++)
		raise(SIGUSR2);
	/* vfork from a run-time page: the child exits at once. */
	unsigned char vf[] = { 0xb8, SYS_vfork, 0, 0, 0, 0x0f, 0x05, 0x85, 0xc0, 0x75, 0x0c,
			       0xbf, 9, 0, 0, 0, 0xb8, SYS_exit, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	/* mov $vfork,%eax; syscall; test %eax,%eax; jnz ret; mov $9,%edi;
	 * mov $exit,%eax; syscall; ret */
	memcpy(p + 64, vf, sizeof vf);
	long child = ((raw_fn *)(p + 64))();
	int st = 0;
	CHECK(child > 0 && waitpid((pid_t)child, &st, 0) == child, "vfork");
	say("special: %ld handler returns, vfork child status %d\n", special_seen,
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: %s MODE [ARGS]", argv[0]);
	const char *m = argv[1];
	int n = argc > 2 ? atoi(argv[argc - 1]) : 100;

	if (!strcmp(m, "jit"))
		mode_jit(n);
	else if (!strcmp(m, "threads"))
		mode_threads(n);
	else if (!strcmp(m, "signal"))
		mode_signal(n);
	else if (!strcmp(m, "dlopen") && argc > 3)
		mode_dlopen(argv[2], n);
	else if (!strcmp(m, "seccomp"))
		mode_seccomp();
	else if (!strcmp(m, "sud"))
		mode_sud();
	else if (!strcmp(m, "clock"))
		mode_clock(n);
	else if (!strcmp(m, "special"))
		mode_special();
	else
		die("unknown mode %s", m);
	return 0;
}
