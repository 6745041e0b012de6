/*
 * sigaction.c - the application's SIGSEGV disposition, kept by the runtime.
 *
 * The runtime needs SIGSEGV for itself (segv.c: the trap path's calls,
 * numbers beyond the trampoline, faults made to look native), so the
 * kernel's disposition is always the runtime's handler, with the
 * application's flags and mask; what the application asked for is kept
 * here, and its rt_sigaction calls for SIGSEGV are answered from it
 * (zp_sigaction), so it sees exactly what it set.
 *
 * Whose disposition: each thread block points at the one of its process
 * (zp_thread.segv).  The threads of a process share app_segv; a child that
 * shares its parent's memory (vfork, posix_spawn, CLONE_VM) has
 * dispositions of its own, so its block points at a copy in its vfork slot
 * (process.c): posix_spawn's child sets SIGSEGV to SIG_DFL before its exec,
 * which must not reset the parent's handler.  A fork child has a copy of
 * everything.
 *
 * On the trap path, other signals' masks matter too: the kernel must never
 * block SIGSEGV (every rewritten call is a SIGSEGV there: sigmask.c), so
 * SIGSEGV is taken out of every handler's sa_mask (zp_sigaction_other) and
 * put back in what the application reads.
 *
 * Across execve an ignored SIGSEGV stays ignored in the new program, as the
 * kernel keeps SIG_IGN (but not a handler): it is set for real around the
 * call.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/unistd.h>

#include "lock.h"
#include "runtime.h"
#include "sys.h"

/* What the application's process asked for SIGSEGV (SIG_DFL until it asks). */
static struct zp_ksigaction app_segv;
static uint64_t app_segv_lock;

/* Trap path: the signals whose sa_mask the application gave with SIGSEGV. */
static uint64_t masks_with_segv;

long zp_install_segv(void *handler, unsigned long flags, unsigned long mask)
{
	struct zp_ksigaction ka = { handler, flags | ZP_SA_RESTORER, zp_restore_rt, mask };
	return zp_sys4(__NR_rt_sigaction, SIGSEGV, (long)&ka, 0, 8);
}

/* The application's disposition for SIGSEGV as the kernel gets it: always
 * the runtime's handler first, with the application's mask and flags
 * (alternate stack, restart, nodefer).  On the trap path, SIGSEGV is never
 * blocked (nodefer; the handler blocks it virtually: sigmask.c).  The
 * signal stack is the application's choice: a runtime that runs code on
 * small stacks (Go) handles SIGSEGV on its signal stacks, which then take
 * the trap path's frames too; forcing it on others would put a second frame
 * on every handler's signal stack that a call from the program's own code
 * interrupts. */
static long install_for(const struct zp_ksigaction *app)
{
	unsigned long fl = (app->flags & (SA_ONSTACK | SA_RESTART | SA_NODEFER)) | SA_SIGINFO;
	unsigned long mask = app->mask;

	if (zp_trap_path) {
		fl |= SA_NODEFER;
		mask = zp_sigmask_strip(mask);
	}
	return zp_install_segv(zp_segv_handler, fl, mask);
}

void zp_signals_init(void)
{
	/* Start from what the program inherited (SIG_IGN survives exec). */
	struct zp_ksigaction ka = { (void *)zp_segv_handler,
				    SA_SIGINFO | SA_NODEFER | ZP_SA_RESTORER, zp_restore_rt, 0 };
	struct zp_ksigaction old;

	zp_thread_self()->segv = &app_segv;
	if (zp_sys4(__NR_rt_sigaction, SIGSEGV, (long)&ka, (long)&old, 8) == 0 &&
	    old.handler == (void *)SIG_IGN)
		app_segv.handler = (void *)SIG_IGN;
}

/* The disposition a SIGSEGV of this thread goes to.  A handler with
 * SA_RESETHAND is called once: the disposition becomes SIG_DFL, as the
 * kernel does it on delivery. */
