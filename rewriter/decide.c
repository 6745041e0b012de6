/*
 * decide.c - the red-zone analysis behind each site's decision (see decide.h).
 *
 * For a site in a function, the function is decoded in full and walked in
 * address order, following the stack pointer as an offset from its value at
 * the function's entry: pushes, pops, add/sub/lea with constants; `mov
 * %rsp,%rbp` makes rbp an alias, so rbp-based accesses are placed too.  At a
 * direct branch the offset is remembered for its target, so code after a
 * `ret` or `jmp` continues with the offset of the branches that lead there.
 * The site is unsafe if some instruction reads or writes memory below the
 * stack pointer of its moment (a red-zone access) overlapping the 8 bytes
 * just below the site's stack pointer, or if such an access cannot be placed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <string.h>

#include <asm/unistd.h>

#include "decide.h"
#include "warn.h"

#define UNKNOWN INT64_MIN

/*
 * What is known at a point of the code: rsp as an offset from its value at
 * the function's entry (exactly, only an upper bound after alloca or aligning
 * down, or nothing), and which registers hold rsp plus a constant (rbp in
 * frame-pointer code, a saved rsp around alloca).  SP_BOTTOM is "no path
 * reaches here (yet)", which joins with anything.
 */
enum sp_kind { SP_BOTTOM, SP_KNOWN, SP_BOUND, SP_NONE };
struct state {
	enum sp_kind kind;
	int64_t off;
	int64_t reg[16];     /* offset held by each register, or UNKNOWN */
};

static struct state st_make(enum sp_kind kind, int64_t off)
{
	struct state st = { kind, off, { 0 } };
	for (int r = 0; r < 16; r++)
		st.reg[r] = UNKNOWN;
	return st;
}

/* What holds on both of two paths that meet. */
static struct state st_join(struct state a, struct state b)
{
	if (a.kind == SP_BOTTOM)
		return b;
	if (b.kind == SP_BOTTOM)
		return a;
	struct state r = st_make(SP_NONE, 0);
	for (int i = 0; i < 16; i++)
		r.reg[i] = a.reg[i] == b.reg[i] ? a.reg[i] : UNKNOWN;
	if (a.kind == SP_NONE || b.kind == SP_NONE)
		return r;
	if (a.kind == SP_KNOWN && b.kind == SP_KNOWN && a.off == b.off) {
		r.kind = SP_KNOWN;
		r.off = a.off;
		return r;
	}
	r.kind = SP_BOUND;
	r.off = a.off > b.off ? a.off : b.off;
	return r;
}

static int st_equal(const struct state *a, const struct state *b)
{
	return a->kind == b->kind && a->off == b->off && !memcmp(a->reg, b->reg, sizeof a->reg);
}

/* The state after one instruction. */
static struct state st_step(struct state st, const struct zp_insn *in)
{
	if (st.kind == SP_BOTTOM)
		return st;
	int64_t before[16];
	memcpy(before, st.reg, sizeof before);
	int64_t rsp_before = st.kind == SP_KNOWN ? st.off : UNKNOWN;

	switch (in->sp) {
	case ZP_SP_NONE:
		break;
	case ZP_SP_DELTA:
		if (st.kind != SP_NONE)
			st.off += in->sp_delta;
		break;
	case ZP_SP_DOWN:
		if (st.kind != SP_NONE)
			st.kind = SP_BOUND;
		break;
	case ZP_SP_FROM_REG:
		st.kind = before[in->sp_reg] == UNKNOWN ? SP_NONE : SP_KNOWN;
		st.off = st.kind == SP_KNOWN ? before[in->sp_reg] + in->sp_delta : 0;
		break;
	case ZP_SP_LEAVE:
		st.kind = before[ZP_REG_RBP] == UNKNOWN ? SP_NONE : SP_KNOWN;
		st.off = st.kind == SP_KNOWN ? before[ZP_REG_RBP] + 8 : 0;
		break;
	default:
		st.kind = SP_NONE;
		break;
	}
	for (int r = 0; r < 16; r++)
		if (in->writes & (1u << r))
			st.reg[r] = UNKNOWN;
	if (in->copy_dst != ZP_NO_REG && in->copy_dst != ZP_REG_RSP) {
		int64_t v = in->copy_src == ZP_REG_RSP ? rsp_before : before[in->copy_src];
		st.reg[in->copy_dst] = v == UNKNOWN ? UNKNOWN : v + in->copy_delta;
	}
	return st;
}

/* The function's instructions, and the state before each, joined over
 * every way into it. */
struct walk {
	struct zp_insn *insn;
	struct state *in;
	unsigned char *mark;     /* can reach the site / be reached from it */
	size_t (*succ)[2];       /* the next instruction, the branch target (SIZE_MAX: none) */
	size_t n, cap;
};

