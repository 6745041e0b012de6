/*
 * unit-rewriter.c - the rewriter's decoding, function ranges, site finding
 * and red-zone decisions on hand-made byte strings.
 *
 * Linked against the rewriter's own object files (unit.mk): decode.c
 * (zp_decode, zp_decode_full), funcs.c (zp_funcs_collect from symbols,
 * zp_funcs_covering), findsites.c and decide.c (zp_sites_find, zp_decide)
 * run on a struct zp_elf made here around a few bytes of code, so that each
 * case states exactly the instructions it is about: a leaf keeping data
 * below rsp across the site, a pointer into the red zone handed to the
 * kernel, stub windows before and after a site and next to another site,
 * 0f 05 inside another instruction, sysenter, a site at the very end of a
 * function and of the code, unreached code, a thread's exit with no stack,
 * code outside functions.  tests/t-decide-cases.sh runs such programs for
 * real; these check the decisions themselves, in milliseconds, without
 * page 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "decode.h"
#include "findsites.h"
#include "funcs.h"
#include "tap.h"

#define BASE 0x401000u

static struct zp_decoder *dec;

/* ---- decode -------------------------------------------------------------- */

static int decode(const unsigned char *b, size_t n, struct zp_insn *in)
{
	return zp_decode_full(dec, b, n, BASE, in);
}

#define DECODE(in, ...) decode((const unsigned char[]){ __VA_ARGS__ }, \
			       sizeof((const unsigned char[]){ __VA_ARGS__ }), in)

static void test_decode_kinds(void)
{
	struct zp_insn a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	int ok = !DECODE(&a, 0x0f, 0x05) && a.kind == ZP_INSN_SYSCALL && a.len == 2 &&
		 !DECODE(&b, 0x0f, 0x34) && b.kind == ZP_INSN_SYSENTER && b.len == 2 &&
		 !DECODE(&c, 0xb8, 0x0f, 0x05, 0x00, 0x00) && c.kind == ZP_INSN_OTHER && c.len == 5 &&
		 !zp_decode(dec, (const unsigned char[]){ 0xc3 }, 1, BASE, &d) && d.len == 1 && d.addr == BASE;
	tap_check(ok, "decode: syscall, sysenter, and 0f 05 inside mov $0x50f,%eax", "kinds %d %d %d, lengths %d %d %d",
		  a.kind, b.kind, c.kind, a.len, b.len, c.len);
}

static void test_decode_stack(void)
{
	struct zp_insn push = { 0 }, pop = { 0 }, sub = { 0 }, lea = { 0 }, and = { 0 }, subr = { 0 }, leave = { 0 },
		call = { 0 };
	int ok = !DECODE(&push, 0x55) && push.sp == ZP_SP_DELTA && push.sp_delta == -8 &&
		 !DECODE(&pop, 0x5d) && pop.sp == ZP_SP_DELTA && pop.sp_delta == 8 &&
		 !DECODE(&sub, 0x48, 0x83, 0xec, 0x20) && sub.sp == ZP_SP_DELTA && sub.sp_delta == -32 &&
		 !DECODE(&lea, 0x48, 0x8d, 0x64, 0x24, 0xf0) && lea.sp == ZP_SP_DELTA && lea.sp_delta == -16 &&
		 !DECODE(&and, 0x48, 0x83, 0xe4, 0xf0) && and.sp == ZP_SP_DOWN &&
		 !DECODE(&subr, 0x48, 0x29, 0xfc) && subr.sp == ZP_SP_DOWN &&
		 !DECODE(&leave, 0xc9) && leave.sp == ZP_SP_LEAVE &&
		 !DECODE(&call, 0xe8, 0, 0, 0, 0) && call.sp == ZP_SP_NONE && call.flow == ZP_FLOW_CALL;
	tap_check(ok, "decode: stack-pointer effects of push, pop, sub, lea, and, sub %reg, leave, call",
		  "push %d/%ld pop %d/%ld sub %d/%ld lea %d/%ld and %d subr %d leave %d call %d",
		  push.sp, (long)push.sp_delta, pop.sp, (long)pop.sp_delta, sub.sp, (long)sub.sp_delta,
		  lea.sp, (long)lea.sp_delta, and.sp, subr.sp, leave.sp, call.sp);
}

