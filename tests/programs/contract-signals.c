/*
 * contract-signals.c - the runtime contract for signals.
 *
 * Used by tests/t-contract-signals.sh, built with glibc -static, -static-pie
 * and musl -static and run unpatched, rewritten, and rewritten with hooks;
 * each mode prints deterministic lines and exits 0 when its checks hold, and
 * the script compares the runs.
 *
 * A rewritten program's system calls are made inside the runtime, on the
 * application's stack below its red zone, so a signal usually arrives while
 * the runtime (or the hook) is running: the kernel builds its signal frame
 * below the runtime's, the handler's own calls enter the runtime again, and
 * rt_sigreturn must get back to the runtime's `syscall` with everything
 * intact.  Modes:
 *   handler-calls  a handler that makes system calls, 2000 times in a row
 *   storm          5000 real-time signals (queued: each one is handled)
 *                  from one thread to another that is busy in system
 *                  calls, then 1000 SIGALRMs from a 50 us interval timer
 *   restart        read on an empty pipe interrupted by a signal: EINTR
 *                  without SA_RESTART, transparently restarted with it; raw
 *                  read the same; nanosleep EINTR; SIGSTOP/SIGCONT around a
 *                  nanosleep (the kernel's restart_syscall path)
 *   altstack       SA_ONSTACK handlers on an 8 KiB sigaltstack (the classic
 *                  SIGSTKSZ) with a PROT_NONE guard page below it, making
 *                  system calls, thousands of times; and the classic use:
 *                  a stack overflow in a thread caught on the alternate stack
 *   sigreturn      the handler changes the interrupted context's rax (as a
 *                  seccomp emulator does): rt_sigreturn must hand it back as
 *                  the call's result; sigsuspend
 *   siglongjmp     leaving a handler with siglongjmp, 2100 times, from signals
 *                  that interrupted a blocking read (100) or a call (2000)
 *   segv           the application's own SIGSEGV handler: a fault on a
 *                  PROT_NONE page, left with siglongjmp or repaired with
 *                  mprotect and returned from; sigaction reads back what
 *                  the program set (the runtime may keep SIGSEGV itself)
 *   segv-sent      SIGSEGV sent with kill, tgkill and sigqueue, not a fault:
 *                  dropped while ignored (a fault then still kills), the
 *                  default action (death) at the first one, a handler sees
 *                  its si_code
 *   segv-nested    sigaction(SIGSEGV) in a loop, interrupted 2000-20000 times by
 *                  a timer (20 us, or 8 times what a sigaction costs here
 *                  if more) whose handler calls sigaction(SIGSEGV) too
 *                  (the runtime answers it under a lock: a handler that
 *                  interrupts it on the same thread must not wait for it)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>

#include "ptest.h"

static volatile long handled;      /* signals seen by the handlers */
static volatile long handler_bad;  /* failed checks inside handlers */

static void set_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0, "sigaction");
}

static long gettid_raw(void) { return raw_syscall0(SYS_gettid); }
static void tgkill_raw(long tid, int sig)
{
	CHECK(raw_syscall3(SYS_tgkill, getpid(), tid, sig) == 0, "tgkill");
}

/* A handler that makes system calls: several kinds, results checked. */
static int devnull = -1;
static void calls_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_signo != sig)
		handler_bad++;
	if (raw_syscall0(SYS_getpid) != getpid())
		handler_bad++;
	if (raw_syscall0(SYS_getppid) <= 0)
		handler_bad++;
	if (write(devnull, "x", 1) != 1)
		handler_bad++;
	struct timespec ts;
	if (raw_syscall2(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts) != 0)
		handler_bad++;
	handled++;
}

static void mode_handler_calls(void)
{
	devnull = open("/dev/null", O_WRONLY);
	set_handler(SIGUSR1, calls_handler, SA_RESTART);
	long me = gettid_raw();
	for (volatile int i = 0; i < 2000; i++) {
		tgkill_raw(me, SIGUSR1);            /* delivered on the way out */
		raw_syscall0(SYS_getppid);
	}
	say("handler-calls: %ld handled, %ld bad\n", handled, handler_bad);
	CHECK(handled == 2000 && handler_bad == 0, "handler-calls");
}

