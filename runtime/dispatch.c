/*
 * dispatch.c - what happens to a system call between zp_entry and the kernel.
 *
 * zp_entry (entry.S) saved the application's registers in a struct zp_frame
 * and calls zp_dispatch, which
 *   1. refuses calls that do not come from a patched site (a call through a
 *      NULL or small function pointer lands in the trampoline too, and must
 *      fault rather than make a system call);
 *   2. runs the hook's enter, which may answer the call or change it;
 *   3. classifies the call as the hook left it: the few that change the
 *      stack or the process in a way C code cannot follow (rt_sigreturn,
 *      clone with a new stack, vfork) are handed back to entry.S, which
 *      makes them itself with the application's registers, so these cannot
 *      be changed by the hook (one it changed, or changed into one of them,
 *      is refused with -EINVAL: hook.h);
 *   4. makes the others with the runtime's own `syscall` instruction, runs
 *      the hook's leave.
 * The hook only ever sees a copy of the arguments: the application gets its
 * registers back unchanged, as from the kernel.
 */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/sched.h>
#include <asm/signal.h>

#include "runtime.h"
#include "sys.h"
#include "xsave.h"

struct zp_hooks zp_hooks;

unsigned char zp_slow_nr[ZP_SLOW_NR_SIZE];

/* Which numbers entry.S passes straight to the kernel (0) and which come
 * here (1): the calls it makes itself, rt_sigaction (signals.c keeps
 * SIGSEGV), and with a hook every call.  The last entry also stands for
 * the numbers above the table. */
void zp_slow_nr_init(int hooked)
{
	for (int i = 0; i < ZP_SLOW_NR_SIZE; i++)
		zp_slow_nr[i] = (unsigned char)hooked;
	zp_slow_nr[__NR_rt_sigreturn] = 1;
	zp_slow_nr[__NR_clone] = 1;
	zp_slow_nr[__NR_clone3] = 1;
	zp_slow_nr[__NR_vfork] = 1;
	zp_slow_nr[__NR_rt_sigaction] = 1;
	zp_slow_nr[__NR_execve] = 1;       /* SIGSEGV's disposition across exec */
	zp_slow_nr[__NR_execveat] = 1;
	zp_slow_nr[__NR_munmap] = 1;       /* it may remove the stack under the call */
}

static struct zp_vfork_slot zp_vfork_slots[ZP_VFORK_SLOTS];

/* Stacks for an exit whose thread unmapped its own (rewriter/stub.c): room
 * for the entry frame, zp_dispatch, an XSAVE area of AVX-512 state (2696
 * bytes, aligned to 64) and the hook's budget (zp_abi.h). */
_Static_assert(ZP_EXIT_STACK_SIZE >= 224 + 112 + 2696 + 64 + ZP_HOOK_STACK_BUDGET,
	       "exit stacks too small for a hook that saves vector state");
__attribute__((used, aligned(16))) unsigned char zp_exit_stacks[ZP_EXIT_STACKS][ZP_EXIT_STACK_SIZE];
__attribute__((used)) uint64_t zp_exit_counter;

/* Read application memory without faulting on a bad pointer: the kernel
 * answers -EFAULT where a plain load would crash the process. */
static long read_app(void *dst, const void *src, size_t len)
{
	struct { const void *base; size_t len; } local = { dst, len }, remote = { src, len };
	long r = zp_sys6(__NR_process_vm_readv, zp_sys0(__NR_getpid), (long)&local, 1,
			 (long)&remote, 1, 0);
	return r == (long)len ? 0 : -EFAULT;
}

#define CLONE3_MAX 4096  /* the kernel refuses larger struct clone_args (E2BIG) */
#define CLONE3_TOP 24    /* what zp_clone3_prepare puts on the child's stack */

/* The application's stack pointer at the site: entry.S put the frame right
 * below its red zone (runtime.h, struct zp_frame). */
static uintptr_t site_sp(const struct zp_frame *f)
{
	return (uintptr_t)f + sizeof *f + 128;
}

/* What kind of call: `stack` is an address on the stack the call is made on
 * (to see whether a munmap removes it). */
