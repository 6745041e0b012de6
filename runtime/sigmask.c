/*
 * sigmask.c - the signals the kernel must never block.
 *
 * On the trap path every rewritten call raises SIGSEGV (segv.c); with
 * --complete, every call of code no rewriter saw raises SIGSYS (net.c).  The
 * kernel delivers such a synchronous signal even when it is blocked, by
 * resetting the disposition to SIG_DFL first: the process dies.  Programs
 * block these signals all the time without meaning it (sigfillset before
 * pthread_create, posix_spawn, critical sections), and then make system
 * calls.  So the runtime keeps them (zp_unblockable) out of every mask it
 * hands the kernel, and keeps the application's view in the thread block
 * (zp_thread.vblocked):
 *   - rt_sigprocmask: the kernel gets the set without them; the old set
 *     the application reads has them as the thread blocked them;
 *   - the calls with a temporary mask (rt_sigsuspend, ppoll, pselect6,
 *     epoll_pwait, epoll_pwait2, io_pgetevents) get it without them;
 *   - handlers' sa_mask: sigaction.c;
 *   - rt_sigreturn: a frame whose saved mask has them (a handler changed it)
 *     gives them back virtually;
 *   - a new thread inherits its creator's view (thread.c).
 * What "blocked" still does: a fault while SIGSEGV is blocked kills the
 * process as the kernel would, and one of them sent while it is blocked
 * waits until it is unblocked (segv.c, zp_thread.sent_pending).  What it
 * does not: the kernel's own view (/proc/PID/status SigBlk, sigpending,
 * signalfd) lacks them, and a handler's mask while it runs is the kernel's.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <asm/unistd.h>

#include "runtime.h"
#include "sys.h"

uint64_t zp_unblockable;
#define KEPT zp_unblockable

uint64_t zp_sigmask_strip(uint64_t mask)
{
	return mask & ~zp_unblockable;
}

/* At start (once zp_unblockable is set): what was blocked across exec
 * becomes virtual. */
void zp_sigmask_init(void)
{
	uint64_t cur = 0;

	if (!zp_unblockable || zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, 0, (long)&cur, 8) ||
	    !(cur & zp_unblockable))
		return;
	zp_thread_self()->vblocked |= cur & zp_unblockable;
	zp_sys4(__NR_rt_sigprocmask, SIG_UNBLOCK, (long)&zp_unblockable, 0, 8);
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
	if (!(m & KEPT))
		return ZP_PASS;
	m &= ~KEPT;
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
	if (!(m & KEPT))
		return ZP_PASS;
	m &= ~KEPT;
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
	uint64_t seen = t->vblocked & KEPT, stripped = want & ~KEPT;
	long r = zp_sys4(__NR_rt_sigprocmask, how, set ? (long)&stripped : 0, old ? (long)&was : 0, 8);
	if (r)
		return r;
	uint64_t now = seen;
	if (set && how == SIG_BLOCK)
		now |= want & KEPT;
	else if (set && how == SIG_UNBLOCK)
		now &= ~(want & KEPT);
	else if (set && how == SIG_SETMASK)
		now = want & KEPT;
	t->vblocked = (t->vblocked & ~KEPT) | now;
	if (old) {
		was |= seen;
		if (zp_app_write(old, &was, sizeof was))
			return -EFAULT;
	}
	int pending = t->sent_pending;
	if (pending && !(now & ZP_SIGBIT(pending))) {
		/* One sent while it was blocked: its turn now, with the siginfo
		 * it came with (kill, sigqueue...). */
		t->sent_pending = 0;
		zp_sys4(__NR_rt_tgsigqueueinfo, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), pending,
			(long)t->sent_info);
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
	uint64_t m, m0;

	if (zp_app_read(&m, at, sizeof m) || !(m & KEPT))
		return;
	m0 = m;
	m &= ~KEPT;
	if (!zp_app_write(at, &m, sizeof m))
		zp_thread_self()->vblocked |= m0 & KEPT;
}