static size_t index_of(const struct walk *w, uint64_t addr)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->insn[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->n && w->insn[lo].addr == addr ? lo : SIZE_MAX;
}

/* Decode [start, end) in full; 0 on success, -1 if some bytes do not decode,
 * -2 if out of memory. */
static int decode_range(struct zp_decoder *d, const struct zp_code *code, uint64_t start,
			uint64_t end, struct walk *w)
{
	uint64_t code_end = code->addr + code->size;

	w->n = 0;
	if (end > code_end)
		end = code_end;
	for (uint64_t pc = start; pc < end;) {
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 1024;
			struct zp_insn *ni = realloc(w->insn, cap * sizeof *ni);
			if (ni)
				w->insn = ni;
			struct state *ns = ni ? realloc(w->in, cap * sizeof *ns) : NULL;
			if (ns)
				w->in = ns;
			unsigned char *nm = ns ? realloc(w->mark, cap) : NULL;
			if (nm)
				w->mark = nm;
			size_t (*nsu)[2] = nm ? realloc(w->succ, cap * sizeof *nsu) : NULL;
			if (!nsu)
				return -2;
			w->succ = nsu;
			w->cap = cap;
		}
		struct zp_insn *in = &w->insn[w->n];
		if (zp_decode_full(d, code->bytes + (pc - code->addr), code_end - pc, pc, in))
			return -1;
		w->n++;
		pc += in->len;
	}
	return 0;
}

static int falls_through(const struct zp_insn *in)
{
	/* Jump tables keep the stack as it is at the jump: the code after an
	 * indirect jump is taken to be reached that way. */
	return in->flow != ZP_FLOW_JUMP && in->flow != ZP_FLOW_RET && in->flow != ZP_FLOW_STOP;
}

static size_t branch_index(const struct walk *w, const struct zp_insn *in)
{
	if (in->flow != ZP_FLOW_JUMP && in->flow != ZP_FLOW_BRANCH)
		return SIZE_MAX;
	return index_of(w, in->target);   /* SIZE_MAX: leaves the function */
}

/* Propagate states through the code until nothing changes (repeated passes
 * in address order: loops settle in a few, because states only ever move
 * towards "less known").  Also records each instruction's successors. */
static void propagate(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct zp_insn *in = &w->insn[i];
		w->in[i] = st_make(SP_BOTTOM, 0);
		w->succ[i][0] = falls_through(in) && i + 1 < w->n ? i + 1 : SIZE_MAX;
		w->succ[i][1] = branch_index(w, in);
	}
	if (!w->n)
		return;
	w->in[0] = st_make(SP_KNOWN, 0);
	for (int round = 0, changed = 1; changed && round < 16; round++) {
		changed = 0;
		for (size_t i = 0; i < w->n; i++) {
			struct state out = st_step(w->in[i], &w->insn[i]);
			if (out.kind == SP_BOTTOM)
				continue;
			for (int k = 0; k < 2; k++) {
				size_t next = w->succ[i][k];
				if (next == SIZE_MAX)
					continue;
				struct state j = st_join(w->in[next], out);
				if (!st_equal(&j, &w->in[next])) {
					w->in[next] = j;
					changed = 1;
				}
			}
		}
	}
}

/* Mark the instructions on some path through the site: those the site can
 * reach and those that can reach it.  Data below the stack pointer that no
 * such path touches does not meet the site's return address. */
static void mark_paths(struct walk *w, size_t si)
{
	unsigned char *from = w->mark;   /* bit 1: reached from the site; bit 2: reaches it */

	memset(from, 0, w->n);
	from[si] = 3;
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < w->n; i++)
			for (int k = 0; k < 2; k++) {
				size_t next = w->succ[i][k];
				if (next == SIZE_MAX)
					continue;
				if ((from[i] & 1) && !(from[next] & 1)) {
					from[next] |= 1;
					changed = 1;
				}
				if ((from[next] & 2) && !(from[i] & 2)) {
					from[i] |= 2;
					changed = 1;
				}
			}
	}
}

/* Stack bytes that may lie below the stack pointer of their moment. */
struct below {
	struct { int64_t lo, hi; uint64_t at; } r[64];
	size_t n;
	uint64_t unplaced;   /* an instruction whose such access could not be placed */
};