/* ---- storm ------------------------------------------------------------------ */

#define STORM 5000
static volatile int storm_done;
static volatile long target_tid;

static void storm_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
	if (raw_syscall0(SYS_getppid) <= 0)
		handler_bad++;
	__atomic_fetch_add(&handled, 1, __ATOMIC_RELEASE);
}

static void *storm_target(void *arg)
{
	(void)arg;
	char buf[256];
	int zero = open("/dev/zero", O_RDONLY);
	__atomic_store_n(&target_tid, gettid_raw(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&storm_done, __ATOMIC_ACQUIRE)) {
		raw_syscall0(SYS_getppid);
		if (read(zero, buf, sizeof buf) != sizeof buf)
			handler_bad++;
		if (write(devnull, buf, 7) != 7)
			handler_bad++;
	}
	close(zero);
	return NULL;
}

static void alrm_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
	raw_syscall0(SYS_getpid);
	handled++;
}

static void mode_storm(void)
{
	devnull = open("/dev/null", O_WRONLY);
	set_handler(SIGRTMIN + 2, storm_handler, SA_RESTART);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, storm_target, NULL) == 0, "pthread_create");
	while (!__atomic_load_n(&target_tid, __ATOMIC_ACQUIRE))
		sched_yield();
	/* A real-time signal: every one sent is queued and handled (no merging),
	 * so the count is exact without waiting for each. */
	for (long i = 0; i < STORM; i++)
		while (raw_syscall3(SYS_tgkill, getpid(), target_tid, SIGRTMIN + 2) == -EAGAIN)
			sched_yield();          /* the queue is full: let it drain */
	while (__atomic_load_n(&handled, __ATOMIC_ACQUIRE) < STORM)
		sched_yield();
	storm_done = 1;
	pthread_join(t, NULL);
	say("storm: %ld queued signals to a busy thread handled, %ld bad\n", handled, handler_bad);
	CHECK(handled == STORM && handler_bad == 0, "storm");

	/* A fast interval timer on this thread, busy in system calls. */
	handled = 0;
	set_handler(SIGALRM, alrm_handler, SA_RESTART);
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
	char buf[64];
	int zero = open("/dev/zero", O_RDONLY);
	while (handled < 1000) {
		raw_syscall0(SYS_getppid);
		if (read(zero, buf, sizeof buf) != sizeof buf)
			handler_bad++;
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	say("storm: timer signals >= 1000, %ld bad\n", handler_bad);
	CHECK(handler_bad == 0, "timer storm");
}

/* ---- restart ----------------------------------------------------------------- */

static void count_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
	raw_syscall0(SYS_getpid);
	handled++;
}

/* Wait until thread tid is blocked in system call nr (per /proc). */
static void wait_blocked(long tid, long nr)
{
	char path[64], buf[128];
	snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", tid);
	for (int tries = 0; tries < 20000; tries++) {
		int fd = open(path, O_RDONLY);
		CHECK(fd >= 0, "open %s", path);
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (strtol(buf, NULL, 10) == nr) {
				/* Blocked (not just entering): give it a moment more. */
				struct timespec ts = { 0, 2 * 1000 * 1000 };
				nanosleep(&ts, NULL);
				return;
			}
		}
		struct timespec ts = { 0, 200 * 1000 };
		nanosleep(&ts, NULL);
	}
	die("thread %ld never blocked in call %ld", tid, nr);
}

struct reader { int fd; int raw; long tid; long result; int err; char c; };

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	__atomic_store_n(&r->tid, gettid_raw(), __ATOMIC_RELEASE);
	if (r->raw) {
		r->result = raw_syscall3(SYS_read, r->fd, (long)&r->c, 1);
		r->err = 0;
	} else {
		errno = 0;
		r->result = read(r->fd, &r->c, 1);
		r->err = errno;
	}
	return NULL;
}

