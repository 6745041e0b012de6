/*
 * bigstack.c - test hook: uses nearly all of ZP_HOOK_STACK_BUDGET on every
 * call, and counts the calls it saw.
 *
 * A hook runs on the runtime's own stack (runtime/thread.c): the budget is
 * the hook's whatever the application's stack is.  This hook writes 30 KiB
 * of its stack in zp_hook_enter (a volatile buffer the compiler must keep),
 * so that a runtime that ran hooks on the application's stack would
 * overwrite whatever lies below a goroutine-like or tiny thread stack
 * (tests/programs/tinystack.c and t-hook-stack.sh).  At exit_group it
 * appends "bigstack N" (calls seen) to $ZPT_COUNT_FILE.
 */
#include <zprewrite/hook.h>
#include <asm/unistd.h>

#define USE (30 * 1024)
_Static_assert(USE + 2048 <= ZP_HOOK_STACK_BUDGET, "within the documented budget");

static uint64_t calls;
static char path[400];

ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	const char *v = zp_getenv("ZPT_COUNT_FILE");
	(void)proc;
	if (v && zp_strlen(v) < sizeof path)
		zp_memcpy(path, v, zp_strlen(v) + 1);
	return 0;
}

/* Not inlined: its frame is the 30 KiB. */
static __attribute__((noinline)) long touch(long nr)
{
	volatile char buf[USE];
	for (unsigned i = 0; i < USE; i += 64)
		buf[i] = (char)(nr + i);
	return buf[USE - 64];
}

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	if (touch(call->nr) == 0x7f)   /* (keeps the result alive) */
		__atomic_fetch_add(&calls, 0, __ATOMIC_RELAXED);
	if (call->nr == __NR_exit_group && path[0] && !zp_shares_parent_memory()) {
		char line[64];
		int n = zp_snprintf(line, sizeof line, "bigstack %lu\n", (unsigned long)calls);
		long fd = zp_syscall4(__NR_openat, -100, (long)path, 01 | 0100 | 02000, 0644);
		if (fd >= 0) {
			zp_write_all((int)fd, line, (size_t)n);
			zp_syscall1(__NR_close, fd);
		}
	}
	return ZP_PASS;
}