static void test_decode_flow(void)
{
	struct zp_insn jmp = { 0 }, jne = { 0 }, ind = { 0 }, ud2 = { 0 }, ret = { 0 };
	int ok = !DECODE(&jmp, 0xeb, 0x10) && jmp.flow == ZP_FLOW_JUMP && jmp.target == BASE + 0x12 &&
		 !DECODE(&jne, 0x75, 0xfe) && jne.flow == ZP_FLOW_BRANCH && jne.target == BASE &&
		 !DECODE(&ind, 0xff, 0xe0) && ind.flow == ZP_FLOW_INDIRECT &&
		 !DECODE(&ud2, 0x0f, 0x0b) && ud2.flow == ZP_FLOW_STOP &&
		 !DECODE(&ret, 0xc3) && ret.flow == ZP_FLOW_RET;
	tap_check(ok, "decode: control flow of jmp, jne, jmp *%rax, ud2, ret", "flows %d %d %d %d %d",
		  jmp.flow, jne.flow, ind.flow, ud2.flow, ret.flow);
}

static void test_decode_operands(void)
{
	struct zp_insn st = { 0 }, lea = { 0 }, rbp = { 0 }, cp = { 0 }, imm = { 0 }, neg = { 0 }, rip = { 0 };
	int ok = !DECODE(&st, 0x48, 0x89, 0x7c, 0x24, 0xf8) && st.naccess == 1 &&
		 st.access[0].base == ZP_REG_RSP && st.access[0].disp == -8 && st.access[0].size == 8 &&
		 !st.access[0].is_address &&
		 !DECODE(&lea, 0x48, 0x8d, 0x74, 0x24, 0xc0) && lea.naccess == 1 && lea.access[0].is_address &&
		 lea.access[0].disp == -0x40 && lea.access[0].size == 0x40 &&
		 !DECODE(&rbp, 0x48, 0x89, 0x7d, 0xf8) && rbp.naccess == 1 && rbp.access[0].base == ZP_REG_RBP &&
		 !DECODE(&cp, 0x48, 0x89, 0xe5) && cp.copy_dst == ZP_REG_RBP && cp.copy_src == ZP_REG_RSP &&
		 !DECODE(&imm, 0xb8, 0x27, 0, 0, 0) && imm.rax_imm_valid && imm.rax_imm == 39 &&
		 !DECODE(&neg, 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff) && neg.rax_imm_valid && neg.rax_imm == -1 &&
		 !DECODE(&rip, 0x48, 0x89, 0x05, 0, 0, 0, 0) && rip.rip_relative && !st.rip_relative;
	tap_check(ok, "decode: stack accesses, a lea into the red zone, register copies, mov to rax, rip",
		  "store %d/%ld lea %d/%ld/%lu copy %d<-%d imm %ld/%ld rip %d",
		  st.naccess, (long)st.access[0].disp, lea.naccess, (long)lea.access[0].disp,
		  (unsigned long)lea.access[0].size, cp.copy_dst, cp.copy_src, (long)imm.rax_imm,
		  (long)neg.rax_imm, rip.rip_relative);
}

static void test_decode_bad(void)
{
	struct zp_insn in;
	int ok = zp_decode_full(dec, (const unsigned char[]){ 0x0f, 0x05 }, 1, BASE, &in) != 0 &&
		 zp_decode(dec, (const unsigned char[]){ 0x0f, 0x05 }, 1, BASE, &in) != 0 &&
		 DECODE(&in, 0x06) != 0 &&                   /* push %es: not in 64-bit mode */
		 DECODE(&in, 0x48, 0x8d, 0x74) != 0;         /* lea cut short */
	tap_check(ok, "decode: truncated and invalid bytes are refused", "some were decoded");
}

/* ---- funcs ----------------------------------------------------------------- */

