/*
 * fwdhook.c - a hook for bench/run.sh that forwards every call: it makes
 * the call as it stands with zp_forward() and returns the result, as a
 * hook that only watches (count.c) does.
 *
 * With a hook embedded, every call takes the runtime's hook path (the
 * thread's runtime stack, zp_dispatch, the hook) instead of the
 * pass-through fast path; a rewritten bench/mech with this hook measures
 * that path around a real system call, where fakepid.so measures it around
 * a call answered without the kernel (docs/performance.md, the hook path).
 * Built by run.sh against each tree's own hook.h (the runtime before and
 * after a change), so it uses nothing but zp_forward.
 */
#include <zprewrite/hook.h>

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	return zp_forward(call);
}