static enum zp_act classify(uintptr_t stack, long nr, const long *a)
{
	switch (nr) {
	case __NR_munmap: {         /* munmap(addr, len) of the stack the call is on */
		uintptr_t lo = (uintptr_t)a[0], len = (uintptr_t)a[1];
		return stack >= lo && stack - lo < len ? ZP_ACT_NOSTACK : ZP_ACT_DONE;
	}
	case __NR_rt_sigreturn:
		return ZP_ACT_SIGRETURN;
	case __NR_vfork:
		return ZP_ACT_VFORK;
	case __NR_clone:            /* clone(flags, newsp, ptid, ctid, tls) */
		if (a[1])
			return ZP_ACT_CLONE_STACK;
		return (a[0] & CLONE_VM) ? ZP_ACT_VFORK : ZP_ACT_DONE;
	case __NR_clone3: {         /* clone3(args, size) */
		struct clone_args ca;
		size_t size = (size_t)a[1];
		/* Sizes the kernel refuses, or that do not fit our copy: let
		 * the kernel give its answer without a new stack involved. */
		if (size < CLONE_ARGS_SIZE_VER0 || size > CLONE3_MAX)
			return ZP_ACT_DONE;
		if (read_app(&ca, (const void *)a[0], sizeof ca < size ? sizeof ca : size))
			return ZP_ACT_DONE;         /* the kernel will say EFAULT */
		if (ca.stack && ca.stack_size > CLONE3_TOP)
			return ZP_ACT_CLONE3_STACK;
		if (ca.stack)
			return ZP_ACT_DONE;         /* too small: the kernel decides */
		return (ca.flags & CLONE_VM) ? ZP_ACT_VFORK : ZP_ACT_DONE;
	}
	default:
		return ZP_ACT_DONE;
	}
}

static long hook_enter(struct zp_syscall *c)
{
	if (!zp_hooks.xsave)
		return zp_hooks.enter(c);
	ZP_XSAVE_AREA(area);
	zp_xsave(area);
	long r = zp_hooks.enter(c);
	zp_xrstor(area);
	return r;
}

static long hook_leave(const struct zp_syscall *c, long result)
{
	if (!zp_hooks.xsave)
		return zp_hooks.leave(c, result);
	ZP_XSAVE_AREA(area);
	zp_xsave(area);
	long r = zp_hooks.leave(c, result);
	zp_xrstor(area);
	return r;
}

static void hook_exit(int status)
{
	if (!zp_hooks.xsave) {
		zp_hooks.exit(status);
		return;
	}
	ZP_XSAVE_AREA(area);
	zp_xsave(area);
	zp_hooks.exit(status);
	zp_xrstor(area);
}

static void frame_to_call(const struct zp_frame *f, struct zp_syscall *c)
{
	c->nr = f->nr;
	for (int i = 0; i < 6; i++)
		c->args[i] = f->args[i];
	c->site = f->site;
}

/* Did the hook change the call's number or arguments? */
static int changed(const struct zp_frame *f, const struct zp_syscall *c)
{
	if (c->nr != f->nr)
		return 1;
	for (int i = 0; i < 6; i++)
		if (c->args[i] != f->args[i])
			return 1;
	return 0;
}

struct zp_action zp_dispatch(struct zp_frame *f)
{
	struct zp_action a = { 0, ZP_ACT_DONE };
	struct zp_syscall c;

	/* entry.S (or signals.c) has checked that the call comes from a site. */
	frame_to_call(f, &c);
	if (zp_hooks.enter) {
		long r = hook_enter(&c);
		if (r != ZP_PASS) {
			a.result = r;
			return a;
		}
	}
	enum zp_act act = classify(site_sp(f) - 8 /* the return address */, c.nr, c.args);
	if (act != ZP_ACT_DONE) {
		/* entry.S makes the call, with the application's registers:
		 * one the hook changed cannot be made as it wants. */
		if (changed(f, &c))
			a.result = -EINVAL;
		else
			a.act = act;
		return a;
	}
	if (c.nr == __NR_exit_group && zp_hooks.exit)
		hook_exit((int)c.args[0]);
	a.result = zp_make_call(&c);
	/* The child of a fork returns here too (with 0): leave is for the parent. */
	int child = a.result == 0 && (c.nr == __NR_fork || c.nr == __NR_clone || c.nr == __NR_clone3);
	if (zp_hooks.leave && !child)
		a.result = hook_leave(&c, a.result);
	return a;
}

