/*
 * sites.c - the patched objects of this process, and "is this a patched site?"
 *
 * The trampoline at address 0 is reachable by any `call *%rax` with a small
 * rax, not only by the sites zprewrite wrote: a call through a NULL function
 * pointer gets there too, and must fault instead of making a system call.
 * zp_dispatch therefore checks every call's site against the site tables the
 * rewriter stored in each object (zp_desc: the list of its sites).
 *
 * A process may hold several rewritten objects (the dynamic loader, libc,
 * the program...).  The runtime of the one that started first owns the
 * trampoline; the others are found when their first call arrives: from the
 * call's address, the pages below are probed (safely, through the kernel)
 * for the ELF header of the object, whose program headers lead to its
 * zp_desc.  That needs no help from the dynamic loader, works for objects
 * loaded at any time (dlopen), and costs a few system calls once per object.
 *
 * Objects are only ever added (a process does not unload the objects whose
 * code it runs through the trampoline... and if it did, a stale entry only
 * makes a call through a bad pointer into that range be accepted), so readers
 * need no lock: an entry is filled in before the count that publishes it.
 */
#include <asm/unistd.h>
#include <linux/elf.h>

#include "lock.h"
#include "runtime.h"
#include "sys.h"

static struct zp_object zp_objects[ZP_MAX_OBJECTS];
static int zp_nobjects;
static int zp_objects_lock;
static int zp_table_nobjects;   /* how many objects the published table holds */

const struct zp_site_table *zp_site_table;

/* The table of no sites: every lookup ends at an empty slot. */
static struct { struct zp_site_table t; uint64_t slots[2]; } empty_table;

#define HASH_MULT 0x9e3779b97f4a7c15ull   /* 2^64 / golden ratio; entry.S uses it too */

static void table_insert(struct zp_site_table *t, uint64_t site)
{
	uint64_t i = (site * HASH_MULT) >> t->shift;
	while (t->slots[i] && t->slots[i] != site)
		i = (i + 1) & t->mask;
	t->slots[i] = site;
}

/* The first table lives here, so that a program's start costs no system
 * call for it; larger ones (more objects, dlopen) are mapped. */
#define FIRST_TABLE_BITS 11
static struct {
	struct zp_site_table t;
	uint64_t slots[1u << FIRST_TABLE_BITS];
} first_table;
static int first_table_used;

/* Rebuild the process's site table with every object's sites (under the
 * lock).  At most a quarter full, so lookups rarely take a second probe. */
