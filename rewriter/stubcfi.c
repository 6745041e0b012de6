/*
 * stubcfi.c - the red-zone stubs' unwind tables (see stubcfi.h).
 *
 * One CIE (CFA = rsp, nothing else said) and, per stub, an FDE whose rows
 * follow the stub's parts (stub.h): at each part, where the original
 * function would be (an address in the window) and how far rsp is from
 * its value there.  The caller's pc is given as that address + 1, because
 * an unwinder looks a caller up at its pc - 1 (a return address follows
 * its call): so it finds the row of the instruction itself.
 */
#include <string.h>

#include "stub.h"
#include "stubcfi.h"

#define DW_CFA_advance_loc4     0x04
#define DW_CFA_undefined        0x07
#define DW_CFA_def_cfa          0x0c
#define DW_CFA_def_cfa_offset   0x0e
#define DW_CFA_val_expression   0x16
#define DW_OP_breg16            0x80   /* the pc (DWARF register 16) + offset */
#define DW_RSP 7
#define DW_RIP 16
#define REDZONE 128   /* what the stub steps below (stub.h) */

/* One CIE or FDE being built (a stub's has at most 160 bytes: 24 of
 * header, 8 rows of at most 19, 2 offsets of 3, padding). */
struct entry {
	unsigned char b[192];
	size_t n;
	uint64_t pc;      /* where the rows are, for FDEs */
};

static void byte(struct entry *e, unsigned v)
{
	e->b[e->n++] = (unsigned char)v;
}

static void bytes(struct entry *e, const void *p, size_t len)
{
	memcpy(e->b + e->n, p, len);
	e->n += len;
}

static void uleb(struct entry *e, uint64_t v)
{
	do {
		unsigned char c = v & 0x7f;
		v >>= 7;
		byte(e, c | (v ? 0x80 : 0));
	} while (v);
}

static void sleb(struct entry *e, int64_t v)
{
	for (;;) {
		unsigned char c = v & 0x7f;
		v >>= 7;   /* (arithmetic: gcc) */
		if ((v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40))) {
			byte(e, c);
			return;
		}
		byte(e, c | 0x80);
	}
}

/* The rows from here on are for `at`. */
static void advance(struct entry *e, uint64_t at)
{
	if (at == e->pc)
		return;
	uint32_t adv = (uint32_t)(at - e->pc);
	byte(e, DW_CFA_advance_loc4);
	bytes(e, &adv, 4);
	e->pc = at;
}

/* The caller's pc is this frame's pc + delta. */
static void caller(struct entry *e, uint64_t delta)
{
	struct entry expr = { .n = 0 };
	byte(&expr, DW_OP_breg16);
	sleb(&expr, (int64_t)delta);
	byte(e, DW_CFA_val_expression);
	uleb(e, DW_RIP);
	uleb(e, expr.n);
	bytes(e, expr.b, expr.n);
}

static void cfa_offset(struct entry *e, uint64_t off)
{
	byte(e, DW_CFA_def_cfa_offset);
	uleb(e, off);
}

/* A stub's rows, part by part (zp_stub_parts). */
static void stub_rows(struct entry *e, const struct zp_site *s, uint64_t v)
{
	uint64_t site = s->addr, back = s->win_start + s->win_len;
	struct zp_stub_parts p;

	zp_stub_parts(s, v, &p);
	if (s->pre_len)
		caller(e, s->win_start - v + 1);     /* the moved instructions */
	advance(e, p.down);
	if (s->stub_kind == ZP_STUB_STACKLESS) {
		/* It leaves the thread's stack for good: no caller from here. */
		byte(e, DW_CFA_undefined);
		uleb(e, DW_RIP);
		return;
	}
	caller(e, site + 1 - p.down);                /* the site, rsp as there */
	advance(e, p.call);
	cfa_offset(e, REDZONE);                      /* the site, rsp 128 below */
	caller(e, site + 1 - p.call);
	advance(e, p.call + 1);                      /* returned to: the site + 2 */
	caller(e, site - p.call);
	advance(e, p.up);                            /* after the site */
	caller(e, site + 3 - p.up);
	advance(e, p.post);
	cfa_offset(e, 0);
	if (p.post != p.jmp) {
		caller(e, site + 3 - p.post);        /* the moved instructions */
		advance(e, p.jmp);
	}
	caller(e, back + 1 - p.jmp);                 /* the jump back */
}

static int put_entry(struct zp_dframe *d, struct entry *e)
{
	while (e->n % 8)
		byte(e, 0);   /* DW_CFA_nop */
	uint32_t len = (uint32_t)(e->n - 4);
	memcpy(e->b, &len, 4);
	return zp_dframe_append_raw(d, e->b, e->n);
}

int zp_stubcfi_append(struct zp_dframe *d, const struct zp_sites *sites, const struct zp_layout *lo)
{
	uint64_t cie_at = d->size;
	struct entry cie = { .n = 4 };

	if (!lo->seg[ZP_SEG_STUBS].used)
		return 0;
	bytes(&cie, "\xff\xff\xff\xff", 4);   /* a CIE */
	byte(&cie, 1);                        /* version */
	byte(&cie, 0);                        /* no augmentation */
	uleb(&cie, 1);                        /* code alignment */
	sleb(&cie, -8);                       /* data alignment */
	byte(&cie, DW_RIP);                   /* the return address column */
	byte(&cie, DW_CFA_def_cfa);
	uleb(&cie, DW_RSP);
	uleb(&cie, 0);
	if (put_entry(d, &cie))
		return -1;
	for (size_t i = 0; i < sites->n; i++) {
		const struct zp_site *s = &sites->v[i];
		if (s->decision != ZP_STUB)
			continue;
		uint64_t v = lo->stub_vaddr[i], size = zp_stub_size(s);
		uint32_t cie_ptr = (uint32_t)cie_at;
		struct entry fde = { .n = 4, .pc = v };
		bytes(&fde, &cie_ptr, 4);
		bytes(&fde, &v, 8);
		bytes(&fde, &size, 8);
		stub_rows(&fde, s, v);
		if (put_entry(d, &fde))
			return -1;
	}
	return 0;
}