void zp_segv_disposition(struct zp_ksigaction *out, int fault)
{
	struct zp_ksigaction *mine = zp_thread_self()->segv;

	(void)fault;
	/* (No SIGSEGV can come from inside the lock: lock.h.) */
	unsigned long mask = zp_lock(&app_segv_lock);
	*out = *mine;
	if (mine->flags & SA_RESETHAND) {
		mine->handler = (void *)SIG_DFL;
		mine->flags = 0;
	}
	zp_unlock(&app_segv_lock, mask);
}

/* Around execve: an ignored SIGSEGV stays ignored in the new program, as
 * the kernel would keep it: set it for real if the application's
 * disposition says SIG_IGN.  1 if it was set. */
int zp_signals_before_exec(void)
{
	int ignored = 0;

	unsigned long mask = zp_lock(&app_segv_lock);
	if (zp_thread_self()->segv->handler == (void *)SIG_IGN)
		ignored = zp_install_segv((void *)SIG_IGN, 0, 0) == 0;
	zp_unlock(&app_segv_lock, mask);
	return ignored;
}

/* The exec failed: the runtime's handler again. */
void zp_signals_after_exec(int ignored)
{
	if (!ignored)
		return;
	unsigned long mask = zp_lock(&app_segv_lock);
	install_for(zp_thread_self()->segv);
	zp_unlock(&app_segv_lock, mask);
}

static long write_old(struct zp_ksigaction *old, const struct zp_ksigaction *prev)
{
	return old ? zp_app_write(old, prev, sizeof *prev) : 0;
}

/* rt_sigaction(SIGSEGV, act, oldact, size) from the application. */
long zp_sigaction(const long *args)
{
	const struct zp_ksigaction *act = (const void *)args[1];
	struct zp_ksigaction *old = (void *)args[2];
	struct zp_ksigaction nw, *mine = zp_thread_self()->segv;

	if (args[3] != 8)
		return -EINVAL;
	if (act && zp_app_read(&nw, act, sizeof nw))
		return -EFAULT;
	/* The kernel's disposition changes under the lock too, so that two
	 * threads cannot leave it and the record disagreeing. */
	unsigned long mask = zp_lock(&app_segv_lock);
	struct zp_ksigaction prev = *mine;
	if (act) {
		*mine = nw;
		install_for(&nw);
	}
	zp_unlock(&app_segv_lock, mask);
	return write_old(old, &prev);
}

/* Trap path: rt_sigaction of another signal.  SIGSEGV leaves its sa_mask
 * for the kernel and comes back in what the application reads. */
long zp_sigaction_other(const long *args)
{
	int sig = (int)args[0];
	const struct zp_ksigaction *act = (const void *)args[1];
	struct zp_ksigaction *old = (void *)args[2];
	struct zp_ksigaction nw, prev;

	if (args[3] != 8 || sig < 1 || sig > 64)
		return zp_sys4(__NR_rt_sigaction, args[0], args[1], args[2], args[3]);
	if (act && zp_app_read(&nw, act, sizeof nw))
		return -EFAULT;
	uint64_t bit = ZP_SIGBIT(sig);
	int had = !!(__atomic_load_n(&masks_with_segv, __ATOMIC_RELAXED) & bit);
	int has = act && (nw.mask & ZP_SIGBIT(SIGSEGV));
	if (act)
		nw.mask = zp_sigmask_strip(nw.mask);
	long r = zp_sys4(__NR_rt_sigaction, sig, act ? (long)&nw : 0, old ? (long)&prev : 0, 8);
	if (r)
		return r;
	if (act && has)
		__atomic_fetch_or(&masks_with_segv, bit, __ATOMIC_RELAXED);
	else if (act)
		__atomic_fetch_and(&masks_with_segv, ~bit, __ATOMIC_RELAXED);
	if (had)
		prev.mask |= ZP_SIGBIT(SIGSEGV);
	return write_old(old, &prev);
}
