/*
 * objects.c - finding the rewritten objects that start after the first.
 *
 * A process may hold several rewritten objects (the dynamic loader, libc,
 * the program, libraries loaded later with dlopen).  The runtime of the one
 * that started first owns the process (init.c); the others are found when
 * their first call arrives at a site the table does not have yet: through
 * the dynamic loader's list of objects when the loader is rewritten (a
 * bundle), else from the call's address, the pages below are probed
 * (safely, through the kernel) for the ELF header of the object, whose
 * program headers lead to its zp_desc.  That works for objects loaded at
 * any time, and costs a few system calls once per object.  What is found
 * goes to the site table (sitetable.c).
 */
#include <asm/unistd.h>
#include <linux/elf.h>

#include "runtime.h"
#include "sys.h"

struct iov {
	const void *base;
	size_t len;
};

/* Copy application memory that may not be mapped: 0 if all of it was read. */
static int peek(void *dst, uintptr_t src, size_t len)
{
	return zp_app_read(dst, (const void *)src, len) ? -1 : 0;
}

#define PROBE_BATCH 64   /* (this may run on a small signal stack) */

/* The first 4 bytes of up to PROBE_BATCH pages from `page` downwards, in one
 * system call (a scatter read, which zp_app_read does not do): the kernel
 * stops at the first page it cannot read.  Returns how many pages were read. */
static int probe_pages(long pid, uintptr_t page, uint32_t *heads)
{
	struct iov local = { heads, PROBE_BATCH * sizeof *heads }, remote[PROBE_BATCH];
	int n = 0;

	for (; n < PROBE_BATCH && page >= 4096; n++, page -= 4096)
		remote[n] = (struct iov){ (const void *)page, sizeof *heads };
	long r = zp_sys6(__NR_process_vm_readv, pid, (long)&local, 1, (long)remote, n, 0);
	return r > 0 ? (int)(r / (long)sizeof *heads) : 0;
}

/* How far below a call to look for its object's ELF header. */
#define DISCOVER_SPAN (256ul << 20)

/* The ELF header at `page` heads the object holding `site`: register it if
 * zprewrite rewrote it.  1 if registered. */
static int register_object(uintptr_t page, uintptr_t site)
{
	Elf64_Ehdr eh;
	if (peek(&eh, page, sizeof eh))
		return 0;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256)
		return 0;
	/* zprewrite places the program headers where their offset says,
	 * relative to the ELF header's page (segment.c).  Read a few at a
	 * time: this may run on a small signal stack. */
	uintptr_t phdrs = page + eh.e_phoff, first = 0;
	Elf64_Phdr ph[8];
	int have_first = 0;
	for (int i = 0; i < eh.e_phnum && !have_first; i++) {
		if (peek(ph, phdrs + i * sizeof *ph, sizeof *ph))
			return 0;
		if (ph[0].p_type == PT_LOAD) {
			first = ph[0].p_vaddr - ph[0].p_offset;
			have_first = 1;
		}
	}
	/* zprewrite's descriptor starts its read-only segment, above the
	 * object's own: look from the top, at read-only segments only, so that
	 * no page of code is touched (each read faults a page in). */
	for (int top = eh.e_phnum; top > 0;) {
		int n = top < 8 ? top : 8;
		top -= n;
		if (peek(ph, phdrs + (uintptr_t)top * sizeof *ph, (size_t)n * sizeof *ph))
			return 0;
		for (int i = n; i-- > 0;) {
			struct zp_desc d;
			if (ph[i].p_type != PT_LOAD || ph[i].p_filesz < sizeof d || ph[i].p_flags != PF_R)
				continue;
			uintptr_t at = page + (ph[i].p_vaddr - first);
			if (peek(&d, at, sizeof d) || zp_memcmp(d.magic, ZP_MAGIC, ZP_MAGIC_LEN))
				continue;
			if (d.abi_version != ZP_ABI_VERSION) {
				zp_msg("an object at %#lx was rewritten by an incompatible zprewrite "
				       "(interface %u, this runtime has %u): rewrite it again",
				       (unsigned long)page, d.abi_version, ZP_ABI_VERSION);
				zp_fatal_exit(127);
			}
			uintptr_t bias = at - d.self_vaddr;
			if (site < d.site_base + bias || site >= d.site_end + bias)
				return 0;   /* its object, but outside its sites */
			return zp_sites_add(&d, bias, 0) ? 0 : 1;
		}
	}
	return 0;   /* the object is not rewritten */
}

/* The dynamic loader's list of loaded objects (glibc's struct r_debug and
 * the public head of struct link_map), when the loader is the rewritten
 * object that owns the trampoline. */
struct r_debug_min {
	int r_version;
	const struct link_map_min *r_map;
};
struct link_map_min {
	uintptr_t l_addr;
	const char *l_name;
	const void *l_ld;
	const struct link_map_min *l_next, *l_prev;
};
static uintptr_t loader_r_debug;

void zp_objects_set_loader(uintptr_t r_debug)
{
	loader_r_debug = r_debug;
}

/* Through the loader's list: each loaded object's ELF header is at its load
 * bias (shared objects and position-independent programs start at 0).
 * Reads go through the kernel: the list may be changing under us. */
static int discover_listed(uintptr_t site)
{
	struct r_debug_min rd;
	struct link_map_min lm;

	if (peek(&rd, loader_r_debug, sizeof rd))
		return 0;
	uintptr_t at = (uintptr_t)rd.r_map;
	for (int guard = 0; at && guard < 4096; guard++, at = (uintptr_t)lm.l_next) {
		if (peek(&lm, at, sizeof lm))
			return 0;
		Elf64_Ehdr eh;
		if (!lm.l_addr || peek(&eh, lm.l_addr, sizeof eh) ||
		    zp_memcmp(eh.e_ident, ELFMAG, SELFMAG))
			continue;   /* (a non-PIE program registers itself at its entry) */
		if (register_object(lm.l_addr, site))
			return 1;
	}
	return 0;
}

/* Find and register the rewritten object that contains `site`: through the
 * loader's list if there is one, else the nearest ELF header below it. */
static int discover(uintptr_t site)
{
	if (loader_r_debug && discover_listed(site))
		return 1;
	uintptr_t page = site & ~4095ul;
	uintptr_t stop = page > DISCOVER_SPAN ? page - DISCOVER_SPAN : 0;
	long pid = zp_sys0(__NR_getpid);
	uint32_t heads[PROBE_BATCH];

	/* Each page read is faulted in: for a library that is many pages. */
	while (page > stop) {
		int n = probe_pages(pid, page, heads);
		for (int k = 0; k < n; k++, page -= 4096)
			if (!zp_memcmp(&heads[k], ELFMAG, SELFMAG))
				return register_object(page, site);
		if (n < PROBE_BATCH)
			page -= 4096;   /* an unreadable page (a gap, PROT_NONE): skip it */
	}
	return 0;
}

int zp_site_discover(uintptr_t site)
{
	return discover(site) && zp_site_in_table(site);
}