static void note_access(struct below *b, const struct zp_insn *in, const struct zp_stack_access *a,
			const struct state *st)
{
	int64_t lo;

	if (st->kind == SP_BOTTOM)
		return;         /* unreachable */
	if (a->base != ZP_REG_RSP) {
		if (st->reg[a->base] == UNKNOWN)
			return;     /* the base is no stack address here */
		lo = st->reg[a->base] + a->disp;
		/* An access at or above the stack pointer (or its bound) is a
		 * normal frame.  A pointer may be used later, when the stack
		 * pointer is elsewhere: those are always compared with the slot. */
		if (!a->is_address && st->kind != SP_NONE && lo >= st->off)
			return;
	} else {
		if (a->disp >= 0)
			return;     /* above the stack pointer: a normal frame */
		if (st->kind != SP_KNOWN) {
			if (!b->unplaced)
				b->unplaced = in->addr;
			return;
		}
		lo = st->off + a->disp;
	}
	if (b->n == 64) {
		if (!b->unplaced)
			b->unplaced = in->addr;
		return;
	}
	b->r[b->n].lo = lo;
	b->r[b->n].hi = lo + (int64_t)a->size;
	b->r[b->n].at = in->addr;
	b->n++;
}

/* 1: the function keeps data in the slot `call *%rax` would overwrite; *at
 * is the instruction that touches it.  (propagate() has run on w.) */
static int red_zone_conflict(struct walk *w, uint64_t site, uint64_t *at)
{
	struct below b = { .n = 0, .unplaced = 0 };
	size_t si = index_of(w, site);

	if (si == SIZE_MAX)
		return -1;
	mark_paths(w, si);
	struct state site_st = w->in[si];
	for (size_t i = 0; i < w->n; i++)
		if (w->mark[i])
			for (int k = 0; k < w->insn[i].naccess; k++)
				note_access(&b, &w->insn[i], &w->insn[i].access[k], &w->in[i]);
	if (b.unplaced) {
		*at = b.unplaced;
		return 1;
	}
	for (size_t k = 0; k < b.n; k++) {
		int hit;
		switch (site_st.kind) {
		case SP_KNOWN:      /* the slot is [off - 8, off) */
			hit = b.r[k].lo < site_st.off && b.r[k].hi > site_st.off - 8;
			break;
		case SP_BOUND:      /* the slot is somewhere below the bound */
			hit = b.r[k].lo < site_st.off;
			break;
		default:
			hit = 1;
			break;
		}
		if (hit) {
			*at = b.r[k].at;
			return 1;
		}
	}
	return 0;
}

/* ---- red-zone sites: a stub instead of call *%rax in place ------------- */

static int is_target(const struct walk *w, uint64_t addr)
{
	for (size_t i = 0; i < w->n; i++)
		if ((w->insn[i].flow == ZP_FLOW_JUMP || w->insn[i].flow == ZP_FLOW_BRANCH) &&
		    w->insn[i].target == addr)
			return 1;
	return 0;
}

/* Can this instruction run from another address unchanged? */
static int movable(const struct walk *w, size_t i)
{
	const struct zp_insn *in = &w->insn[i];
	return in->flow == ZP_FLOW_NEXT && !in->rip_relative && in->kind == ZP_INSN_OTHER;
}

/* The call's number, if an instruction of the same block sets rax to a
 * constant before it. */
static long known_number(const struct walk *w, size_t si)
{
	for (size_t i = si; i-- > 0;) {
		const struct zp_insn *in = &w->insn[i];
		if (in->flow != ZP_FLOW_NEXT && in->flow != ZP_FLOW_CALL)
			return -1;
		if (in->flow == ZP_FLOW_CALL)
			return -1;          /* the callee may change rax */
		if (in->writes & 1)   /* rax */
			return in->rax_imm_valid ? (long)in->rax_imm : -1;
		if (is_target(w, in->addr))
			return -1;          /* another path may come with another rax */
	}
	return -1;
}

/* Calls that must not go through a stub: the child of a clone with a new
 * stack, or rt_sigreturn, expect the stack pointer the site had, and the
 * stub has moved it by 128 bytes. */
static int stub_safe_number(long nr)
{
	return nr >= 0 && nr != __NR_rt_sigreturn && nr != __NR_clone && nr != __NR_clone3 &&
	       nr != __NR_vfork;
}

/* Choose the instructions to move with the site: whole instructions before
 * it (preferably) or after it (not for a stackless exit: nothing runs after
 * it), at least 5 bytes in all for the jump, none of them (but the first) a
 * branch target, none using rip or changing flow. */
