/*
 * lock.h - the runtime's spin lock, safe across fork and signals.
 *
 * Signals: a signal handler that needs a lock its own thread holds (a
 * handler's rt_sigaction(SIGSEGV), a SIGSEGV, a call from a library not
 * seen yet) would wait for itself forever.  So every signal is blocked
 * while a lock is held, and nothing done under a lock may fault: a
 * synchronous SIGSEGV that cannot be delivered kills the process.
 *
 * fork: a thread may fork while another holds one of the runtime's locks
 * (the site table, the SIGSEGV disposition).  The child gets a copy of the
 * lock, held by a thread that does not exist in it, and would spin forever.
 * So the lock word is the holder's thread id, and a waiter that finds the
 * holder gone from its process (tgkill(pid, tid, 0) answers ESRCH) takes
 * the lock over.
 *
 * Slow paths only: nothing on a system call's fast path takes a lock.
 */
#ifndef ZP_LOCK_H
#define ZP_LOCK_H

#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/unistd.h>

#include "sys.h"

/* Block every signal (SIGKILL and SIGSTOP stay deliverable: the kernel
 * ignores them here), then take the lock.  Returns the signal mask that
 * zp_unlock restores. */
static inline unsigned long zp_lock(int *lock)
{
	unsigned long all = ~0ul, old = 0;
	zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)&old, sizeof all);
	int tid = (int)zp_sys0(__NR_gettid);

	for (;;) {
		int holder = 0;
		if (__atomic_compare_exchange_n(lock, &holder, tid, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return old;
		if (zp_sys3(__NR_tgkill, zp_sys0(__NR_getpid), holder, 0) == -ESRCH &&
		    __atomic_compare_exchange_n(lock, &holder, tid, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return old;   /* its holder is not in this process (we were forked) */
		zp_sys0(__NR_sched_yield);
	}
}

/* Release the lock, then let signals in again (mask: what zp_lock returned). */
static inline void zp_unlock(int *lock, unsigned long mask)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	zp_sys4(__NR_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, sizeof mask);
}

#endif /* ZP_LOCK_H */
