/*
 * unit-debugframe.c - moving .debug_frame entries (rewriter/debugframe.c)
 * on hand-made sections.
 *
 * zprewrite puts the runtime's and a hook's unwind tables into the
 * rewritten file, each FDE moved to where the code landed and each CIE
 * pointer to where the part starts in the output's .debug_frame.  These
 * cases state the bytes exactly: 32- and 64-bit DWARF, CIE versions 1 and
 * 4, a signal-frame CIE ("S"), what is refused (other augmentations, other
 * address sizes, an entry longer than the section, a CIE pointer to no
 * CIE) and that a refused part leaves nothing behind.  t-backtrace.sh
 * checks the result with gdb.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "debugframe.h"
#include "tap.h"

/* A section being written. */
struct sec {
	unsigned char b[512];
	size_t n;
};

static void put(struct sec *s, uint64_t v, int len)
{
	memcpy(s->b + s->n, &v, (size_t)len);
	s->n += (size_t)len;
}

static void raw(struct sec *s, const char *bytes, size_t len)
{
	memcpy(s->b + s->n, bytes, len);
	s->n += len;
}

/* A 32-bit CIE: version, augmentation, [v4: address size, 0], then
 * code 1, data -8, return address 16, DW_CFA_def_cfa rsp+8. */
static size_t cie32(struct sec *s, int version, const char *aug, int addr_size)
{
	size_t at = s->n, len_at = s->n;
	put(s, 0, 4);
	put(s, 0xffffffffu, 4);
	put(s, (uint64_t)version, 1);
	raw(s, aug, strlen(aug) + 1);
	if (version == 4) {
		put(s, (uint64_t)addr_size, 1);
		put(s, 0, 1);
	}
	raw(s, "\x01\x78\x10\x0c\x07\x08", 6);
	uint32_t len = (uint32_t)(s->n - len_at - 4);
	memcpy(s->b + len_at, &len, 4);
	return at;
}

/* A 32-bit FDE for [loc, loc + range) of the CIE at cie, with one
 * DW_CFA_advance_loc(1) and DW_CFA_def_cfa_offset 16. */
static size_t fde32(struct sec *s, uint64_t cie, uint64_t loc, uint64_t range)
{
	size_t at = s->n;
	put(s, 4 + 8 + 8 + 3, 4);
	put(s, cie, 4);
	put(s, loc, 8);
	put(s, range, 8);
	raw(s, "\x41\x0e\x10", 3);
	return at;
}

static uint64_t get(const unsigned char *p, int len)
{
	uint64_t v = 0;
	memcpy(&v, p, (size_t)len);
	return v;
}

static void test_moved32(void)
{
	struct sec s = { .n = 0 };
	size_t c = cie32(&s, 1, "", 8);
	size_t f1 = fde32(&s, c, 0x100, 0x20);
	size_t f2 = fde32(&s, c, 0x0, 0x10);   /* address 0: the runtime's zp_start */
	struct zp_dframe d = { 0 };

	zp_dframe_append_raw(&d, (const unsigned char *)"0123456789", 10);
	int rc = zp_dframe_append_moved(&d, s.b, s.n, 0x400000);
	tap_check(rc == 0 && d.size == 10 + s.n, "moved: a CIE and two FDEs after 10 bytes are taken",
		  "rc %d, size %zu", rc, d.size);
	const unsigned char *o = d.buf + 10;
	tap_check(get(o + f1 + 4, 4) == 10 + c && get(o + f2 + 4, 4) == 10 + c,
		  "moved: CIE pointers + where the part starts", "%#lx %#lx",
		  (unsigned long)get(o + f1 + 4, 4), (unsigned long)get(o + f2 + 4, 4));
	tap_check(get(o + f1 + 8, 8) == 0x400100 && get(o + f2 + 8, 8) == 0x400000,
		  "moved: initial locations + the distance", "%#lx %#lx",
		  (unsigned long)get(o + f1 + 8, 8), (unsigned long)get(o + f2 + 8, 8));
	tap_check(get(o + f1 + 16, 8) == 0x20 && !memcmp(o + f1 + 24, "\x41\x0e\x10", 3) &&
		  !memcmp(o + c, s.b + c, f1 - c),
		  "moved: ranges, rules and the CIE unchanged", "bytes differ");
	zp_dframe_free(&d);
}

