/*
 * asm-offsets.c - every number entry.S and safemem.S need from C, generated.
 *
 * This file is never linked: the build compiles it to assembly, and each
 * DEFINE leaves a line "->NAME value" there, which scripts/gen-asm-offsets.sh
 * turns into build/runtime/asm-offsets.h (as the Linux kernel's asm-offsets
 * does).  So struct layouts, enum values and sizes that entry.S uses cannot
 * drift from their C definitions: a change here is a change there.
 */
#include <asm/prctl.h>
#include <asm/unistd.h>
#include <linux/sched.h>

#include "runtime.h"

#define DEFINE(sym, val) __asm__ volatile("\n->" #sym " %0" : : "i"((long)(val)))
#define OFFSET(sym, type, member) DEFINE(sym, offsetof(struct type, member))

/* (Long: one line per number entry.S uses, nothing else.) */
void zp_asm_offsets(void);
void zp_asm_offsets(void)
{
	/* struct zp_frame: what zp_entry saves on the runtime stack */
	DEFINE(FRAME_SIZE, sizeof(struct zp_frame));
	OFFSET(OFF_RBX, zp_frame, rbx);
	OFFSET(OFF_NR, zp_frame, nr);
	OFFSET(OFF_RDI, zp_frame, args[0]);
	OFFSET(OFF_RSI, zp_frame, args[1]);
	OFFSET(OFF_RDX, zp_frame, args[2]);
	OFFSET(OFF_R10, zp_frame, args[3]);
	OFFSET(OFF_R8, zp_frame, args[4]);
	OFFSET(OFF_R9, zp_frame, args[5]);
	OFFSET(OFF_SITE, zp_frame, site);
	OFFSET(OFF_FLAGS, zp_frame, flags);
	OFFSET(OFF_FREE, zp_frame, free_restore);
	OFFSET(OFF_APPSP, zp_frame, app_sp);
	OFFSET(OFF_CHILD, zp_frame, child);

	/* struct zp_thread: the block %gs points at */
	OFFSET(ZT_SELF, zp_thread, self);
	OFFSET(ZT_STACK_LO, zp_thread, stack_lo);
	OFFSET(ZT_STACK_HI, zp_thread, stack_hi);
	OFFSET(ZT_FREE, zp_thread, stack_free);
	OFFSET(ZT_ALT_LO, zp_thread, alt_lo);
	OFFSET(ZT_ALT_SIZE, zp_thread, alt_size);
	OFFSET(ZT_SCRATCH0, zp_thread, scratch[0]);
	OFFSET(ZT_SCRATCH1, zp_thread, scratch[1]);
	OFFSET(ZT_SCRATCH2, zp_thread, scratch[2]);
	OFFSET(ZT_SCRATCH3, zp_thread, scratch[3]);
	OFFSET(ZT_SCRATCH4, zp_thread, scratch[4]);
	OFFSET(ZT_SELECTOR, zp_thread, selector);
	OFFSET(ZT_RT_ALT, zp_thread, rt_alt);
	OFFSET(ZT_RT_ALT_WANTED, zp_thread, rt_alt_wanted);
	OFFSET(ZT_OWN_MEMORY, zp_thread, own_memory);
	OFFSET(ZT_BUSY, zp_thread, busy);
	DEFINE(ZP_RT_STACK_SIZE, ZP_RT_STACK_SIZE);
	DEFINE(ZP_RT_CHUNK, ZP_RT_CHUNK);

	/* struct zp_vfork_slot */
	OFFSET(SLOT_RET, zp_vfork_slot, ret);
	OFFSET(SLOT_RBX, zp_vfork_slot, rbx);
	OFFSET(SLOT_NR, zp_vfork_slot, nr);
	OFFSET(SLOT_SCRATCH0, zp_vfork_slot, scratch[0]);
	OFFSET(SLOT_SCRATCH1, zp_vfork_slot, scratch[1]);
	OFFSET(SLOT_BUSY, zp_vfork_slot, busy);
	OFFSET(SLOT_SP, zp_vfork_slot, app_sp);
	OFFSET(SLOT_FREE, zp_vfork_slot, free_restore);
	OFFSET(SLOT_CHILD, zp_vfork_slot, child);

	/* enum zp_act */
	DEFINE(ACT_DONE, ZP_ACT_DONE);
	DEFINE(ACT_SIGRETURN, ZP_ACT_SIGRETURN);
	DEFINE(ACT_CLONE_STACK, ZP_ACT_CLONE_STACK);
	DEFINE(ACT_CLONE3_STACK, ZP_ACT_CLONE3_STACK);
	DEFINE(ACT_VFORK, ZP_ACT_VFORK);
	DEFINE(ACT_FAULT, ZP_ACT_FAULT);
	DEFINE(ACT_NOSTACK, ZP_ACT_NOSTACK);
	DEFINE(ACT_EXIT_THREAD, ZP_ACT_EXIT_THREAD);

	/* shared with the rewriter (zp_abi.h) and the C side */
	DEFINE(ZP_REDZONE, ZP_REDZONE);
	DEFINE(ZP_SITE_HASH_MULT, ZP_SITE_HASH_MULT);
	DEFINE(ZP_SLOW_NR_SIZE, ZP_SLOW_NR_SIZE);
	OFFSET(TABLE_SHIFT, zp_site_table, shift);
	OFFSET(TABLE_MASK, zp_site_table, mask);
	OFFSET(TABLE_SLOTS, zp_site_table, slots);
	DEFINE(CLONE3_MAX, 4096);       /* process.c: the largest struct clone_args copied */
	DEFINE(CLONE_VM, CLONE_VM);
	DEFINE(ARCH_SET_GS, ARCH_SET_GS);
	DEFINE(PR_SET_SYSCALL_USER_DISPATCH, 59);   /* linux/prctl.h, Linux >= 5.11 */
	DEFINE(PR_SYS_DISPATCH_ON, 1);
	DEFINE(SYSCALL_DISPATCH_FILTER_BLOCK, 1);
}
