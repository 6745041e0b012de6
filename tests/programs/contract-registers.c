/*
 * contract-registers.c - driver of the register-preservation test (the
 * register work itself is in contract-registers-asm.S, commented line by line).
 *
 * Used by tests/t-contract-registers.sh.  For several system call numbers
 * (ones that succeed, fail with EBADF, and -ENOSYS ones from different parts
 * of the trampoline) and four rflags patterns, with fresh register patterns
 * each round, regtest_run() plants the patterns, makes the raw call and takes
 * snapshots before and after.  Checked here:
 *   - the "before" snapshot holds the patterns (the test really set them);
 *   - "after" equals "before" for everything but rax, rcx and r11: general
 *     registers, rsp, rflags, x87 (control word, status, tags, the eight
 *     80-bit registers), MXCSR, xmm0-15, the upper halves of ymm0-15 (AVX),
 *     the upper halves of zmm0-15, zmm16-31 and k0-7 (AVX-512, when the CPU
 *     and the kernel have them), and, in the red-zone variants, the red zone
 *     from -16 to -128.
 * Variants: regtest_run (any number, red zone unused: a site the rewriter
 * patches in place) and regtest_rz_39 / regtest_rz_512 (getpid and 512 as
 * constants, with canaries in the red zone: sites the rewriter sends through
 * a stub that steps below the red zone).
 * The x87 instruction and data pointers (FIP/FDP/FOP) are not compared.
 * Prints one line per case (the call's result in words, and what changed)
 * and exits 0 if nothing changed, 1 otherwise.
 *
 *   contract-registers [corrupt=NAME]
 * corrupt=NAME damages register NAME after the call (see the asm): the run
 * must then fail, which shows that the comparison sees that register.
 * ZP_REGTEST_LEVEL=sse|avx limits the vector state tested.
 */
#include <cpuid.h>
#include <stdint.h>

#include "ptest.h"

struct rt_snap {
	uint64_t gpr[16];         /* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 */
	uint64_t flags;
	uint8_t pad[56];
	uint8_t fx[512];          /* fxsave64 image */
	uint8_t ymmh[16][16];
	uint8_t zmmh[16][32];
	uint8_t zhi[16][64];
	uint64_t k[8];
	uint64_t rz[15];
	uint64_t pad2;
};
_Static_assert(sizeof(struct rt_snap) == 2688, "layout shared with the asm");

extern struct rt_snap rt_before, rt_after;
extern uint8_t rt_pat_vec[32][64];
extern uint64_t rt_pat_gpr[16], rt_pat_k[8], rt_pat_rz[15];
extern uint64_t rt_nr, rt_flags, rt_have_avx, rt_have_avx512, rt_corrupt, rt_pat_fcw, rt_pat_mxcsr;
void regtest_run(void);
void regtest_rz_39(void);
void regtest_rz_512(void);

