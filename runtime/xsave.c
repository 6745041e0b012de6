/*
 * xsave.c - calling the hook, with the vector state saved when it uses it.
 *
 * The runtime is built with -mgeneral-regs-only and never touches the
 * x87/SSE/AVX state, so the pass-through and a general-register hook save
 * nothing (lazypoline's lesson: XSAVE on every call costs more than the
 * whole hook).  A hook that the rewriter found using vector or x87
 * instructions gets ZP_DESC_HOOK_XSAVE, and each call into it is wrapped in
 * XSAVE/XRSTOR (xsave.h).  Every call into the hook goes through here.
 */
#include "runtime.h"
#include "xsave.h"

struct zp_hooks zp_hooks;

int zp_hook_call_init(const struct zp_process *p)
{
	if (!zp_hooks.xsave)
		return zp_hooks.init(p);
	ZP_XSAVE_AREA(area);
	zp_xsave(area);
	int r = zp_hooks.init(p);
	zp_xrstor(area);
	return r;
}

long zp_hook_call_enter(struct zp_syscall *c)
{
	if (!zp_hooks.xsave)
		return zp_hooks.enter(c);
	ZP_XSAVE_AREA(area);
	zp_xsave(area);
	long r = zp_hooks.enter(c);
	zp_xrstor(area);
	return r;
}

long zp_hook_call_leave(const struct zp_syscall *c, long result)
{
	if (!zp_hooks.xsave)
		return zp_hooks.leave(c, result);
	ZP_XSAVE_AREA(area);
	zp_xsave(area);
	long r = zp_hooks.leave(c, result);
	zp_xrstor(area);
	return r;
}

void zp_hook_call_exit(int status)
{
	if (!zp_hooks.xsave) {
		zp_hooks.exit(status);
		return;
	}
	ZP_XSAVE_AREA(area);
	zp_xsave(area);
	zp_hooks.exit(status);
	zp_xrstor(area);
}

/* ---- the size of the state to save ---- */

uint32_t zp_xsave_size;
uint64_t zp_xsave_mask;

#define XSAVE_COMPILED_STATE 0xe7   /* x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM */

void zp_xsave_init(void)
{
	uint32_t a, b, c, d;

	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)))     /* OSXSAVE: XSAVE enabled by the kernel */
		return;
	__asm__("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	zp_xsave_mask = (((uint64_t)d << 32) | a) & XSAVE_COMPILED_STATE;
	/* Standard format: legacy area and header (576 bytes), then each
	 * component at the offset CPUID 0xd.i gives. */
	uint32_t size = 576;
	for (uint32_t i = 2; i < 8; i++) {
		if (!(zp_xsave_mask & (1u << i)))
			continue;
		__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(i));
		if (a + b > size)
			size = a + b;      /* eax: size, ebx: offset */
	}
	zp_xsave_size = size;
}
