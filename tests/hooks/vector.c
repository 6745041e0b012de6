/*
 * vector.c - test hook that uses the vector and x87 registers.
 *
 * Built WITHOUT -mgeneral-regs-only (and with -mavx2) by
 * tests/t-contract-registers.sh.  zprewrite must notice the vector
 * instructions when it embeds the hook, and the runtime must then save and
 * restore the extended state around every call into it: the register test
 * (contract-registers) run through this hook fails otherwise.
 *
 * zp_hook_enter does some floating point the compiler vectorises, and then
 * deliberately overwrites everything an application could keep across a
 * system call: xmm/ymm0-15 (and zmm0-31 and k0-7 when the CPU has AVX-512),
 * the x87 stack and control word, and MXCSR.  It counts its calls, and
 * writes "vector-hook calls N" to $ZPT_COUNT_FILE at exit so the test knows
 * it ran.
 */
#include <zprewrite/hook.h>
#include <asm/unistd.h>

static uint64_t calls;
static int has_avx512;
static char path[400];
static double sink[8];

static void cpuid(unsigned leaf, unsigned sub, unsigned *a, unsigned *b, unsigned *c, unsigned *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	unsigned a, b, c, d;
	(void)proc;
	cpuid(7, 0, &a, &b, &c, &d);
	if (b & (1u << 16)) {
		unsigned lo, hi;
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		has_avx512 = (lo & 0xe6) == 0xe6;
	}
	const char *v = zp_getenv("ZPT_COUNT_FILE");
	if (v && zp_strlen(v) < sizeof path)
		zp_memcpy(path, v, zp_strlen(v) + 1);
	return 0;
}

static void clobber(void)
{
	static const unsigned mx = 0x7f80;   /* round toward zero, FTZ off */
	static const unsigned short cw = 0x0c7f;
	__asm__ volatile(
		"vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
		"vmovdqa %%ymm0, %%ymm1\n\t" "vmovdqa %%ymm0, %%ymm2\n\t" "vmovdqa %%ymm0, %%ymm3\n\t"
		"vmovdqa %%ymm0, %%ymm4\n\t" "vmovdqa %%ymm0, %%ymm5\n\t" "vmovdqa %%ymm0, %%ymm6\n\t"
		"vmovdqa %%ymm0, %%ymm7\n\t" "vmovdqa %%ymm0, %%ymm8\n\t" "vmovdqa %%ymm0, %%ymm9\n\t"
		"vmovdqa %%ymm0, %%ymm10\n\t" "vmovdqa %%ymm0, %%ymm11\n\t" "vmovdqa %%ymm0, %%ymm12\n\t"
		"vmovdqa %%ymm0, %%ymm13\n\t" "vmovdqa %%ymm0, %%ymm14\n\t" "vmovdqa %%ymm0, %%ymm15\n\t"
		"fninit\n\t"
		"fldcw %0\n\t"
		"fld1\n\t" "fldpi\n\t" "fldz\n\t"
		"ldmxcsr %1\n\t"
		: : "m"(cw), "m"(mx)
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
		  "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "memory");
	if (has_avx512)
		__asm__ volatile(
			"vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\t"
			".irp i,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t"
			"vmovdqa64 %%zmm0, %%zmm\\i\n\t"
			".endr\n\t"
			"kxnorq %%k0, %%k0, %%k1\n\t"
			".irp i,0,2,3,4,5,6,7\n\t"
			"kmovq %%k1, %%k\\i\n\t"
			".endr\n\t"
			: : : "memory");
	/* Leave the x87 stack empty and MXCSR sane for our own C code below. */
	__asm__ volatile("fninit" ::: "memory");
}

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	/* Floating point the compiler turns into SSE/AVX code. */
	double x = call->nr * 1.5;
	for (int i = 0; i < 8; i++)
		sink[i] = sink[i] * 0.5 + x * (double)call->args[i % 6] + i;
	clobber();
	__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	return ZP_PASS;
}

ZP_HOOK_EXPORT void zp_hook_exit(int status)
{
	char buf[64];
	(void)status;
	if (!path[0])
		return;
	int n = zp_snprintf(buf, sizeof buf, "vector-hook calls %lu\n", (unsigned long)calls);
	long fd = zp_syscall6(__NR_open, (long)path, 02000 | 01 | 0100 | 02000000, 0644, 0, 0, 0);
	if (fd < 0)
		return;
	zp_write_all((int)fd, buf, (size_t)n);
	zp_syscall6(__NR_close, fd, 0, 0, 0, 0, 0);
}
