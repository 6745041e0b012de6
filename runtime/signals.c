/*
 * signals.c - system call numbers that land outside the trampoline.
 *
 * `call *%rax` goes wherever rax points.  Numbers 0..8187 land in the
 * trampoline; a negative number, one with the x32 bit (0x40000000), or any
 * other large one jumps to an address that is normally not mapped and faults
 * (SIGSEGV, with the instruction pointer at the target).  The kernel would
 * simply have answered such a call (-ENOSYS, or an x32 system call), so the
 * runtime keeps a SIGSEGV handler: a fault whose address is rax and whose
 * return address follows a patched site is finished as the system call it
 * was (through zp_dispatch, so the hook sees it too), and execution resumes
 * after the site.  Every other SIGSEGV goes to the application's own
 * handler, which the runtime keeps on the application's behalf: its
 * rt_sigaction calls for SIGSEGV are answered here (zp_sigaction), so it sees
 * exactly what it set.
 *
 * Limits: a number that happens to point at mapped code runs that code (no
 * trampoline can help there); a process that blocks SIGSEGV gets killed by
 * such a call, as the kernel delivers synchronous faults regardless.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/unistd.h>

#include "runtime.h"
#include "sys.h"

/* The kernel's struct sigaction for rt_sigaction on x86-64. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

#define ZP_SA_RESTORER 0x04000000

/* What the application asked for SIGSEGV (SIG_DFL until it asks). */
static struct ksigaction app_segv;
static int app_segv_lock;

void zp_restore_rt(void) ZP_HIDDEN;   /* entry.S: rt_sigreturn for our handler */

struct ucontext_min {
	unsigned long uc_flags;
	void *uc_link;
	struct { void *sp; int flags; unsigned long size; } uc_stack;
	struct sigcontext uc_mcontext;
};

static long install(void *handler, unsigned long flags, unsigned long mask)
{
	struct ksigaction ka = { handler, flags | ZP_SA_RESTORER, zp_restore_rt, mask };
	return zp_sys4(__NR_rt_sigaction, SIGSEGV, (long)&ka, 0, 8);
}

static void lock(void)
{
	while (__atomic_exchange_n(&app_segv_lock, 1, __ATOMIC_ACQUIRE))
		zp_sys0(__NR_sched_yield);
}

static void unlock(void)
{
	__atomic_store_n(&app_segv_lock, 0, __ATOMIC_RELEASE);
}

/* Read 8 bytes of the application's stack without faulting again. */
static int peek8(uintptr_t addr, uintptr_t *out)
{
	struct { void *base; size_t len; } local = { out, 8 }, remote = { (void *)addr, 8 };
	return zp_sys6(__NR_process_vm_readv, zp_sys0(__NR_getpid), (long)&local, 1,
		       (long)&remote, 1, 0) == 8 ? 0 : -1;
}

/* A fault from `call *%rax` at a patched site: finish it as the system call. */
static int finish_bad_number(struct sigcontext *sc)
{
	uintptr_t ret;

	if (sc->rip != sc->rax || peek8(sc->rsp, &ret) || !zp_site_known(ret - 2))
		return 0;
	struct zp_frame f = {
		.nr = (long)sc->rax,
		.args = { (long)sc->rdi, (long)sc->rsi, (long)sc->rdx, (long)sc->r10, (long)sc->r8, (long)sc->r9 },
		.site = ret - 2,
		.flags = sc->eflags,
	};
	struct zp_action a = zp_dispatch(&f);
	if (a.act != ZP_ACT_DONE)
		return 0;   /* cannot happen for these numbers; let it fault */
	sc->rax = (unsigned long)a.result;
	sc->rcx = ret;              /* as `syscall` leaves them */
	sc->r11 = sc->eflags;
	sc->rsp += 8;               /* pop the call's return address */
	sc->rip = ret;
	return 1;
}

static void on_segv(int sig, void *info, void *ucv)
{
	struct ucontext_min *uc = ucv;

	if (finish_bad_number(&uc->uc_mcontext))
		return;
	lock();
	struct ksigaction app = app_segv;
	if (app.flags & SA_RESETHAND) {
		app_segv.handler = (void *)SIG_DFL;   /* called once, as asked */
		app_segv.flags = 0;
	}
	unlock();
	if (app.handler == (void *)SIG_DFL || app.handler == (void *)SIG_IGN) {
		/* The default action: let the fault happen again without us
		 * (a fault cannot be ignored; the kernel kills either way). */
		install((void *)SIG_DFL, 0, 0);
		return;
	}
	if (app.flags & SA_SIGINFO)
		((void (*)(int, void *, void *))app.handler)(sig, info, ucv);
	else
		((void (*)(int))app.handler)(sig);
}

void zp_signals_init(void)
{
	install(on_segv, SA_SIGINFO | SA_ONSTACK | SA_NODEFER, 0);
}

/* rt_sigaction(SIGSEGV, act, oldact, size) from the application. */
long zp_sigaction(const long *args)
{
	const struct ksigaction *act = (const void *)args[1];
	struct ksigaction *old = (void *)args[2];
	struct ksigaction nw;

	if (args[3] != 8)
		return -EINVAL;
	if (act) {
		struct { void *base; size_t len; } local = { &nw, sizeof nw }, remote = { (void *)act, sizeof nw };
		if (zp_sys6(__NR_process_vm_readv, zp_sys0(__NR_getpid), (long)&local, 1,
			    (long)&remote, 1, 0) != (long)sizeof nw)
			return -EFAULT;
	}
	lock();
	struct ksigaction prev = app_segv;
	if (act)
		app_segv = nw;
	unlock();
	if (old) {
		struct { void *base; size_t len; } local = { &prev, sizeof prev }, remote = { old, sizeof prev };
		if (zp_sys6(__NR_process_vm_writev, zp_sys0(__NR_getpid), (long)&local, 1,
			    (long)&remote, 1, 0) != (long)sizeof prev)
			return -EFAULT;
	}
	if (act) {
		/* Deliver with the application's mask and flags (alternate
		 * stack, restart, nodefer), always to our handler first. */
		unsigned long fl = (nw.flags & (SA_ONSTACK | SA_RESTART | SA_NODEFER)) | SA_SIGINFO;
		install(on_segv, fl, nw.mask);
	}
	return 0;
}