static void interrupted_read(int restart, int raw)
{
	int p[2];
	char rb[32];
	CHECK(pipe(p) == 0, "pipe");
	set_handler(SIGUSR1, count_handler, restart ? SA_RESTART : 0);
	handled = 0;
	struct reader r = { p[0], raw, 0, 0, 0, 0 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, reader_thread, &r) == 0, "pthread_create");
	while (!__atomic_load_n(&r.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	wait_blocked(r.tid, SYS_read);
	tgkill_raw(r.tid, SIGUSR1);
	while (!handled)
		sched_yield();
	/* With SA_RESTART the read is still waiting: give it data. */
	if (restart) {
		wait_blocked(r.tid, SYS_read);
		CHECK(write(p[1], "z", 1) == 1, "write");
	}
	pthread_join(t, NULL);
	if (raw)
		say("restart: raw read, %s SA_RESTART -> %s%s%c\n", restart ? "with" : "without",
		    rawres(r.result, rb, sizeof rb), r.result == 1 ? " data " : "", r.result == 1 ? r.c : ' ');
	else
		say("restart: read, %s SA_RESTART -> %ld %s%s%c\n", restart ? "with" : "without",
		    r.result, errname(r.result < 0 ? r.err : 0), r.result == 1 ? " data " : "",
		    r.result == 1 ? r.c : ' ');
	close(p[0]);
	close(p[1]);
}

struct sleeper { long tid; int ret; int err; int rem_positive; };
static void *sleeper_thread(void *arg)
{
	struct sleeper *s = arg;
	struct timespec ts = { 5, 0 }, rem = { 0, 0 };
	__atomic_store_n(&s->tid, gettid_raw(), __ATOMIC_RELEASE);
	errno = 0;
	s->ret = nanosleep(&ts, &rem);
	s->err = errno;
	s->rem_positive = rem.tv_sec > 0 || rem.tv_nsec > 0;
	return NULL;
}

static void cont_handler(int sig, siginfo_t *si, void *uc) { (void)sig; (void)si; (void)uc; }

/* A child sleeps while its parent stops and continues it. */
static void stop_cont(int with_handler)
{
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		if (with_handler)
			set_handler(SIGCONT, cont_handler, SA_RESTART);
		/* With a handler the sleep ends at SIGCONT: make it long, so that
		 * a slow machine cannot finish it before the signals come. */
		struct timespec ts = { with_handler ? 3 : 0, with_handler ? 0 : 300 * 1000 * 1000 }, t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		errno = 0;
		int r = nanosleep(&ts, NULL);
		int e = errno;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		say("restart: nanosleep around SIGSTOP/SIGCONT (%s handler) -> %d %s, %s\n",
		    with_handler ? "with" : "no", r, errname(r ? e : 0),
		    ms >= (with_handler ? 2990 : 290) ? "full time" : "cut short");
		_exit(0);
	}
	char path[64], buf[128];
	snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
	for (int i = 0; i < 20000; i++) {   /* until the child sleeps */
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			long nr = strtol(buf, NULL, 10);
			if (nr == SYS_nanosleep || nr == SYS_clock_nanosleep)
				break;
		}
		struct timespec ts = { 0, 200 * 1000 };
		nanosleep(&ts, NULL);
	}
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	kill(pid, SIGSTOP);
	nanosleep(&ts, NULL);
	kill(pid, SIGCONT);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "stop/cont child");
}