static const char *gpr_name[16] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* In the order of rt_corrupt_table in the asm; the level each needs. */
static const struct { const char *name; int level; } corruptions[] = {
	{ "rbx", 0 }, { "rbp", 0 }, { "rdx", 0 }, { "rsi", 0 }, { "rdi", 0 },
	{ "r8", 0 }, { "r9", 0 }, { "r10", 0 }, { "r12", 0 }, { "r13", 0 },
	{ "r14", 0 }, { "r15", 0 }, { "cf", 0 }, { "arith", 0 }, { "std", 0 },
	{ "cld", 0 }, { "xmm7", 0 }, { "ymm3h", 1 }, { "zmm5h", 2 }, { "zmm20", 2 },
	{ "k3", 2 }, { "x87", 0 }, { "fcw", 0 }, { "mxcsr", 0 }, { "redzone", 0 },
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cpu_level(void)
{
	unsigned a, b, c, d;
	int level = 0;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	if ((c & (1u << 27)) && (c & (1u << 28))) {            /* OSXSAVE, AVX */
		uint32_t lo, hi;
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		if ((lo & 6) == 6)
			level = 1;
		if (level && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
		    (b & (1u << 16)) && (b & (1u << 30)) && (lo & 0xe6) == 0xe6)
			level = 2;                              /* AVX512F+BW, kernel saves it */
	}
	const char *lim = getenv("ZP_REGTEST_LEVEL");
	if (lim && !strcmp(lim, "sse"))
		level = 0;
	else if (lim && !strcmp(lim, "avx") && level > 1)
		level = 1;
	return level;
}

static char changed[1024];
static void note(const char *what)
{
	size_t n = strlen(changed);
	snprintf(changed + n, sizeof changed - n, " %s", what);
}

static void diff(const struct rt_snap *a, const struct rt_snap *b, int level, int rz)
{
	char w[32];
	changed[0] = 0;
	for (int i = 0; i < 16; i++)
		if (i != 0 && i != 2 && i != 11 && a->gpr[i] != b->gpr[i])
			note(gpr_name[i]);
	if (a->flags != b->flags) {
		snprintf(w, sizeof w, "rflags(%#llx->%#llx)", (unsigned long long)a->flags,
			 (unsigned long long)b->flags);
		note(w);
	}
	if (memcmp(a->fx + 0, b->fx + 0, 2)) note("fcw");
	if (memcmp(a->fx + 2, b->fx + 2, 2)) note("fsw");
	if (a->fx[4] != b->fx[4]) note("ftw");
	if (memcmp(a->fx + 24, b->fx + 24, 4)) note("mxcsr");
	for (int i = 0; i < 8; i++)
		if (memcmp(a->fx + 32 + 16 * i, b->fx + 32 + 16 * i, 10)) {
			snprintf(w, sizeof w, "st%d", i);
			note(w);
		}
	for (int i = 0; i < 16; i++)
		if (memcmp(a->fx + 160 + 16 * i, b->fx + 160 + 16 * i, 16)) {
			snprintf(w, sizeof w, "xmm%d", i);
			note(w);
		}
	if (level >= 1)
		for (int i = 0; i < 16; i++)
			if (memcmp(a->ymmh[i], b->ymmh[i], 16)) {
				snprintf(w, sizeof w, "ymm%d(upper)", i);
				note(w);
			}
	if (level >= 2) {
		for (int i = 0; i < 16; i++)
			if (memcmp(a->zmmh[i], b->zmmh[i], 32)) {
				snprintf(w, sizeof w, "zmm%d(upper)", i);
				note(w);
			}
		for (int i = 0; i < 16; i++)
			if (memcmp(a->zhi[i], b->zhi[i], 64)) {
				snprintf(w, sizeof w, "zmm%d", i + 16);
				note(w);
			}
		for (int i = 0; i < 8; i++)
			if (a->k[i] != b->k[i]) {
				snprintf(w, sizeof w, "k%d", i);
				note(w);
			}
	}
	for (int i = 0; i < 15 && rz; i++)
		if (a->rz[i] != b->rz[i]) {
			snprintf(w, sizeof w, "redzone%d", -16 - 8 * i);
			note(w);
		}
}

/* The patterns must be in the "before" snapshot, or the test tests nothing. */
static void check_planted(int level, int rz)
{
	static const int set[] = { 1, 3, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15 };
	const struct rt_snap *s = &rt_before;
	for (unsigned i = 0; i < sizeof set / sizeof set[0]; i++)
		CHECK(s->gpr[set[i]] == rt_pat_gpr[set[i]], "pattern not planted in %s", gpr_name[set[i]]);
	CHECK(s->gpr[0] == rt_nr, "rax is not the number");
	CHECK((s->flags & 0xfd5) == (rt_flags & 0xfd5), "flags not planted: %#llx vs %#llx",
	      (unsigned long long)s->flags, (unsigned long long)rt_flags);
	CHECK(memcmp(s->fx, &rt_pat_fcw, 2) == 0, "fcw not planted");
	CHECK(memcmp(s->fx + 24, &rt_pat_mxcsr, 4) == 0, "mxcsr not planted");
	for (int i = 0; i < 16; i++)
		CHECK(memcmp(s->fx + 160 + 16 * i, rt_pat_vec[i], 16) == 0, "xmm%d not planted", i);
	if (level >= 1)
		for (int i = 0; i < 16; i++)
			CHECK(memcmp(s->ymmh[i], rt_pat_vec[i] + 16, 16) == 0, "ymm%d not planted", i);
	if (level >= 2) {
		for (int i = 0; i < 16; i++)
			CHECK(memcmp(s->zmmh[i], rt_pat_vec[i] + 32, 32) == 0, "zmm%d not planted", i);
		for (int i = 0; i < 16; i++)
			CHECK(memcmp(s->zhi[i], rt_pat_vec[16 + i], 64) == 0, "zmm%d not planted", 16 + i);
		for (int i = 0; i < 8; i++)
			CHECK(s->k[i] == rt_pat_k[i], "k%d not planted", i);
	}
	for (int i = 0; i < 15 && rz; i++)
		CHECK(s->rz[i] == rt_pat_rz[i], "red zone not planted");
}

static const char *result_text(long nr, long r, char *buf, size_t n)
{
	if (nr == SYS_getpid)
		return r == getpid() ? "the pid" : rawres(r, buf, n);
	if (nr == SYS_getppid)
		return r == getppid() ? "the ppid" : rawres(r, buf, n);
	return rawres(r, buf, n);
}

int main(int argc, char **argv)
{
	/* Numbers: succeeding calls, failing ones (the pattern in rdi is no
	 * open descriptor: EBADF), and -ENOSYS ones that enter the trampoline
	 * at other offsets: 400 (in the unassigned gap 387-423), 512 and 1000
	 * (beyond the table), 4095 (the last byte of page 0).  Not 335: since
	 * Linux 6.11 that is uretprobe, which answers a stray call with SIGILL. */
	static const long nrs[] = { SYS_getpid, SYS_getppid, SYS_sched_yield, SYS_read,
				    SYS_write, 400, 512, 1000, 4095 };
	/* 0x202: bit 1 and IF, always set.  Then CF PF AF ZF SF DF OF. */
	static const uint64_t flag_pats[] = { 0x202, 0xed7, 0x643, 0xa96 };
	int level = cpu_level(), bad = 0, cases = 0;
	const char *corrupt = NULL;

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "corrupt=", 8))
			corrupt = argv[i] + 8;
	if (corrupt) {
		unsigned i;
		for (i = 0; i < sizeof corruptions / sizeof corruptions[0]; i++)
			if (!strcmp(corruptions[i].name, corrupt))
				break;
		if (i == sizeof corruptions / sizeof corruptions[0])
			die("unknown corruption %s", corrupt);
		if (corruptions[i].level > level) {
			say("corrupt=%s needs a CPU with more vector state\n", corrupt);
			return 3;
		}
		rt_corrupt = i + 1;
	}
	rt_have_avx = level >= 1;
	rt_have_avx512 = level >= 2;
	say("vector state tested: %s\n", level == 2 ? "sse avx avx512" : level == 1 ? "sse avx" : "sse");

	/* The plain variant with every number, then the red-zone ones. */
	struct variant { const char *name; void (*fn)(void); long nr; int rz; } cases_[16];
	int nv = 0;
	for (unsigned n = 0; n < sizeof nrs / sizeof nrs[0]; n++)
		cases_[nv++] = (struct variant){ "", regtest_run, nrs[n], 0 };
	cases_[nv++] = (struct variant){ " (red zone in use)", regtest_rz_39, SYS_getpid, 1 };
	cases_[nv++] = (struct variant){ " (red zone in use)", regtest_rz_512, 512, 1 };

	for (int n = 0; n < nv; n++)
		for (unsigned f = 0; f < sizeof flag_pats / sizeof flag_pats[0]; f++)
			for (int round = 0; round < 3; round++) {
				for (int i = 0; i < 16; i++)
					rt_pat_gpr[i] = next();
				for (int i = 0; i < 32; i++)
					for (int j = 0; j < 64; j += 8) {
						uint64_t v = next();
						memcpy(&rt_pat_vec[i][j], &v, 8);
					}
				for (int i = 0; i < 8; i++)
					rt_pat_k[i] = next();
				for (int i = 0; i < 15; i++)
					rt_pat_rz[i] = next();
				rt_pat_fcw = 0x0e7f;        /* round toward zero, 53 bits */
				rt_pat_mxcsr = 0x9f80 | (round << 13);  /* FTZ, rounding 0..2 */
				const struct variant *v = &cases_[n];
				rt_nr = (uint64_t)v->nr;
				rt_flags = flag_pats[f];
				v->fn();
				check_planted(level, v->rz);
				diff(&rt_before, &rt_after, level, v->rz);
				char rb[32];
				const char *res = result_text(v->nr, (long)rt_after.gpr[0], rb, sizeof rb);
				cases++;
				if (changed[0]) {
					bad++;
					say("nr %ld%s flags %#llx round %d: result %s, CHANGED:%s\n", v->nr,
					    v->name, (unsigned long long)flag_pats[f], round, res, changed);
				} else if (round == 0) {
					say("nr %ld%s flags %#llx: result %s, registers intact\n", v->nr,
					    v->name, (unsigned long long)flag_pats[f], res);
				}
			}
	say("registers: %d cases, %d with changes\n", cases, bad);
	return bad ? 1 : 0;
}