static void test_versions(void)
{
	struct sec s = { .n = 0 };
	size_t c1 = cie32(&s, 4, "", 8);
	size_t c2 = cie32(&s, 3, "S", 8);
	size_t f1 = fde32(&s, c1, 0x10, 1), f2 = fde32(&s, c2, 0x20, 1);
	struct zp_dframe d = { 0 };

	int rc = zp_dframe_append_moved(&d, s.b, s.n, 0x1000);
	tap_check(rc == 0 && get(d.buf + f1 + 8, 8) == 0x1010 && get(d.buf + f2 + 8, 8) == 0x1020,
		  "versions: CIE version 4 (address size 8) and a signal frame (\"S\") are taken",
		  "rc %d", rc);
	zp_dframe_free(&d);
}

static void test_moved64(void)
{
	struct sec s = { .n = 0 };
	struct zp_dframe d = { 0 };

	/* CIE: 0xffffffff, length 8 + 1 + 1 + 3 = 13 (64-bit id, version 1, "", rules) */
	put(&s, 0xffffffffu, 4);
	put(&s, 8 + 1 + 1 + 3, 8);
	put(&s, UINT64_MAX, 8);
	raw(&s, "\x01\x00\x01\x78\x10", 5);
	size_t f = s.n;
	put(&s, 0xffffffffu, 4);
	put(&s, 8 + 16, 8);
	put(&s, 0, 8);                  /* the CIE at 0 */
	put(&s, 0x40, 8);
	put(&s, 0x8, 8);
	zp_dframe_append_raw(&d, (const unsigned char *)"xy", 2);
	int rc = zp_dframe_append_moved(&d, s.b, s.n, 0x100);
	tap_check(rc == 0 && get(d.buf + 2 + f + 12, 8) == 2 && get(d.buf + 2 + f + 20, 8) == 0x140,
		  "64-bit DWARF: 8-byte CIE pointer and address moved", "rc %d", rc);
	zp_dframe_free(&d);
}

/* Each of these is refused whole: rc 1, nothing appended. */
static void refused(const char *name, const struct sec *s)
{
	struct zp_dframe d = { 0 };
	zp_dframe_append_raw(&d, (const unsigned char *)"abc", 3);
	int rc = zp_dframe_append_moved(&d, s->b, s->n, 0x1000);
	tap_check(rc == 1 && d.size == 3 && !memcmp(d.buf, "abc", 3), name, "rc %d, size %zu", rc, d.size);
	zp_dframe_free(&d);
}

static void test_refused(void)
{
	struct sec s = { .n = 0 };
	size_t c = cie32(&s, 1, "zR", 8);
	fde32(&s, c, 0x10, 1);
	refused("refused: an augmentation that may change the address encoding (zR)", &s);

	s.n = 0;
	c = cie32(&s, 4, "", 4);
	fde32(&s, c, 0x10, 1);
	refused("refused: 4-byte addresses", &s);

	s.n = 0;
	c = cie32(&s, 1, "", 8);
	fde32(&s, c + 4, 0x10, 1);
	refused("refused: a CIE pointer to no CIE", &s);

	s.n = 0;
	c = cie32(&s, 1, "", 8);
	fde32(&s, c, 0x10, 1);
	s.n -= 2;
	refused("refused: an entry longer than the section", &s);

	s.n = 0;
	c = cie32(&s, 1, "", 8);
	size_t f = fde32(&s, c, 0x10, 1);
	memcpy(s.b + f, "\x08\x00\x00\x00", 4);   /* too short for an address and range */
	s.n = f + 12;
	refused("refused: an FDE too short for its address and range", &s);
}

int main(void)
{
	test_moved32();
	test_versions();
	test_moved64();
	test_refused();
	return tap_done();
}
