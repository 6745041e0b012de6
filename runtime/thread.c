/*
 * thread.c - per-thread blocks and the runtime stacks in them.
 *
 * Hooks and the runtime's C code never run on the application's stack: a
 * goroutine leaves less than a kilobyte below a system call, a thread may
 * run on a tiny stack, a signal handler on an 8 KiB one.  Each thread that
 * makes a rewritten call gets a block (struct zp_thread, runtime.h) with a
 * stack of its own, and %gs points at it: a segment base is per thread,
 * survives signals, and x86-64 Linux programs leave gs alone (the C
 * libraries and Go use fs).  entry.S reaches the block with %gs-relative
 * loads, which need no system call and no instruction the CPU may lack.
 *
 * Where blocks come from:
 *   - the first thread: a static block and a stack in the runtime's .bss
 *     (no mmap at start-up; the bottom page is made inaccessible, a guard);
 *   - a thread made by clone/clone3 with a new stack: zp_dispatch takes a
 *     block from the pool before the call, entry.S puts its address on the
 *     child's stack and the child points %gs at it (CHILD_START); a block
 *     goes back to the pool when its thread exits through a rewritten site;
 *   - a vfork child: the block in its vfork slot (process.c), on the part of
 *     the parent's runtime stack below what the parent holds (the parent
 *     waits until the child execs or exits).
 * A fork child has a copy of everything, its block included.
 * Limit: a thread made by code that was not rewritten (a raw clone in a
 * JIT) inherits its parent's %gs and shares its block: two such threads
 * in hooks at once would share a stack.
 */
#include <asm/errno.h>
#include <asm/prctl.h>
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <asm/unistd.h>
#include <linux/mman.h>
#include <linux/sched.h>

#include "runtime.h"
#include "sys.h"

static struct zp_thread main_block;

#define GUARD 4096
#define BLOCK_PAGE 4096
/* The first thread's: a guard page, its signal stack, its chunks. */
static unsigned char main_stack[GUARD + ZP_RT_ALT_SIZE + ZP_RT_STACK_SIZE] __attribute__((aligned(4096)));

/* Every block the pool ever mapped (they are reused, never unmapped). */
static struct zp_thread *pool;

_Static_assert(sizeof(struct zp_thread) <= BLOCK_PAGE, "a block fits its page");

static void init_block(struct zp_thread *t, uintptr_t lo, uintptr_t hi)
{
	t->self = t;
	t->stack_lo = lo;
	t->stack_hi = hi;
	t->stack_free = hi;
}

/* The runtime's signal stack: the ZP_RT_ALT_SIZE bytes below the chunks
 * at lo (main_stack's layout, and take_block's). */
static void init_alt(struct zp_thread *t, uintptr_t lo)
{
	t->rt_alt.sp = lo - ZP_RT_ALT_SIZE;
	t->rt_alt.flags = 0;
	t->rt_alt.size = ZP_RT_ALT_SIZE;
}

static long set_gs(struct zp_thread *t)
{
	return zp_sys2(__NR_arch_prctl, ARCH_SET_GS, (long)t);
}

int zp_thread_init_main(void)
{
	uintptr_t lo = (uintptr_t)main_stack + GUARD + ZP_RT_ALT_SIZE;

	init_block(&main_block, lo, lo + ZP_RT_STACK_SIZE);
	init_alt(&main_block, lo);
	main_block.app_alt.flags = ZP_SS_DISABLE;
	/* Whatever overruns the signal stack faults instead of overwriting the
	 * runtime's variables below it. */
	zp_sys3(__NR_mprotect, (long)main_stack, GUARD, PROT_NONE);
	return (int)set_gs(&main_block);
}

/* When calls raise signals (the trap path, --complete), each one puts a
 * signal frame (3.4 KiB with AVX-512 state) on the thread's stack, unless
 * the thread has a signal stack: a coroutine's or a tiny thread's stack has
 * no room for it.  So a thread for which the application set no signal
 * stack gets the runtime's, and the runtime's handlers use it
 * (SA_ONSTACK).  The application still sees none (zp_sigaltstack_call). */
