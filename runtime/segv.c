/*
 * segv.c - the runtime's SIGSEGV handler: the trap path, and faults made
 * to look as they would without the runtime.
 *
 * `call *%rax` goes wherever rax points.  With page 0 mapped, numbers
 * 0..8187 land in the trampoline; without it (the trap path: no permission
 * for page 0, or the policy says so), every number jumps to an unmapped
 * address and faults with rip = rax and the return address pushed; so do
 * numbers beyond the trampoline (negative, x32, large) on either path, and
 * a rax that is not a canonical address faults at the call itself, before
 * the push.  Such a fault, when the return address follows a patched site,
 * is a system call: the handler resumes the thread at zp_entry with the
 * registers of the call, as if the trampoline had taken it there, and
 * returns; from there everything is as on the page-0 path (entry.S).  No
 * code is written at run time, and no system call is made here for it
 * (safemem.S reads the return address), so the path costs one fault and one
 * rt_sigreturn more than page 0.
 *
 * Every other SIGSEGV is the application's.  It goes to the disposition the
 * application set (sigaction.c) with the siginfo and registers the kernel
 * would have given without the runtime (make_native): a call from outside
 * any site that entry.S made fault, or an access to the runtime's pages at
 * low addresses, is a mapping error at the address, as for the unmapped
 * memory they stand for.  At the default action, or when the fault cannot
 * be delivered (ignored, or blocked on the trap path), the process dies of
 * that same signal, at the faulting instruction (die_natively).
 */
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/unistd.h>

#include "runtime.h"
#include "sys.h"

#define ZP_SI_KERNEL 0x80
#define ZP_SEGV_MAPERR 1

/* What the handler reads and changes of the kernel's siginfo and
 * ucontext (asm/siginfo.h's layout, without the libc types). */
struct siginfo_min {
	int si_signo, si_errno, si_code, pad;
	void *si_addr;
};

/* Page-fault error code bits (the kernel's X86_PF_*), for sigcontext.err. */
#define PF_WRITE 0x2
#define PF_USER  0x4
#define PF_INSTR 0x10

/* A fault from `call *%rax` at a patched site: on to zp_entry. */
static int to_entry(struct sigcontext *sc)
{
	uint64_t ret;

	if (sc->rip == sc->rax) {
		/* The call jumped to an unmapped rax and pushed its return
		 * address (a `jmp *%rax` did not, and finds no site there). */
		if (zp_safe_read8((const void *)sc->rsp, &ret) || !zp_site_known(ret - 2))
			return 0;
		sc->rip = (uintptr_t)zp_entry;
		return 1;
	}
	/* rax not canonical: the call itself faulted, nothing was pushed.
	 * (The cheap test first: this handler may run on a small signal stack
	 * after a stack overflow, with no room for looking up new objects.) */
	uint64_t hi = sc->rax >> 47;
	if (hi == 0 || hi == 0x1ffff || !zp_site_known(sc->rip))
		return 0;
	if (zp_safe_write8((void *)(sc->rsp - 8), sc->rip + 2))
		return 0;
	sc->rsp -= 8;
	sc->rip = (uintptr_t)zp_entry;
	return 1;
}

/* The fault as it would be without the runtime: a call that entry.S made
 * fault (zp_entry_fault) faults at its target, with the return address
 * pushed; the runtime's pages at low addresses stand for unmapped memory. */
static void make_native(struct siginfo_min *si, struct sigcontext *sc)
{
	if (si->si_code == ZP_SI_KERNEL && sc->rip == (uintptr_t)zp_entry_fault) {
		sc->rip = sc->rax;
		si->si_code = ZP_SEGV_MAPERR;
		si->si_addr = (void *)sc->rax;
		sc->trapno = 14;                        /* a page fault ... */
		sc->err = PF_USER | PF_INSTR;           /* ... fetching code, not present */
		sc->cr2 = sc->rax;
	} else if (si->si_code > 0 && zp_trampoline_contains((uintptr_t)si->si_addr)) {
		si->si_code = ZP_SEGV_MAPERR;           /* not ACCERR, nor PKUERR */
		sc->err &= PF_WRITE | PF_USER | PF_INSTR;   /* not present, no key */
	}
}

