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
 * A child that shares its parent's memory (vfork, posix_spawn, CLONE_VM)
 * has dispositions of its own but the parent's app_segv: posix_spawn's
 * child sets SIGSEGV to SIG_DFL before its exec, which must not reset the
 * parent's handler.  Such a child (its pid is not zp_owner_pid) sets its
 * disposition for real and never writes app_segv; while its disposition is
 * still the runtime's handler, app_segv is what it inherited.
 *
 * Limits: a number that happens to point at mapped code runs that code (no
 * trampoline can help there); a process that blocks SIGSEGV gets killed by
 * such a call, as the kernel delivers synchronous faults regardless; and a
 * SIGSEGV sent (kill) while the application ignores it is dropped by the
 * runtime's handler, not by the kernel, so it may interrupt a system call
 * (EINTR) as a handled signal does.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/unistd.h>

#include "lock.h"
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
static uint64_t app_segv_lock;

void zp_restore_rt(void) ZP_HIDDEN;   /* entry.S: rt_sigreturn for our handler */

struct ucontext_min {
	unsigned long uc_flags;
	void *uc_link;
	struct { void *sp; int flags; unsigned long size; } uc_stack;
	struct sigcontext uc_mcontext;
};

static void on_segv(int sig, void *info, void *ucv);

static long install(void *handler, unsigned long flags, unsigned long mask)
{
	struct ksigaction ka = { handler, flags | ZP_SA_RESTORER, zp_restore_rt, mask };
	return zp_sys4(__NR_rt_sigaction, SIGSEGV, (long)&ka, 0, 8);
}

/* The application's disposition for SIGSEGV as the kernel gets it: always
 * the runtime's handler first, with the application's mask and flags
 * (alternate stack, restart, nodefer). */
static long install_for(const struct ksigaction *app)
{
	unsigned long fl = (app->flags & (SA_ONSTACK | SA_RESTART | SA_NODEFER)) | SA_SIGINFO;
	return install(on_segv, fl, app->mask);
}

/* Read 8 bytes of the application's stack without faulting again. */
static int peek8(uintptr_t addr, uintptr_t *out)
{
	struct { void *base; size_t len; } local = { out, 8 }, remote = { (void *)addr, 8 };
	return zp_sys6(__NR_process_vm_readv, zp_sys0(__NR_getpid), (long)&local, 1,
		       (long)&remote, 1, 0) == 8 ? 0 : -1;
}

/* Finish the call of a patched site as the system call it was: `ret` is
 * the address after the site. */
static int finish_call(struct sigcontext *sc, uintptr_t ret)
{
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
	sc->rip = ret;
	return 1;
}

/* A fault from `call *%rax` at a patched site: finish it as the system call.
 * Either the call jumped to an unmapped rax (the fault is at the target, the
 * return address was pushed), or rax was not canonical (the call itself
 * faults, nothing pushed). */
static int finish_bad_number(struct sigcontext *sc)
{
	uintptr_t ret;

	if (sc->rip == sc->rax && !peek8(sc->rsp, &ret) && zp_site_known(ret - 2)) {
		sc->rsp += 8;       /* pop the call's return address */
		return finish_call(sc, ret);
	}
	/* (The cheap test first: this handler may run on a small signal stack
	 * after a stack overflow, with no room for looking up new objects.) */
	uint64_t hi = sc->rax >> 47;
	if (sc->rip != sc->rax && hi != 0 && hi != 0x1ffff && zp_site_known(sc->rip))
		return finish_call(sc, sc->rip + 2);   /* rax not canonical */
	return 0;
}

/* Does this process share its memory with the parent that owns it? */
static int shares_memory(void)
{
	return (int)zp_sys0(__NR_getpid) != __atomic_load_n(&zp_owner_pid, __ATOMIC_RELAXED);
}

/* Where entry.S makes a call from outside any site fault (zp_entry_fault). */
void zp_entry_fault(void) ZP_HIDDEN;

#define ZP_SI_KERNEL 0x80
#define ZP_SEGV_MAPERR 1
#define ZP_SEGV_PKUERR 4

struct siginfo_min {
	int si_signo, si_errno, si_code, pad;
	void *si_addr;
};

/* Make a fault the runtime caused or shaped look as it would without it:
 * a call through a bad pointer faults at the pointer, with the return
 * address pushed (entry.S stops just before that with the registers as the
 * call left them); an access to the execute-only trampoline pages is a
 * mapping error, as for the unmapped page they stand for. */
static void make_native(struct siginfo_min *si, struct sigcontext *sc)
{
	if (si->si_code == ZP_SI_KERNEL && sc->rip == (uintptr_t)zp_entry_fault) {
		sc->rip = sc->rax;
		si->si_code = ZP_SEGV_MAPERR;
		si->si_addr = (void *)sc->rax;
	} else if (si->si_code == ZP_SEGV_PKUERR && zp_trampoline_contains((uintptr_t)si->si_addr)) {
		si->si_code = ZP_SEGV_MAPERR;
	}
}

/* A SIGSEGV sent with kill, tgkill or sigqueue (SI_USER, SI_TKILL,
 * SI_QUEUE...: si_code <= 0) while SIGSEGV is at its default action: the
 * default action now, as the kernel would take it.  Unlike a fault it does
 * not happen again by itself, so send it again, to this thread, and let it
 * in. */
static void resend_default(void)
{
	unsigned long segv = 1ul << (SIGSEGV - 1);

	zp_sys3(__NR_tgkill, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), SIGSEGV);
	zp_sys4(__NR_rt_sigprocmask, SIG_UNBLOCK, (long)&segv, 0, sizeof segv);
}