static void mode_restart(void)
{
	interrupted_read(0, 0);
	interrupted_read(1, 0);
	interrupted_read(0, 1);
	interrupted_read(1, 1);

	/* nanosleep is never restarted after a handler: EINTR, time left. */
	set_handler(SIGUSR1, count_handler, SA_RESTART);
	handled = 0;
	struct sleeper s = { 0, 0, 0, 0 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, sleeper_thread, &s) == 0, "pthread_create");
	while (!__atomic_load_n(&s.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	long nr = SYS_nanosleep;
#ifdef __GLIBC__
	nr = SYS_clock_nanosleep;   /* glibc's nanosleep is clock_nanosleep */
#endif
	wait_blocked(s.tid, nr);
	tgkill_raw(s.tid, SIGUSR1);
	pthread_join(t, NULL);
	say("restart: nanosleep interrupted -> %d %s, time left %s\n", s.ret,
	    errname(s.ret ? s.err : 0), s.rem_positive ? "yes" : "no");

	stop_cont(0);
	stop_cont(1);
}

/* ---- altstack ----------------------------------------------------------------- */

static char *alt_lo, *alt_hi;      /* the alternate stack's usable range */
static volatile long off_stack;    /* handler runs that were not on it */

static void alt_handler(int sig, siginfo_t *si, void *uc)
{
	char here;
	(void)sig; (void)si; (void)uc;
	if (&here < alt_lo || &here >= alt_hi)
		off_stack++;
	/* System calls from the small stack, through libc and raw. */
	if (raw_syscall0(SYS_getppid) <= 0)
		handler_bad++;
	if (write(devnull, "abc", 3) != 3)
		handler_bad++;
	struct timespec ts;
	if (raw_syscall2(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts) != 0)
		handler_bad++;
	sigset_t set;
	if (sigprocmask(SIG_BLOCK, NULL, &set) != 0)
		handler_bad++;
	handled++;
}

/* size bytes of alternate stack with a PROT_NONE guard page below it. */
static void setup_altstack(size_t size)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg + size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap");
	CHECK(mprotect(m, (size_t)pg, PROT_NONE) == 0, "mprotect guard");
	stack_t ss = { .ss_sp = m + pg, .ss_size = size, .ss_flags = 0 };
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: %s", strerror(errno));
	alt_lo = m + pg;
	alt_hi = m + pg + size;
}

