/*
 * sites.c - the patched objects of this process, and "is this a patched site?"
 *
 * The trampoline at address 0 is reachable by any `call *%rax` with a small
 * rax, not only by the sites zprewrite wrote: a call through a NULL function
 * pointer gets there too, and must fault instead of making a system call.
 * zp_dispatch therefore checks every call's site against the site tables the
 * rewriter stored in each object (zp_desc: a hash table of site offsets).
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

#include "runtime.h"
#include "sys.h"

static struct zp_object zp_objects[ZP_MAX_OBJECTS];
static int zp_nobjects;

static int zp_objects_lock;

int zp_objects_add(const struct zp_desc *d, uintptr_t bias)
{
	while (__atomic_exchange_n(&zp_objects_lock, 1, __ATOMIC_ACQUIRE))
		zp_sys0(__NR_sched_yield);
	int r = 0;
	int n = __atomic_load_n(&zp_nobjects, __ATOMIC_ACQUIRE);

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
	o->hash = (const uint32_t *)(d->hash_vaddr + bias);
	o->hash_bits = d->hash_bits;
	o->nsites = d->nsites;
	o->desc = d;
	o->bias = bias;
	__atomic_store_n(&zp_nobjects, n + 1, __ATOMIC_RELEASE);
out:
	__atomic_store_n(&zp_objects_lock, 0, __ATOMIC_RELEASE);
	return r;
}

static int in_object(const struct zp_object *o, uintptr_t site)
{
	uint32_t off = (uint32_t)(site - o->lo);
	uint32_t mask = (1u << o->hash_bits) - 1;

	for (uint32_t i = zp_site_hash(off, o->hash_bits);; i = (i + 1) & mask) {
		uint32_t v = o->hash[i];
		if (v == 0)
			return 0;
		if (v == off + 1)
			return 1;
	}
}

static int lookup(uintptr_t site)
{
	int n = __atomic_load_n(&zp_nobjects, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++) {
		const struct zp_object *o = &zp_objects[i];
		if (site >= o->lo && site < o->hi && o->nsites)
			return in_object(o, site) ? 1 : -1;
	}
	return 0;   /* in no known object */
}

/* Copy application memory that may not be mapped: 0 if all of it was read. */
static int peek(void *dst, uintptr_t src, size_t len)
{
	struct { void *base; size_t len; } local = { dst, len }, remote = { (void *)src, len };
	long r = zp_sys6(__NR_process_vm_readv, zp_sys0(__NR_getpid), (long)&local, 1,
			 (long)&remote, 1, 0);
	return r == (long)len ? 0 : -1;
}

/* How far below a call to look for its object's ELF header. */
#define DISCOVER_SPAN (256ul << 20)

/* Find and register the rewritten object that contains `site`. */
static int discover(uintptr_t site)
{
	uintptr_t page = site & ~4095ul;
	uintptr_t stop = page > DISCOVER_SPAN ? page - DISCOVER_SPAN : 0;

	for (; page > stop; page -= 4096) {
		Elf64_Ehdr eh;
		if (peek(&eh, page, sizeof eh) || zp_memcmp(eh.e_ident, ELFMAG, SELFMAG))
			continue;
		if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
			return 0;
		/* zprewrite places the program headers where their offset
		 * says, relative to the ELF header's page (segment.c). */
		Elf64_Phdr ph[64];
		if (peek(ph, page + eh.e_phoff, eh.e_phnum * sizeof *ph))
			return 0;
		uintptr_t first = 0;
		int have_first = 0;
		for (int i = 0; i < eh.e_phnum; i++)
			if (ph[i].p_type == PT_LOAD && !have_first) {
				first = ph[i].p_vaddr - ph[i].p_offset;
				have_first = 1;
			}
		for (int i = 0; i < eh.e_phnum; i++) {
			struct zp_desc d;
			if (ph[i].p_type != PT_LOAD || ph[i].p_filesz < sizeof d)
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
				return 0;   /* its object, but not one of its sites */
			return zp_objects_add((const struct zp_desc *)at, bias) ? 0 : 1;
		}
		return 0;   /* the object is not rewritten */
	}
	return 0;
}

int zp_site_known(uintptr_t site)
{
	int r = lookup(site);

	if (r == 0 && discover(site))
		r = lookup(site);
	return r > 0;
}
