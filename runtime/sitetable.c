/*
 * sitetable.c - the table of this process's patched sites: "is this a
 * patched site?"
 *
 * The trampoline at address 0 is reachable by any `call *%rax` with a small
 * rax, not only by the sites zprewrite wrote: a call through a NULL function
 * pointer gets there too, and must fault instead of making a system call;
 * on the trap path, any fault at a small address could be a call.  entry.S
 * and segv.c therefore check every call's site against this table, built
 * from the site lists the rewriter stored in each object (zp_desc).  The
 * owner's object is added at start; others when objects.c finds them.
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

#include "lock.h"
#include "runtime.h"
#include "sys.h"

static uint64_t zp_sites_lock;

const struct zp_site_table *zp_site_table;

/* The table of no sites: every lookup ends at an empty slot. */
static struct { struct zp_site_table t; uint64_t slots[2]; } empty_table;


/* 1 if the site was not in the table yet. */
static int table_insert(struct zp_site_table *t, uint64_t site)
{
	uint64_t i = (site * ZP_SITE_HASH_MULT) >> t->shift;
	while (t->slots[i] && t->slots[i] != site)
		i = (i + 1) & t->mask;
	if (t->slots[i])
		return 0;
	t->slots[i] = site;
	return 1;
}

static int table_has(const struct zp_site_table *t, uint64_t site)
{
	uint64_t i = (site * ZP_SITE_HASH_MULT) >> t->shift;

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
	int direct;                /* the runtime's own: read directly */
};

static int read_sites(const struct site_list *l, uint32_t at, uint32_t *buf, uint32_t n)
{
	if (l->direct) {
		for (uint32_t i = 0; i < n; i++)
			buf[i] = l->offs[at + i];
		return 0;
	}
	return zp_app_read(buf, l->offs + at, n * sizeof *buf) ? -1 : 0;
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
		.direct = own,
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

/* One site found at run time (net.c: a call written in memory). */
int zp_sites_add_one(uintptr_t site)
{
	static const uint32_t zero = 0;
	struct site_list l = { .offs = &zero, .n = 1, .base = site, .direct = 1 };

	unsigned long mask = zp_lock(&zp_sites_lock);
	const struct zp_site_table *t = __atomic_load_n(&zp_site_table, __ATOMIC_ACQUIRE);
	int r = table_has(t, site) ? 0 : grow_table(t, &l);
	zp_unlock(&zp_sites_lock, mask);
	return r;
}

int zp_site_in_table(uintptr_t site)
{
	return table_has(__atomic_load_n(&zp_site_table, __ATOMIC_ACQUIRE), site);
}

int zp_site_known(uintptr_t site)
{
	return zp_site_in_table(site) || zp_site_discover(site);
}
