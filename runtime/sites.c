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
 * trampoline; the others are found when their first call arrives: through
 * the dynamic loader's list of objects when the loader is rewritten (a
 * bundle), else from the call's address, the pages below are probed
 * (safely, through the kernel) for the ELF header of the object, whose
 * program headers lead to its zp_desc.  That works for objects loaded at
 * any time (dlopen), and costs a few system calls once per object.
 *
 * The table only ever grows: each new one is built from the previous one's
 * sites and the new object's, so nothing is read from an object after it
 * was registered (it may have been unloaded since).  The sites of an
 * unloaded object stay in the table: a call through a bad pointer into the
 * range it occupied is then accepted as a system call, and an object loaded
 * there later is found "known" if its sites are all there already.  Readers
 * need no lock: a table is complete before it is published, and is never
 * changed afterwards.
 */
#include <asm/unistd.h>
#include <linux/elf.h>

#include "lock.h"
#include "runtime.h"
#include "sys.h"

static uint64_t zp_sites_lock;

const struct zp_site_table *zp_site_table;

/* The table of no sites: every lookup ends at an empty slot. */
static struct { struct zp_site_table t; uint64_t slots[2]; } empty_table;

#define HASH_MULT 0x9e3779b97f4a7c15ull   /* 2^64 / golden ratio; entry.S uses it too */

/* 1 if the site was not in the table yet. */
static int table_insert(struct zp_site_table *t, uint64_t site)
{
	uint64_t i = (site * HASH_MULT) >> t->shift;
	while (t->slots[i] && t->slots[i] != site)
		i = (i + 1) & t->mask;
	if (t->slots[i])
		return 0;
	t->slots[i] = site;
	return 1;
}

static int table_has(const struct zp_site_table *t, uint64_t site)
{
	uint64_t i = (site * HASH_MULT) >> t->shift;

	for (;; i = (i + 1) & t->mask) {
		if (t->slots[i] == site)
			return 1;
		if (!t->slots[i])
			return 0;
	}
}

/* The first table lives here, so that a program's start costs no system
 * call for it; larger ones (more objects, dlopen) are mapped. */
#define FIRST_TABLE_BITS 11
static struct {
	struct zp_site_table t;
	uint64_t slots[1u << FIRST_TABLE_BITS];
} first_table;
static int first_table_used;

/* An object's list of sites (struct zp_desc), read a chunk at a time: the
 * runtime's own directly, one found at run time through the kernel (a
 * racing dlclose may unmap it, and this runs with every signal blocked, so
 * it must not fault: lock.h).  (This may run on a small signal stack.) */
#define SITES_CHUNK 64
struct site_list {
	const uint32_t *offs;
	uint32_t n;
	uintptr_t base;
	long pid;                  /* 0: read directly */
};

static int read_sites(const struct site_list *l, uint32_t at, uint32_t *buf, uint32_t n)
{
	if (!l->pid) {
		for (uint32_t i = 0; i < n; i++)
			buf[i] = l->offs[at + i];
		return 0;
	}
	struct { const void *base; size_t len; } local = { buf, n * sizeof *buf },
		remote = { l->offs + at, n * sizeof *buf };
	return zp_sys6(__NR_process_vm_readv, l->pid, (long)&local, 1, (long)&remote, 1, 0) ==
		(long)(n * sizeof *buf) ? 0 : -1;
}

/* 1 if every site of the list is in the table, 0 if not, -1 if unreadable. */
static int all_known(const struct zp_site_table *t, const struct site_list *l)
{
	uint32_t buf[SITES_CHUNK];

	for (uint32_t at = 0; at < l->n; at += SITES_CHUNK) {
		uint32_t n = l->n - at < SITES_CHUNK ? l->n - at : SITES_CHUNK;
		if (read_sites(l, at, buf, n))
			return -1;
		for (uint32_t i = 0; i < n; i++)
			if (!table_has(t, l->base + buf[i]))
				return 0;
	}
	return 1;
}

/* Publish a table of the old one's sites and the list's (under the lock).
 * At most a quarter full, so lookups rarely take a second probe. */
static int grow_table(const struct zp_site_table *old, const struct site_list *l)
{
	uint64_t total = (uint64_t)old->used + l->n;
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
	uint32_t used = 0;
	for (uint64_t i = 0; i <= old->mask; i++)
		if (old->slots[i])
			used += (uint32_t)table_insert(t, old->slots[i]);
	uint32_t buf[SITES_CHUNK];
	for (uint32_t at = 0; at < l->n; at += SITES_CHUNK) {
		uint32_t n = l->n - at < SITES_CHUNK ? l->n - at : SITES_CHUNK;
		if (read_sites(l, at, buf, n)) {
			if (m)
				zp_sys2(__NR_munmap, m, (long)size);
			return -1;   /* (first_table stays used: it is not clean) */
		}
		for (uint32_t i = 0; i < n; i++)
			used += (uint32_t)table_insert(t, l->base + buf[i]);
	}
	t->used = used;
	if (m)
		zp_sys3(__NR_mprotect, m, (long)size, 1 /* PROT_READ */);
	/* The old table stays: a thread may still be reading it.  A fork
	 * before this store leaves the child with the old table, complete too:
	 * it finds the object again at its first call. */
	__atomic_store_n(&zp_site_table, t, __ATOMIC_RELEASE);
	return 0;
}

void zp_sites_init(void)
{
	empty_table.t.shift = 63;
	empty_table.t.mask = 1;
	__atomic_store_n(&zp_site_table, &empty_table.t, __ATOMIC_RELEASE);
}

int zp_sites_add(const struct zp_desc *d, uintptr_t bias, int own)
{
	struct site_list l = {
		.offs = (const uint32_t *)(d->sites_vaddr + bias),
		.n = d->nsites,
		.base = d->site_base + bias,
		.pid = own ? 0 : zp_sys0(__NR_getpid),
	};
	/* The runtime's own object is added at start, before the program's
	 * code: one thread, no signal handlers, so no lock (and no system
	 * calls for one). */
	unsigned long mask = own ? 0 : zp_lock(&zp_sites_lock);
	const struct zp_site_table *t = __atomic_load_n(&zp_site_table, __ATOMIC_ACQUIRE);
	int r = all_known(t, &l);
	if (r == 0)
		r = grow_table(t, &l);
	else if (r == 1)
		r = 0;          /* already known */
	if (!own)
		zp_unlock(&zp_sites_lock, mask);
	return r;
}

static int lookup(uintptr_t site)
{
	return table_has(__atomic_load_n(&zp_site_table, __ATOMIC_ACQUIRE), site);
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