/* A file made around `len` bytes of code at BASE, with function symbols. */
struct prog {
	struct zp_elf e;
	struct zp_code code;
	struct zp_symbol syms[8];
	struct zp_funcs funcs;
	struct zp_sites sites;
};

struct fn {
	uint64_t off, len;
};

static void prog_init(struct prog *p, const unsigned char *bytes, size_t len, const struct fn *fns, size_t nfns)
{
	memset(p, 0, sizeof *p);
	p->code = (struct zp_code){ ".text", BASE, len, bytes };
	p->e.path = "unit";
	p->e.code = &p->code;
	p->e.ncode = 1;
	for (size_t i = 0; i < nfns; i++)
		p->syms[i] = (struct zp_symbol){ "f", BASE + fns[i].off, fns[i].len };
	p->e.syms = p->syms;
	p->e.nsyms = nfns;
}

static void prog_free(struct prog *p)
{
	zp_sites_free(&p->sites);
	zp_funcs_free(&p->funcs);
}

static void count_func(const struct zp_func *f, void *arg)
{
	(void)f;
	++*(int *)arg;
}

static void test_funcs(void)
{
	static const unsigned char code[64];
	/* unsorted, a duplicate, one nested in another, one empty */
	const struct fn fns[] = { { 32, 16 }, { 0, 48 }, { 8, 4 }, { 32, 16 }, { 40, 0 } };
	struct prog p;

	prog_init(&p, code, sizeof code, fns, 5);
	int ok = !zp_funcs_collect(&p.e, &p.funcs) && p.funcs.n == 3 && p.funcs.maxlen == 48 &&
		 p.funcs.v[0].start == BASE && p.funcs.v[1].start == BASE + 8 && p.funcs.v[2].start == BASE + 32;
	tap_check(ok, "funcs: from symbols, sorted, duplicates and empty ranges dropped", "%zu functions, maxlen %lu",
		  p.funcs.n, (unsigned long)p.funcs.maxlen);
	int at10 = 0, at33 = 0, at48 = 0, at12 = 0;
	zp_funcs_covering(&p.funcs, BASE + 10, count_func, &at10);
	zp_funcs_covering(&p.funcs, BASE + 33, count_func, &at33);
	zp_funcs_covering(&p.funcs, BASE + 48, count_func, &at48);
	zp_funcs_covering(&p.funcs, BASE + 12, count_func, &at12);
	tap_check(at10 == 2 && at33 == 2 && at48 == 0 && at12 == 1,
		  "funcs: every function covering an address, none that ends at it",
		  "covering +10: %d (2), +33: %d (2), +48: %d (0), +12: %d (1)", at10, at33, at48, at12);
	prog_free(&p);
}

/* ---- finding and deciding ---------------------------------------------------- */

/* Find and decide the sites of the code; NULL-free: failures end the run. */
static void analyse(struct prog *p, const unsigned char *bytes, size_t len, const struct fn *fns, size_t nfns)
{
	prog_init(p, bytes, len, fns, nfns);
	if (zp_funcs_collect(&p->e, &p->funcs) || zp_sites_find(&p->e, &p->funcs, dec, &p->sites) ||
	    zp_decide(&p->e, &p->funcs, dec, &p->sites)) {
		printf("Bail out! the analysis failed\n");
		exit(1);
	}
}

static const struct zp_site *site_at(const struct prog *p, uint64_t off)
{
	for (size_t i = 0; i < p->sites.n; i++)
		if (p->sites.v[i].addr == BASE + off)
			return &p->sites.v[i];
	return NULL;
}

static const char *decision(const struct zp_site *s)
{
	static const char *const names[] = { "patch", "stub", "skip", "none" };
	return s ? names[s->decision] : "no site";
}

/* One function over all of code; the site at off must be decided `want`
 * (and, for a stub, have the window [win, win + len)). */
static const struct zp_site *expect(struct prog *p, const char *name, const unsigned char *code, size_t len,
				    uint64_t off, enum zp_decision want)
{
	const struct fn all = { 0, len };

	analyse(p, code, len, &all, 1);
	const struct zp_site *s = site_at(p, off);
	tap_check(s && s->decision == want, name, "%s (%s), %zu sites", decision(s), s ? s->reason : "",
		  p->sites.n);
	return s && s->decision == want ? s : NULL;
}

