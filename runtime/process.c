/*
 * process.c - the process life cycle: fork, clone, vfork, exec, exit.
 *
 * These calls create or end processes and threads, and the runtime keeps
 * state that must follow them:
 *   - the owner of this copy of memory (zp_owner_pid, lock.h): changes in
 *     the child of a fork;
 *   - each thread's block (thread.c): a new thread gets one, a vfork child
 *     one in its vfork slot;
 *   - the application's SIGSEGV disposition (sigaction.c): an ignored
 *     SIGSEGV stays ignored across exec, as the kernel keeps SIG_IGN;
 *   - the return address of a vfork parent, which its child overwrites on
 *     the shared stack: kept in a vfork slot (entry.S);
 *   - a ptrace(PTRACE_TRACEME) put off until the exec (zp_ptrace_call).
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/unistd.h>
#include <linux/ptrace.h>
#include <linux/sched.h>

#include "runtime.h"
#include "sys.h"

static struct zp_vfork_slot zp_vfork_slots[ZP_VFORK_SLOTS];

/* Stacks for an exit whose thread unmapped its own (rewriter/stub.c): room
 * for the entry frame and the move to the runtime stack (zp_abi.h).  Named
 * by ZP_SYM_EXIT_STACKS and ZP_SYM_EXIT_COUNTER for the rewriter. */
__attribute__((used, aligned(16))) unsigned char zp_exit_stacks[ZP_EXIT_STACKS][ZP_EXIT_STACK_SIZE];
__attribute__((used)) uint64_t zp_exit_counter;

/* A call that may make a child with its own copy of memory (fork, clone
 * without CLONE_VM and without a new stack: entry.S makes the others): in
 * that child this memory has a new owner (lock.h), and its thread block is
 * its own.  Signals are blocked around the call, so that no handler runs in
 * the child before it knows. */
static long fork_like(const struct zp_syscall *c, int own_memory)
{
	unsigned long all = ~0ul, mask = 0;

	if (!own_memory)
		return zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
	zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)&mask, sizeof all);
	long r = zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
	if (r == 0) {
		int pid = (int)zp_sys0(__NR_getpid);
		__atomic_store_n(&zp_owner_pid, pid, __ATOMIC_RELAXED);
		zp_thread_self()->pid = pid;
		zp_thread_self()->shares_memory = 0;
		zp_thread_self()->traceme = 0;
		if (zp_complete)
			zp_net_enable(zp_thread_self());   /* not inherited by a fork child */
	}
	zp_sys4(__NR_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, sizeof mask);
	return r;
}

long zp_fork_call(const struct zp_syscall *c)
{
	uint64_t flags;

	switch (c->nr) {
	case __NR_clone:
		return fork_like(c, !(c->args[0] & CLONE_VM));
	case __NR_clone3:
		return fork_like(c, !zp_app_read(&flags, (const void *)c->args[0], sizeof flags) &&
				    !(flags & CLONE_VM));
	default:
		return fork_like(c, 1);
	}
}

long zp_exec_call(const struct zp_syscall *c)
{
	int ignored = zp_signals_before_exec();
	zp_traceme_now();
	long r = zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
	zp_signals_after_exec(ignored);   /* it failed: this program goes on */
	return r;
}

/*
 * ptrace(PTRACE_TRACEME) where calls raise signals (the trap path, the
 * --complete net): a traced thread stops at every signal until its tracer
 * lets it go on, and the tracer of a child that asks to be traced most
 * often waits for its exec only (Go's SysProcAttr.Ptrace, gdb's inferior,
 * sandboxes), not for a stop at each of the calls before it: Go's
 * StartProcess then waited for ever.  So the request is put off until the
 * exec, or until the thread sends a signal (raise(SIGSTOP) before the
 * exec is the other common way: its tracer must see it), and the runtime
 * makes it then, with no signal in between.  It answers 0 meanwhile (the
 * kernel's EPERM for a thread already traced comes later, or not at all).
 */
