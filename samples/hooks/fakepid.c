/*
 * fakepid.c - a sample zprewrite hook: answer getpid() without the kernel.
 *
 *   zprewrite --hook build/samples/fakepid.so PROG PROG.fast
 *
 * getpid is answered from a cached value (a few nanoseconds instead of a
 * kernel round trip); every other call passes through.  The interesting part
 * is keeping the cache right across fork, vfork and clone, given that
 *   - zp_hook_leave runs only in the parent, never in the child (so says
 *     hook.h; a leave with result 0, which only a child gets, is ignored
 *     below in case a runtime calls it there too);
 *   - there is no thread-local storage, and no way for code running in a
 *     child to tell that it is a child without asking the kernel;
 *   - a fork child starts with a copy of the parent's memory, taken at some
 *     moment during the call, while other threads of the parent may be
 *     changing it;
 *   - a vfork child (and clone(CLONE_VM)) shares the parent's memory: what
 *     it writes, the parent sees.
 *
 * The scheme:
 *
 * `state` packs the cached pid with the number of forks the process that
 * owns that pid has in flight (entered, not yet left).  Before a fork the
 * count goes up, so the copy the child gets always has a count > 0: the child
 * takes the slow path, asks the kernel, sees a pid that is not the one in
 * `state` (that count belonged to its parent) and claims `state` as its own,
 * with a count of 0.  The parent's count goes down in zp_hook_leave, and its
 * cache, which never stopped being right for it, is used again; a parent
 * thread calling getpid meanwhile asks the kernel but changes nothing.
 * Tagging the count with its owner's pid is what lets a child discard an
 * inherited count while a process never discards its own (threads of the
 * parent still forking when the child starts).
 *
 * `vm` does the same for children that share memory (vfork, and clone or
 * clone3 with CLONE_VM|CLONE_VFORK, as posix_spawn uses): owner pid and
 * number in flight.  Code that sees a count > 0 with another pid than its own
 * is such a child (or was forked, directly or not, while one was running): it
 * asks the kernel every time and never writes anything, since its writes
 * could land in another process's memory.
 * The parent's leave lowers the count once the child has exec'd or exited.
 *
 * clone(CLONE_VM) without CLONE_VFORK or CLONE_THREAD makes a child that
 * shares memory for as long as it lives, past the parent's leave: after one of
 * those, caching is off for good (`no_cache`).
 *
 * Every update is a compare-and-swap: a signal handler can interrupt the hook
 * and re-enter it on the same thread, so there are no locks.
 */
#include <zprewrite/hook.h>
#include <asm/unistd.h>

#define CLONE_VM      0x00000100UL
#define CLONE_VFORK   0x00004000UL
#define CLONE_THREAD  0x00010000UL

#define PID_OF(s)    ((long)((s) >> 32))
#define COUNT_OF(s)  ((uint32_t)(s))
#define PACK(pid, n) ((uint64_t)(pid) << 32 | (uint32_t)(n))

static uint64_t state;     /* cached pid << 32 | forks in flight */
static uint64_t vm;        /* owner pid << 32 | memory-sharing children in flight */
static int no_cache;

enum kind { OTHER, FORK_COPY, VM_WAIT, VM_FOREVER };

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static int cas(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	return __atomic_compare_exchange_n(p, expected, desired, 0,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static long kernel_getpid(void)
{
	return zp_syscall0(__NR_getpid);
}

/* Running in a child that shares (or inherited) someone else's memory-sharing
 * state: look, never touch. */
static int in_vm_child(long pid)
{
	uint64_t v = load(&vm);

	return COUNT_OF(v) != 0 && PID_OF(v) != pid;
}

static enum kind kind_of(const struct zp_syscall *call)
{
	unsigned long flags;

	switch (call->nr) {
	case __NR_fork:
		return FORK_COPY;
	case __NR_vfork:
		return VM_WAIT;
	case __NR_clone:
		flags = (unsigned long)call->args[0];
		break;
	case __NR_clone3:
		/* struct clone_args starts with the flags.  A pointer the
		 * kernel would refuse anyway (NULL, low page, non-canonical,
		 * short size) makes no child. */
		if ((unsigned long)call->args[0] < 0x10000 ||
		    (unsigned long)call->args[0] >= 0x800000000000UL ||
		    (unsigned long)call->args[1] < 8)
			return OTHER;
		flags = *(const uint64_t *)call->args[0];
		break;
	default:
		return OTHER;
	}
	if (flags & CLONE_THREAD)
		return OTHER;               /* same process, same pid */
	if (!(flags & CLONE_VM))
		return FORK_COPY;
	return (flags & CLONE_VFORK) ? VM_WAIT : VM_FOREVER;
}

static long answer_getpid(void)
{
	uint64_t s;
	long pid;

	if (!__atomic_load_n(&no_cache, __ATOMIC_ACQUIRE) && COUNT_OF(load(&vm)) == 0) {
		s = load(&state);
		if (COUNT_OF(s) == 0 && PID_OF(s) > 0)
			return PID_OF(s);
	}
	pid = kernel_getpid();
	if (__atomic_load_n(&no_cache, __ATOMIC_ACQUIRE) || in_vm_child(pid))
		return pid;
	/* Claim the state if it holds another process's pid (we are a fork
	 * child) or none yet; an own count in flight is kept as it is. */
	s = load(&state);
	while (PID_OF(s) != pid && !cas(&state, &s, PACK(pid, 0)))
		;
	return pid;
}

static void before_fork(enum kind k)
{
	long pid;
	uint64_t s;

	if (k == VM_FOREVER) {
		/* Set before the call, so the child has it as well. */
		__atomic_store_n(&no_cache, 1, __ATOMIC_RELEASE);
		return;
	}
	pid = kernel_getpid();
	if (in_vm_child(pid))
		return;
	if (k == FORK_COPY) {
		s = load(&state);
		while (!cas(&state, &s, PID_OF(s) == pid ? s + 1 : PACK(pid, 1)))
			;
	} else {
		s = load(&vm);
		while (!cas(&vm, &s, PID_OF(s) == pid && COUNT_OF(s) ? s + 1 : PACK(pid, 1)))
			;
	}
}

/* In the parent only.  Lowers exactly what before_fork raised: the count it
 * raised is tagged with this process's pid, and nothing but this process
 * touches a count tagged so. */
static void after_fork(enum kind k)
{
	uint64_t *p = k == FORK_COPY ? &state : &vm;
	long pid;
	uint64_t s;

	if (k == VM_FOREVER)
		return;
	pid = kernel_getpid();
	if (k == FORK_COPY && in_vm_child(pid))
		return;
	s = load(p);
	while (PID_OF(s) == pid && COUNT_OF(s) > 0 && !cas(p, &s, s - 1))
		;
}

ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	(void)proc;
	__atomic_store_n(&state, PACK(kernel_getpid(), 0), __ATOMIC_RELEASE);
	return 0;
}

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	enum kind k;

	if (call->nr == __NR_getpid)
		return answer_getpid();
	k = kind_of(call);
	if (k != OTHER)
		before_fork(k);
	return ZP_PASS;
}

ZP_HOOK_EXPORT long zp_hook_leave(const struct zp_syscall *call, long result)
{
	enum kind k;

	if (call->nr != __NR_fork && call->nr != __NR_vfork &&
	    call->nr != __NR_clone && call->nr != __NR_clone3)
		return result;
	if (result == 0)
		return result;          /* the child: nothing of its own to undo */
	k = kind_of(call);
	if (k != OTHER)
		after_fork(k);
	return result;
}
