/*
 * init.c - zp_init: everything a rewritten program needs before its own code.
 *
 * Called once by zp_start (start.S) on the process's initial stack, before the
 * program's entry point.  In order:
 *   1. find this object's descriptor (struct zp_desc, written by the rewriter)
 *      and the load bias;
 *   2. claim the process (trampoline.c); if another rewritten object did
 *      already (the dynamic loader of a bundle), it runs the show: return;
 *   3. the first thread's block and runtime stack (thread.c), the runtime's
 *      SIGSEGV handler (sigaction.c, segv.c);
 *   4. choose the path by the policy (zp_abi.h; ZP_PAGE0 overrides it): map
 *      the trampoline at address 0, or take the trap path; under `require`,
 *      if page 0 cannot be had, say why and how to fix it, and exit with
 *      status 127 before any of the program's code runs;
 *   5. register this object's sites, so that entry.S accepts calls from them;
 *   6. start the embedded hook, if any: apply its relocations, call its init.
 * Nothing here may make a system call through a patched site (there is none in
 * the runtime), and nothing may need relocations.
 */
#include <asm/errno.h>
#include <asm/signal.h>
#include <asm/unistd.h>
#include <linux/auxvec.h>

#include "runtime.h"
#include "sys.h"

/* The program's original entry point, where zp_start jumps after zp_init. */
uintptr_t zp_orig_entry;

int zp_owner_pid;

/* Distance from this variable to the object's struct zp_desc.  The rewriter
 * writes it into each copy of the runtime; volatile, because the value the
 * compiler sees is only a placeholder. */
__attribute__((used))
const volatile int64_t zp_desc_offset = 0;

/* For zp_getenv and messages. */
char **zp_environ;
const char *zp_progname;   /* argv[0], set first thing */

void zp_start(void) ZP_HIDDEN;

