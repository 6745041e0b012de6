/*
 * hiddenvec.c - NEGATIVE CONTROL for the register test: a hook that damages
 * vector registers in a way zprewrite cannot see.
 *
 * Built WITH -mgeneral-regs-only, so the hook's own code has no vector
 * instruction and zprewrite embeds it without asking the runtime to save the
 * extended state.  At init it writes a tiny function (vpcmpeqd on ymm0-15,
 * then ret) into a fresh executable page, and calls it from every
 * zp_hook_enter.  tests/t-contract-registers.sh expects contract-registers to
 * FAIL with this hook: that shows the register test notices clobbered vector
 * registers (a hook's damage that nothing saves), i.e. that its success with
 * the vector.c hook means the runtime did save them.  (A real hook must not
 * do this: the rewriter's detection is static.)
 */
#include <zprewrite/hook.h>
#include <asm/unistd.h>

static void (*blob)(void);

ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	(void)proc;
	long p = zp_syscall6(__NR_mmap, 0, 4096, 3 /* RW */, 0x22 /* PRIVATE|ANON */, -1, 0);
	if (p < 0 && p > -4096)
		return 1;
	unsigned char *c = (unsigned char *)p;
	int n = 0;
	for (int r = 0; r < 16; r++) {
		/* vpcmpeqd %ymmR, %ymmR, %ymmR: VEX.256.66.0F.WIG 76 /r */
		unsigned vvvv = (~r) & 15;
		c[n++] = 0xc4;
		c[n++] = (unsigned char)(((r < 8) ? 0x80 : 0) | 0x40 | ((r < 8) ? 0x20 : 0) | 0x01);
		c[n++] = (unsigned char)(0x00 | (vvvv << 3) | 0x04 | 0x01);
		c[n++] = 0x76;
		c[n++] = (unsigned char)(0xc0 | ((r & 7) << 3) | (r & 7));
	}
	c[n++] = 0xc3;   /* ret */
	if (zp_syscall6(__NR_mprotect, p, 4096, 5 /* R X */, 0, 0, 0) != 0)
		return 1;
	blob = (void (*)(void))p;
	return 0;
}

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	(void)call;
	blob();
	return ZP_PASS;
}
