/*
 * net.c - --complete: the system calls of code no rewriter saw; --vdso.
 *
 * A rewritten program hooks the `syscall` instructions that were in its
 * files.  Code written at run time (a JIT), a library loaded from outside a
 * bundle, the vDSO's fallbacks execute `syscall` directly.  With --complete
 * the runtime turns on Syscall User Dispatch (SUD, Linux >= 5.11) in every
 * thread: any `syscall` outside the allowed region raises SIGSYS, and the
 * handler here makes it the same hook call as a rewritten site's.  The
 * allowed region is the runtime's own code (one range: the owner's copy of
 * the runtime makes every system call the runtime makes; another rewritten
 * object's copy runs only its few start-up calls, which SUD then catches
 * like any other).  SUD is per thread and not inherited: it is turned on
 * again in each new thread and vfork child in its first instructions
 * (entry.S: NET_ON), and in each fork child (process.c).
 *
 * A caught call:
 *   - an ordinary one runs through the hook on the thread's runtime stack,
 *     as zp_dispatch would run it, and its result goes back in rax;
 *   - one that changes the stack or the process (rt_sigreturn, clone with a
 *     stack, vfork, a munmap of the stack under it, a thread's exit): if its
 *     site can be learned (below), the thread makes it again through the
 *     rewritten site, with the whole contract; else the hook's enter sees
 *     it, then the thread executes its own `syscall` again with dispatch
 *     allowed for it (the selector), so the kernel makes it as without the
 *     runtime; the selector blocks again at the thread's next call through
 *     the runtime's slow path (zp_net_rearm).  No leave for these.
 *   - then the site is learned: if its page is anonymous memory (a JIT's),
 *     the `syscall` is replaced in memory with `call *%rax`, so that the
 *     next calls take the rewritten path instead of a signal.  File-backed
 *     code is never written (W^X policies such as SELinux execmod forbid
 *     it; those are the systems the trap path is for).
 *
 * An application's own SIGSYS keeps working: a seccomp RET_TRAP filter's
 * SIGSYS (si_code SYS_SECCOMP) goes to its handler (sigaction.c keeps the
 * disposition); an application that turns SUD on itself (Wine) has it
 * emulated on top of the runtime's: its prctl is recorded, and a call from
 * outside its region while its selector blocks goes to its SIGSYS handler
 * as the kernel would send it.
 *
 * Not a security boundary: code can jump into the allowed region, or change
 * the selector byte.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/unistd.h>
#include <linux/auxvec.h>
#include <linux/mman.h>
#include <linux/sched.h>

#include "runtime.h"
#include "sys.h"

#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#define SELECTOR_ALLOW 0
#define SELECTOR_BLOCK 1
#define SYS_USER_DISPATCH 2     /* si_code of a SIGSYS from SUD */

int zp_complete;
uintptr_t zp_text_len;
uintptr_t zp_vdso_base;
extern const char zp_text_start[] ZP_HIDDEN, zp_text_end[] ZP_HIDDEN;

struct siginfo_sys {
	int si_signo, si_errno, si_code, pad;
	void *call_addr;
	int syscall;
	unsigned int arch;
};

long zp_net_enable(struct zp_thread *t)
{
	t->selector = SELECTOR_BLOCK;
	t->app_sud.on = 0;
	return zp_sys6(__NR_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
		       (long)zp_text_start, (long)zp_text_len, (long)&t->selector, 0);
}

void zp_net_start(void)
{
	zp_text_len = (uintptr_t)(zp_text_end - zp_text_start);
	if (zp_net_enable(zp_thread_self()))
		return;         /* no SUD here (Linux < 5.11): as without --complete */
	zp_complete = 1;
	zp_unblockable |= ZP_SIGBIT(SIGSYS);
	zp_sigsys_start();
}

void zp_net_rearm(void)
{
	if (zp_complete)
		zp_thread_self()->selector = SELECTOR_BLOCK;
}

/* ---- the application's own SUD --------------------------------------------- */