#define CODE(...) (const unsigned char[]){ __VA_ARGS__ }, sizeof((const unsigned char[]){ __VA_ARGS__ })

#define MOV_EAX(n)     0xb8, (n), 0, 0, 0          /* mov $n,%eax */
#define SYSCALL        0x0f, 0x05
#define RET            0xc3
#define STORE_M8       0x48, 0x89, 0x7c, 0x24, 0xf8 /* mov %rdi,-8(%rsp) */
#define LOAD_M8        0x48, 0x8b, 0x44, 0x24, 0xf8 /* mov -8(%rsp),%rax */
#define STORE_M16      0x48, 0x89, 0x7c, 0x24, 0xf0 /* mov %rdi,-16(%rsp) */
#define LOAD_M16       0x48, 0x8b, 0x44, 0x24, 0xf0 /* mov -16(%rsp),%rax */
#define MOV_50F        0xb8, 0x0f, 0x05, 0, 0       /* mov $0x50f,%eax */
#define LEA_RIP_RSI    0x48, 0x8d, 0x35, 0, 0, 0, 0 /* lea 0(%rip),%rsi: cannot move */

static void test_plain(void)
{
	struct prog p;
	expect(&p, "decide: a site with nothing in the red zone is patched in place",
	       CODE(MOV_EAX(39), SYSCALL, RET), 5, ZP_PATCH);
	prog_free(&p);
}

static void test_leaf_red_zone(void)
{
	struct prog p;
	const struct zp_site *s = expect(&p, "decide: a leaf keeping data at -8(%rsp) across the site gets a stub",
					 CODE(STORE_M8, MOV_EAX(39), SYSCALL, LOAD_M8, RET), 10, ZP_STUB);
	tap_check(s && s->stub_kind == ZP_STUB_REDZONE && s->slot_user == BASE && s->win_start == BASE + 5 &&
		  s->win_len == 7 && s->pre_len == 5,
		  "decide: its window is the mov to eax and the site, the store named as the user",
		  "kind %d, user %#lx, window %#lx+%d (pre %d)", s ? (int)s->stub_kind : -1,
		  s ? (unsigned long)s->slot_user : 0, s ? (unsigned long)s->win_start : 0, s ? s->win_len : 0,
		  s ? s->pre_len : 0);
	prog_free(&p);
	expect(&p, "decide: data at -16(%rsp), below the return address's slot, leaves the site in place",
	       CODE(STORE_M16, MOV_EAX(39), SYSCALL, LOAD_M16, RET), 10, ZP_PATCH);
	prog_free(&p);
}

static void test_pointer_to_kernel(void)
{
	struct prog p;
	/* lea -0x40(%rsp),%rsi; mov $0,%eax; syscall (read into the red zone) */
	const struct zp_site *s = expect(&p, "decide: a pointer into the red zone passed to the kernel gets a stub",
					 CODE(0x48, 0x8d, 0x74, 0x24, 0xc0, MOV_EAX(0), SYSCALL, RET), 10, ZP_STUB);
	tap_check(s && s->slot_user == BASE, "decide: the lea is named as the slot's user", "user %#lx",
		  s ? (unsigned long)s->slot_user : 0);
	prog_free(&p);
}

static void test_window_after(void)
{
	struct prog p;
	/* the instruction before the site uses rip: the window takes the one after */
	const struct zp_site *s = expect(&p, "decide: a stub window after the site when the one before cannot move",
					 CODE(STORE_M8, MOV_EAX(39), LEA_RIP_RSI, SYSCALL, LOAD_M8, RET), 17, ZP_STUB);
	tap_check(s && s->win_start == BASE + 17 && s->win_len == 7 && s->pre_len == 0,
		  "decide: that window is the site and the load after it", "window %#lx+%d (pre %d)",
		  s ? (unsigned long)s->win_start : 0, s ? s->win_len : 0, s ? s->pre_len : 0);
	prog_free(&p);
}