static sigjmp_buf overflow_jb;
static volatile char *overflow_addr;

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
	char here;
	(void)sig; (void)uc;
	if (&here < alt_lo || &here >= alt_hi)
		off_stack++;
	overflow_addr = si->si_addr;
	static const char msg[] = "caught stack overflow\n";
	if (write(devnull, msg, sizeof msg - 1) < 0)
		handler_bad++;
	raw_syscall0(SYS_getppid);
	siglongjmp(overflow_jb, 1);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static __attribute__((noinline)) long recurse(long n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

static void *overflow_thread(void *arg)
{
	(void)arg;
	setup_altstack(8192);
	set_handler(SIGSEGV, overflow_handler, SA_ONSTACK);
	if (sigsetjmp(overflow_jb, 1) == 0)
		recurse(0);
	say("altstack: stack overflow caught on the alternate stack\n");
	return NULL;
}

/* A handler on the alternate stack that raises its own signal again
 * (SA_NODEFER, as faulthandler's chain does): the nested run goes below it
 * on the same stack, natively, and must not land on the outer run's frame
 * (the signal arrives while the call that sent it is in the runtime, or in
 * a hook, on the runtime's stack). */
static volatile int nest_depth;
static char *volatile nest_inner_sp;

static void nest_handler(int sig, siginfo_t *si, void *uc)
{
	volatile unsigned long canary[32];
	char here;
	(void)si; (void)uc;
	if (&here < alt_lo || &here >= alt_hi)
		off_stack++;
	if (nest_depth) {
		nest_inner_sp = &here;
		handled++;
		return;
	}
	for (int i = 0; i < 32; i++)
		canary[i] = 0x5a5a5a5a00000000ul + (unsigned long)i;
	nest_depth = 1;
	nest_inner_sp = NULL;
	tgkill_raw(gettid_raw(), sig);            /* delivered on the way out */
	nest_depth = 0;
	for (int i = 0; i < 32; i++)
		if (canary[i] != 0x5a5a5a5a00000000ul + (unsigned long)i)
			handler_bad++;
	if (!nest_inner_sp || nest_inner_sp >= &here)
		handler_bad++;                    /* not nested below this run */
}

/* sigaltstack from a handler on the signal stack: refused while on it
 * (EPERM), but allowed with SS_AUTODISARM (the kernel disarmed it for the
 * handler and reports it disabled); the handler's return sets the saved
 * one again.  The handler interrupts a call (raise: in the runtime, or a
 * hook), so the runtime must still know where it runs. */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
static char *alt_other;

static void set_in_handler(int sig, siginfo_t *si, void *uc)
{
	stack_t cur, ss = { .ss_sp = alt_other, .ss_size = 16384 };
	(void)sig; (void)si; (void)uc;
	sigaltstack(NULL, &cur);
	int r = sigaltstack(&ss, NULL);
	say("altstack set in a handler: it had flags %#x, setting another: %s\n", (unsigned)cur.ss_flags,
	    r ? strerror(errno) : "done");
	if (raw_syscall0(SYS_getppid) <= 0)
		handler_bad++;
}

static void altstack_set_in_handler(int autodisarm)
{
	char *m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap");
	alt_other = m + 32768;
	stack_t ss = { .ss_sp = m, .ss_size = 16384, .ss_flags = autodisarm ? SS_AUTODISARM : 0 }, cur;
	if (sigaltstack(&ss, NULL) != 0) {
		say("altstack set in a handler: SS_AUTODISARM: %s\n", strerror(errno));
		return;
	}
	set_handler(SIGUSR2, set_in_handler, SA_ONSTACK);
	raise(SIGUSR2);
	sigaltstack(NULL, &cur);
	say("altstack set in a handler: after its return: %s, flags %#x\n",
	    cur.ss_sp == m ? "the first" : cur.ss_sp == alt_other ? "the other" : "another", (unsigned)cur.ss_flags);
	ss.ss_flags = SS_DISABLE;
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack disable");
}

/* 2000 queued real-time signals to the main thread, as fast as they go. */
static void *altstack_kicker(void *arg)
{
	long tid = (long)arg;
	for (int i = 0; i < 2000; i++)
		while (raw_syscall3(SYS_tgkill, getpid(), tid, SIGRTMIN + 2) == -EAGAIN)
			sched_yield();
	return NULL;
}

static void mode_altstack(void)
{
	devnull = open("/dev/null", O_WRONLY);
	setup_altstack(8192);
	set_handler(SIGUSR1, alt_handler, SA_ONSTACK | SA_RESTART);
	long me = gettid_raw();
	for (int i = 0; i < 3000; i++) {
		tgkill_raw(me, SIGUSR1);
		raw_syscall0(SYS_getppid);
	}
	say("altstack 8K: %ld handled, %ld off the stack, %ld bad\n", handled, off_stack, handler_bad);
	CHECK(handled == 3000 && off_stack == 0 && handler_bad == 0, "altstack");

	/* Signals from another thread, so that they arrive in the middle of
	 * calls (in the runtime, or the hook) as well as between them. */
	handled = 0;
	set_handler(SIGRTMIN + 2, alt_handler, SA_ONSTACK | SA_RESTART);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, altstack_kicker, (void *)gettid_raw()) == 0, "pthread_create");
	char buf[64];
	int zero = open("/dev/zero", O_RDONLY);
	while (__atomic_load_n(&handled, __ATOMIC_ACQUIRE) < 2000)
		if (read(zero, buf, sizeof buf) != sizeof buf || raw_syscall0(SYS_getppid) <= 0)
			handler_bad++;
	pthread_join(t, NULL);
	close(zero);
	say("altstack 8K: 2000 signals from a thread, %ld off the stack, %ld bad\n", off_stack, handler_bad);
	CHECK(off_stack == 0 && handler_bad == 0, "altstack from a thread");

	/* Handlers on the alternate stack nested in themselves, on 16 KiB as
	 * CPython's faulthandler sets up (two signal frames and, on the trap
	 * path, the call's: 8 KiB is too small there, docs/runtime.md). */
	handled = 0;
	setup_altstack(16384);
	set_handler(SIGUSR2, nest_handler, SA_ONSTACK | SA_NODEFER);
	for (int i = 0; i < 500; i++)
		tgkill_raw(me, SIGUSR2);
	say("altstack 16K: %ld nested handler runs, %ld off the stack, %ld bad\n", handled, off_stack, handler_bad);
	CHECK(handled == 500 && off_stack == 0 && handler_bad == 0, "altstack, nested");

	altstack_set_in_handler(0);
	altstack_set_in_handler(1);

	/* The classic use: a stack overflow in a thread, caught on its own
	 * alternate stack. */
	CHECK(pthread_create(&t, NULL, overflow_thread, NULL) == 0, "pthread_create");
	pthread_join(t, NULL);
	say("altstack: %ld handler runs off the stack, %ld bad\n", off_stack, handler_bad);
	CHECK(off_stack == 0 && handler_bad == 0, "stack overflow on the alternate stack");
}

