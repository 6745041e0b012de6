/*
 * dispatch.c - what happens to a system call between zp_entry and the kernel.
 *
 * zp_entry (entry.S) has checked that the call comes from a patched site,
 * saved the application's registers in a struct zp_frame on the thread's
 * runtime stack, and calls zp_dispatch, which
 *   1. runs the hook's enter, which may answer the call or change it;
 *   2. classifies the call as the hook left it (classify.c): the few that
 *      change the stack or the process in a way C code cannot follow are
 *      handed back to entry.S, which makes them itself with the
 *      application's registers, so these cannot be changed by the hook (one
 *      it changed, or changed into one of them, is refused with -EINVAL:
 *      hook.h);
 *   3. makes the others with the runtime's own `syscall` instruction
 *      (zp_make_call: the few the runtime keeps an eye on go to the module
 *      that keeps it), runs the hook's leave.
 * The hook only ever sees a copy of the arguments: the application gets its
 * registers back unchanged, as from the kernel.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/unistd.h>
#include <linux/sched.h>

#include "runtime.h"
#include "sys.h"

unsigned char zp_slow_nr[ZP_SLOW_NR_SIZE];

/* Which numbers entry.S passes straight to the kernel (0) and which come
 * here (1): the calls it makes itself, the ones the runtime keeps an eye on
 * (the kept signals' dispositions and, when some must stay unblocked, the
 * signal mask, ptrace and the calls that send signals; the signal stack,
 * for the runtime stack's chunks; the gs base; a thread's exit, for its
 * block; prctl, for Syscall User Dispatch), and with a hook every call. */
void zp_slow_nr_init(int hooked)
{
	static const short always[] = {
		__NR_rt_sigreturn, __NR_clone, __NR_clone3, __NR_vfork, __NR_fork,
		__NR_rt_sigaction, __NR_execve, __NR_execveat, __NR_munmap,
		__NR_sigaltstack, __NR_arch_prctl, __NR_exit, __NR_prctl,
	};
	static const short unblockable[] = {
		__NR_rt_sigprocmask, __NR_rt_sigsuspend, __NR_ppoll, __NR_pselect6,
		__NR_epoll_pwait, __NR_epoll_pwait2, __NR_io_pgetevents,
		__NR_ptrace, __NR_kill, __NR_tkill, __NR_tgkill, __NR_rt_sigqueueinfo,
		__NR_rt_tgsigqueueinfo,
	};

	for (int i = 0; i < ZP_SLOW_NR_SIZE; i++)
		zp_slow_nr[i] = (unsigned char)hooked;
	for (size_t i = 0; i < sizeof always / sizeof *always; i++)
		zp_slow_nr[always[i]] = 1;
	if (zp_unblockable)
		for (size_t i = 0; i < sizeof unblockable / sizeof *unblockable; i++)
			zp_slow_nr[unblockable[i]] = 1;
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

/* A call entry.S makes: what it needs prepared (a block for a new thread, a
 * slot for a call off the stack), or an error for the application. */
static struct zp_action special(struct zp_frame *f, enum zp_act act)
{
	struct zp_action a = { 0, act };
	struct zp_thread *self = zp_thread_self();

	if (act == ZP_ACT_CLONE_STACK || act == ZP_ACT_CLONE3_STACK) {
		uint64_t flags = (uint64_t)f->args[0];
		if (act == ZP_ACT_CLONE3_STACK)
			zp_app_read(&flags, (const void *)f->args[0], sizeof flags);
		struct zp_thread *t = zp_thread_new(flags);
		if (!t)
			return (struct zp_action){ -ENOMEM, ZP_ACT_DONE };
		self->pending_child = t;
		f->child = (uintptr_t)t;
	} else if (act == ZP_ACT_VFORK || act == ZP_ACT_NOSTACK) {
		struct zp_vfork_slot *s = zp_vfork_claim(f, act == ZP_ACT_VFORK);
		if (!s)
			return (struct zp_action){ -EAGAIN, ZP_ACT_DONE };
		f->child = (uintptr_t)s;
	} else if (act == ZP_ACT_SIGRETURN) {
		if (zp_unblockable)
			zp_sigmask_sigreturn(f->app_sp);
		zp_alt_sigreturn(f->app_sp);
	}
	return a;
}

/* The exit of one thread (not exit_group): a block from the pool goes back
 * to it as the thread ends (entry.S), with every signal blocked from here
 * on, so that no handler runs on a block another thread may have taken. */
static struct zp_action exit_thread(const struct zp_syscall *c)
{
	unsigned long all = ~0ul;

	if (!zp_thread_self()->pooled)
		return (struct zp_action){ zp_make_call(c), ZP_ACT_DONE };
	zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, sizeof all);
	return (struct zp_action){ c->args[0], ZP_ACT_EXIT_THREAD };
}

