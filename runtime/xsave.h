/*
 * xsave.h - save and restore the x87/SSE/AVX/AVX-512 state around a hook.
 *
 * The runtime itself is built with -mgeneral-regs-only and never touches the
 * extended state, so the pass-through path saves nothing (lazypoline's lesson:
 * XSAVE on every call costs more than the whole hook).  A hook that the
 * rewriter found using vector or x87 instructions gets ZP_DESC_HOOK_XSAVE, and
 * then each call into it is wrapped in XSAVE/XRSTOR of the register state
 * compiled code can use, in the standard (non-compacted) format, on the
 * stack (at most 2.7 KiB, with AVX-512).
 */
#ifndef ZP_XSAVE_H
#define ZP_XSAVE_H

#include <stdint.h>

/* The components saved: x87, SSE, AVX and AVX-512, as far as the OS enabled
 * them (XCR0): what compiled code can touch.  Not PKRU (the application's
 * protection keys must not be rolled back) nor AMX tiles (8 KiB, and only
 * for processes that asked for them).  zp_xsave_size is the standard-format
 * area they need, 0 if the CPU has no XSAVE (then FXSAVE is used); set by
 * zp_xsave_init(). */
extern uint32_t zp_xsave_size __attribute__((visibility("hidden")));
extern uint64_t zp_xsave_mask __attribute__((visibility("hidden")));
void zp_xsave_init(void) __attribute__((visibility("hidden")));

/* A 64-byte aligned area on the stack, big enough for this CPU. */
#define ZP_XSAVE_AREA(name)                                                        \
	unsigned char name##_raw[(zp_xsave_size ? zp_xsave_size : 512) + 64];    \
	unsigned char *name = (unsigned char *)(((uintptr_t)name##_raw + 63) & ~(uintptr_t)63)

static inline void zp_xsave(unsigned char *area)
{
	if (!zp_xsave_size) {
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
		return;
	}
	/* XRSTOR faults unless the header's reserved bytes are zero. */
	for (int i = 512; i < 576; i++)
		area[i] = 0;
	__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"((uint32_t)zp_xsave_mask),
			 "d"((uint32_t)(zp_xsave_mask >> 32)) : "memory");
}

static inline void zp_xrstor(unsigned char *area)
{
	if (!zp_xsave_size) {
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
		return;
	}
	__asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"((uint32_t)zp_xsave_mask),
			 "d"((uint32_t)(zp_xsave_mask >> 32)) : "memory");
}

#endif /* ZP_XSAVE_H */
