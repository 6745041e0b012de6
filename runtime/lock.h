/*
 * lock.h - the runtime's spin lock, safe across fork.
 *
 * A thread may fork while another holds one of the runtime's locks (the
 * table of objects, the SIGSEGV disposition).  The child gets a copy of the
 * lock, held by a thread that does not exist in it, and would spin forever.
 * So the lock word is the holder's thread id, and a waiter that finds the
 * holder gone from its process (tgkill(pid, tid, 0) answers ESRCH) takes
 * the lock over.  Slow paths only: nothing on a system call's fast path
 * takes a lock.
 */
#ifndef ZP_LOCK_H
#define ZP_LOCK_H

#include <asm/errno.h>
#include <asm/unistd.h>

#include "sys.h"

static inline void zp_lock(int *lock)
{
	int tid = (int)zp_sys0(__NR_gettid);

	for (;;) {
		int holder = 0;
		if (__atomic_compare_exchange_n(lock, &holder, tid, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if (zp_sys3(__NR_tgkill, zp_sys0(__NR_getpid), holder, 0) == -ESRCH &&
		    __atomic_compare_exchange_n(lock, &holder, tid, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;   /* its holder is not in this process (we were forked) */
		zp_sys0(__NR_sched_yield);
	}
}

static inline void zp_unlock(int *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

#endif /* ZP_LOCK_H */
