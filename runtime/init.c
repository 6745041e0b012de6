/*
 * init.c - zp_init: everything a rewritten program needs before its own code.
 *
 * Called once by zp_start (start.S) on the process's initial stack, before the
 * program's entry point.  In order:
 *   1. find this object's descriptor (struct zp_desc, written by the rewriter)
 *      and the load bias;
 *   2. map the trampoline at address 0 (trampoline.c); if that is impossible,
 *      say why and how to fix it, and exit with status 127 before any of the
 *      program's code runs;
 *   3. register this object's sites, so zp_dispatch accepts calls from them;
 *   4. start the embedded hook, if any: apply its relocations, call its init.
 * Nothing here may make a system call through a patched site (there is none in
 * the runtime), and nothing may need relocations.
 */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/auxvec.h>

#include "runtime.h"
#include "sys.h"
#include "xsave.h"

/* The program's original entry point, where zp_start jumps after zp_init. */
uintptr_t zp_orig_entry;

int zp_owner_pid;

/* Distance from this variable to the object's struct zp_desc.  The rewriter
 * writes it into each copy of the runtime; volatile, because the value the
 * compiler sees is only a placeholder. */
__attribute__((used))
const volatile int64_t zp_desc_offset = 0;

/* For zp_getenv and messages. */
char **zp_environ ZP_HIDDEN;
const char *zp_progname ZP_HIDDEN;   /* argv[0], set first thing */

void zp_start(void) ZP_HIDDEN;

void zp_fatal_exit(int status)
{
	for (;;)
		zp_sys1(__NR_exit_group, status);
}

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
			zp_msg("cannot map the system-call trampoline at address 0: "
			       "vm.mmap_min_addr is %s and the process lacks CAP_SYS_RAWIO; "
			       "run 'sysctl -w vm.mmap_min_addr=0' as root, or give the "
			       "program the capability (setcap cap_sys_rawio+ep %s)",
			       min, zp_progname);
		} else {
			zp_msg("cannot map the system-call trampoline at address 0: "
			       "denied by a security module (%s); with SELinux, run "
			       "'setsebool -P mmap_low_allowed 1'",
			       zp_errno_name(-r.err));
		}
		break;
	case ZP_TRAMP_PAGE0_TAKEN:
		zp_msg("cannot map the system-call trampoline: address 0 is already "
		       "mapped (by personality(MMAP_PAGE_ZERO) or a program that maps "
		       "page 0 itself); run the program without it");
		break;
	case ZP_TRAMP_JUMPS_TAKEN:
		zp_msg("cannot map the trampoline's jump pages at %#lx: the address "
		       "is already in use", (unsigned long)r.addr);
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
		int r;
		if (zp_hooks.xsave) {
			ZP_XSAVE_AREA(area);
			zp_xsave(area);
			r = zp_hooks.init(p);
			zp_xrstor(area);
		} else {
			r = zp_hooks.init(p);
		}
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

void zp_init(unsigned long *sp)
{
	struct zp_process p;

	p.argc = (int)sp[0];
	p.argv = (char **)(sp + 1);
	p.envp = p.argv + p.argc + 1;
	char **e = p.envp;
	while (*e)
		e++;
	p.auxv = (const unsigned long *)(e + 1);
	zp_environ = p.envp;
	zp_progname = p.argc > 0 && p.argv[0] ? p.argv[0] : "program";

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

	zp_sites_init();
	zp_slow_nr_init(0);
	struct zp_tramp_result r = zp_trampoline_install(zp_entry);
	if (r.status == ZP_TRAMP_SHARED)
		return;   /* the runtime that owns it finds this object at its first call */
	if (r.status != ZP_TRAMP_OK)
		trampoline_failed(r);
	zp_owner_pid = (int)zp_sys0(__NR_getpid);
	if (d->loader_r_debug)
		zp_sites_set_loader(d->loader_r_debug + bias);
	if (zp_sites_add(d, bias, 1)) {
		zp_msg("cannot allocate the table of system call sites");
		zp_fatal_exit(127);
	}
	zp_signals_init();
	if (d->flags & ZP_DESC_HOOK)
		start_hook(d, bias, &p);
}
