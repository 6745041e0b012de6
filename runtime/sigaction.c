/*
 * sigaction.c - the dispositions the runtime keeps on the application's behalf.
 *
 * The runtime needs SIGSEGV for itself (segv.c: the trap path's calls,
 * numbers beyond the trampoline, faults made to look native), and with
 * --complete SIGSYS (net.c: the calls Syscall User Dispatch catches).  So
 * the kernel's disposition of these is always the runtime's handler, with
 * the application's flags and mask; what the application asked for is kept
 * here, and its rt_sigaction calls for them are answered from it
 * (zp_sigaction), so it sees exactly what it set.
 *
 * Whose dispositions: each thread block points at those of its process
 * (zp_thread.kept).  The threads of a process share app_kept; a child that
 * shares its parent's memory (vfork, posix_spawn, CLONE_VM) has dispositions
 * of its own, so its block points at a copy in itself (thread.c):
 * posix_spawn's child sets SIGSEGV to SIG_DFL before its exec, which must not
 * reset the parent's handler.  A fork child has a copy of everything.
 *
 * The kernel must never block these signals (sigmask.c: zp_unblockable):
 * they are taken out of every handler's sa_mask (zp_sigaction_other) and
 * put back in what the application reads.
 *
 * Across execve an ignored signal stays ignored in the new program, as the
 * kernel keeps SIG_IGN (but not a handler): it is set for real around the
 * call.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/unistd.h>

#include "lock.h"
#include "runtime.h"
#include "sys.h"

/* What the application's process asked for (SIG_DFL until it asks). */
static struct zp_kept app_kept;
static uint64_t kept_lock;

/* The signals whose sa_mask the application gave with a kept signal in it. */
static uint64_t masks_with[ZP_KEPT_N];

void zp_sigsys_handler(int sig, void *info, void *uc) ZP_HIDDEN;   /* net.c */

static const int kept_signal[ZP_KEPT_N] = { SIGSEGV, SIGSYS };
static int sigsys_kept;     /* --complete runs (zp_sigsys_start) */

int zp_kept_index(int sig)
{
	if (sig == SIGSEGV)
		return ZP_KEPT_SEGV;
	if (sig == SIGSYS && sigsys_kept)
		return ZP_KEPT_SYS;
	return -1;
}

long zp_install(int sig, void *handler, unsigned long flags, unsigned long mask)
{
	struct zp_ksigaction ka = { handler, flags | ZP_SA_RESTORER, zp_restore_rt, mask };
	return zp_sys4(__NR_rt_sigaction, sig, (long)&ka, 0, 8);
}

/* The application's disposition as the kernel gets it: always the
 * runtime's handler first, with the application's mask and flags
 * (alternate stack, restart, nodefer).  A signal the kernel must never
 * block (sigmask.c) gets SA_NODEFER; the handler blocks it virtually.  The
 * signal stack is the application's choice for SIGSEGV: a runtime that runs
 * code on small stacks (Go) handles SIGSEGV on its signal stacks.  On the
 * trap path, where every call raises SIGSEGV, the handler always runs on
 * the thread's signal stack, the application's or else the runtime's
 * (thread.c), never on a stack that may be a coroutine's or a tiny
 * thread's. */
static long install_for(int k, const struct zp_ksigaction *app)
{
	int sig = kept_signal[k];
	unsigned long fl = (app->flags & (SA_ONSTACK | SA_RESTART | SA_NODEFER)) | SA_SIGINFO;
	unsigned long mask = zp_sigmask_strip(app->mask);

	if (zp_unblockable & ZP_SIGBIT(sig)) {
		fl |= SA_NODEFER;
		/* The trap path's SIGSEGV on a signal stack; not SIGSYS: its
		 * handler moves to the runtime stack while its frame is live,
		 * and a signal stack the kernel then believes unused would take
		 * a nested handler's frame over it (net.c). */
		if (sig == SIGSEGV)
			fl |= SA_ONSTACK;
		/* On the trap path every system call is a SIGSEGV, whose frame
		 * goes on the thread's signal stack; a handler of the
		 * application on that same stack, nested inside, would need
		 * room for three frames.  So every other signal is blocked
		 * while the handler runs: it waits the few hundred nanoseconds
		 * until it returns.  The application's own handler gets its
		 * own mask back first (segv.c: call_handler). */
		if (sig == SIGSEGV)
			mask = zp_sigmask_strip(~0ul);
	}
	return zp_install(sig, sig == SIGSYS ? (void *)zp_sigsys_handler : (void *)zp_segv_handler, fl, mask);
}

/* Once the path is chosen (init.c): the kernel's dispositions as that path
 * needs them. */
void zp_signals_path(void)
{
	install_for(ZP_KEPT_SEGV, &app_kept.act[ZP_KEPT_SEGV]);
	if (sigsys_kept)
		install_for(ZP_KEPT_SYS, &app_kept.act[ZP_KEPT_SYS]);
}

/* Take signal k over, starting from what the program inherited (SIG_IGN
 * survives exec). */
static void take_over(int k, unsigned long flags)
{
	int sig = kept_signal[k];
	struct zp_ksigaction ka = { sig == SIGSYS ? (void *)zp_sigsys_handler : (void *)zp_segv_handler,
				    flags | ZP_SA_RESTORER, zp_restore_rt, 0 };
	struct zp_ksigaction old;

	if (zp_sys4(__NR_rt_sigaction, sig, (long)&ka, (long)&old, 8) == 0 &&
	    old.handler == (void *)SIG_IGN)
		app_kept.act[k].handler = (void *)SIG_IGN;
}