/* The frame of the call being dispatched stays in the thread block for the
 * whole call (zp_forward, zp_sigaltstack_call need the application's stack
 * pointer); a signal handler's call nests inside and puts it back. */
static struct zp_action dispatch(struct zp_frame *f)
{
	struct zp_action a = { 0, ZP_ACT_DONE };
	struct zp_syscall c;

	frame_to_call(f, &c);
	if (zp_hooks.enter) {
		long r = zp_hook_call_enter(&c);
		if (r != ZP_PASS) {
			a.result = r;
			return a;
		}
	}
	enum zp_act act = zp_classify(f->app_sp, c.nr, c.args);
	if (act != ZP_ACT_DONE) {
		/* entry.S makes the call, with the application's registers:
		 * one the hook changed cannot be made as it wants. */
		if (changed(f, &c))
			a.result = -EINVAL;
		else
			a = special(f, act);
		return a;
	}
	if (c.nr == __NR_exit_group && zp_hooks.exit)
		zp_hook_call_exit((int)c.args[0]);
	if (c.nr == __NR_exit)
		return exit_thread(&c);
	a.result = zp_make_call(&c);
	/* The child of a fork returns here too (with 0): leave is for the parent. */
	int child = a.result == 0 && (c.nr == __NR_fork || c.nr == __NR_clone || c.nr == __NR_clone3);
	if (zp_hooks.leave && !child)
		a.result = zp_hook_call_leave(&c, a.result);
	return a;
}

struct zp_action zp_dispatch(struct zp_frame *f)
{
	struct zp_thread *self = zp_thread_self();
	struct zp_frame *outer = self->frame;

	zp_net_rearm();
	/* From a handler on the signal stack (thread.c says why; tested here,
	 * as every hooked call passes by), but not for a handler's return
	 * without a hook, the commonest call there, which makes no blocking
	 * call before entry.S's rt_sigreturn. */
	uintptr_t alt = 0;
	if (self->alt_size && f->app_sp - self->alt_lo < self->alt_size &&
	    (f->nr != __NR_rt_sigreturn || zp_hooks.enter || zp_hooks.leave))
		alt = zp_alt_cut(f->app_sp);
	self->frame = f;
	struct zp_action a = dispatch(f);
	self->frame = outer;
	if (alt)
		zp_alt_uncut(alt);
	return a;
}

long zp_forward(const struct zp_syscall *c)
{
	struct zp_frame *f = zp_thread_self()->frame;

	/* The calls entry.S must make itself are handed back (hook.h). */
	if (c->nr == __NR_exit || zp_classify(f ? f->app_sp : 0, c->nr, c->args) != ZP_ACT_DONE)
		return ZP_PASS;
	return zp_make_call(c);
}

long zp_make_call(const struct zp_syscall *c)
{
	if (zp_unblockable) {
		long r = zp_sigmask_call(c);
		if (r != ZP_PASS)
			return r;
	}
	switch (c->nr) {
	case __NR_fork:
	case __NR_clone:
	case __NR_clone3:
		return zp_fork_call(c);
	case __NR_rt_sigaction:
		if (zp_kept_index((int)c->args[0]) >= 0)
			return zp_sigaction(c->args);   /* the runtime keeps it (sigaction.c) */
		return zp_sigaction_other(c->args);
	case __NR_prctl:
		return zp_prctl_call(c);
	case __NR_execve:
	case __NR_execveat:
		return zp_exec_call(c);
	case __NR_sigaltstack:
		return zp_sigaltstack_call(c);
	case __NR_arch_prctl:
		return zp_arch_prctl_call(c);
	case __NR_ptrace:
		return zp_ptrace_call(c);
	case __NR_kill:
	case __NR_tkill:
	case __NR_tgkill:
	case __NR_rt_sigqueueinfo:
	case __NR_rt_tgsigqueueinfo:
		zp_traceme_now();       /* (its tracer must see the signal: process.c) */
		break;
	}
	return zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
}

long zp_dispatch_leave(struct zp_frame *f, long result)
{
	struct zp_syscall c;

	if (f->nr == __NR_clone || f->nr == __NR_clone3 || f->nr == __NR_vfork)
		zp_clone_done(f, result);
	if (!zp_hooks.leave)
		return result;
	frame_to_call(f, &c);
	return zp_hook_call_leave(&c, result);
}
