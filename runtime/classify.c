/*
 * classify.c - which calls entry.S must make itself.
 *
 * Most calls are made from C (dispatch.c) on the runtime stack.  A few
 * change the stack or the process in ways C code cannot follow, so entry.S
 * makes them with the application's own registers and stack pointer
 * (entry.S's header says how): rt_sigreturn, clone and clone3 with a new
 * stack, the vfork-like calls (vfork, clone/clone3 sharing memory without a
 * new stack), and a munmap of the stack the call was made on (a thread
 * freeing its own stack before it exits, as musl does).  The exit of a
 * thread is decided in dispatch.c (its block goes back to the pool).
 */
#include <asm/unistd.h>
#include <linux/sched.h>

#include "runtime.h"

#define CLONE3_MAX 4096  /* the kernel refuses larger struct clone_args (E2BIG) */
#define CLONE3_TOP 24    /* what zp_clone3_prepare puts on the child's stack */

static enum zp_act classify_clone3(const long *a)
{
	struct clone_args ca;
	size_t size = (size_t)a[1];

	/* Sizes the kernel refuses, or that do not fit our copy: let the
	 * kernel give its answer without a new stack involved. */
	if (size < CLONE_ARGS_SIZE_VER0 || size > CLONE3_MAX)
		return ZP_ACT_DONE;
	if (zp_app_read(&ca, (const void *)a[0], sizeof ca < size ? sizeof ca : size))
		return ZP_ACT_DONE;         /* the kernel will say EFAULT */
	if (ca.stack && ca.stack_size > CLONE3_TOP)
		return ZP_ACT_CLONE3_STACK;
	if (ca.stack)
		return ZP_ACT_DONE;         /* too small: the kernel decides */
	return (ca.flags & CLONE_VM) ? ZP_ACT_VFORK : ZP_ACT_DONE;
}

enum zp_act zp_classify(uintptr_t app_sp, long nr, const long *a)
{
	switch (nr) {
	case __NR_munmap: {         /* munmap(addr, len) of the stack under the call */
		uintptr_t lo = (uintptr_t)a[0], len = (uintptr_t)a[1];
		uintptr_t ret = app_sp - 8;   /* where the return address is */
		return ret >= lo && ret - lo < len ? ZP_ACT_NOSTACK : ZP_ACT_DONE;
	}
	case __NR_rt_sigreturn:
		return ZP_ACT_SIGRETURN;
	case __NR_vfork:
		return ZP_ACT_VFORK;
	case __NR_clone:            /* clone(flags, newsp, ptid, ctid, tls) */
		if (a[1])
			return ZP_ACT_CLONE_STACK;
		return (a[0] & CLONE_VM) ? ZP_ACT_VFORK : ZP_ACT_DONE;
	case __NR_clone3:           /* clone3(args, size) */
		return classify_clone3(a);
	default:
		return ZP_ACT_DONE;
	}
}