long zp_prctl_call(const struct zp_syscall *c)
{
	struct zp_app_sud *a = &zp_thread_self()->app_sud;

	if (!zp_complete || c->args[0] != PR_SET_SYSCALL_USER_DISPATCH)
		return zp_sys6(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
	if (c->args[1] == PR_SYS_DISPATCH_OFF) {
		if (c->args[2] || c->args[3] || c->args[4])
			return -EINVAL;
		a->on = 0;
		return 0;
	}
	if (c->args[1] != PR_SYS_DISPATCH_ON || !c->args[4] ||
	    (uintptr_t)c->args[2] + (uintptr_t)c->args[3] < (uintptr_t)c->args[2])
		return -EINVAL;
	a->on = 1;
	a->start = (uintptr_t)c->args[2];
	a->len = (uintptr_t)c->args[3];
	a->selector = (uintptr_t)c->args[4];
	return 0;
}

/* Would the application's own SUD have caught this call (at site + 2)? */
static int app_catches(const struct zp_thread *t, uintptr_t ret)
{
	const struct zp_app_sud *a = &t->app_sud;
	unsigned char sel;

	if (!a->on || ret - a->start < a->len)
		return 0;
	if (zp_app_read(&sel, (const void *)a->selector, 1))
		return 1;       /* the kernel would send SIGSYS for a bad selector too */
	return sel != SELECTOR_ALLOW;
}

/* ---- learning a site: `call *%rax` written over `syscall` ----------------- */

/* Is the mapping at addr anonymous (no file)?  From /proc/self/maps, read
 * once per site learned; -1 if it cannot be told. */
static int anonymous(uintptr_t addr, unsigned long *prot)
{
	char buf[4096];
	long fd = zp_sys4(__NR_openat, -100, (long)"/proc/self/maps", 0, 0);
	long n, have = 0, found = -1;

	if (zp_is_err(fd))
		return -1;
	while (found < 0 && (n = zp_sys3(__NR_read, fd, (long)buf + have, (long)sizeof buf - 1 - have)) > 0) {
		have += n;
		buf[have] = 0;
		char *line = buf, *nl;
		while (found < 0 && (nl = zp_strchr(line, '\n'))) {
			*nl = 0;
			const char *end;
			uintptr_t lo = (uintptr_t)zp_strtol(line, &end, 16);
			uintptr_t hi = (uintptr_t)zp_strtol(end + 1, &end, 16);
			if (addr >= lo && addr < hi) {
				/* "lo-hi perms offset dev inode path" */
				*prot = (end[1] == 'r' ? PROT_READ : 0) | (end[2] == 'w' ? PROT_WRITE : 0) |
					(end[3] == 'x' ? PROT_EXEC : 0);
				const char *p = end + 5;
				for (int field = 0; field < 4 && *p; field++) {   /* offset dev inode */
					while (*p && *p != ' ')
						p++;
					while (*p == ' ')
						p++;
				}
				found = *p == 0 || *p == '[';   /* no path, or [anon:...], [heap]... */
			}
			line = nl + 1;
		}
		have = (long)(buf + have - line);
		memmove(buf, line, (size_t)have);
	}
	zp_sys1(__NR_close, fd);
	return (int)found;
}

/* Sites that could not be written (file-backed, W^X): not tried again. */
#define REFUSED 64
static uintptr_t refused[REFUSED];
static unsigned refused_next;

static int was_refused(uintptr_t site)
{
	for (unsigned i = 0; i < REFUSED; i++)
		if (__atomic_load_n(&refused[i], __ATOMIC_RELAXED) == site)
			return 1;
	return 0;
}

/* Write `call *%rax` over the `syscall` at site, where that is allowed: 1
 * if the site is now a rewritten one. */
static int learn(uintptr_t site)
{
	uint64_t bytes;

	/* The two bytes must be one atomic store: not across 8 bytes. */
	if ((site & 7) == 7 || was_refused(site) || zp_safe_read8((const void *)(site & ~7ul), &bytes))
		return 0;
	if ((uint16_t)(bytes >> (8 * (site & 7))) != 0x050f)
		return 0;       /* not (any more) a syscall instruction */
	if (zp_sites_add_one(site))
		return 0;       /* known before it can be reached */
	long r = zp_safe_cmpxchg16((void *)site, 0x050f, 0xd0ff);
	if (r == -EFAULT) {
		unsigned long prot = 0;
		uintptr_t page = site & ~4095ul;
		if (anonymous(site, &prot) == 1 && (prot & PROT_EXEC) &&
		    !zp_sys3(__NR_mprotect, (long)page, 4096, (long)(prot | PROT_WRITE))) {
			r = zp_safe_cmpxchg16((void *)site, 0x050f, 0xd0ff);
			zp_sys3(__NR_mprotect, (long)page, 4096, (long)prot);
		}
	}
	if (r)
		refused[__atomic_fetch_add(&refused_next, 1, __ATOMIC_RELAXED) % REFUSED] = site;
	return r == 0;
}

/* ---- the handler ------------------------------------------------------------ */

/* An ordinary call, on the runtime stack: as zp_dispatch runs it. */
static long run_call(void *p)
{
	struct zp_syscall *c = p;

	if (zp_hooks.enter) {
		long nr = c->nr;
		long r = zp_hook_call_enter(c);
		if (r != ZP_PASS)
			return r;
		/* (a call changed into one that changes the stack is refused,
		 * as for a rewritten site: hook.h) */
		if (c->nr != nr && (c->nr == __NR_exit ||
				    zp_classify(0, c->nr, c->args) != ZP_ACT_DONE))
			return -EINVAL;
	}
	if (c->nr == __NR_exit_group && zp_hooks.exit)
		zp_hook_call_exit((int)c->args[0]);
	long r = zp_make_call(c);
	int child = r == 0 && (c->nr == __NR_fork || c->nr == __NR_clone || c->nr == __NR_clone3);
	if (zp_hooks.leave && !child)
		r = zp_hook_call_leave(c, r);
	return r;
}

/* The hook's enter for a call the thread then makes itself. */
static long enter_only(void *p)
{
	struct zp_syscall c = *(struct zp_syscall *)p;
	return zp_hooks.enter ? zp_hook_call_enter(&c) : ZP_PASS;
}

static int changes_stack(long nr, const long *a, uintptr_t sp)
{
	return nr == __NR_exit || zp_classify(sp + 8, nr, a) != ZP_ACT_DONE;
}

void zp_sigsys_handler(int sig, void *info, void *ucv)
{
	struct siginfo_sys *si = info;
	struct zp_ucontext *uc = ucv;
	struct sigcontext *sc = &uc->uc_mcontext;
	struct zp_thread *t = zp_thread_self();

	if (si->si_code != SYS_USER_DISPATCH || app_catches(t, sc->rip)) {
		zp_to_application(sig, info, ucv);   /* seccomp's, sent, or its own SUD's */
		return;
	}
	struct zp_syscall c = {
		.nr = si->syscall,
		.args = { (long)sc->rdi, (long)sc->rsi, (long)sc->rdx, (long)sc->r10, (long)sc->r8, (long)sc->r9 },
		.site = sc->rip - 2,
	};
	if (changes_stack(c.nr, c.args, sc->rsp)) {
		if (learn(c.site)) {
			/* Rewritten now: the thread makes it again through the
			 * runtime's entry, with the whole contract. */
			sc->rip -= 2;
			sc->rax = (unsigned long)c.nr;
			return;
		}
		long r = zp_run_on_stack(enter_only, &c);
		if (r != ZP_PASS) {
			sc->rax = (unsigned long)r;     /* answered by the hook */
		} else {
			t->selector = SELECTOR_ALLOW;   /* made by the thread itself */
			sc->rip -= 2;
			sc->rax = (unsigned long)c.nr;
		}
		return;
	}
	long r = zp_run_on_stack(run_call, &c);
	sc->rax = (unsigned long)r;
	sc->rcx = sc->rip;              /* as `syscall` leaves them */
	sc->r11 = sc->eflags;
	learn(c.site);
}

/* ---- --vdso --------------------------------------------------------------------- */

/* The C library (and Go) find the vDSO through AT_SYSINFO_EHDR; without it
 * they make real system calls for clock_gettime, gettimeofday, time and
 * getcpu, which the hook then sees.  The entry becomes AT_IGNORE; the
 * runtime keeps the address for its own clock (hookapi.c). */
void zp_vdso_hide(const unsigned long *auxv, int hide)
{
	for (unsigned long *a = (unsigned long *)auxv; a[0] != AT_NULL; a += 2)
		if (a[0] == AT_SYSINFO_EHDR) {
			zp_vdso_base = a[1];
			if (hide)
				a[0] = AT_IGNORE;
		}
}
