/*
 * lock.h - the runtime's spin lock, safe across fork, vfork and signals.
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
 * vfork: a child that shares its parent's memory (vfork, posix_spawn, clone
 * with CLONE_VM) shares the locks too, and their holders are live threads
 * of another process.  So the lock word holds the holder's thread id and
 * the owner of the memory it was taken in (zp_owner_pid: the process whose
 * copy of memory this is, changed only in the child of a fork): a waiter
 * that finds another owner there is in a copy that a fork made while the
 * lock was held, and takes the lock over; a lock taken in this memory is
 * waited for, whatever process took it, unless its holder is gone
 * (tkill(tid, 0) answers ESRCH: a stale word whose owner's pid was reused).
 *
 * Slow paths only: nothing on a system call's fast path takes a lock.
 */
#ifndef ZP_LOCK_H
#define ZP_LOCK_H

#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/unistd.h>

#include "runtime.h"
#include "sys.h"

/* Block every signal (SIGKILL and SIGSTOP stay deliverable: the kernel
 * ignores them here), then take the lock.  Returns the signal mask that
 * zp_unlock restores. */
static inline unsigned long zp_lock(uint64_t *lock)
{
	unsigned long all = ~0ul, old = 0;
	zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)&old, sizeof all);
	uint64_t owner = (uint32_t)__atomic_load_n(&zp_owner_pid, __ATOMIC_RELAXED);
	uint64_t me = owner << 32 | (uint32_t)zp_sys0(__NR_gettid);

	for (;;) {
		uint64_t holder = 0;
		if (__atomic_compare_exchange_n(lock, &holder, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return old;
		if (((holder >> 32) != owner || zp_sys2(__NR_tkill, (int)(uint32_t)holder, 0) == -ESRCH) &&
		    __atomic_compare_exchange_n(lock, &holder, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return old;   /* taken before a fork copied this memory, or its holder is gone */
		zp_sys0(__NR_sched_yield);
	}
}

/* Release the lock, then let signals in again (mask: what zp_lock returned). */
static inline void zp_unlock(uint64_t *lock, unsigned long mask)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	zp_sys4(__NR_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, sizeof mask);
}

#endif /* ZP_LOCK_H */
