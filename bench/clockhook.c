/*
 * clockhook.c - a hook for bench/run.sh in the manner of faketime: it
 * answers clock_gettime(CLOCK_MONOTONIC) itself, from the runtime's clock
 * (zp_clock_ns(), which reads the vDSO), shifted by an offset (0 here: the
 * cost is the same for any offset); every other call passes.
 *
 * In a program rewritten with --vdso, the C library's clock_gettime is a
 * real system call through a rewritten site, so this hook sees every one:
 * bench/mech rewritten with `--vdso --hook clockhook.so` measures what a
 * faketime-style hook costs per clock_gettime (docs/performance.md, item 10),
 * against the vDSO's own clock_gettime, in the same process.
 */
#include <zprewrite/hook.h>
#include <asm/unistd.h>

#define CLOCK_MONOTONIC 1
#define NS_PER_S 1000000000ull

static uint64_t offset_ns; /* a faketime hook would set its shift here */

struct ts {
	long sec, nsec;
};

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	if (call->nr != __NR_clock_gettime || call->args[0] != CLOCK_MONOTONIC)
		return ZP_PASS;
	uint64_t now = zp_clock_ns() + offset_ns;
	struct ts *ts = (struct ts *)call->args[1];
	ts->sec = (long)(now / NS_PER_S);
	ts->nsec = (long)(now % NS_PER_S);
	return 0;
}
