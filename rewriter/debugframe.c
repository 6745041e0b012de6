/*
 * debugframe.c - move .debug_frame entries to where their code went (see
 * debugframe.h).
 *
 * A .debug_frame is a sequence of entries (DWARF 5, section 6.4.1): CIEs,
 * which hold what the FDEs that point at them share, and FDEs, each with a
 * CIE pointer (the CIE's offset in the section), the absolute address of
 * the code it covers and its length, then rules.  Moving one means adding
 * the distance to each FDE's address and the position in the new section to
 * each CIE pointer; everything else is copied.  Only what the runtime's and
 * gcc's assembler output look like is accepted: 32- or 64-bit DWARF, CIE
 * version 1, 3 or 4, 8-byte addresses, no augmentation but "S" (a signal
 * frame; others could change how the address is encoded).
 */
#include <stdlib.h>
#include <string.h>

#include "debugframe.h"
#include "warn.h"

#define CIE_ID32 0xffffffffu
#define CIE_ID64 UINT64_MAX
#define ADDR_SIZE 8

/* One entry of a .debug_frame. */
struct entry {
	size_t at;          /* its offset */
	size_t id_at;       /* the CIE id or CIE pointer field */
	size_t end;         /* one past it */
	int is64;           /* 64-bit DWARF: 8-byte lengths and offsets */
	uint64_t id;        /* CIE id, or CIE pointer */
};

static uint64_t get(const unsigned char *p, int is64)
{
	if (is64) {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put(unsigned char *p, uint64_t v, int is64)
{
	if (is64) {
		memcpy(p, &v, 8);
	} else {
		uint32_t w = (uint32_t)v;
		memcpy(p, &w, 4);
	}
}

/* The entry at `at`, checked to fit in the section; -1 if it does not.
 * A zero length (padding) has id 0 and id_at == end. */
static int read_entry(const unsigned char *s, size_t size, size_t at, struct entry *en)
{
	uint64_t len;
	size_t hdr = 4;

	if (size - at < 4)
		return -1;
	len = get(s + at, 0);
	en->is64 = len == 0xffffffffu;
	if (en->is64) {
		if (size - at < 12)
			return -1;
		len = get(s + at + 4, 1);
		hdr = 12;
	} else if (len >= 0xfffffff0u) {
		return -1;   /* reserved lengths */
	}
	if (len > size - at - hdr)
		return -1;
	en->at = at;
	en->id_at = at + hdr;
	en->end = at + hdr + len;
	en->id = 0;
	if (len == 0)
		return 0;
	if (len < (en->is64 ? 8u : 4u))
		return -1;
	en->id = get(s + en->id_at, en->is64);
	return 0;
}

static int is_cie(const struct entry *en)
{
	return en->end > en->id_at && en->id == (en->is64 ? CIE_ID64 : CIE_ID32);
}

/* Does this CIE give its FDEs plain 8-byte addresses? */
static int cie_understood(const unsigned char *s, const struct entry *en)
{
	size_t p = en->id_at + (en->is64 ? 8 : 4);

	if (p >= en->end)
		return 0;
	unsigned version = s[p++];
	if (version != 1 && version != 3 && version != 4)
		return 0;
	size_t n = strnlen((const char *)s + p, en->end - p);
	if (n == en->end - p || n > 1 || (n == 1 && s[p] != 'S'))
		return 0;
	p += n + 1;
	if (version == 4 && (en->end - p < 2 || s[p] != ADDR_SIZE || s[p + 1] != 0))
		return 0;
	return 1;
}

/* The offsets of the CIEs this understands, in order; -1 if an entry does
 * not fit. */
static int find_cies(const unsigned char *s, size_t size, size_t **cies, size_t *n)
{
	size_t cap = 0;
	struct entry en;

	*cies = NULL;
	*n = 0;
	for (size_t at = 0; at < size; at = en.end) {
		if (read_entry(s, size, at, &en))
			return -1;
		if (!is_cie(&en) || !cie_understood(s, &en))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			size_t *nc = realloc(*cies, cap * sizeof *nc);
			if (!nc)
				return -2;
			*cies = nc;
		}
		(*cies)[(*n)++] = at;
	}
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static int grow(struct zp_dframe *d, size_t more)
{
	if (d->cap - d->size >= more)
		return 0;
	size_t cap = d->cap ? d->cap : 4096;
	while (cap - d->size < more)
		cap *= 2;
	unsigned char *nb = realloc(d->buf, cap);
	if (!nb)
		return -1;
	d->buf = nb;
	d->cap = cap;
	return 0;
}

int zp_dframe_append_raw(struct zp_dframe *d, const unsigned char *src, size_t size)
{
	if (grow(d, size))
		return -1;
	memcpy(d->buf + d->size, src, size);
	d->size += size;
	return 0;
}

/* Patch the FDE `en` as copied to out: its CIE (one of cies[]) now at
 * + base, its code at + delta.  1 if it cannot be moved. */
static int move_fde(const struct entry *en, const size_t *cies, size_t ncies, uint64_t base,
		    uint64_t delta, unsigned char *out)
{
	size_t idlen = en->is64 ? 8 : 4;
	size_t cie = (size_t)en->id;

	if (en->end - en->id_at < idlen + 2 * ADDR_SIZE ||
	    !bsearch(&cie, cies, ncies, sizeof *cies, cmp_size))
		return 1;
	if (!en->is64 && cie + base > 0xffffffffu)
		return 1;
	put(out + (en->id_at - en->at), cie + base, en->is64);
	unsigned char *loc = out + (en->id_at - en->at) + idlen;
	put(loc, get(loc, 1) + delta, 1);
	return 0;
}

int zp_dframe_append_moved(struct zp_dframe *d, const unsigned char *src, size_t size, uint64_t delta)
{
	size_t *cies, ncies, base = d->size;
	struct entry en;
	int rc = find_cies(src, size, &cies, &ncies);

	if (rc)
		return rc == -1 ? 1 : -1;
	if (zp_dframe_append_raw(d, src, size)) {
		free(cies);
		return -1;
	}
	for (size_t at = 0; at < size && rc == 0; at = en.end) {
		if (read_entry(src, size, at, &en))
			ZP_BUG("a .debug_frame entry changed");   /* (find_cies read them all) */
		if (en.end > en.id_at && !is_cie(&en))
			rc = move_fde(&en, cies, ncies, base, delta, d->buf + base + at);
	}
	free(cies);
	if (rc)
		d->size = base;   /* not understood: nothing appended */
	return rc;
}

void zp_dframe_free(struct zp_dframe *d)
{
	free(d->buf);
	memset(d, 0, sizeof *d);
}