void zp_signals_init(void)
{
	zp_thread_self()->kept = &app_kept;
	take_over(ZP_KEPT_SEGV, SA_SIGINFO | SA_NODEFER);
}

void zp_sigsys_start(void)
{
	sigsys_kept = 1;
	take_over(ZP_KEPT_SYS, SA_SIGINFO | SA_NODEFER);
}

/* The disposition a kept signal of this thread goes to.  A handler with
 * SA_RESETHAND is called once: the disposition becomes SIG_DFL, as the
 * kernel does it on delivery. */
void zp_kept_disposition(int sig, struct zp_ksigaction *out)
{
	struct zp_ksigaction *mine = &zp_thread_self()->kept->act[zp_kept_index(sig)];

	/* (No SIGSEGV can come from inside the lock: lock.h.) */
	unsigned long mask = zp_lock(&kept_lock);
	*out = *mine;
	if (mine->flags & SA_RESETHAND) {
		mine->handler = (void *)SIG_DFL;
		mine->flags = 0;
	}
	zp_unlock(&kept_lock, mask);
}

/* Around execve: an ignored signal stays ignored in the new program, as the
 * kernel would keep it: set it for real if the application's disposition
 * says SIG_IGN.  A bit per kept signal that was set so. */
int zp_signals_before_exec(void)
{
	struct zp_kept *kept = zp_thread_self()->kept;
	int ignored = 0;

	unsigned long mask = zp_lock(&kept_lock);
	for (int k = 0; k < ZP_KEPT_N; k++)
		if ((k == ZP_KEPT_SEGV || sigsys_kept) && kept->act[k].handler == (void *)SIG_IGN &&
		    zp_install(kept_signal[k], (void *)SIG_IGN, 0, 0) == 0)
			ignored |= 1 << k;
	zp_unlock(&kept_lock, mask);
	return ignored;
}

/* The exec failed: the runtime's handlers again. */
void zp_signals_after_exec(int ignored)
{
	if (!ignored)
		return;
	unsigned long mask = zp_lock(&kept_lock);
	for (int k = 0; k < ZP_KEPT_N; k++)
		if (ignored & (1 << k))
			install_for(k, &zp_thread_self()->kept->act[k]);
	zp_unlock(&kept_lock, mask);
}

static long write_old(struct zp_ksigaction *old, const struct zp_ksigaction *prev)
{
	return old ? zp_app_write(old, prev, sizeof *prev) : 0;
}

/* The application's sa_mask as it gave it: with the kept signals it named. */
static uint64_t mask_as_given(int sig, uint64_t mask)
{
	for (int k = 0; k < ZP_KEPT_N; k++)
		if (__atomic_load_n(&masks_with[k], __ATOMIC_RELAXED) & ZP_SIGBIT(sig))
			mask |= ZP_SIGBIT(kept_signal[k]);
	return mask;
}

static void remember_mask(int sig, uint64_t mask)
{
	for (int k = 0; k < ZP_KEPT_N; k++) {
		if (mask & ZP_SIGBIT(kept_signal[k]))
			__atomic_fetch_or(&masks_with[k], ZP_SIGBIT(sig), __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&masks_with[k], ~ZP_SIGBIT(sig), __ATOMIC_RELAXED);
	}
}

/* rt_sigaction(sig, act, oldact, size) of a kept signal. */
long zp_sigaction(const long *args)
{
	int k = zp_kept_index((int)args[0]);
	const struct zp_ksigaction *act = (const void *)args[1];
	struct zp_ksigaction *old = (void *)args[2];
	struct zp_ksigaction nw, *mine = &zp_thread_self()->kept->act[k];

	if (args[3] != 8)
		return -EINVAL;
	if (act && zp_app_read(&nw, act, sizeof nw))
		return -EFAULT;
	/* The kernel's disposition changes under the lock too, so that two
	 * threads cannot leave it and the record disagreeing. */
	unsigned long mask = zp_lock(&kept_lock);
	struct zp_ksigaction prev = *mine;
	if (act) {
		*mine = nw;
		install_for(k, &nw);
	}
	zp_unlock(&kept_lock, mask);
	return write_old(old, &prev);
}

/* rt_sigaction of another signal while some signals must stay unblocked:
 * they leave its sa_mask for the kernel and come back in what the
 * application reads. */
long zp_sigaction_other(const long *args)
{
	int sig = (int)args[0];
	const struct zp_ksigaction *act = (const void *)args[1];
	struct zp_ksigaction *old = (void *)args[2];
	struct zp_ksigaction nw, prev;

	if (args[3] != 8 || sig < 1 || sig > 64 || !zp_unblockable)
		return zp_sys4(__NR_rt_sigaction, args[0], args[1], args[2], args[3]);
	if (act && zp_app_read(&nw, act, sizeof nw))
		return -EFAULT;
	uint64_t given = act ? nw.mask : 0;
	if (act)
		nw.mask = zp_sigmask_strip(nw.mask);
	long r = zp_sys4(__NR_rt_sigaction, sig, act ? (long)&nw : 0, old ? (long)&prev : 0, 8);
	if (r)
		return r;
	if (old)
		prev.mask = mask_as_given(sig, prev.mask);
	if (act)
		remember_mask(sig, given);
	return write_old(old, &prev);
}
