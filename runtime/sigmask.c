/*
 * sigmask.c - trap path: SIGSEGV is never blocked for real.
 *
 * On the trap path every rewritten call raises SIGSEGV (segv.c).  The
 * kernel delivers a fault's SIGSEGV even when it is blocked, by resetting
 * the disposition to SIG_DFL first: the process dies.  Programs block
 * SIGSEGV all the time without meaning it (sigfillset before
 * pthread_create, posix_spawn, critical sections), and then make system
 * calls.  So on the trap path the runtime keeps SIGSEGV out of every mask it
 * hands the kernel, and keeps the application's view in the thread block
 * (zp_thread.vblocked):
 *   - rt_sigprocmask: the kernel gets the set without SIGSEGV; the old set
 *     the application reads has SIGSEGV as the thread blocked it;
 *   - the calls with a temporary mask (rt_sigsuspend, ppoll, pselect6,
 *     epoll_pwait, epoll_pwait2, io_pgetevents) get it without SIGSEGV;
 *   - handlers' sa_mask: sigaction.c;
 *   - rt_sigreturn: a frame whose saved mask has SIGSEGV (a handler changed
 *     it) gives it back virtually;
 *   - a new thread inherits its creator's view (thread.c).
 * What "blocked" still does: a fault while SIGSEGV is blocked kills the
 * process as the kernel would, and a SIGSEGV sent while it is blocked waits
 * until it is unblocked (segv.c, zp_thread.segv_pending).  What it does not:
 * the kernel's own view (/proc/PID/status SigBlk, sigpending, signalfd) has
 * no SIGSEGV, and a handler's mask while it runs is the kernel's.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <asm/unistd.h>

#include "runtime.h"
#include "sys.h"

#define SEGV ZP_SIGBIT(SIGSEGV)

uint64_t zp_sigmask_strip(uint64_t mask)
{
	return mask & ~SEGV;
}

/* At start: a SIGSEGV blocked across exec becomes virtual. */
void zp_sigmask_init(void)
{
	uint64_t cur = 0;

	if (zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, 0, (long)&cur, 8) || !(cur & SEGV))
		return;
	zp_thread_self()->vblocked |= SEGV;
	zp_sys4(__NR_rt_sigprocmask, SIG_UNBLOCK, (long)&(uint64_t){ SEGV }, 0, 8);
}

static long call_with(const struct zp_syscall *c, int i, long value)
{
	long a[6];
	for (int k = 0; k < 6; k++)
		a[k] = c->args[k];
	a[i] = value;
	return zp_sys6(c->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* A call whose argument `at` points at a temporary mask of `size` bytes. */
static long temporary_mask(const struct zp_syscall *c, int at, long size)
{
	uint64_t m;

	if (!c->args[at] || size != 8)
		return ZP_PASS;         /* no mask, or one the kernel refuses itself */
	if (zp_app_read(&m, (const void *)c->args[at], sizeof m))
		return -EFAULT;
	if (!(m & SEGV))
		return ZP_PASS;
	m &= ~SEGV;
	return call_with(c, at, (long)&m);
}

/* pselect6 and io_pgetevents: the mask comes in a {pointer, size} pair. */
static long temporary_mask_pair(const struct zp_syscall *c, int at)
{
	struct { uint64_t *set; size_t size; } pair;
	uint64_t m;

	if (!c->args[at])
		return ZP_PASS;
	if (zp_app_read(&pair, (const void *)c->args[at], sizeof pair))
		return -EFAULT;
	if (!pair.set || pair.size != 8)
		return ZP_PASS;
	if (zp_app_read(&m, pair.set, sizeof m))
		return -EFAULT;
	if (!(m & SEGV))
		return ZP_PASS;
	m &= ~SEGV;
	pair.set = &m;
	return call_with(c, at, (long)&pair);
}

static long procmask(const struct zp_syscall *c)
{
	long how = c->args[0];
	const uint64_t *set = (const void *)c->args[1];
	uint64_t *old = (void *)c->args[2], want = 0, was = 0;
	struct zp_thread *t = zp_thread_self();

	if (c->args[3] != 8)
		return ZP_PASS;
	if (set && zp_app_read(&want, set, sizeof want))
		return -EFAULT;
	uint64_t seen = t->vblocked & SEGV, stripped = want & ~SEGV;
	long r = zp_sys4(__NR_rt_sigprocmask, how, set ? (long)&stripped : 0, old ? (long)&was : 0, 8);
	if (r)
		return r;
	uint64_t now = seen;
	if (set && how == SIG_BLOCK)
		now |= want & SEGV;
	else if (set && how == SIG_UNBLOCK)
		now &= ~(want & SEGV);
	else if (set && how == SIG_SETMASK)
		now = want & SEGV;
	t->vblocked = (t->vblocked & ~SEGV) | now;
	if (old) {
		was |= seen;
		if (zp_app_write(old, &was, sizeof was))
			return -EFAULT;
	}
	if (seen && !now && t->segv_pending) {
		/* A SIGSEGV sent while it was blocked: its turn now, with the
		 * siginfo it came with (kill, sigqueue...). */
		t->segv_pending = 0;
		zp_sys4(__NR_rt_tgsigqueueinfo, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), SIGSEGV,
			(long)t->segv_info);
	}
	return 0;
}

long zp_sigmask_call(const struct zp_syscall *c)
{
	switch (c->nr) {
	case __NR_rt_sigprocmask:
		return procmask(c);
	case __NR_rt_sigsuspend:        /* (mask, size) */
		return temporary_mask(c, 0, c->args[1]);
	case __NR_ppoll:                /* (fds, n, timeout, mask, size) */
		return temporary_mask(c, 3, c->args[4]);
	case __NR_epoll_pwait:          /* (epfd, events, n, timeout, mask, size) */
	case __NR_epoll_pwait2:
		return temporary_mask(c, 4, c->args[5]);
	case __NR_pselect6:             /* (n, r, w, e, timeout, {mask, size}) */
	case __NR_io_pgetevents:        /* (ctx, min, n, events, timeout, {mask, size}) */
		return temporary_mask_pair(c, 5);
	default:
		return ZP_PASS;
	}
}

/* rt_sigreturn with the signal frame at S: a saved mask with SIGSEGV (a
 * handler put it there) blocks it virtually. */
void zp_sigmask_sigreturn(uintptr_t app_sp)
{
	uint64_t *at = (uint64_t *)(app_sp + __builtin_offsetof(struct ucontext, uc_sigmask));
	uint64_t m;

	if (zp_app_read(&m, at, sizeof m) || !(m & SEGV))
		return;
	m &= ~SEGV;
	if (!zp_app_write(at, &m, sizeof m))
		zp_thread_self()->vblocked |= SEGV;
}