static void on_segv(int sig, void *info, void *ucv)
{
	struct ucontext_min *uc = ucv;
	int sent = ((struct siginfo_min *)info)->si_code <= 0;   /* not a fault */

	if (!sent && finish_bad_number(&uc->uc_mcontext))
		return;
	/* (No SIGSEGV can come from inside the lock: lock.h.) */
	int shared = shares_memory();
	unsigned long mask = zp_lock(&app_segv_lock);
	struct ksigaction app = app_segv;
	if ((app.flags & SA_RESETHAND) && shared) {
		install((void *)SIG_DFL, 0, 0);       /* the child's own, from now on */
	} else if (app.flags & SA_RESETHAND) {
		app_segv.handler = (void *)SIG_DFL;   /* called once, as asked */
		app_segv.flags = 0;
	}
	int ign = app.handler == (void *)SIG_IGN;
	int dfl = app.handler == (void *)SIG_DFL || (ign && !sent);
	if (dfl) {
		/* The default action: let the fault happen again without us
		 * (a fault cannot be ignored; the kernel kills either way). */
		install((void *)SIG_DFL, 0, 0);
	}
	zp_unlock(&app_segv_lock, mask);
	if (dfl && sent)
		resend_default();
	if (dfl || ign)
		return;   /* (ignored and sent: gone, the runtime's handler stays) */
	make_native(info, &uc->uc_mcontext);
	if (app.flags & SA_SIGINFO)
		((void (*)(int, void *, void *))app.handler)(sig, info, ucv);
	else
		((void (*)(int))app.handler)(sig);
}

/* Around execve: an ignored SIGSEGV stays ignored in the new program, as
 * the kernel would keep it (a handler does not survive exec, SIG_IGN does):
 * set it for real if app_segv says SIG_IGN while the runtime's handler
 * stands for it.  (A child sharing its parent's memory that set its own
 * disposition has it in the kernel already.)  1 if it was set. */
int zp_signals_before_exec(void)
{
	struct ksigaction cur;
	int ignored = 0;

	unsigned long mask = zp_lock(&app_segv_lock);
	if (app_segv.handler == (void *)SIG_IGN &&
	    zp_sys4(__NR_rt_sigaction, SIGSEGV, 0, (long)&cur, 8) == 0 && cur.handler == (void *)on_segv)
		ignored = install((void *)SIG_IGN, 0, 0) == 0;
	zp_unlock(&app_segv_lock, mask);
	return ignored;
}

/* The exec failed: the runtime's handler again, unless the application
 * changed SIGSEGV meanwhile (another thread). */
void zp_signals_after_exec(int ignored)
{
	if (!ignored)
		return;
	unsigned long mask = zp_lock(&app_segv_lock);
	if (app_segv.handler == (void *)SIG_IGN)
		install(on_segv, SA_SIGINFO | SA_ONSTACK | SA_NODEFER, 0);
	zp_unlock(&app_segv_lock, mask);
}

void zp_signals_init(void)
{
	/* Start from what the program inherited (SIG_IGN survives exec). */
	struct ksigaction ka = { (void *)on_segv, SA_SIGINFO | SA_ONSTACK | SA_NODEFER | ZP_SA_RESTORER,
				 zp_restore_rt, 0 }, old;
	if (zp_sys4(__NR_rt_sigaction, SIGSEGV, (long)&ka, (long)&old, 8) == 0 &&
	    old.handler == (void *)SIG_IGN)
		app_segv.handler = (void *)SIG_IGN;
}

static long write_old(struct ksigaction *old, const struct ksigaction *prev)
{
	struct { const void *base; size_t len; } local = { prev, sizeof *prev }, remote = { old, sizeof *prev };
	if (old && zp_sys6(__NR_process_vm_writev, zp_sys0(__NR_getpid), (long)&local, 1,
			   (long)&remote, 1, 0) != (long)sizeof *prev)
		return -EFAULT;
	return 0;
}

/* rt_sigaction(SIGSEGV) in a child that shares its parent's memory: the
 * kernel's disposition is the child's own and changes as asked; app_segv,
 * the parent's, is only read, as what the child inherited while the
 * runtime's handler is still its disposition.  (From then on, a system call
 * number that faults is no longer finished as a call in this child.) */
static long sigaction_shared(const struct ksigaction *act, struct ksigaction *old)
{
	struct ksigaction prev;
	long r = zp_sys4(__NR_rt_sigaction, SIGSEGV, (long)act, (long)&prev, 8);
	if (r)
		return r;
	if (prev.handler == (void *)on_segv) {
		unsigned long mask = zp_lock(&app_segv_lock);
		prev = app_segv;
		zp_unlock(&app_segv_lock, mask);
	}
	return write_old(old, &prev);
}

/* rt_sigaction(SIGSEGV, act, oldact, size) from the application. */
long zp_sigaction(const long *args)
{
	const struct ksigaction *act = (const void *)args[1];
	struct ksigaction *old = (void *)args[2];
	struct ksigaction nw;

	if (args[3] != 8)
		return -EINVAL;
	if (shares_memory())
		return sigaction_shared(act, old);
	if (act) {
		struct { void *base; size_t len; } local = { &nw, sizeof nw }, remote = { (void *)act, sizeof nw };
		if (zp_sys6(__NR_process_vm_readv, zp_sys0(__NR_getpid), (long)&local, 1,
			    (long)&remote, 1, 0) != (long)sizeof nw)
			return -EFAULT;
	}
	/* The kernel's disposition changes under the lock too, so that two
	 * threads cannot leave it and app_segv disagreeing. */
	unsigned long mask = zp_lock(&app_segv_lock);
	struct ksigaction prev = app_segv;
	if (act) {
		app_segv = nw;
		install_for(&nw);
	}
	zp_unlock(&app_segv_lock, mask);
	return write_old(old, &prev);
}