static void test_two_sites(void)
{
	struct prog p;
	const struct fn all = { 0, 32 };
	analyse(&p, CODE(STORE_M8, MOV_EAX(39), LEA_RIP_RSI, SYSCALL, MOV_EAX(186), SYSCALL, LOAD_M8, RET),
		&all, 1);
	const struct zp_site *a = site_at(&p, 17), *b = site_at(&p, 24);
	int ok = a && b && a->decision == ZP_STUB && b->decision == ZP_STUB &&
		 a->win_start + a->win_len <= b->win_start;
	tap_check(ok, "decide: two stub sites next to each other get windows that do not overlap",
		  "%s %#lx+%d, %s %#lx+%d", decision(a), a ? (unsigned long)a->win_start : 0, a ? a->win_len : 0,
		  decision(b), b ? (unsigned long)b->win_start : 0, b ? b->win_len : 0);
	prog_free(&p);
	/* nothing movable after the second: it has no room left */
	analyse(&p, CODE(STORE_M8, MOV_EAX(39), LEA_RIP_RSI, SYSCALL, MOV_EAX(186), SYSCALL, 0xeb, 0x00, LOAD_M8,
			 RET), &all, 1);
	b = site_at(&p, 24);
	tap_check(b && b->decision == ZP_SKIP && strstr(b->reason, "previous site's stub"),
		  "decide: a site whose room went to the previous stub is skipped, saying so", "%s (%s)",
		  decision(b), b ? b->reason : "");
	prog_free(&p);
}

static void test_refused_stubs(void)
{
	struct prog p;
	/* mov %rsi,%rax: the number is not known */
	expect(&p, "decide: a red-zone site whose number is not a constant is skipped",
	       CODE(STORE_M8, 0x48, 0x89, 0xf0, SYSCALL, LOAD_M8, RET), 8, ZP_SKIP);
	prog_free(&p);
	expect(&p, "decide: a red-zone rt_sigreturn is skipped (a stub moves its stack)",
	       CODE(STORE_M8, MOV_EAX(15), SYSCALL, LOAD_M8, RET), 10, ZP_SKIP);
	prog_free(&p);
}

static void test_not_insn(void)
{
	struct prog p;
	const struct zp_site *s = expect(&p, "find: 0f 05 inside mov $0x50f,%eax is no site",
					 CODE(MOV_50F, RET), 1, ZP_NOT_INSN);
	tap_check(s && s->kind == ZP_INSN_OTHER && s->enclosing == BASE &&
		  !strcmp(zp_mnemonic_name(s->enclosing_mnemonic), "mov"),
		  "find: it names the mov at the function's start as the enclosing instruction",
		  "kind %d, enclosing %#lx (%s)", s ? (int)s->kind : -1, s ? (unsigned long)s->enclosing : 0,
		  s ? zp_mnemonic_name(s->enclosing_mnemonic) : "");
	prog_free(&p);
}

static void test_sysenter(void)
{
	struct prog p;
	const struct zp_site *s = expect(&p, "find: sysenter (0f 34) is a site, patched",
					 CODE(MOV_EAX(39), 0x0f, 0x34, RET), 5, ZP_PATCH);
	tap_check(s && s->kind == ZP_INSN_SYSENTER, "find: and it is known as sysenter", "kind %d",
		  s ? (int)s->kind : -1);
	prog_free(&p);
}

static void test_at_the_end(void)
{
	struct prog p;
	expect(&p, "find: a site that ends its function and the code is patched",
	       CODE(MOV_EAX(60), SYSCALL), 5, ZP_PATCH);
	prog_free(&p);
	expect(&p, "decide: a red-zone site that ends its function and the code gets a stub",
	       CODE(STORE_M8, MOV_EAX(60), SYSCALL), 10, ZP_STUB);
	prog_free(&p);
	const struct fn all = { 0, 2 };
	analyse(&p, CODE(RET, 0x0f), &all, 1);
	tap_check(p.sites.n == 0, "find: a 0f as the code's last byte is no site", "%zu sites", p.sites.n);
	prog_free(&p);
}

