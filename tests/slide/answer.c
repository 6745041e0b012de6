/*
 * answer.c - a test hook for t-slide.sh: answers, without the kernel, every
 * call whose sixth argument is the magic value, with a result computed from
 * the number and the other arguments; lets every other call through.  So the
 * slide test can enter the trampoline at any number (even exit or fork)
 * and check what arrived at the hook.
 */
#include <zprewrite/hook.h>

#define MAGIC 0x5a11de0000000000L

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *c)
{
	if (c->args[5] != MAGIC)
		return ZP_PASS;
	/* Something of every argument, so a wrong register shows. */
	return (c->nr * 7) ^ c->args[0] ^ (c->args[1] << 1) ^ (c->args[2] << 2) ^
	       (c->args[3] << 3) ^ (c->args[4] << 4);
}