/* ---- sigreturn ---------------------------------------------------------------- */

static void rax_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig; (void)si;
	/* The interrupted call returned 0 (kill); make it look like 777. */
	if (uc->uc_mcontext.gregs[REG_RAX] == 0)
		uc->uc_mcontext.gregs[REG_RAX] = 777;
	else
		handler_bad++;
	handled++;
}

static void usr2_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
	raw_syscall0(SYS_getppid);
	handled++;
}

static void mode_sigreturn(void)
{
	set_handler(SIGUSR1, rax_handler, 0);
	long r = raw_syscall3(SYS_tgkill, getpid(), gettid_raw(), SIGUSR1);
	say("sigreturn: tgkill returned %ld after the handler set rax\n", r);

	/* sigsuspend: the handler runs inside it, it returns EINTR, and the
	 * mask is back as before. */
	set_handler(SIGUSR2, usr2_handler, 0);
	sigset_t block, old, during, after;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);
	raise(SIGUSR2);
	handled = 0;
	sigemptyset(&during);
	errno = 0;
	int s = sigsuspend(&during);
	int e = errno;
	sigprocmask(SIG_SETMASK, NULL, &after);
	say("sigreturn: sigsuspend -> %d %s, handled %ld, USR2 still blocked %d\n", s, errname(e),
	    handled, sigismember(&after, SIGUSR2));
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK(handler_bad == 0, "sigreturn");
}

/* ---- siglongjmp ---------------------------------------------------------------- */

static sigjmp_buf jb;
static void jump_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
	raw_syscall0(SYS_getppid);
	handled++;
	siglongjmp(jb, 1);
}

struct kicker { long tid; volatile int go; volatile int quit; };
static void *kicker_thread(void *arg)
{
	struct kicker *k = arg;
	while (!k->quit) {
		if (k->go) {
			k->go = 0;
			wait_blocked(k->tid, SYS_read);
			tgkill_raw(k->tid, SIGUSR1);
		}
		sched_yield();
	}
	return NULL;
}

static void mode_siglongjmp(void)
{
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	set_handler(SIGUSR1, jump_handler, 0);
	struct kicker k = { gettid_raw(), 0, 0 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, kicker_thread, &k) == 0, "pthread_create");
	volatile int jumps = 0;          /* volatile: live across siglongjmp */
	for (volatile int i = 0; i < 100; i++) {
		if (sigsetjmp(jb, 1) == 0) {
			char c;
			k.go = 1;
			raw_syscall3(SYS_read, p[0], (long)&c, 1);   /* blocks until the signal */
			die("read returned");
		}
		jumps++;
	}
	k.quit = 1;
	pthread_join(t, NULL);
	/* Same, from a signal delivered right after a call returns. */
	for (volatile int i = 0; i < 2000; i++) {
		if (sigsetjmp(jb, 1) == 0) {
			raw_syscall3(SYS_tgkill, getpid(), gettid_raw(), SIGUSR1);
			die("no jump");
		}
		jumps++;
	}
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	say("siglongjmp: %d jumps, handled %ld, USR1 blocked after %d\n", jumps, handled,
	    sigismember(&cur, SIGUSR1));
}

/* ---- segv ------------------------------------------------------------------------ */

