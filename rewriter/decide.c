/*
 * decide.c - the red-zone analysis behind each site's decision (see decide.h).
 *
 * For a site in a function, the function is decoded in full and its flow
 * followed, tracking the stack pointer as an offset from its value at the
 * function's entry: pushes, pops, add/sub/lea with constants; `mov
 * %rsp,%rbp` makes rbp an alias, so rbp-based accesses are placed too.  At a
 * direct branch the offset is remembered for its target, so code after a
 * `ret` or `jmp` continues with the offset of the branches that lead there.
 * Code that no direct flow from the entry reaches (the cases of a jump
 * table, or in a linear sweep the functions after the first) is followed
 * too, see propagate().  The site is unsafe if some instruction reads or
 * writes memory below the stack pointer of its moment (a red-zone access)
 * overlapping the 8 bytes just below the site's stack pointer, or if such an
 * access cannot be placed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <asm/unistd.h>

#include "decide.h"
#include "warn.h"

#define UNKNOWN INT64_MIN

/*
 * What is known at a point of the code: rsp as an offset from its value at
 * an entry (exactly, only an upper bound after alloca or aligning down, or
 * nothing), and which registers hold rsp plus a constant (rbp in
 * frame-pointer code, a saved rsp around alloca).  The entry is the
 * function's (base 0) or an instruction the analysis found no way into
 * (base 1, 2...); offsets from different entries cannot be compared, so
 * where paths from two of them meet nothing is known (BASE_MIXED), and
 * offsets that are known at the site and at an access on a path through it
 * are from the same entry.  SP_BOTTOM is "no path reaches here (yet)",
 * which joins with anything.
 */
enum sp_kind { SP_BOTTOM, SP_KNOWN, SP_BOUND, SP_NONE };
#define BASE_MIXED (-1)
struct state {
	enum sp_kind kind;
	int64_t off;
	int base;            /* the entry the offsets are from */
	int64_t reg[16];     /* offset held by each register, or UNKNOWN */
};

