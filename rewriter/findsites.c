/*
 * findsites.c - find the system call sites of a file (see findsites.h).
 *
 * The 0f 05 / 0f 34 byte pairs are rare, so only the functions that contain
 * one are decoded, from their start, never the whole text: that keeps
 * rewriting far cheaper than a disassembly.  Candidates are visited in address
 * order, and a small cache of decoding cursors lets several candidates in the
 * same function share one pass over it.
 */
#include <stdlib.h>
#include <string.h>

#include "findsites.h"
#include "warn.h"

/* Where a linear decoding stands. */
struct cursor {
	uint64_t start;          /* where this decoding began (the key) */
	uint64_t pos;            /* next instruction boundary */
	uint64_t last;           /* start of the instruction that ends at pos */
	int last_mnemonic;
	int used;
	uint64_t anchor, anchor_next;   /* boundaries 1-2 ANCHOR_DISTANCEs behind pos */
};

#define NCURSORS 8

struct finder {
	struct zp_decoder *d;
	const struct zp_code *code;
	struct cursor cur[NCURSORS];
	unsigned next_victim;
	/* what the functions covering the current candidate said */
	int n_boundary, n_inside, n_bad;
	uint64_t decode_start, enclosing;
	int enclosing_mnemonic;
	const char *func_source;
	uint64_t cand;           /* the candidate being judged */
};

/* Where a decoding up to an address ended. */
enum landing {
	AT_BOUNDARY,         /* on an instruction boundary at the address */
	INSIDE_INSN,         /* inside an instruction that covers it */
	UNDECODABLE,         /* at bytes that do not decode, before it */
};

static struct cursor *cursor_for(struct finder *fd, uint64_t start)
{
	for (int i = 0; i < NCURSORS; i++)
		if (fd->cur[i].used && fd->cur[i].start == start)
			return &fd->cur[i];
	struct cursor *c = &fd->cur[fd->next_victim++ % NCURSORS];
	*c = (struct cursor){ start, start, start, 0, 1, start, start };
	return c;
}

/* A sweep also notes an instruction boundary at least this far before the
 * site (`anchor`), so that later stages decode from there, not from the
 * start of a long stretch of code with no functions. */
#define ANCHOR_DISTANCE 512

/*
 * Decode from `start` up to `addr`.  sweep: an undecodable byte is skipped
 * (resynchronising like a disassembler) instead of ending the decoding.
 */
static enum landing decode_to(struct finder *fd, uint64_t start, uint64_t addr, int sweep,
			      uint64_t *enclosing, int *mnemonic, uint64_t *anchor)
{
	const struct zp_code *code = fd->code;
	uint64_t code_end = code->addr + code->size;
	struct cursor *c = cursor_for(fd, start);

	if (c->pos > addr && c->last > addr)
		*c = (struct cursor){ start, start, start, 0, 1, start, start };   /* went past: restart */
	while (c->pos < addr) {
		if (c->pos - c->anchor_next >= ANCHOR_DISTANCE) {
			c->anchor = c->anchor_next;
			c->anchor_next = c->pos;
		}
		struct zp_insn in;
		if (c->pos < code->addr || c->pos >= code_end)
			return UNDECODABLE;
		const unsigned char *p = code->bytes + (c->pos - code->addr);
		if (zp_decode(fd->d, p, code_end - c->pos, c->pos, &in)) {
			if (!sweep)
				return UNDECODABLE;
			c->last = c->pos;
			c->last_mnemonic = 0;
			c->pos++;
			continue;
		}
		c->last = c->pos;
		c->last_mnemonic = in.mnemonic;
		c->pos += in.len;
	}
	*anchor = c->anchor;
	if (c->pos == addr)
		return AT_BOUNDARY;
	*enclosing = c->last;
	*mnemonic = c->last_mnemonic;
	return INSIDE_INSN;
}

static void visit_func(const struct zp_func *f, void *arg)
{
	struct finder *fd = arg;
	uint64_t enclosing = 0, anchor;
	int mnemonic = 0;

	if (f->start < fd->code->addr)
		return;   /* starts outside this section: not a decoding start here */
	switch (decode_to(fd, f->start, fd->cand, 0, &enclosing, &mnemonic, &anchor)) {
	case AT_BOUNDARY:
		if (!fd->n_boundary++) {
			fd->decode_start = f->start;
			fd->func_source = f->source == ZP_FUNC_SYMBOL ? "symtab" : "eh_frame";
		}
		break;
	case INSIDE_INSN:
		if (!fd->n_inside++) {
			fd->enclosing = enclosing;
			fd->enclosing_mnemonic = mnemonic;
		}
		break;
	case UNDECODABLE:
		fd->n_bad++;
		break;
	}
}

/* Union of the function ranges, to find where uncovered code starts. */
struct covered {
	uint64_t *start, *end;
	size_t n;
};

static int build_covered(const struct zp_funcs *f, struct covered *cv)
{
	cv->n = 0;
	cv->start = malloc((f->n + 1) * sizeof *cv->start);
	cv->end = malloc((f->n + 1) * sizeof *cv->end);
	if (!cv->start || !cv->end)
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		if (cv->n && f->v[i].start <= cv->end[cv->n - 1]) {
			if (f->v[i].end > cv->end[cv->n - 1])
				cv->end[cv->n - 1] = f->v[i].end;
			continue;
		}
		cv->start[cv->n] = f->v[i].start;
		cv->end[cv->n] = f->v[i].end;
		cv->n++;
	}
	return 0;
}