static void use_rt_alt(struct zp_thread *t)
{
	if (zp_sys2(__NR_sigaltstack, (long)&t->rt_alt, 0) == 0) {
		t->alt_lo = t->rt_alt.sp;
		t->alt_size = t->rt_alt.size;
	}
}

void zp_thread_alt_start(void)
{
	struct zp_thread *t = zp_thread_self();
	struct zp_stack cur;

	/* (A signal stack inherited across exec is the application's.) */
	if (zp_sys2(__NR_sigaltstack, 0, (long)&cur) == 0 && !(cur.flags & ZP_SS_DISABLE)) {
		t->app_alt = cur;
		t->app_alt.flags = (int)(cur.flags & ZP_SS_AUTODISARM);
		t->alt_lo = cur.sp;
		t->alt_size = cur.size;
	} else if (zp_unblockable) {
		use_rt_alt(t);
	}
}

/* A block that is not in use, or a new one (NULL if none can be mapped). */
static struct zp_thread *take_block(void)
{
	for (struct zp_thread *t = __atomic_load_n(&pool, __ATOMIC_ACQUIRE); t; t = t->next)
		if (!__atomic_load_n(&t->busy, __ATOMIC_RELAXED) &&
		    !__atomic_exchange_n(&t->busy, 1, __ATOMIC_ACQUIRE))
			return t;
	size_t size = GUARD + ZP_RT_ALT_SIZE + ZP_RT_STACK_SIZE + BLOCK_PAGE;
	long m = zp_sys6(__NR_mmap, 0, (long)size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (zp_is_err(m))
		return 0;
	zp_sys3(__NR_mprotect, m, GUARD, PROT_NONE);
	uintptr_t lo = (uintptr_t)m + GUARD + ZP_RT_ALT_SIZE;
	struct zp_thread *t = (struct zp_thread *)(lo + ZP_RT_STACK_SIZE);
	t->busy = 1;
	t->pooled = 1;
	t->next = __atomic_load_n(&pool, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&pool, &t->next, t, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	return t;
}

/* The child's kept dispositions (sigaction.c): a thread shares its
 * process's; a process that shares its parent's memory (CLONE_VM without
 * CLONE_THREAD: posix_spawn, vfork) starts with a copy of them, its own from
 * then on; a process with its own memory has its copy of everything. */
static void inherit_kept(struct zp_thread *child, const struct zp_thread *self, int shares)
{
	child->shares_memory = shares;
	if (shares) {
		child->own_kept = *self->kept;
		child->kept = &child->own_kept;
	} else {
		child->kept = self->kept;
	}
}

/* For the child of a clone with a new stack: a thread of this process, a
 * process sharing this memory (CLONE_VM: no signal stack, the kernel clears
 * it unless CLONE_VFORK), or a new process with a copy of this memory
 * (keeps it).  The child inherits the signal mask. */
struct zp_thread *zp_thread_new(uint64_t flags)
{
	struct zp_thread *self = zp_thread_self(), *t = take_block();
	int own_memory = !(flags & CLONE_VM);
	int keeps_alt = own_memory || (flags & CLONE_VFORK);

	if (!t)
		return 0;
	uintptr_t lo = (uintptr_t)t - ZP_RT_STACK_SIZE;
	init_block(t, lo, lo + ZP_RT_STACK_SIZE);
	init_alt(t, lo);
	/* The kernel keeps the signal stack of a child with CLONE_VFORK or its
	 * own memory, and clears it for a thread: then it gets the runtime's
	 * in its first instructions (entry.S, CHILD_START), if one is needed. */
	if (keeps_alt) {
		t->app_alt = self->app_alt;
		t->alt_lo = self->alt_lo;
		t->alt_size = self->alt_size;
		t->rt_alt_wanted = 0;
	} else {
		t->app_alt.flags = ZP_SS_DISABLE;
		t->alt_lo = zp_unblockable ? t->rt_alt.sp : 0;
		t->alt_size = zp_unblockable ? t->rt_alt.size : 0;
		t->rt_alt_wanted = !!zp_unblockable;
	}
	t->vblocked = self->vblocked;
	t->sent_pending = 0;
	t->frame = 0;
	t->pending_child = 0;
	t->pending_borrowed = 0;
	t->alt_cut = 0;
	t->traceme = 0;
	t->own_memory = own_memory;
	t->pid = (flags & CLONE_THREAD) ? self->pid : 0;
	t->selector = self->selector;
	t->app_sud.on = 0;
	inherit_kept(t, self, !own_memory && !(flags & CLONE_THREAD));
	return t;
}

void zp_thread_release(struct zp_thread *t)
{
	if (t && t->pooled)
		__atomic_store_n(&t->busy, 0, __ATOMIC_RELEASE);
}

/* A vfork child's block, in its vfork slot: a stack from the pool, given
 * back by the parent when it resumes, or if there is none, the parent's
 * stack below `below` (the parent holds what lies above and waits until the
 * child execs or exits).  The child inherits the signal stack and mask, and
 * a copy of the kept dispositions.  -1 if there is no stack for it at all
 * (no memory). */
int zp_thread_vfork_child(struct zp_thread *child, struct zp_thread **borrowed, uintptr_t below)
{
	struct zp_thread *self = zp_thread_self(), *b = take_block();

	*borrowed = b;
	if (b) {
		uintptr_t lo = (uintptr_t)b - ZP_RT_STACK_SIZE;
		init_block(child, lo, lo + ZP_RT_STACK_SIZE);
	} else {
		below &= ~(uintptr_t)15;
		if (below - self->stack_lo < ZP_RT_CHUNK + 4096)
			return -1;
		init_block(child, self->stack_lo, below);
	}
	child->alt_lo = self->alt_lo;     /* (CLONE_VFORK keeps the signal stack) */
	child->alt_size = self->alt_size;
	child->app_alt = self->app_alt;
	child->rt_alt = self->rt_alt;
	child->rt_alt_wanted = 0;
	child->alt_cut = 0;
	child->traceme = 0;
	child->vblocked = self->vblocked;
	child->sent_pending = 0;
	child->frame = 0;
	child->pending_child = 0;
	child->pending_borrowed = 0;
	child->own_memory = 0;
	child->pid = 0;
	child->pooled = 0;
	child->selector = self->selector;
	child->app_sud.on = 0;
	inherit_kept(child, self, 1);
	return 0;
}

/* sigaltstack: the runtime stack's chunks depend on whether an entry comes
 * from the thread's signal stack (entry.S, ENTER_RT_STACK), so the thread's
 * block follows what the kernel has; and where the runtime put its own
 * (use_rt_alt), the application sees what it set itself: none, or the one
 * it set later (which then replaces the runtime's). */
long zp_sigaltstack_call(const struct zp_syscall *c)
{
	struct zp_stack ss, old;
	const void *set = (const void *)c->args[0];
	void *get = (void *)c->args[1];
	struct zp_thread *t = zp_thread_self();

	if (set && zp_app_read(&ss, set, sizeof ss))
		return -EFAULT;
	int ours = t->alt_size && t->alt_lo == t->rt_alt.sp;
	/* (the application's stack pointer: this runs on the runtime's stack) */
	uintptr_t sp = t->frame ? t->frame->app_sp : 0;
	/* (changing it while on it: as the kernel says, but for SS_AUTODISARM) */
	if (set && t->alt_size && sp - t->alt_lo < t->alt_size && (ours || !(t->app_alt.flags & ZP_SS_AUTODISARM)))
		return -EPERM;
	long r = 0;
	if (set && !(ss.flags & ZP_SS_DISABLE))
		r = zp_sys2(__NR_sigaltstack, (long)&ss, 0);
	else if (set && !ours)
		r = zp_sys2(__NR_sigaltstack, (long)&ss, 0);
	if (r)
		return r;
	old = t->app_alt;
	if (!ours && !(old.flags & ZP_SS_DISABLE) && sp - old.sp < old.size) {
		if (old.flags & ZP_SS_AUTODISARM)       /* disarmed while on it */
			old = (struct zp_stack){ 0, ZP_SS_DISABLE, 0 };
		else
			old.flags |= 1;         /* SS_ONSTACK */
	}
	if (get && zp_app_write(get, &old, sizeof old))
		return -EFAULT;
	if (!set)
		return 0;
	t->alt_cut = 0;                 /* (the kernel has what was just set) */
	if (ss.flags & ZP_SS_DISABLE) {
		t->app_alt.flags = ZP_SS_DISABLE;
		t->alt_size = 0;
		if (zp_unblockable)
			use_rt_alt(t);  /* the runtime's again */
	} else {
		t->app_alt = ss;
		t->app_alt.flags = (int)(ss.flags & ZP_SS_AUTODISARM);
		/* A handler on an SS_AUTODISARM stack may set another: the
		 * kernel has it, but the handler still runs where it was, and
		 * the runtime's chunks must know (ENTER_RT_STACK); its return
		 * sets the old one again (zp_alt_sigreturn). */
		if (!(t->alt_size && sp - t->alt_lo < t->alt_size)) {
			t->alt_lo = ss.sp;
			t->alt_size = ss.size;
		}
	}
	return 0;
}

/* rt_sigreturn with the signal frame at S: the kernel sets the signal
 * stack saved in the frame again (unless the thread goes back onto the one
 * it has), so a handler's own sigaltstack lasts until it returns; the
 * thread block follows, or the runtime's chunks would take the stack the
 * handler ran on for another. */
void zp_alt_sigreturn(uintptr_t app_sp)
{
	struct zp_thread *t = zp_thread_self();
	const char *uc = (const char *)app_sp;
	uint64_t sp, flags, size, rsp;

	/* (safe loads, not zp_app_read: no system call on every handler's
	 * return; a bad frame is the kernel's to refuse) */
	if (zp_safe_read8(uc + __builtin_offsetof(struct ucontext, uc_stack.ss_sp), &sp) ||
	    zp_safe_read8(uc + __builtin_offsetof(struct ucontext, uc_stack.ss_flags), &flags) ||
	    zp_safe_read8(uc + __builtin_offsetof(struct ucontext, uc_stack.ss_size), &size) ||
	    zp_safe_read8(uc + __builtin_offsetof(struct ucontext, uc_mcontext.rsp), &rsp))
		return;
	struct zp_stack ss = { sp, (int)(uint32_t)flags, size };
	/* (The usual case: the same, or the same cut by zp_alt_cut for a
	 * signal delivered during a call from a handler on it.) */
	int disable = ss.flags & ZP_SS_DISABLE;
	if (disable ? !t->alt_size || t->alt_lo == t->rt_alt.sp
		    : ss.sp == t->alt_lo && ss.size <= t->alt_size &&
		      (t->alt_lo == t->rt_alt.sp || ss.sp == t->app_alt.sp))
		return;
	if (t->alt_size && rsp - t->alt_lo < t->alt_size &&
	    (t->alt_lo == t->rt_alt.sp || !(t->app_alt.flags & ZP_SS_AUTODISARM)))
		return;                 /* (back onto it: the kernel leaves it) */
	if (!disable && ss.size < 2048)
		return;                 /* (MINSIGSTKSZ: refused) */
	t->alt_cut = 0;
	if (disable) {
		t->app_alt.flags = ZP_SS_DISABLE;
		t->alt_size = 0;
	} else {
		t->app_alt = ss;
		t->app_alt.flags = (int)(ss.flags & ZP_SS_AUTODISARM);
		t->alt_lo = ss.sp;
		t->alt_size = ss.size;
	}
}

/*
 * A call from a handler on the signal stack is dispatched on the runtime
 * stack, and there the kernel takes the signal stack for unused: a signal
 * that arrives meanwhile (one the call sends itself, as Python's
 * faulthandler does to chain, or one that interrupts it) would get its
 * frame at the signal stack's top, over the handler that made the call.
 * So for the time of the dispatch the kernel's signal stack ends below that
 * handler (ALT_GAP below its stack pointer: the red zone, the return
 * address and what entry.S keeps there, down to S - 152): a nested handler
 * goes just below, where it would go natively.  The kernel refuses to
 * change the signal stack while on it, so this can only be done once on
 * the runtime stack: a signal in the few instructions before (or after
 * zp_alt_uncut, before the return) still finds the whole of it.
 * Returns the size to give back to zp_alt_uncut, 0 if nothing changed.
 * Not with SS_AUTODISARM: the kernel has then disarmed the signal stack
 * while the handler runs, and nested signals go below it already.
 */
#define ALT_GAP 256

uintptr_t zp_alt_cut(uintptr_t app_sp)
{
	struct zp_thread *t = zp_thread_self();
	uintptr_t now = t->alt_cut ? t->alt_cut : t->alt_size;

	if (!t->alt_size || app_sp - t->alt_lo >= now || app_sp - t->alt_lo <= ALT_GAP ||
	    (t->alt_lo != t->rt_alt.sp &&
	     ((t->app_alt.flags & ZP_SS_AUTODISARM) || t->app_alt.sp != t->alt_lo)))
		return 0;
	struct zp_stack ss = { t->alt_lo, 0, app_sp - ALT_GAP - t->alt_lo };
	if (zp_sys2(__NR_sigaltstack, (long)&ss, 0))
		return 0;
	t->alt_cut = ss.size;
	return now;
}

void zp_alt_uncut(uintptr_t size)
{
	struct zp_thread *t = zp_thread_self();

	if (!size || !t->alt_cut)
		return;                 /* (the application set another meanwhile) */
	struct zp_stack ss = { t->alt_lo, 0, size };
	zp_sys2(__NR_sigaltstack, (long)&ss, 0);
	t->alt_cut = size == t->alt_size ? 0 : size;
}

/* arch_prctl: the gs base is the runtime's (the block above).  A program
 * that reads it gets what it would natively until it sets one (0); one
 * that sets it is refused. */
long zp_arch_prctl_call(const struct zp_syscall *c)
{
	uint64_t zero = 0;

	switch (c->args[0]) {
	case ARCH_GET_GS:
		return zp_app_write((void *)c->args[1], &zero, sizeof zero);
	case ARCH_SET_GS:
		return -EPERM;
	default:
		return zp_sys2(__NR_arch_prctl, c->args[0], c->args[1]);
	}
}

long zp_on_stack(long (*fn)(void *), void *arg, uintptr_t top) ZP_HIDDEN;   /* onstack.S */

/* Run fn(arg) on this thread's runtime stack, from C code on another stack
 * (a signal handler): the chunks are taken as entry.S's ENTER_RT_STACK
 * takes them, which says why. */
long zp_run_on_stack(long (*fn)(void *), void *arg)
{
	struct zp_thread *t = zp_thread_self();
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

	if (sp - t->stack_lo < ZP_RT_STACK_SIZE)
		return fn(arg);         /* on it already */
	/* A handler on the signal stack stays there: off it, the kernel would
	 * take the signal stack for unused, and a nested handler's frame would
	 * go over ours. */
	if (sp - t->alt_lo < t->alt_size)
		return fn(arg);
	uintptr_t base = t->stack_hi;
	if (base - ZP_RT_CHUNK < t->stack_lo)
		return fn(arg);         /* no room left: where we are */
	t->stack_free = base - ZP_RT_CHUNK;
	long r = zp_on_stack(fn, arg, base);
	t->stack_free = base;
	return r;
}