long zp_forward(const struct zp_syscall *c)
{
	/* The calls entry.S must make itself are handed back (hook.h). */
	if (classify((uintptr_t)__builtin_frame_address(0), c->nr, c->args) != ZP_ACT_DONE)
		return ZP_PASS;
	return zp_make_call(c);   /* with what the runtime keeps (SIGSEGV) */
}

/* A call that may make a child with its own copy of memory (fork, clone
 * without CLONE_VM and without a new stack: dispatch.c never makes the
 * others): in that child this memory has a new owner (lock.h).  Signals are
 * blocked around the call, so that no handler runs in the child before it
 * knows. */
static long fork_call(const struct zp_syscall *c, int own_memory)
{
	unsigned long all = ~0ul, mask = 0;

	if (!own_memory)
		return zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
	zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)&mask, sizeof all);
	long r = zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
	if (r == 0)
		__atomic_store_n(&zp_owner_pid, (int)zp_sys0(__NR_getpid), __ATOMIC_RELAXED);
	zp_sys4(__NR_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, sizeof mask);
	return r;
}

long zp_make_call(const struct zp_syscall *c)
{
	long r;
	uint64_t flags;

	switch (c->nr) {
	case __NR_fork:
		return fork_call(c, 1);
	case __NR_clone:
		return fork_call(c, !(c->args[0] & CLONE_VM));
	case __NR_clone3:
		return fork_call(c, !read_app(&flags, (const void *)c->args[0], sizeof flags) &&
				    !(flags & CLONE_VM));
	case __NR_rt_sigaction:
		if (c->args[0] == SIGSEGV)
			return zp_sigaction(c->args);   /* the runtime keeps SIGSEGV (signals.c) */
		break;
	case __NR_execve:
	case __NR_execveat: {
		int ignored = zp_signals_before_exec();
		r = zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
		zp_signals_after_exec(ignored);   /* it failed: this program goes on */
		return r;
	}
	}
	return zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
}

long zp_dispatch_leave(struct zp_frame *f, long result)
{
	struct zp_syscall c;

	if (!zp_hooks.leave)
		return result;
	frame_to_call(f, &c);
	return hook_leave(&c, result);
}

void *zp_clone3_prepare(struct zp_frame *f, void *buf, uintptr_t ret)
{
	struct clone_args *ca = buf;
	size_t size = (size_t)f->args[1];

	/* classify() checked the size and that the memory is readable. */
	if (read_app(buf, (const void *)f->args[0], size))
		return (void *)f->args[0];
	/* [top-24]: whether the child has its own memory (then it records its
	 * pid as the owner: zp_owner_pid), [top-16] = rdi, [top-8] = ret. */
	uint64_t top[3] = { !(ca->flags & CLONE_VM), (uint64_t)f->args[0], ret };
	uintptr_t sp = (uintptr_t)(ca->stack + ca->stack_size) - sizeof top;
	struct { void *base; size_t len; } local = { top, sizeof top }, remote = { (void *)sp, sizeof top };
	long w = zp_sys6(__NR_process_vm_writev, zp_sys0(__NR_getpid), (long)&local, 1,
			 (long)&remote, 1, 0);
	if (w != (long)sizeof top)
		return (void *)f->args[0];  /* bad stack: the child faults, as without us */
	ca->stack_size -= sizeof top;
	return buf;
}

void *zp_vfork_claim(struct zp_frame *f, uintptr_t ret, unsigned long app_rbx)
{
	for (;;) {
		for (int i = 0; i < ZP_VFORK_SLOTS; i++) {
			struct zp_vfork_slot *s = &zp_vfork_slots[i];
			if (__atomic_exchange_n(&s->busy, 1, __ATOMIC_ACQUIRE) == 0) {
				s->ret = ret;
				s->rbx = app_rbx;
				s->nr = f->nr;
				return s;
			}
		}
		/* 64 vforks in flight at once: wait for one to finish. */
		zp_sys0(__NR_sched_yield);
	}
}