static char *bad_page;
static sigjmp_buf segv_jb;
static volatile int segv_code;
static volatile int segv_addr_ok;

static void segv_jump_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	segv_code = si->si_code;
	segv_addr_ok = (char *)si->si_addr == bad_page + 100;
	raw_syscall0(SYS_getppid);
	handled++;
	siglongjmp(segv_jb, 1);
}

static void segv_fix_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	segv_addr_ok = (char *)si->si_addr == bad_page + 200;
	/* Repair the page; returning re-runs the faulting instruction. */
	if (mprotect(bad_page, 4096, PROT_READ | PROT_WRITE) != 0)
		handler_bad++;
	handled++;
}

static void mode_segv(void)
{
	bad_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(bad_page != MAP_FAILED, "mmap");
	set_handler(SIGSEGV, segv_jump_handler, 0);
	volatile int caught = 0;         /* volatile: live across siglongjmp */
	for (int i = 0; i < 200; i++) {
		if (sigsetjmp(segv_jb, 1) == 0) {
			volatile char c = bad_page[100];
			(void)c;
			die("read of a PROT_NONE page did not fault");
		}
		if (segv_addr_ok)
			caught++;
	}
	say("segv: %d faults caught and left by siglongjmp, si_code %s\n", caught,
	    segv_code == SEGV_ACCERR ? "SEGV_ACCERR" : segv_code == SEGV_MAPERR ? "SEGV_MAPERR" : "other");

	/* What the program reads back is what it set (flags compared without
	 * SA_RESTORER, which libc adds itself). */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = segv_fix_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK(sigaction(SIGSEGV, &sa, &old) == 0, "sigaction");
	int prev_ok = old.sa_sigaction == segv_jump_handler;
	CHECK(sigaction(SIGSEGV, NULL, &old) == 0, "sigaction query");
	say("segv: sigaction reads back: previous handler %s, handler %s, flags %s, mask %s\n",
	    prev_ok ? "ok" : "WRONG", old.sa_sigaction == segv_fix_handler ? "ok" : "WRONG",
	    (old.sa_flags & ~0x04000000) == (SA_SIGINFO | SA_NODEFER) ? "ok" : "WRONG",
	    sigismember(&old.sa_mask, SIGUSR2) && !sigismember(&old.sa_mask, SIGUSR1) ? "ok" : "WRONG");
	handled = 0;
	((volatile char *)bad_page)[200] = 'w';
	say("segv: write fault repaired by the handler: handled %ld, addr ok %d, value %c\n",
	    handled, (int)segv_addr_ok, bad_page[200]);
	CHECK(handler_bad == 0, "segv");
}

/* ---- segv-sent ------------------------------------------------------------------ */

/* Send SIGSEGV to this process or thread: 0 kill, 1 tgkill, 2 sigqueue. */
static void send_segv(int how)
{
	union sigval v = { .sival_int = how };
	if (how == 0)
		CHECK(kill(getpid(), SIGSEGV) == 0, "kill");
	else if (how == 1)
		tgkill_raw(gettid_raw(), SIGSEGV);
	else
		CHECK(sigqueue(getpid(), SIGSEGV, v) == 0, "sigqueue");
}

static const char *const send_name[] = { "kill", "tgkill", "sigqueue" };

static const char *child_end(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSEGV ? "killed by SIGSEGV" : "killed by another signal";
	return WEXITSTATUS(st) == 0 ? "exited 0" : "exited with an error";
}

static volatile int sent_code;

static void sent_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	sent_code = si->si_code;
	handled++;
}