static struct state st_make(enum sp_kind kind, int64_t off, int base)
{
	struct state st = { kind, off, base, { 0 } };
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
	if (a.base != b.base)
		return st_make(SP_NONE, 0, BASE_MIXED);
	struct state r = st_make(SP_NONE, 0, a.base);
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
	return a->kind == b->kind && a->off == b->off && a->base == b->base &&
	       !memcmp(a->reg, b->reg, sizeof a->reg);
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
 * every way into it; the control flow between them. */
struct walk {
	struct zp_insn *insn;
	size_t n, cap;
	/* per instruction (graph_build sizes them to n; gcap is their room): */
	struct state *in;
	size_t (*succ)[2];       /* the next instruction, the branch target (SIZE_MAX: none) */
	size_t *pred_at;         /* the predecessors of i are pred[pred_at[i] .. pred_at[i + 1]) */
	size_t *pred;
	unsigned char *target;   /* a direct jump or branch of the function lands here */
	unsigned char *mark;     /* can reach the site / be reached from it */
	unsigned char *queued;   /* on the work list */
	unsigned char *sp_changes;   /* times the stack pointer before it changed */
	size_t *work;            /* a work list (each instruction at most once) */
	size_t top;
	struct state tables;     /* after the indirect jumps, joined */
	size_t *table_targets;   /* instructions taken to be reached through them */
	size_t ntable_targets;
	size_t gcap;
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

/* realloc for an array of n elements; on failure *failed is set and the old
 * array kept (so that it is still freed once). */
static void *resize(void *p, size_t n, size_t size, int *failed)
{
	if (*failed)
		return p;
	void *q = realloc(p, n * size);
	if (!q)
		*failed = 1;
	return q ? q : p;
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
			int failed = 0;
			size_t cap = w->cap ? w->cap * 2 : 1024;
			w->insn = resize(w->insn, cap, sizeof *w->insn, &failed);
			if (failed)
				return -2;
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

static int grow_graph(struct walk *w)
{
	int failed = 0;
	size_t n = w->n;

	if (n <= w->gcap)
		return 0;
	w->in = resize(w->in, n, sizeof *w->in, &failed);
	w->succ = resize(w->succ, n, sizeof *w->succ, &failed);
	w->pred_at = resize(w->pred_at, n + 1, sizeof *w->pred_at, &failed);
	w->pred = resize(w->pred, 2 * n, sizeof *w->pred, &failed);
	w->target = resize(w->target, n, 1, &failed);
	w->mark = resize(w->mark, n, 1, &failed);
	w->queued = resize(w->queued, n, 1, &failed);
	w->sp_changes = resize(w->sp_changes, n, 1, &failed);
	w->work = resize(w->work, n, sizeof *w->work, &failed);
	w->table_targets = resize(w->table_targets, n, sizeof *w->table_targets, &failed);
	if (failed)
		return -2;
	w->gcap = n;
	return 0;
}

/* Each instruction's successors, predecessors and whether a branch lands on
 * it, once per decoding: the questions asked per site then cost no more
 * than the function's length.  0, or -2 if out of memory. */
static int graph_build(struct walk *w)
{
	if (grow_graph(w))
		return -2;
	memset(w->target, 0, w->n);
	memset(w->pred_at, 0, (w->n + 1) * sizeof *w->pred_at);
	for (size_t i = 0; i < w->n; i++) {
		const struct zp_insn *in = &w->insn[i];
		w->succ[i][0] = falls_through(in) && i + 1 < w->n ? i + 1 : SIZE_MAX;
		w->succ[i][1] = branch_index(w, in);
		if (w->succ[i][1] != SIZE_MAX)
			w->target[w->succ[i][1]] = 1;
		for (int k = 0; k < 2; k++)
			if (w->succ[i][k] != SIZE_MAX)
				w->pred_at[w->succ[i][k] + 1]++;
	}
	/* Counts to starts; pred_at[j + 1] then serves as j's fill cursor and
	 * ends as the end of j's list. */
	for (size_t i = 1; i <= w->n; i++)
		w->pred_at[i] += w->pred_at[i - 1];
	for (size_t i = w->n; i > 0; i--)
		w->pred_at[i] = w->pred_at[i - 1];
	for (size_t i = 0; i < w->n; i++)
		for (int k = 0; k < 2; k++)
			if (w->succ[i][k] != SIZE_MAX)
				w->pred[w->pred_at[w->succ[i][k] + 1]++] = i;
	return 0;
}

/*
 * A loop that moves the stack pointer on each turn (a pop per turn, say)
 * would raise the bound before its head forever: after this many changes of
 * what is known of rsp before an instruction, rsp is taken to be unknown
 * there.  Paths that merely meet change it two or three times.
 */
#define WIDEN_AFTER 8

/* Join `out` into the state before instruction `next`; 1 if that changed. */
static int flow_into(struct walk *w, size_t next, const struct state *out)
{
	struct state j = st_join(w->in[next], *out);
	const struct state *old = &w->in[next];

	if (st_equal(&j, old))
		return 0;
	if (j.kind != old->kind || j.off != old->off || j.base != old->base) {
		if (w->sp_changes[next] < WIDEN_AFTER) {
			w->sp_changes[next]++;
		} else {
			j.kind = SP_NONE;
			j.off = 0;
		}
	}
	w->in[next] = j;
	return 1;
}

/* Join `out` into the state before `next`, and put `next` on the work list
 * if that changed. */
static void flow_to(struct walk *w, size_t next, const struct state *out)
{
	if (!flow_into(w, next, out) || w->queued[next])
		return;
	w->queued[next] = 1;
	w->work[w->top++] = next;
}

/* An indirect jump's state goes to the instructions taken to be reached
 * through jump tables. */
static void flow_to_tables(struct walk *w, const struct state *out)
{
	struct state j = st_join(w->tables, *out);

	if (st_equal(&j, &w->tables))
		return;
	w->tables = j;
	for (size_t t = 0; t < w->ntable_targets; t++)
		flow_to(w, w->table_targets[t], &w->tables);
}

/* Does the instruction pass the state on as it is (nop, cmp, test)?  Such
 * an instruction not reached is no entry: padding after a jump would
 * otherwise be one, and its entry's offsets would mix with those of the
 * code it pads up to.  The first instruction after it that changes
 * something is one.  (Its own accesses, with no state, count as unplaced.) */
static int neutral(const struct zp_insn *in)
{
	return in->flow == ZP_FLOW_NEXT && in->kind == ZP_INSN_OTHER && in->sp == ZP_SP_NONE &&
	       !in->writes && in->copy_dst == ZP_NO_REG;
}

/* Propagate states until the work list is empty. */
static void run(struct walk *w)
{
	while (w->top) {
		size_t i = w->work[--w->top];
		w->queued[i] = 0;
		struct state out = st_step(w->in[i], &w->insn[i]);
		if (w->insn[i].flow == ZP_FLOW_INDIRECT)
			flow_to_tables(w, &out);
		/* The branch target first: the fall-through is taken next. */
		for (int k = 1; k >= 0; k--)
			if (w->succ[i][k] != SIZE_MAX)
				flow_to(w, w->succ[i][k], &out);
	}
}

/*
 * The state before each instruction: from the function's entry, then from
 * each instruction still not reached, lowest first.  Such code is taken to
 * be reached through the function's jump tables, with the stack as it is at
 * its indirect jumps (as the code after one is), or if no indirect jump was
 * reached, to be an entry of its own (the next function, in a sweep).
 * It ends: a state only ever moves towards "less known"; past WIDEN_AFTER
 * changes of its rsp part that is "unknown", which nothing changes; its
 * entry changes at most once (to BASE_MIXED), and each register can turn
 * unknown only once.  (graph_build() has run on w.)
 */
static void propagate(struct walk *w)
{
	int base = 0;

	for (size_t i = 0; i < w->n; i++) {
		w->in[i] = st_make(SP_BOTTOM, 0, 0);
		w->queued[i] = 0;
		w->sp_changes[i] = 0;
	}
	w->tables = st_make(SP_BOTTOM, 0, 0);
	w->ntable_targets = 0;
	w->top = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (w->in[i].kind != SP_BOTTOM || (i > 0 && neutral(&w->insn[i])))
			continue;
		if (i > 0 && w->tables.kind != SP_BOTTOM) {
			w->table_targets[w->ntable_targets++] = i;
			flow_to(w, i, &w->tables);
		} else {
			struct state entry = st_make(SP_KNOWN, 0, base++);
			flow_to(w, i, &entry);
		}
		run(w);
	}
}

/* Set `bit` in the mark of every instruction from which (bit 2) or to which
 * (bit 1) a path leads from the site si. */
static void mark_from(struct walk *w, size_t si, unsigned char bit)
{
	size_t top = 0;

	w->mark[si] |= bit;
	w->work[top++] = si;
	while (top) {
		size_t i = w->work[--top];
		const size_t *next = bit == 1 ? w->succ[i] : w->pred + w->pred_at[i];
		size_t count = bit == 1 ? 2 : w->pred_at[i + 1] - w->pred_at[i];
		for (size_t k = 0; k < count; k++)
			if (next[k] != SIZE_MAX && !(w->mark[next[k]] & bit)) {
				w->mark[next[k]] |= bit;
				w->work[top++] = next[k];
			}
	}
}

/* Mark the instructions on some path through the site: those the site can
 * reach and those that can reach it.  Data below the stack pointer that no
 * such path touches does not meet the site's return address. */
static void mark_paths(struct walk *w, size_t si)
{
	memset(w->mark, 0, w->n);
	mark_from(w, si, 1);
	mark_from(w, si, 2);
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

/* What the analysis says of a site. */
enum verdict {
	V_FREE,          /* nothing on its paths uses the slot `call *%rax` writes */
	V_CONFLICT,      /* something does, or may */
	V_UNKNOWN,       /* not analysed: the code does not decode where the
			    site is, or the site has no state */
};

/* Is the slot `call *%rax` would overwrite (the 8 bytes below the site's
 * stack pointer) among the bytes below the stack pointer recorded in b?
 * *at: the instruction that uses it. */
static int slot_used(const struct below *b, const struct state *site_st, uint64_t *at)
{
	if (b->unplaced) {
		*at = b->unplaced;
		return 1;
	}
	for (size_t k = 0; k < b->n; k++) {
		int hit;
		switch (site_st->kind) {
		case SP_KNOWN:      /* the slot is [off - 8, off) */
			hit = b->r[k].lo < site_st->off && b->r[k].hi > site_st->off - 8;
			break;
		case SP_BOUND:      /* the slot is somewhere below the bound */
			hit = b->r[k].lo < site_st->off;
			break;
		default:
			hit = 1;
			break;
		}
		if (hit) {
			*at = b->r[k].at;
			return 1;
		}
	}
	return 0;
}

/* Does the function keep data in the slot `call *%rax` would overwrite?
 * (propagate() has run on w.) */
static enum verdict red_zone_conflict(struct walk *w, size_t si, uint64_t *at)
{
	struct below b = { .n = 0, .unplaced = 0 };

	/* A site without a state (propagate() gives every instruction one)
	 * has nothing to compare the accesses with: "free" would be a guess. */
	if (si == SIZE_MAX || w->in[si].kind == SP_BOTTOM)
		return V_UNKNOWN;
	mark_paths(w, si);
	for (size_t i = 0; i < w->n; i++)
		if (w->mark[i])
			for (int k = 0; k < w->insn[i].naccess; k++)
				note_access(&b, &w->insn[i], &w->insn[i].access[k], &w->in[i]);
	return slot_used(&b, &w->in[si], at) ? V_CONFLICT : V_FREE;
}

/* ---- red-zone sites: a stub instead of call *%rax in place ------------- */

/* Can this instruction run from another address unchanged? */
static int movable(const struct walk *w, size_t i)
{
	const struct zp_insn *in = &w->insn[i];
	return in->flow == ZP_FLOW_NEXT && !in->rip_relative && in->kind == ZP_INSN_OTHER;
}

/* The call's number, if an instruction of the same block sets rax to a
 * constant before it.  A system call on the way sets rax too (to its
 * result), though the decoder does not list rax among what it writes. */
static long known_number(const struct walk *w, size_t si)
{
	for (size_t i = si; i > 0; i--) {
		if (w->target[i])
			return -1;          /* another path may come with another rax */
		const struct zp_insn *in = &w->insn[i - 1];
		if (in->flow != ZP_FLOW_NEXT || in->kind != ZP_INSN_OTHER)
			return -1;          /* a callee or a system call may change rax */
		if (in->writes & 1)   /* rax */
			return in->rax_imm_valid ? (long)in->rax_imm : -1;
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

/* May the window [first, si] grow by the instruction before `first`?  (Not
 * if the site is a branch target, or `first`, which would then be inside the
 * window, is one.) */
static int can_take_before(const struct walk *w, size_t si, size_t first)
{
	return !w->target[si] && first > 0 && movable(w, first - 1) &&
	       (first == si || !w->target[first]);
}

static const char *no_room(enum zp_stub_kind kind, int cut_by_previous)
{
	if (kind == ZP_STUB_STACKLESS)
		return cut_by_previous ? "exit without a stack, and the instructions before it "
					 "go to the previous site's stub: no room for a jump" :
		       "exit without a stack, and no room before the site for a jump";
	return cut_by_previous ? "red zone, and the instructions before it go to the previous "
				 "site's stub: no room for a jump" :
	       "red zone, and no room around the site for a jump";
}

/* Choose the instructions to move with the site: whole instructions before
 * it (preferably) or after it (not for a stackless exit: nothing runs after
 * it), at least 5 bytes in all for the jump, none of them (but the first) a
 * branch target, none using rip or changing flow, none below `min_start`
 * (the end of the bytes an earlier site changes: windows must not overlap,
 * the later jump would overwrite the earlier). */
static const char *plan_stub(const struct walk *w, size_t si, struct zp_site *s,
			     enum zp_stub_kind kind, uint64_t min_start)
{
	long nr = known_number(w, si);
	if (!stub_safe_number(nr))
		return nr < 0 ? "red zone, and the call's number is not a constant" :
				"red zone, and this call cannot go through a stub";
	uint64_t pre = 0, post = 0;
	size_t first = si;
	while (pre + 2 < 5 && can_take_before(w, si, first) && w->insn[first - 1].addr >= min_start) {
		first--;
		pre += w->insn[first].len;
	}
	int cut = pre + 2 < 5 && can_take_before(w, si, first);
	if (pre + 2 < 5 && kind == ZP_STUB_REDZONE) {
		/* Not enough before it: take instructions after it too. */
		size_t last = si;
		while (pre + 2 + post < 5 && last + 1 < w->n && movable(w, last + 1) &&
		       !w->target[last + 1]) {
			last++;
			post += w->insn[last].len;
		}
	}
	if (pre + 2 + post < 5)
		return no_room(kind, cut);
	/* Everything after the first instruction must be reached only from it. */
	for (uint64_t a = s->addr - pre; a < s->addr + 2 + post;) {
		size_t i = index_of(w, a);
		if (i == SIZE_MAX || (a != s->addr - pre && w->target[i]))
			return "red zone, and a branch lands inside the instructions to move";
		a += w->insn[i].len;
	}
	s->decision = ZP_STUB;
	s->stub_kind = kind;
	s->win_start = s->addr - pre;
	s->win_len = (uint8_t)(pre + 2 + post);
	s->pre_len = (uint8_t)pre;
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
	long nr = known_number(w, si);
	if (nr != __NR_exit && nr != __NR_exit_group)
		return 0;
	for (size_t i = si; i-- > 0;) {
		const struct zp_insn *in = &w->insn[i];
		if (in->flow != ZP_FLOW_NEXT || in->sp != ZP_SP_NONE || in->naccess)
			return 0;   /* not straight-line, or it uses the stack */
		if (in->kind == ZP_INSN_SYSCALL)
			return known_number(w, i) == __NR_munmap;
		if (w->target[i + 1] && i + 1 != si)
			return 0;
	}
	return 0;
}

/* Settle the site at index si of w (SIZE_MAX: not decoded) from what the
 * analysis says of it.  min_start: see plan_stub(). */
static void settle(const struct walk *w, size_t si, enum verdict v, uint64_t at,
		   uint64_t min_start, struct zp_site *s)
{
	const char *why = NULL;

	switch (v) {
	case V_CONFLICT:
		s->slot_user = at;
		why = plan_stub(w, si, s, ZP_STUB_REDZONE, min_start);
		if (!why)
			s->reason = "red zone: jump to a stub that steps below it";
		break;
	case V_UNKNOWN:
		why = "red zone: its code cannot be analysed";
		break;
	case V_FREE:
		if (!exit_without_stack(w, si))
			break;
		why = plan_stub(w, si, s, ZP_STUB_STACKLESS, min_start);
		if (!why)
			s->reason = "exit after unmapping its stack: jump to a stub with a stack";
		break;
	}
	if (why) {
		s->decision = ZP_SKIP;
		s->reason = why;
	}
}

static void walk_free(struct walk *w)
{
	free(w->insn);
	free(w->in);
	free(w->succ);
	free(w->pred_at);
	free(w->pred);
	free(w->target);
	free(w->mark);
	free(w->queued);
	free(w->sp_changes);
	free(w->work);
	free(w->table_targets);
}

int zp_decide(const struct zp_elf *e, const struct zp_funcs *f, struct zp_decoder *d,
	      struct zp_sites *sites)
{
	struct walk w = { 0 };
	int rc = 0;

	/* Sites are sorted: consecutive ones in the same function share one
	 * decoding and one propagation, and `changed` is the end of the bytes
	 * the sites before the current one change (in place or a stub's
	 * window). */
	uint64_t done_start = 0, done_end = 0, changed = 0;
	int done_rc = -1;
	for (size_t i = 0; i < sites->n; i++) {
		struct zp_site *s = &sites->v[i];
		if (s->decision != ZP_PATCH)
			continue;
		if (s->addr < changed) {
			/* Only decodings that disagree put a site there. */
			s->decision = ZP_SKIP;
			s->reason = "inside the instructions moved to the previous site's stub";
			continue;
		}
		uint64_t end = analysis_end(f, s), at = 0;
		if (s->decode_start != done_start || end != done_end) {
			done_start = s->decode_start;
			done_end = end;
			done_rc = decode_range(d, s->code, s->decode_start, end, &w);
			if (done_rc == 0)
				done_rc = graph_build(&w);
			if (done_rc == 0)
				propagate(&w);
		}
		if (done_rc == -2) {
			rc = zp_error(e->path, "out of memory");
			break;
		}
		size_t si = done_rc == 0 ? index_of(&w, s->addr) : SIZE_MAX;
		enum verdict v = done_rc == 0 ? red_zone_conflict(&w, si, &at) : V_UNKNOWN;
		settle(&w, si, v, at, changed, s);
		if (s->decision == ZP_PATCH)
			changed = s->addr + 2;
		else if (s->decision == ZP_STUB)
			changed = s->win_start + s->win_len;
	}
	walk_free(&w);
	return rc;
}
