/*
 * unit-format.c - the runtime's printf (runtime/util.c: zp_vsnprintf)
 * against the C library's, over many formats and arguments.
 *
 * Hooks and the runtime print through zp_vsnprintf, which hook.h documents
 * as a subset of printf; here runtime/util.c itself (compiled for the host
 * by unit.mk, its libc-named functions made local) formats every
 * combination of flags, width, precision, length modifier, conversion and
 * a set of edge values, and must give the bytes and the return value that
 * snprintf gives, at every buffer size from 0 up (truncation, the
 * terminating NUL, nothing written past the size).  %s of NULL must print
 * what snprintf prints for the string "(null)" (hook.h's promise).
 * One TAP line per group of cases; a failing line shows the first case
 * that differs.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

int zp_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
const char *zp_progname = "unit-format";   /* util.c's messages name it */

#define OUT 640   /* room for any output below */

/* A group of cases: how many ran, and the first that differed. */
struct group {
	long cases, bad;
	char first[300];
};

static void mismatch(struct group *g, const char *fmt, size_t size, const char *what)
{
	if (!g->bad++)
		snprintf(g->first, sizeof g->first, "format \"%s\", buffer of %zu: %s", fmt, size, what);
}

/* zp_vsnprintf(fmt, ap) must give `want` (wn characters in all) at every
 * buffer size that matters. */
static void against(struct group *g, const char *fmt, const char *want, int wn, va_list ap)
{
	size_t sizes[] = { 0, 1, 2, (size_t)wn / 2, (size_t)wn, (size_t)wn + 1, OUT };

	g->cases++;
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		char got[OUT + 8];
		size_t size = sizes[k];
		va_list aq;
		memset(got, 0x55, sizeof got);
		va_copy(aq, ap);
		int gn = zp_vsnprintf(got, size, fmt, aq);
		va_end(aq);
		size_t kept = size ? ((size_t)wn < size ? (size_t)wn : size - 1) : 0;
		char why[160];
		if (gn != wn) {
			snprintf(why, sizeof why, "returns %d, snprintf %d", gn, wn);
			return mismatch(g, fmt, size, why);
		}
		if (memcmp(got, want, kept)) {
			snprintf(why, sizeof why, "wrote \"%.*s\", snprintf \"%.*s\"", (int)kept, got, (int)kept, want);
			return mismatch(g, fmt, size, why);
		}
		if (size && got[kept] != 0) {
			snprintf(why, sizeof why, "no NUL after the %zu characters kept", kept);
			return mismatch(g, fmt, size, why);
		}
		for (size_t i = size; i < sizeof got; i++)
			if (got[i] != 0x55)
				return mismatch(g, fmt, size, "wrote past the buffer's size");
	}
}

static void zp_against(struct group *g, const char *fmt, const char *want, int wn, ...)
{
	va_list ap;
	va_start(ap, wn);
	against(g, fmt, want, wn, ap);
	va_end(ap);
}

/* The same format and arguments through both. */
static void compare(struct group *g, const char *fmt, ...)
{
	char want[OUT];
	va_list ap, aq;

	va_start(ap, fmt);
	va_copy(aq, ap);
	int wn = vsnprintf(want, sizeof want, fmt, ap);
	against(g, fmt, want, wn, aq);
	va_end(aq);
	va_end(ap);
}

static void report(const char *name, const struct group *g)
{
	tap_check(g->cases > 0 && !g->bad, name, "%ld of %ld cases differ; first: %s", g->bad, g->cases, g->first);
}

static const char *const widths[] = { "", "1", "7", "24" };
static const char *const precs[] = { "", ".", ".0", ".1", ".6", ".30" };
static const char *const lengths[] = { "hh", "h", "", "l", "ll", "z" };

static const long long values[] = {
	0, 1, -1, 7, -42, 127, -128, 255, 32767, -32768, 65535, INT_MAX, INT_MIN,
	4294967295LL, LLONG_MAX, LLONG_MIN,
};
#define NVALUES (sizeof values / sizeof *values)

/* "%<flags><width><prec><len><conv>" with the flags of bit set `flags`
 * ("-0# +"). */
static void make_fmt(char *fmt, unsigned flags, const char *width, const char *prec, const char *len,
		     const char *conv)
{
	char fl[8];
	size_t n = 0;
	for (int b = 0; b < 5; b++)
		if (flags & (1u << b))
			fl[n++] = "-0# +"[b];
	fl[n] = 0;
	sprintf(fmt, "%%%s%s%s%s%s", fl, width, prec, len, conv);
}

/* Every combination for one integer conversion; `flagmask`: the flags that
 * apply to it. */
static void integers(struct group *g, const char *conv, int is_signed, unsigned flagmask)
{
	char fmt[40];

	for (unsigned fl = 0; fl < 32; fl++) {
		if (fl & ~flagmask)
			continue;
		for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
			for (size_t p = 0; p < sizeof precs / sizeof *precs; p++)
				for (size_t l = 0; l < sizeof lengths / sizeof *lengths; l++) {
					make_fmt(fmt, fl, widths[w], precs[p], lengths[l], conv);
					for (size_t v = 0; v < NVALUES; v++) {
						long long x = values[v];
						if (l >= 3 && l != 4)   /* l, z */
							is_signed ? compare(g, fmt, (long)x) : compare(g, fmt, (unsigned long)x);
						else if (l == 4)
							is_signed ? compare(g, fmt, x) : compare(g, fmt, (unsigned long long)x);
						else
							is_signed ? compare(g, fmt, (int)x) : compare(g, fmt, (unsigned)x);
					}
				}
	}
}

#define F_ALL 31u        /* - 0 # space + */
#define F_NO_SIGN 7u     /* - 0 #: ' ' and '+' are for signed conversions */

