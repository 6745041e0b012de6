/*
 * sites.c - the patched objects of this process, and "is this a patched site?"
 *
 * The trampoline at address 0 is reachable by any `call *%rax` with a small
 * rax, not only by the sites zprewrite wrote: a call through a NULL function
 * pointer gets there too, and must fault instead of making a system call.
 * zp_dispatch therefore checks every call's site against the site tables the
 * rewriter stored in each object (zp_desc: a hash table of site offsets).
 *
 * Objects are only ever added (a process does not unload the objects whose
 * code it runs through the trampoline... and if it did, a stale entry only
 * makes a call through a bad pointer into that range be accepted), so readers
 * need no lock: an entry is filled in before the count that publishes it.
 */
#include "runtime.h"

static struct zp_object zp_objects[ZP_MAX_OBJECTS];
static int zp_nobjects;

int zp_objects_add(const struct zp_desc *d, uintptr_t bias)
{
	int n = __atomic_load_n(&zp_nobjects, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++)
		if (zp_objects[i].desc == d)
			return 0;               /* already known */
	if (n == ZP_MAX_OBJECTS)
		return -1;
	struct zp_object *o = &zp_objects[n];
	o->lo = d->site_base + bias;
	o->hi = d->site_end + bias;
	o->hash = (const uint32_t *)(d->hash_vaddr + bias);
	o->hash_bits = d->hash_bits;
	o->nsites = d->nsites;
	o->desc = d;
	o->bias = bias;
	__atomic_store_n(&zp_nobjects, n + 1, __ATOMIC_RELEASE);
	return 0;
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

int zp_site_known(uintptr_t site)
{
	int n = __atomic_load_n(&zp_nobjects, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++) {
		const struct zp_object *o = &zp_objects[i];
		if (site >= o->lo && site < o->hi && o->nsites)
			return in_object(o, site);
	}
	return 0;
}