/* Read a small /proc file into buf (NUL-terminated, trailing newline cut). */
static int read_small_file(const char *path, char *buf, size_t size)
{
	long fd = zp_sys4(__NR_openat, -100 /* AT_FDCWD */, (long)path, 0 /* O_RDONLY */, 0);
	if (zp_is_err(fd))
		return -1;
	long n = zp_sys3(__NR_read, fd, (long)buf, (long)size - 1);
	zp_sys1(__NR_close, fd);
	if (n <= 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return 0;
}

static ZP_NORETURN void trampoline_failed(struct zp_tramp_result r)
{
	char min[32];

	switch (r.status) {
	case ZP_TRAMP_PAGE0_DENIED:
		if (r.err == -EPERM) {
			if (read_small_file("/proc/sys/vm/mmap_min_addr", min, sizeof min))
				zp_snprintf(min, sizeof min, "above 0");
			zp_msg("cannot map the system-call trampoline at address 0 "
			       "(page-0 policy 'require'): vm.mmap_min_addr is %s and the "
			       "process lacks CAP_SYS_RAWIO; run 'sysctl -w vm.mmap_min_addr=0' "
			       "as root, give the program the capability (setcap "
			       "cap_sys_rawio+ep %s), or run it with ZP_PAGE0=auto",
			       min, zp_progname);
		} else {
			zp_msg("cannot map the system-call trampoline at address 0 "
			       "(page-0 policy 'require'): denied by a security module (%s); "
			       "with SELinux, run 'setsebool -P mmap_low_allowed 1', or run "
			       "the program with ZP_PAGE0=auto",
			       zp_errno_name(-r.err));
		}
		break;
	case ZP_TRAMP_PAGE0_TAKEN:
		zp_msg("cannot map the system-call trampoline: address 0 is already "
		       "mapped (by personality(MMAP_PAGE_ZERO) or a program that maps "
		       "page 0 itself); run the program without it, or with ZP_PAGE0=auto");
		break;
	default:
		zp_msg("cannot set up the system-call trampoline: %s (%s)",
		       zp_errno_text(-r.err), zp_errno_name(-r.err));
		break;
	}
	zp_fatal_exit(127);
}

static void start_hook(const struct zp_desc *d, uintptr_t bias, struct zp_process *p)
{
	const struct zp_reloc *rel = (const struct zp_reloc *)(d->hook_relocs_vaddr + bias);

	for (uint32_t i = 0; i < d->hook_nrelocs; i++)
		*(uint64_t *)(rel[i].where + bias) = rel[i].value + bias;

#define HOOK_FN(field) (d->field ? (void *)(d->field + bias) : (void *)0)
	zp_hooks.init = HOOK_FN(hook_init);
	zp_hooks.leave = HOOK_FN(hook_leave);
	zp_hooks.exit = HOOK_FN(hook_exit);
	zp_hooks.xsave = !!(d->flags & ZP_DESC_HOOK_XSAVE);
	if (zp_hooks.xsave)
		zp_xsave_init();   /* cpuid: costly in a virtual machine, so only when needed */
	if (zp_hooks.init) {
		int r = zp_hook_call_init(p);
		if (r) {
			zp_msg("the embedded hook's zp_hook_init failed (%d)", r);
			zp_fatal_exit(127);
		}
	}
	/* Last: from here on, system calls go through the hook. */
	__atomic_store_n(&zp_hooks.enter, HOOK_FN(hook_enter), __ATOMIC_RELEASE);
	if (zp_hooks.enter || zp_hooks.leave || zp_hooks.exit)
		zp_slow_nr_init(1);
#undef HOOK_FN
}

/* The policy this object carries, or the one ZP_PAGE0 names. */
static enum zp_page0_policy policy_of(const struct zp_desc *d)
{
	const char *env = zp_getenv("ZP_PAGE0");

	/* (No table of names: pointers in data would need relocations.) */
	if (!env || !*env)
		return (enum zp_page0_policy)((d->flags & ZP_DESC_PAGE0_MASK) >> ZP_DESC_PAGE0_SHIFT);
	if (!zp_strcmp(env, "auto"))
		return ZP_PAGE0_AUTO;
	if (!zp_strcmp(env, "fast"))
		return ZP_PAGE0_FAST;
	if (!zp_strcmp(env, "require"))
		return ZP_PAGE0_REQUIRE;
	if (!zp_strcmp(env, "never"))
		return ZP_PAGE0_NEVER;
	zp_msg("ZP_PAGE0=%s: not a page-0 policy (auto, fast, require or never)", env);
	zp_fatal_exit(127);
}

/* Page 0 or the trap path (docs/runtime.md, "Page 0 and the trap path"). */
static void choose_path(const struct zp_desc *d)
{
	enum zp_page0_policy policy = policy_of(d);

	if (policy == ZP_PAGE0_NEVER) {
		zp_trap_path = 1;
		return;
	}
	struct zp_tramp_result r = zp_trampoline_install(zp_entry);
	if (r.status == ZP_TRAMP_OK) {
		/* Without execute-only memory, NULL reads would return
		 * trampoline bytes: auto keeps NULL faulting instead. */
		if (policy == ZP_PAGE0_AUTO && r.readable) {
			zp_trampoline_remove();
			zp_trap_path = 1;
		}
		return;
	}
	if (policy == ZP_PAGE0_REQUIRE)
		trampoline_failed(r);
	zp_trap_path = 1;
}

/* The process as the kernel started it, from its initial stack. */
static void read_process(unsigned long *sp, struct zp_process *p)
{
	p->argc = (int)sp[0];
	p->argv = (char **)(sp + 1);
	p->envp = p->argv + p->argc + 1;
	char **e = p->envp;
	while (*e)
		e++;
	p->auxv = (const unsigned long *)(e + 1);
	zp_environ = p->envp;
	zp_progname = p->argc > 0 && p->argv[0] ? p->argv[0] : "program";
}

void zp_init(unsigned long *sp)
{
	struct zp_process p;

	read_process(sp, &p);

	/* The barrier keeps the compiler from treating the descriptor as part
	 * of the 8-byte variable it is found from. */
	uintptr_t at = (uintptr_t)&zp_desc_offset;
	__asm__("" : "+r"(at));
	const struct zp_desc *d = (const struct zp_desc *)(at + (uintptr_t)zp_desc_offset);
	if (zp_memcmp(d->magic, ZP_MAGIC, ZP_MAGIC_LEN) || d->abi_version != ZP_ABI_VERSION) {
		zp_msg("the rewritten file's runtime data is damaged (bad descriptor)");
		zp_fatal_exit(127);
	}
	uintptr_t bias = (uintptr_t)d - d->self_vaddr;
	zp_orig_entry = d->orig_entry + bias;

	/* The kernel reports our initializer as AT_ENTRY.  Programs (and ld.so,
	 * when run as a command) compare it with their real entry point: give
	 * them that one.  A dynamic loader has already used AT_ENTRY to come
	 * here, so changing it now is safe. */
	for (unsigned long *a = (unsigned long *)p.auxv; a[0] != AT_NULL; a += 2)
		if (a[0] == AT_ENTRY && a[1] == (uintptr_t)zp_start)
			a[1] = zp_orig_entry;

	struct zp_tramp_result r = zp_trampoline_claim();
	if (r.status == ZP_TRAMP_SHARED)
		return;   /* the runtime that owns it finds this object at its first call */
	if (r.status != ZP_TRAMP_OK)
		trampoline_failed(r);
	zp_vdso_hide(p.auxv, !!(d->flags & ZP_DESC_VDSO));
	zp_sites_init();
	zp_owner_pid = (int)zp_sys0(__NR_getpid);
	long err = zp_thread_init_main();
	if (err) {
		zp_msg("cannot set the gs base for the runtime's thread data: %s (%s)",
		       zp_errno_text(-err), zp_errno_name(-err));
		zp_fatal_exit(127);
	}
	zp_thread_self()->pid = zp_owner_pid;
	zp_signals_init();
	choose_path(d);
	if (zp_trap_path)
		zp_unblockable |= ZP_SIGBIT(SIGSEGV);
	if (d->flags & ZP_DESC_COMPLETE)
		zp_net_start();
	zp_thread_alt_start();
	zp_signals_path();
	zp_slow_nr_init(0);
	zp_sigmask_init();
	if (d->loader_r_debug)
		zp_objects_set_loader(d->loader_r_debug + bias);
	if (zp_sites_add(d, bias, 1)) {
		zp_msg("cannot allocate the table of system call sites");
		zp_fatal_exit(127);
	}
	if (d->flags & ZP_DESC_HOOK)
		start_hook(d, bias, &p);
}