static const char *plan_stub(const struct walk *w, struct zp_site *s, enum zp_stub_kind kind)
{
	size_t si = index_of(w, s->addr);
	if (si == SIZE_MAX)
		return "red zone: the site is not where its function decodes";
	long nr = known_number(w, si);
	if (!stub_safe_number(nr))
		return nr < 0 ? "red zone, and the call's number is not a constant" :
				"red zone, and this call cannot go through a stub";
	uint64_t pre = 0, post = 0;
	size_t first = si;
	int site_target = is_target(w, s->addr);
	/* Backwards from the site. */
	while (!site_target && pre + 2 < 5 && first > 0 && movable(w, first - 1) &&
	       (first == si || !is_target(w, w->insn[first].addr))) {
		first--;
		pre += w->insn[first].len;
	}
	if (pre + 2 < 5 && kind == ZP_STUB_REDZONE) {
		/* Not enough before it: take instructions after it too. */
		size_t last = si;
		while (pre + 2 + post < 5 && last + 1 < w->n && movable(w, last + 1) &&
		       !is_target(w, w->insn[last + 1].addr)) {
			last++;
			post += w->insn[last].len;
		}
	}
	if (pre + 2 + post < 5)
		return kind == ZP_STUB_REDZONE ? "red zone, and no room around the site for a jump" :
		       "exit without a stack, and no room before the site for a jump";
	/* Everything after the first instruction must be reached only from it. */
	for (uint64_t a = s->addr - pre; a < s->addr + 2 + post;) {
		size_t i = index_of(w, a);
		if (i == SIZE_MAX || (a != s->addr - pre && is_target(w, a)))
			return "red zone, and a branch lands inside the instructions to move";
		a += w->insn[i].len;
	}
	s->decision = ZP_STUB;
	s->stub_kind = kind;
	s->win_start = s->addr - pre;
	s->win_len = (uint8_t)(pre + 2 + post);
	s->pre_len = (uint8_t)pre;
	s->nr = nr;
	return NULL;
}

/* The end of the code to analyse for a site: its function's end, or for a
 * sweep site a bounded window. */
static uint64_t analysis_end(const struct zp_funcs *f, const struct zp_site *s)
{
	uint64_t end = s->addr + 2;

	if (s->found == ZP_FOUND_SWEEP)
		return s->addr + 256;
	/* The longest function starting at decode_start that covers the site. */
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (f->v[mid].start < s->decode_start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < f->n && f->v[i].start == s->decode_start; i++)
		if (f->v[i].end > end)
			end = f->v[i].end;
	return end;
}

/*
 * A thread that unmaps its own stack and then exits (musl's __unmapself:
 * `munmap(stack); exit(0)`, straight-line, no stack in between) reaches its
 * exit site with no stack for `call *%rax` to push on.  Such an exit site
 * gets a stub that moves to a stack of the runtime's first.
 */
static int exit_without_stack(const struct walk *w, size_t si)
{
	if (si == SIZE_MAX)
		return 0;
	long nr = known_number(w, si);
	if (nr != __NR_exit && nr != __NR_exit_group)
		return 0;
	for (size_t i = si; i-- > 0;) {
		const struct zp_insn *in = &w->insn[i];
		if (in->flow != ZP_FLOW_NEXT || in->sp != ZP_SP_NONE || in->naccess)
			return 0;   /* not straight-line, or it uses the stack */
		if (in->kind == ZP_INSN_SYSCALL)
			return known_number(w, i) == __NR_munmap;
		if (is_target(w, w->insn[i + 1].addr) && i + 1 != si)
			return 0;
	}
	return 0;
}

int zp_decide(const struct zp_elf *e, const struct zp_funcs *f, struct zp_decoder *d,
	      struct zp_sites *sites)
{
	struct walk w = { 0 };
	int rc = 0;

	/* Sites are sorted: consecutive ones in the same function share one
	 * decoding and one propagation. */
	uint64_t done_start = 0, done_end = 0;
	int done_rc = -1;
	for (size_t i = 0; i < sites->n; i++) {
		struct zp_site *s = &sites->v[i];
		if (s->decision != ZP_PATCH)
			continue;
		uint64_t end = analysis_end(f, s), at = 0;
		if (s->decode_start != done_start || end != done_end || done_rc == -2) {
			done_start = s->decode_start;
			done_end = end;
			done_rc = decode_range(d, s->code, s->decode_start, end, &w);
			if (done_rc == 0)
				propagate(&w);
		}
		int conflict = done_rc;
		if (conflict == 0)
			conflict = red_zone_conflict(&w, s->addr, &at);
		if (conflict == -2) {
			rc = zp_error(e->path, "out of memory");
			break;
		}
		if (conflict) {
			s->container = at;
			const char *why = conflict > 0 ? plan_stub(&w, s, ZP_STUB_REDZONE) :
				"red zone: its code cannot be analysed";
			if (why) {
				s->decision = ZP_SKIP;
				s->reason = why;
			} else {
				s->reason = "red zone: jump to a stub that steps below it";
			}
		} else if (conflict == 0 && exit_without_stack(&w, index_of(&w, s->addr))) {
			const char *why = plan_stub(&w, s, ZP_STUB_STACKLESS);
			if (why) {
				s->decision = ZP_SKIP;
				s->reason = why;
			} else {
				s->reason = "exit after unmapping its stack: jump to a stub with a stack";
				s->container = 0;
			}
		}
	}
	free(w.insn);
	free(w.in);
	free(w.mark);
	free(w.succ);
	return rc;
}