/* End of the covered interval before addr (0 if none). */
static uint64_t covered_before(const struct covered *cv, uint64_t addr)
{
	size_t lo = 0, hi = cv->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cv->end[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? cv->end[lo - 1] : 0;
}

static int add_site(struct zp_sites *s, size_t *cap, const struct zp_site *site)
{
	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		struct zp_site *nv = realloc(s->v, *cap * sizeof *nv);
		if (!nv)
			return -1;
		s->v = nv;
	}
	s->v[s->n++] = *site;
	return 0;
}

/* A site no function covers: sweep from the end of the last function
 * before it. */
static void judge_sweep(struct finder *fd, const struct covered *cv, uint64_t addr, struct zp_site *site)
{
	uint64_t start = covered_before(cv, addr), enclosing = 0, anchor;
	int mnemonic = 0;

	if (start < fd->code->addr)
		start = fd->code->addr;
	site->found = ZP_FOUND_SWEEP;
	site->func_source = "sweep";
	enum landing l = decode_to(fd, start, addr, 1, &enclosing, &mnemonic, &anchor);
	site->decode_start = anchor;
	if (l == AT_BOUNDARY) {
		site->decision = ZP_PATCH;
		site->reason = "linear sweep outside functions";
	} else {
		site->decision = ZP_NOT_INSN;
		site->reason = "bytes inside another instruction (linear sweep)";
		site->enclosing = enclosing;
		site->enclosing_mnemonic = mnemonic;
	}
}

/* What the decodings of the functions covering addr say of it. */
static void judge(struct finder *fd, const struct covered *cv, const struct zp_funcs *f,
		  uint64_t addr, struct zp_site *site)
{
	fd->n_boundary = fd->n_inside = fd->n_bad = 0;
	fd->cand = addr;
	zp_funcs_covering(f, addr, visit_func, fd);
	if (!fd->n_boundary && !fd->n_inside && !fd->n_bad) {
		judge_sweep(fd, cv, addr, site);
		return;
	}
	site->found = ZP_FOUND_FUNC;
	site->decode_start = fd->n_boundary ? fd->decode_start : 0;
	site->func_source = fd->n_boundary ? fd->func_source : "";
	if (fd->n_boundary && !fd->n_inside) {
		site->decision = ZP_PATCH;
		site->reason = "instruction in a function";
	} else if (fd->n_boundary) {
		site->decision = ZP_SKIP;
		site->reason = "overlapping functions decode it differently";
	} else if (fd->n_inside) {
		site->decode_start = fd->enclosing;
		site->decision = ZP_NOT_INSN;
		site->reason = "bytes inside another instruction";
		site->enclosing = fd->enclosing;
		site->enclosing_mnemonic = fd->enclosing_mnemonic;
	} else {
		site->decision = ZP_SKIP;
		site->reason = "its function does not decode up to it";
	}
}

int zp_sites_find(const struct zp_elf *e, const struct zp_funcs *f, struct zp_decoder *d,
		  struct zp_sites *out)
{
	struct covered cv;
	size_t cap = 0;

	memset(out, 0, sizeof *out);
	if (build_covered(f, &cv)) {
		free(cv.start);
		free(cv.end);
		return zp_error(e->path, "out of memory");
	}
	for (size_t r = 0; r < e->ncode; r++) {
		const struct zp_code *code = &e->code[r];
		struct finder fd = { .d = d, .code = code };
		const unsigned char *b = code->bytes;
		for (uint64_t i = 0; i + 1 < code->size; i++) {
			const unsigned char *p = memchr(b + i, 0x0f, code->size - 1 - i);
			if (!p)
				break;
			i = (uint64_t)(p - b);
			if (p[1] != 0x05 && p[1] != 0x34)
				continue;
			struct zp_site site = {
				.addr = code->addr + i,
				.kind = p[1] == 0x05 ? ZP_INSN_SYSCALL : ZP_INSN_SYSENTER,
				.code = code,
			};
			judge(&fd, &cv, f, site.addr, &site);
			if (site.decision == ZP_NOT_INSN)
				site.kind = ZP_INSN_OTHER;
			if (add_site(out, &cap, &site)) {
				free(cv.start);
				free(cv.end);
				return zp_error(e->path, "out of memory");
			}
		}
	}
	free(cv.start);
	free(cv.end);
	return 0;
}

void zp_sites_free(struct zp_sites *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

struct zp_site_counts zp_sites_count(const struct zp_sites *s)
{
	struct zp_site_counts c = { 0 };

	for (size_t i = 0; i < s->n; i++) {
		const struct zp_site *site = &s->v[i];
		if (site->decision == ZP_NOT_INSN) {
			c.not_insn++;
			continue;
		}
		c.sites++;
		if (site->decision == ZP_PATCH)
			c.patched++;
		else if (site->decision == ZP_STUB)
			c.stubs++;
		else
			c.skipped++;
		if (site->found == ZP_FOUND_SWEEP)
			c.by_sweep++;
	}
	return c;
}