static void test_unreached(void)
{
	struct prog p;
	/* after the ret: reached by no flow from the entry */
	expect(&p, "decide: unreached code that keeps data in the red zone gets a stub",
	       CODE(RET, STORE_M8, MOV_EAX(39), SYSCALL, LOAD_M8, RET), 11, ZP_STUB);
	prog_free(&p);
	expect(&p, "decide: unreached code with nothing in the red zone is patched in place",
	       CODE(RET, MOV_EAX(39), SYSCALL, RET), 6, ZP_PATCH);
	prog_free(&p);
	/* jmp *%rax, then a case keeping data below rsp: reached through the table */
	expect(&p, "decide: a jump-table case that keeps data in the red zone gets a stub",
	       CODE(0xff, 0xe0, STORE_M8, MOV_EAX(39), SYSCALL, LOAD_M8, RET), 12, ZP_STUB);
	prog_free(&p);
}

static void test_stackless_exit(void)
{
	struct prog p;
	const struct fn all = { 0, 14 };
	/* munmap(its stack); exit(0): no stack left for call *%rax to push on */
	analyse(&p, CODE(MOV_EAX(11), SYSCALL, MOV_EAX(60), SYSCALL), &all, 1);
	const struct zp_site *m = site_at(&p, 5), *x = site_at(&p, 12);
	tap_check(m && m->decision == ZP_PATCH && x && x->decision == ZP_STUB && x->stub_kind == ZP_STUB_STACKLESS &&
		  x->win_start == BASE + 7 && x->pre_len == 5,
		  "decide: exit right after munmap gets a stub with a stack of the runtime's",
		  "munmap %s, exit %s (kind %d, window %#lx)", decision(m), decision(x), x ? (int)x->stub_kind : -1,
		  x ? (unsigned long)x->win_start : 0);
	prog_free(&p);
}

static void test_sweep_and_overlap(void)
{
	struct prog p;
	analyse(&p, CODE(MOV_EAX(39), SYSCALL, RET), NULL, 0);
	const struct zp_site *s = site_at(&p, 5);
	tap_check(s && s->found == ZP_FOUND_SWEEP && s->decision == ZP_PATCH,
		  "find: code outside functions is swept, its site patched", "%s, found %d", decision(s),
		  s ? (int)s->found : -1);
	prog_free(&p);
	/* one function decodes b8 0f 05 00 00 as a mov, another starts at the 0f */
	const struct fn two[] = { { 0, 6 }, { 1, 5 } };
	analyse(&p, CODE(MOV_50F, RET), two, 2);
	s = site_at(&p, 1);
	tap_check(s && s->decision == ZP_SKIP && strstr(s->reason, "overlapping functions"),
		  "find: overlapping functions that decode a pair differently: skipped", "%s (%s)", decision(s),
		  s ? s->reason : "");
	prog_free(&p);
	/* 06 does not decode in 64-bit mode */
	const struct fn one = { 0, 4 };
	analyse(&p, CODE(0x06, SYSCALL, RET), &one, 1);
	s = site_at(&p, 1);
	tap_check(s && s->decision == ZP_SKIP && strstr(s->reason, "does not decode"),
		  "find: a function that does not decode up to the pair: skipped", "%s (%s)", decision(s),
		  s ? s->reason : "");
	prog_free(&p);
}

int main(void)
{
	dec = zp_decoder_new();
	if (!dec) {
		printf("Bail out! no Zydis decoder\n");
		return 1;
	}
	test_decode_kinds();
	test_decode_stack();
	test_decode_flow();
	test_decode_operands();
	test_decode_bad();
	test_funcs();
	test_plain();
	test_leaf_red_zone();
	test_pointer_to_kernel();
	test_window_after();
	test_two_sites();
	test_refused_stubs();
	test_not_insn();
	test_sysenter();
	test_at_the_end();
	test_unreached();
	test_stackless_exit();
	test_sweep_and_overlap();
	zp_decoder_free(dec);
	return tap_done();
}