static int rebuild_table(int n)
{
	uint64_t total = 0;
	for (int i = 0; i < n; i++)
		total += zp_objects[i].nsites;
	uint32_t bits = 1;
	while ((1ull << bits) < 4 * total)
		bits++;
	size_t size = sizeof(struct zp_site_table) + (8ull << bits);
	struct zp_site_table *t;
	long m = 0;
	if (!first_table_used && bits <= FIRST_TABLE_BITS) {
		first_table_used = 1;   /* never written again once published */
		t = &first_table.t;
	} else {
		m = zp_sys6(__NR_mmap, 0, (long)size, 3 /* PROT_READ|WRITE */,
			    0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
		if (zp_is_err(m))
			return -1;
		t = (struct zp_site_table *)m;
	}
	t->shift = 64 - bits;
	t->mask = (1ull << bits) - 1;
	for (int i = 0; i < n; i++) {
		const struct zp_object *o = &zp_objects[i];
		const uint32_t *offs = (const uint32_t *)(o->desc->sites_vaddr + o->bias);
		for (uint32_t k = 0; k < o->nsites; k++)
			table_insert(t, o->lo + offs[k]);
	}
	if (m)
		zp_sys3(__NR_mprotect, m, (long)size, 1 /* PROT_READ */);
	/* The old table stays: a thread may still be reading it. */
	__atomic_store_n(&zp_site_table, t, __ATOMIC_RELEASE);
	zp_table_nobjects = n;
	return 0;
}

void zp_sites_init(void)
{
	empty_table.t.shift = 63;
	empty_table.t.mask = 1;
	__atomic_store_n(&zp_site_table, &empty_table.t, __ATOMIC_RELEASE);
}

int zp_objects_add(const struct zp_desc *d, uintptr_t bias)
{
	zp_lock(&zp_objects_lock);
	int r = 0;
	int n = __atomic_load_n(&zp_nobjects, __ATOMIC_ACQUIRE);

	/* A fork while another thread was between publishing an object and
	 * its table leaves the child with the lock taken over (lock.h) and a
	 * table that lacks that object: complete the other thread's work. */
	if (zp_table_nobjects != n && rebuild_table(n)) {
		r = -1;
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (zp_objects[i].desc == d)
			goto out;               /* already known */
	if (n == ZP_MAX_OBJECTS) {
		r = -1;
		goto out;
	}
	struct zp_object *o = &zp_objects[n];
	o->lo = d->site_base + bias;
	o->hi = d->site_end + bias;
	o->nsites = d->nsites;
	o->desc = d;
	o->bias = bias;
	__atomic_store_n(&zp_nobjects, n + 1, __ATOMIC_RELEASE);
	r = rebuild_table(n + 1);
out:
	zp_unlock(&zp_objects_lock);
	return r;
}

static int lookup(uintptr_t site)
{
	const struct zp_site_table *t = __atomic_load_n(&zp_site_table, __ATOMIC_ACQUIRE);
	uint64_t i = ((uint64_t)site * HASH_MULT) >> t->shift;

	for (;; i = (i + 1) & t->mask) {
		if (t->slots[i] == site)
			return 1;
		if (!t->slots[i])
			return 0;
	}
}

struct iov {
	const void *base;
	size_t len;
};

/* Copy application memory that may not be mapped: 0 if all of it was read. */
static int peek(long pid, void *dst, uintptr_t src, size_t len)
{
	struct iov local = { dst, len }, remote = { (void *)src, len };
	long r = zp_sys6(__NR_process_vm_readv, pid, (long)&local, 1, (long)&remote, 1, 0);
	return r == (long)len ? 0 : -1;
}

#define PROBE_BATCH 64   /* (this may run on a small signal stack) */

/* The first 4 bytes of up to PROBE_BATCH pages from `page` downwards, in one
 * system call: the kernel stops at the first page it cannot read.  Returns
 * how many pages were read. */
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
static int register_object(long pid, uintptr_t page, uintptr_t site)
{
	Elf64_Ehdr eh;
	if (peek(pid, &eh, page, sizeof eh))
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
		if (peek(pid, ph, phdrs + i * sizeof *ph, sizeof *ph))
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
		if (peek(pid, ph, phdrs + (uintptr_t)top * sizeof *ph, (size_t)n * sizeof *ph))
			return 0;
		for (int i = n; i-- > 0;) {
			struct zp_desc d;
			if (ph[i].p_type != PT_LOAD || ph[i].p_filesz < sizeof d || ph[i].p_flags != PF_R)
				continue;
			uintptr_t at = page + (ph[i].p_vaddr - first);
			if (peek(pid, &d, at, sizeof d) || zp_memcmp(d.magic, ZP_MAGIC, ZP_MAGIC_LEN))
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
			return zp_objects_add((const struct zp_desc *)at, bias) ? 0 : 1;
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

void zp_sites_set_loader(uintptr_t r_debug)
{
	loader_r_debug = r_debug;
}

/* Through the loader's list: each loaded object's ELF header is at its load
 * bias (shared objects and position-independent programs start at 0).
 * Reads go through the kernel: the list may be changing under us. */
static int discover_listed(long pid, uintptr_t site)
{
	struct r_debug_min rd;
	struct link_map_min lm;

	if (peek(pid, &rd, loader_r_debug, sizeof rd))
		return 0;
	uintptr_t at = (uintptr_t)rd.r_map;
	for (int guard = 0; at && guard < 4096; guard++, at = (uintptr_t)lm.l_next) {
		if (peek(pid, &lm, at, sizeof lm))
			return 0;
		Elf64_Ehdr eh;
		if (!lm.l_addr || peek(pid, &eh, lm.l_addr, sizeof eh) ||
		    zp_memcmp(eh.e_ident, ELFMAG, SELFMAG))
			continue;   /* (a non-PIE program registers itself at its entry) */
		if (register_object(pid, lm.l_addr, site))
			return 1;
	}
	return 0;
}

/* Find and register the rewritten object that contains `site`: through the
 * loader's list if there is one, else the nearest ELF header below it. */
static int discover(uintptr_t site)
{
	if (loader_r_debug && discover_listed(zp_sys0(__NR_getpid), site))
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
				return register_object(pid, page, site);
		if (n < PROBE_BATCH)
			page -= 4096;   /* an unreadable page (a gap, PROT_NONE): skip it */
	}
	return 0;
}

int zp_site_discover(uintptr_t site)
{
	return discover(site) && lookup(site);
}

int zp_site_known(uintptr_t site)
{
	return lookup(site) || zp_site_discover(site);
}