long zp_ptrace_call(const struct zp_syscall *c)
{
	if (c->args[0] == PTRACE_TRACEME && zp_unblockable) {
		zp_thread_self()->traceme = 1;
		return 0;
	}
	return zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
}

void zp_traceme_now(void)
{
	struct zp_thread *t = zp_thread_self();

	if (t->traceme) {
		t->traceme = 0;
		zp_sys4(__NR_ptrace, PTRACE_TRACEME, 0, 0, 0);
	}
}

/* clone3 with a new stack: copy the arguments to buf (entry.S makes the call
 * with the copy) and put on top of the child's stack what the child pops:
 * [top-24] its thread block, [top-16] the application's rdi, [top-8] the
 * return address. */
void *zp_clone3_prepare(struct zp_frame *f, void *buf, uintptr_t ret)
{
	struct clone_args *ca = buf;
	size_t size = (size_t)f->args[1];

	/* zp_classify checked the size and that the memory is readable. */
	if (zp_app_read(buf, (const void *)f->args[0], size))
		return (void *)f->args[0];
	uint64_t top[3] = { f->child, (uint64_t)f->args[0], ret };
	uintptr_t sp = (uintptr_t)(ca->stack + ca->stack_size) - sizeof top;
	if (zp_app_write((void *)sp, top, sizeof top))
		return (void *)f->args[0];  /* bad stack: the child faults, as without us */
	ca->stack_size -= sizeof top;
	return buf;
}

/* A slot for a call made off the stack (entry.S: SYSCALL_OFF_STACK), with
 * a thread block for the child when `child` (vfork-like calls), or NULL if
 * there is no stack for the child. */
struct zp_vfork_slot *zp_vfork_claim(struct zp_frame *f, int child)
{
	for (;;) {
		for (int i = 0; i < ZP_VFORK_SLOTS; i++) {
			struct zp_vfork_slot *s = &zp_vfork_slots[i];
			if (__atomic_exchange_n(&s->busy, 1, __ATOMIC_ACQUIRE))
				continue;
			s->ret = *(const uintptr_t *)(f->app_sp - 8);   /* the call pushed it */
			s->rbx = f->rbx;
			s->nr = f->nr;
			s->app_sp = f->app_sp;
			s->free_restore = f->free_restore;
			s->borrowed = 0;
			if (!child)
				return s;
			if (zp_thread_vfork_child(&s->child, &s->borrowed, (uintptr_t)__builtin_frame_address(0) - 256)) {
				__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
				return 0;
			}
			zp_thread_self()->pending_borrowed = s->borrowed;
			return s;
		}
		/* 64 vforks in flight at once: wait for one to finish. */
		zp_sys0(__NR_sched_yield);
	}
}

/* After a clone or vfork, in the parent (zp_dispatch_leave): what the child
 * no longer needs from the parent's memory. */
void zp_clone_done(struct zp_frame *f, long result)
{
	struct zp_thread *self = zp_thread_self();
	struct zp_thread *child = self->pending_child, *lent = self->pending_borrowed;
	uint64_t flags = 0;

	self->pending_child = 0;
	self->pending_borrowed = 0;
	if (f->nr == __NR_clone)
		flags = (uint64_t)f->args[0];
	else if (f->nr == __NR_clone3)
		zp_app_read(&flags, (const void *)f->args[0], sizeof flags);
	/* A block no thread of this memory uses any more: the call failed,
	 * the child has its own copy of memory (the block is in that copy), or
	 * it was a CLONE_VFORK child (posix_spawn), which exec'd or exited
	 * before the parent went on. */
	if (child && (result < 0 || child->own_memory || (flags & CLONE_VFORK)))
		zp_thread_release(child);
	/* The stack lent to a vfork child, for the same reasons.  A CLONE_VM
	 * child without CLONE_VFORK may still run on it: it stays taken. */
	if (lent && (f->nr == __NR_vfork || (flags & CLONE_VFORK) || result < 0))
		zp_thread_release(lent);
}