static void mode_segv_sent(void)
{
	signal(SIGSEGV, SIG_IGN);
	for (int i = 0; i < 9; i++)
		send_segv(i % 3);
	say("segv-sent: ignored, 9 sent (kill, tgkill, sigqueue): still here\n");
	char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED, "mmap");
	pid_t pid = fork();
	if (pid == 0) {
		*(volatile char *)page = 1;
		_exit(0);
	}
	CHECK(pid > 0, "fork");
	say("segv-sent: ignored, then a fault: %s\n", child_end(pid));

	for (int how = 0; how < 3; how++) {
		pid = fork();
		if (pid == 0) {
			signal(SIGSEGV, SIG_DFL);
			send_segv(how);
			say("segv-sent: default, %s: survived\n", send_name[how]);
			_exit(0);
		}
		CHECK(pid > 0, "fork");
		say("segv-sent: default, %s: %s\n", send_name[how], child_end(pid));
	}

	set_handler(SIGSEGV, sent_handler, 0);
	for (int how = 0; how < 3; how++) {
		send_segv(how);
		say("segv-sent: handled, %s: si_code %s\n", send_name[how],
		    sent_code == SI_USER ? "SI_USER" : sent_code == SI_TKILL ? "SI_TKILL" :
		    sent_code == SI_QUEUE ? "SI_QUEUE" : "other");
	}
	CHECK(handled == 3, "segv-sent: %ld handled", handled);
}

/* ---- segv-nested --------------------------------------------------------------- */

static void nested_handler(int sig, siginfo_t *si, void *uc)
{
	struct sigaction cur;
	(void)sig; (void)si; (void)uc;
	if (sigaction(SIGSEGV, NULL, &cur) != 0 || cur.sa_sigaction != segv_jump_handler)
		handler_bad++;
	handled++;
}

/* What one sigaction(SIGSEGV) costs here, in us: the fastest of 10 batches of
 * 20 calls.  The machine's load (a batch the scheduler interrupted) must not
 * stretch the timer's period: the run lasts 20000 periods with the loop busy
 * all along, and a period calibrated in a busy moment made it last minutes. */
static long sigaction_cost_us(const struct sigaction *sa)
{
	long best = -1;
	for (int b = 0; b < 10; b++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 20; i++)
			CHECK(sigaction(SIGSEGV, sa, NULL) == 0, "sigaction");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ns = ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec)) / 20;
		if (best < 0 || ns < best)
			best = ns;
	}
	return best / 1000;
}

static void mode_segv_nested(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = segv_jump_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
	set_handler(SIGALRM, nested_handler, SA_RESTART);
	/* A timer's signals interrupt the loop anywhere, also in the runtime:
	 * every 20 us, or a few times what a call costs here (a trap-path
	 * call costs a fault, microseconds on a loaded machine: a timer faster
	 * than the handler would leave the loop no time to run at all). */
	long cost_us = sigaction_cost_us(&sa);
	long every = cost_us * 8 > 20 ? cost_us * 8 : 20;
	/* As many interruptions as about 2 s allow, between 2000 and 20000
	 * (a loaded machine makes every call slow). */
	long want = 2000000 / every;
	want = want < 2000 ? 2000 : want > 20000 ? 20000 : want;
	struct itimerval it = { { 0, every }, { 0, every } }, off = { { 0, 0 }, { 0, 0 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
	for (long n = 0; n < want || handled < want; n++)
		CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
	CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0, "setitimer");
	say("segv-nested: sigaction(SIGSEGV) in a loop, thousands of handlers making it too: %s\n",
	    handler_bad == 0 ? "ok" : "WRONG");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: %s MODE", argv[0]);
	const char *m = argv[1];
	if (!devnull || devnull < 0)
		devnull = open("/dev/null", O_WRONLY);
	if (!strcmp(m, "handler-calls"))
		mode_handler_calls();
	else if (!strcmp(m, "storm"))
		mode_storm();
	else if (!strcmp(m, "restart"))
		mode_restart();
	else if (!strcmp(m, "altstack"))
		mode_altstack();
	else if (!strcmp(m, "sigreturn"))
		mode_sigreturn();
	else if (!strcmp(m, "siglongjmp"))
		mode_siglongjmp();
	else if (!strcmp(m, "segv"))
		mode_segv();
	else if (!strcmp(m, "segv-sent"))
		mode_segv_sent();
	else if (!strcmp(m, "segv-nested"))
		mode_segv_nested();
	else
		die("unknown mode %s", m);
	say("%s: done\n", m);
	return 0;
}