/* Die of this signal as without the runtime: the default action, taken by
 * the kernel with the native registers and siginfo.  The signal is queued
 * to this thread while it is blocked; returning from the handler puts the
 * context back (uc) with the signal unblocked, and the kernel delivers it
 * at once, at the faulting instruction: the core dump shows the fault. */
static void die_natively(int sig, struct siginfo_min *si, struct zp_ucontext *uc)
{
	uint64_t bit = ZP_SIGBIT(sig);

	zp_install(sig, (void *)SIG_DFL, 0, 0);
	zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, (long)&bit, 0, 8);
	zp_sys4(__NR_rt_tgsigqueueinfo, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), sig, (long)si);
	uc->uc_sigmask &= ~bit;
}

/* Call the application's handler as the kernel would have: a signal the
 * kernel must not block (sigmask.c) is blocked virtually while it runs,
 * with those of its sa_mask. */
static void call_handler(const struct zp_ksigaction *app, int sig, void *info, void *ucv)
{
	struct zp_thread *t = zp_thread_self();
	uint64_t was = t->vblocked;

	uint64_t blocked = ((struct zp_ucontext *)ucv)->uc_sigmask | app->mask |
			   ((app->flags & SA_NODEFER) ? 0 : ZP_SIGBIT(sig));
	t->vblocked |= blocked & zp_unblockable;
	/* The mask the kernel would have set for it (the runtime's handler
	 * may run with more blocked: sigaction.c). */
	if (sig == SIGSEGV && (zp_unblockable & ZP_SIGBIT(SIGSEGV))) {
		uint64_t m = zp_sigmask_strip(blocked);
		zp_sys4(__NR_rt_sigprocmask, SIG_SETMASK, (long)&m, 0, 8);
	}
	if (app->flags & SA_SIGINFO)
		((void (*)(int, void *, void *))app->handler)(sig, info, ucv);
	else
		((void (*)(int))app->handler)(sig);
	t->vblocked = was;
	/* Return through the application's restorer, as after a handler the
	 * kernel called: its rt_sigreturn is the application's call (a hook
	 * sees it, strace counts it), not the runtime's.  The frame's first
	 * word (pretcode) is the return address of this handler. */
	if (app->flags & ZP_SA_RESTORER)
		((void **)ucv)[-1] = (void *)app->restorer;
}

void zp_to_application(int sig, void *info, void *ucv)
{
	struct siginfo_min *si = info;
	struct zp_ucontext *uc = ucv;
	struct zp_thread *t = zp_thread_self();
	int fault = si->si_code > 0;    /* not sent with kill, tgkill, sigqueue... */
	int blocked = !!(t->vblocked & ZP_SIGBIT(sig));
	struct zp_ksigaction app;

	if (!fault && blocked) {
		/* Delivered when unblocked (sigmask.c), with its siginfo. */
		zp_memcpy(t->sent_info, si, sizeof t->sent_info);
		t->sent_pending = sig;
		return;
	}
	zp_kept_disposition(sig, &app);
	if (sig == SIGSEGV)
		make_native(si, &uc->uc_mcontext);
	if (app.handler == (void *)SIG_IGN && !fault)
		return;                 /* ignored and sent: gone */
	/* A fault cannot be ignored nor blocked: the kernel kills. */
	if (app.handler == (void *)SIG_DFL || app.handler == (void *)SIG_IGN || blocked) {
		die_natively(sig, si, uc);
		return;
	}
	call_handler(&app, sig, si, uc);
}

void zp_segv_handler(int sig, void *info, void *ucv)
{
	struct siginfo_min *si = info;
	struct zp_ucontext *uc = ucv;
	struct sigcontext *sc = &uc->uc_mcontext;

	if (sc->rip == (uintptr_t)zp_safe_read8_insn || sc->rip == (uintptr_t)zp_safe_write8_insn ||
	    sc->rip == (uintptr_t)zp_safe_cmpxchg16_insn) {
		sc->rip = (uintptr_t)zp_safe_fixup;    /* safemem.S: -EFAULT */
		return;
	}
	if (si->si_code > 0 && to_entry(sc))
		return;
	zp_to_application(sig, si, uc);
}