static void strings(struct group *g, struct group *null)
{
	static const char *const strs[] = { "", "a", "hello", "0123456789abcdefghijklmnopqrstuvwxyzABCD" };
	static const char *const sw[] = { "", "1", "8", "30", "-8", "-30" };
	static const char *const sp[] = { "", ".0", ".3", ".5", ".6", ".10", "." };
	char fmt[40], want[OUT];

	for (size_t w = 0; w < sizeof sw / sizeof *sw; w++)
		for (size_t p = 0; p < sizeof sp / sizeof *sp; p++) {
			snprintf(fmt, sizeof fmt, "%%%s%ss", sw[w], sp[p]);
			for (size_t s = 0; s < sizeof strs / sizeof *strs; s++)
				compare(g, fmt, strs[s]);
			/* NULL: what the string "(null)" gives (hook.h). */
			int wn = snprintf(want, sizeof want, fmt, "(null)");
			zp_against(null, fmt, want, wn, (const char *)NULL);
		}
}

static void chars(struct group *g)
{
	static const int cs[] = { 'A', ' ', '%', 0, 255, 'z' };
	static const char *const cw[] = { "", "1", "5", "-5", "-1" };
	char fmt[16];

	for (size_t w = 0; w < sizeof cw / sizeof *cw; w++) {
		snprintf(fmt, sizeof fmt, "%%%sc", cw[w]);
		for (size_t c = 0; c < sizeof cs / sizeof *cs; c++)
			compare(g, fmt, cs[c]);
		/* a NUL character inside the output counts and is copied */
		snprintf(fmt, sizeof fmt, "<%%%sc>", cw[w]);
		compare(g, fmt, 0);
	}
}

static void pointers(struct group *g)
{
	static const uintptr_t ps[] = { 1, 0x1000, 0x7fffdeadbeefUL, UINTPTR_MAX };
	static const char *const pw[] = { "", "20", "-20", "2" };
	char fmt[16];

	/* (not NULL: glibc prints "(nil)", outside what hook.h promises) */
	for (size_t w = 0; w < sizeof pw / sizeof *pw; w++) {
		snprintf(fmt, sizeof fmt, "%%%sp", pw[w]);
		for (size_t p = 0; p < sizeof ps / sizeof *ps; p++)
			compare(g, fmt, (void *)ps[p]);
	}
}

/* Width and precision from the arguments, negative ones included. */
static void stars(struct group *g)
{
	static const int ws[] = { -12, -1, 0, 3, 12 };
	static const int ps[] = { -1, 0, 2, 8 };

	for (size_t w = 0; w < sizeof ws / sizeof *ws; w++) {
		for (size_t p = 0; p < sizeof ps / sizeof *ps; p++) {
			compare(g, "%*.*d", ws[w], ps[p], -42);
			compare(g, "%*.*x", ws[w], ps[p], 0xbeefu);
			compare(g, "%-*.*s|", ws[w], ps[p], "stars");
			compare(g, "%0*.*lu", ws[w], ps[p], 99UL);
		}
		compare(g, "%*d", ws[w], 7);
		compare(g, "%0*d", ws[w], -7);
		compare(g, "%*c", ws[w], 'q');
	}
}

/* Several conversions and plain text in one format; long output. */
static void mixed(struct group *g)
{
	compare(g, "plain text, no conversion");
	compare(g, "");
	compare(g, "100%% sure");
	compare(g, "a%db%sc%%d%5.2xe", 12, "str", 0xabu);
	compare(g, "[%-6s|%6s] %c%c %lld/%llu", "ab", "cd", 'x', 'y', LLONG_MIN, ULLONG_MAX);
	compare(g, "%s=%#lx (%zu bytes, %hhd, %hu)", "addr", 0xffff800000001000UL, (size_t)4096, 200, 70000);
	compare(g, "%300d|%-300s|", 1, "wide");
	compare(g, "%.300d", -5);
	compare(g, "%i %o %X %p", -1, 8u, 0xcafeu, (void *)0x1234);
}

int main(void)
{
	struct group sgn = { 0 }, dec_i = { 0 }, uns = { 0 }, hex = { 0 }, hexu = { 0 }, oct = { 0 },
		uns_sign = { 0 }, str = { 0 }, null = { 0 }, chr = { 0 }, ptr = { 0 }, star = { 0 }, mix = { 0 };

	integers(&sgn, "d", 1, F_ALL);
	report("%d: every flag, width, precision and length on edge values", &sgn);
	integers(&dec_i, "i", 1, F_ALL);
	report("%i: as %d", &dec_i);
	integers(&uns, "u", 0, F_NO_SIGN);
	report("%u: flags - 0 #, width, precision, length", &uns);
	integers(&hex, "x", 0, F_NO_SIGN);
	report("%x: flags - 0 # (0x prefix), width, precision, length", &hex);
	integers(&hexu, "X", 0, F_NO_SIGN);
	report("%X: as %x, upper case", &hexu);
	integers(&oct, "o", 0, F_NO_SIGN);
	report("%o: flags - 0 # (leading 0), width, precision, length", &oct);
	integers(&uns_sign, "u", 0, 24u);
	integers(&uns_sign, "x", 0, 24u);
	report("%u %x with ' ' or '+': printf ignores them", &uns_sign);
	strings(&str, &null);
	report("%s: width, precision, '-', truncation", &str);
	report("%s of NULL prints what \"(null)\" prints", &null);
	chars(&chr);
	report("%c: width, '-', a NUL character", &chr);
	pointers(&ptr);
	report("%p: like %#lx, width, '-'", &ptr);
	stars(&star);
	report("'*' width and precision, negative ones too", &star);
	mixed(&mix);
	report("several conversions and text in one format, long output", &mix);
	return tap_done();
}
