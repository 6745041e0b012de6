/*
 * entry.S - zp_entry, where every rewritten system call arrives.
 *
 * A patched site was `syscall`; it is now `call *%rax`.  The call pushes the
 * return address and lands in the trampoline at address %rax, which slides
 * to here (trampoline.c); on the trap path, where there is no page 0, the
 * call faults and the runtime's SIGSEGV handler resumes the thread here
 * instead (segv.c).  Either way, on arrival:
 *
 *   rax = system call number; rdi, rsi, rdx, r10, r8, r9 = its arguments
 *   [rsp] = return address (the site + 2); the application's stack pointer at
 *           the site (call it S) is rsp + 8
 *   rcx, r11 = free: the `syscall` instruction clobbers them anyway
 *
 * The application must see what the kernel would give it: rax = result,
 * every other register but rcx and r11 unchanged, flags unchanged, and its
 * stack unchanged above S - 128 (the red zone: leaf code may keep data below
 * the stack pointer; the return address already occupies S - 8, which is why
 * the rewriter handles sites whose code uses that slot differently).
 *
 * The fast path (a pass-through: no hook, an ordinary call) stays on the
 * application's stack and uses 3 words below the red zone (S-136..S-152)
 * for a few instructions: the flags and two scratch registers.  Everything
 * else - the hook, the runtime's C code - runs on the thread's own runtime
 * stack (thread.c, struct zp_thread), found through %gs:
 *
 *   application's stack                 runtime stack (a chunk of it)
 *   S-8     return address              struct zp_frame (asm-offsets.h):
 *   S-128   ... red zone, untouched ...   nr, args, site, flags, the
 *   S-136   flags                         stack_free to restore, S, child
 *   S-144   (a result, on the way back    stack_free to restore, S, child,
 *            from a special call)         saved rbx   <- rbx points at it
 *                                         C code below, 16-byte aligned
 *
 * zp_dispatch (C) decides and returns rax = result, rdx = action.  Most calls
 * are made by zp_dispatch itself; the ones that change the stack or the
 * process in ways C cannot follow are made here, with the application's
 * registers and stack pointer:
 *
 *   rt_sigreturn  the kernel reads the signal frame at the stack pointer, so
 *                 the call must be made with rsp = S exactly;
 *   clone/clone3 with a new stack (threads, posix_spawn): the child starts on
 *                 that stack with nothing of ours on it; the return address
 *                 and the child's thread block are put on top of the new
 *                 stack, the child points %gs at its block and returns;
 *   vfork-like (vfork, clone/clone3 sharing memory without a new stack): the
 *                 child runs on the parent's stack and overwrites everything
 *                 below S, including the return address, before the parent
 *                 resumes; the return address is kept in a slot outside the
 *                 stack (zp_vfork_claim) whose address rides in rbx, a
 *                 register the kernel restores for the parent; the slot also
 *                 holds the child's own thread block;
 *   exit of a thread whose block came from the pool: the block is given
 *                 back by the last store before the call.
 *
 * In the paths after such a call, no instruction may change the flags: the
 * kernel hands back the flags of the `syscall` instruction, which are the
 * application's again.  Tests between parent and child therefore use jrcxz.
 *
 * Unwind information (the .cfi_* directives, and CFI_* below): a debugger
 * or profiler that stops a thread anywhere in here must find the
 * application's frames: zp_entry is a function "called" by the site, its
 * canonical frame address (CFA) is S, its return address is at S - 8 and
 * it keeps every callee-saved register but rbx.  How S is found changes
 * along the way, and the directives follow it instruction by instruction:
 *   on the application's stack       CFA = rsp + 8 .. rsp + 152
 *   moving to the runtime stack      CFA = r11 + 136 (r11 = the old rsp)
 *   frame built, rbx = the frame     CFA = *(rbx + OFF_APPSP),
 *                                    the application's rbx at rbx + OFF_RBX
 *   vfork / munmap (a slot in rbx)   CFA = *(rbx + SLOT_SP), the return
 *                                    address and rbx in the slot
 *   back at S - 8 before `ret`       CFA = rsp + 8
 * The C code the frame calls has gcc's own.  Everything goes to
 * .debug_frame, not .eh_frame: nothing loads it (no exception ever crosses
 * the runtime), zprewrite relocates it to where the runtime lands and puts
 * it into the rewritten file (rewriter/debugframe.c) for gdb and perf.
 */

#include <asm/unistd.h>

#include "asm-offsets.h"

	.set REDZONE_SKIP, ZP_REDZONE-8		/* from S-8 down to S-128 */
	.set FLAGS_AT, -(ZP_REDZONE+8)		/* the flags slot, from S */
	.set RESULT_AT, -(ZP_REDZONE+16)	/* a special call's result, from S */

	.cfi_sections .debug_frame

/*
 * CFI helpers for the rules .cfi_* cannot say: DWARF expressions
 * (DW_CFA_def_cfa_expression 0x0f, DW_CFA_expression 0x10; DW_OP_breg0
 * 0x70 + register, DW_OP_deref 0x06, DW_OP_plus_uconst 0x23).  DWARF
 * register numbers: rbx 3, rsi 4, rsp 7, r11 11, the return address 16.
 * Offsets are written as SLEB128 of one or two bytes (|off| < 8192).
 */
	.set DW_RBX, 3
	.set DW_RSI, 4
	.set DW_RSP, 7
	.set DW_R11, 11
	.set DW_RIP, 16
.if OFF_APPSP >= 128
	.error "OFF_APPSP: the clone3 rules take it as a one-byte ULEB128"
.endif

/* CFA = *(breg + off): the value of S kept in memory. */
.macro CFI_CFA_AT breg, off
.if (\off) < -8192 || (\off) >= 8192
	.error "CFI_CFA_AT: offset out of range"
.elseif (\off) >= -64 && (\off) < 64
	.cfi_escape 0x0f, 3, 0x70+(\breg), (\off) & 0x7f, 0x06
.else
	.cfi_escape 0x0f, 4, 0x70+(\breg), ((\off) & 0x7f) | 0x80, ((\off) >> 7) & 0x7f, 0x06
.endif
.endm

/* The caller's value of register reg is saved at address breg + off. */
.macro CFI_SAVED_AT reg, breg, off
.if (\off) < -8192 || (\off) >= 8192
	.error "CFI_SAVED_AT: offset out of range"
.elseif (\off) >= -64 && (\off) < 64
	.cfi_escape 0x10, \reg, 2, 0x70+(\breg), (\off) & 0x7f
.else
	.cfi_escape 0x10, \reg, 3, 0x70+(\breg), ((\off) & 0x7f) | 0x80, ((\off) >> 7) & 0x7f
.endif
.endm

/* The frame at rbx holds everything: S and the application's rbx. */
.macro CFI_IN_FRAME
	CFI_CFA_AT DW_RBX, OFF_APPSP
	CFI_SAVED_AT DW_RBX, DW_RBX, OFF_RBX
	.cfi_offset rip, -8
.endm

/* As the site's call left it: rsp = S - 8 at the return address, every
 * register the application's. */
.macro CFI_AT_CALL
	.cfi_def_cfa rsp, 8
	.cfi_restore rbx
	.cfi_offset rip, -8
.endm

/*
 * SAVE_FLAGS: from [rsp] = return address, step below the red zone and save
 * the flags (pushfq is cheap; popfq costs ~15 ns, so the way back restores
 * the flags with sahf instead: RESTORE_FLAGS).  rsp = S-136 after.
 */
.macro SAVE_FLAGS
	lea	-REDZONE_SKIP(%rsp), %rsp	/* step below the red zone (lea: flags intact) */
	.cfi_adjust_cfa_offset REDZONE_SKIP
	pushfq					/* the application's flags, at S-136 */
	.cfi_adjust_cfa_offset 8
.endm

/*
 * RESTORE_FLAGS where: with the saved flags at `where` and the result in
 * rax, put back the arithmetic flags the application had: OF through an
 * addition that overflows exactly when OF was set, then SF ZF AF PF CF with
 * sahf.  DF is not touched: the fast path never changes it (neither does the
 * kernel), and the slow path restores it first (RESTORE_DF_FLAGS).  rcx is
 * clobbered (syscall clobbers it too).  Only flag-neutral instructions may
 * follow.
 */
.macro RESTORE_FLAGS where
	mov	%rax, %rcx			/* keep the result */
	movzbl	1+\where, %eax			/* flags bits 8..15 */
	shr	$3, %eax			/* OF (bit 11) to bit 0 */
	and	$1, %eax
	add	$0x7f, %al			/* 0x7f + 1 overflows: OF = old OF */
	movb	\where, %ah			/* flags bits 0..7 */
	sahf					/* SF ZF AF PF CF (OF untouched) */
	mov	%rcx, %rax			/* the result again */
.endm

/*
 * RESTORE_DF_FLAGS where: RESTORE_FLAGS after C code ran (FRAME_BUILD's cld):
 * DF back first (std if it was set), then the others.
 */
.macro RESTORE_DF_FLAGS where
	testb	$0x04, 1+\where			/* DF (bit 10) was set? */
	jz	1f
	std					/* (rare) */
1:	RESTORE_FLAGS \where
.endm

/*
 * ENTER_RT_STACK: with rsp = the application's stack (its flags saved at
 * rsp), move to the thread's runtime stack.  After: r11 = the application's
 * rsp before the move, rcx = the stack_free value to put back on the way
 * out, rsp = where the frame goes; rax is kept.  (thread.c, struct
 * zp_thread, says why the stack is taken by chunks.)  The CFA, rsp + some
 * offset before, is r11 + that offset after.
 */
.macro ENTER_RT_STACK
	mov	%rsp, %r11
	sub	%gs:ZT_STACK_LO, %r11
	cmp	$ZP_RT_STACK_SIZE, %r11
	jb	.Lstay\@			/* on it already: a handler that interrupted a hook */
	mov	%gs:ZT_FREE, %r11
	cmp	%gs:ZT_STACK_HI, %r11
	je	.Ltake\@			/* nothing held: the top (the usual case) */
	mov	%rsp, %rcx			/* something is held: is this the signal stack? */
	sub	%gs:ZT_ALT_LO, %rcx
	cmp	%gs:ZT_ALT_SIZE, %rcx
	jb	.Lbelow\@
	mov	%gs:ZT_STACK_HI, %r11		/* no: a handler left by longjmp; from the top */
	jmp	.Ltake\@
.Lbelow\@:					/* a handler on the signal stack that interrupted */
	lea	-ZP_RT_CHUNK(%r11), %rcx	/* the runtime: the next chunk down, if there */
	cmp	%gs:ZT_STACK_LO, %rcx		/* is one; else stay where we are */
	jb	.Lstay\@
.Ltake\@:					/* r11 = the top of the chunk to take */
	lea	-ZP_RT_CHUNK(%r11), %rcx
	mov	%rcx, %gs:ZT_FREE		/* taken: a signal from here on takes the next one */
	mov	%r11, %rcx			/* given back on the way out */
	xchg	%r11, %rsp			/* rsp = the chunk's top, r11 = the application's */
	.cfi_def_cfa_register r11
	jmp	.Ldone\@
.Lstay\@:
	.cfi_def_cfa_register rsp
	mov	%gs:ZT_FREE, %rcx		/* nothing taken: write back what is there */
	mov	%rsp, %r11
	.cfi_def_cfa_register r11
.Ldone\@:
.endm

/*
 * FRAME_BUILD: with r11 = the application's flags slot (S-136), rcx = the
 * stack_free to restore, rax = the number and the arguments in their
 * registers, build struct zp_frame below rsp and leave rbx = the frame,
 * rsp aligned to 16 below it, DF clear for C.  CFA = r11 + 136 before,
 * CFI_IN_FRAME after.
 */
.macro FRAME_BUILD
	sub	$FRAME_SIZE, %rsp
	mov	%rcx, OFF_FREE(%rsp)
	lea	-FLAGS_AT(%r11), %rcx		/* S */
	mov	%rcx, OFF_APPSP(%rsp)
	mov	(%r11), %rcx			/* the flags */
	mov	%rcx, OFF_FLAGS(%rsp)
	mov	-FLAGS_AT-8(%r11), %rcx		/* the return address ... */
	sub	$2, %rcx			/* ... minus 2 is the site */
	mov	%rcx, OFF_SITE(%rsp)
	movq	$0, OFF_CHILD(%rsp)
	mov	%rax, OFF_NR(%rsp)
	mov	%rdi, OFF_RDI(%rsp)
	mov	%rsi, OFF_RSI(%rsp)
	mov	%rdx, OFF_RDX(%rsp)
	mov	%r10, OFF_R10(%rsp)
	mov	%r8, OFF_R8(%rsp)
	mov	%r9, OFF_R9(%rsp)
	mov	%rbx, OFF_RBX(%rsp)		/* rbx is callee-saved, but we use it below */
	CFI_SAVED_AT DW_RBX, DW_RSP, OFF_RBX
	mov	%rsp, %rbx			/* rbx = the frame */
	CFI_IN_FRAME
	and	$-16, %rsp			/* the C ABI wants a 16-byte aligned stack */
	cld					/* and DF = 0 */
.endm

/*
 * RESTORE_ARGS: reload the six argument registers from the frame at rbx
 * (the application's values; a hook only ever changed a copy).
 */
.macro RESTORE_ARGS
	mov	OFF_RDI(%rbx), %rdi
	mov	OFF_RSI(%rbx), %rsi
	mov	OFF_RDX(%rbx), %rdx
	mov	OFF_R10(%rbx), %r10
	mov	OFF_R8(%rbx), %r8
	mov	OFF_R9(%rbx), %r9
.endm

/*
 * LEAVE_FRAME_FLAGS: the last steps before a special call made with the
 * application's registers: flags and rbx the application's, rsp = S - 8
 * (its return address on top, as after the call), the chunk given back.
 * Uses rcx and r11 (the call clobbers them).  After it, only flag-neutral
 * instructions.  CFI_IN_FRAME before, CFI_AT_CALL after.
 */
.macro LEAVE_FRAME_FLAGS
	mov	OFF_FREE(%rbx), %rcx
	mov	OFF_APPSP(%rbx), %r11
	pushq	OFF_FLAGS(%rbx)		/* a copy of the application's flags */
	mov	OFF_RBX(%rbx), %rbx		/* the application's rbx */
	.cfi_def_cfa r11, 0
	.cfi_restore rbx
	popfq					/* the application's flags */
	lea	-8(%r11), %rsp			/* S - 8: [rsp] = return address */
	.cfi_def_cfa rsp, 8
	mov	%rcx, %gs:ZT_FREE		/* the chunk is given back */
.endm

/*
 * SYSCALL_OFF_STACK: make the call in the frame at rbx with rsp = S and
 * nothing of ours left on any stack (vfork: the child overwrites the
 * application's stack and takes the runtime stack below; munmap: the stack
 * may be gone).  The return address and the application's rbx wait in a
 * slot (zp_dispatch claimed it: zp_vfork_claim; the frame's `child` field),
 * whose address rides in rbx, which the kernel keeps.
 * After: rax = result, r11 = the slot, rbx = the application's, flags the
 * application's (the kernel restores those of the `syscall`).  CFI_IN_FRAME
 * before; after, CFA = rsp (= S) and the return address in the slot (a
 * vfork child overwrites S - 8).
 */
.macro SYSCALL_OFF_STACK
	mov	OFF_CHILD(%rbx), %rax		/* the slot (it holds S and stack_free too) */
	RESTORE_ARGS
	mov	OFF_NR(%rbx), %rcx		/* the number */
	pushq	OFF_FLAGS(%rbx)		/* a copy of the application's flags */
	mov	%rax, %rbx			/* rbx = slot */
	CFI_CFA_AT DW_RBX, SLOT_SP
	CFI_SAVED_AT DW_RBX, DW_RBX, SLOT_RBX
	CFI_SAVED_AT DW_RIP, DW_RBX, SLOT_RET
	mov	%rcx, %rax			/* the number */
	popfq					/* the application's flags */
	mov	SLOT_FREE(%rbx), %rcx
	mov	SLOT_SP(%rbx), %rsp		/* rsp = S: nothing of ours is on it */
	mov	%rcx, %gs:ZT_FREE		/* the chunk is given back */
	syscall
	mov	%rbx, %r11			/* the slot */
	CFI_SAVED_AT DW_RIP, DW_R11, SLOT_RET
	mov	SLOT_RBX(%r11), %rbx		/* the application's rbx */
	.cfi_def_cfa rsp, 0
	.cfi_restore rbx
.endm

/*
 * SET_GS block, save: point %gs at a new thread's block (a register, not
 * rdi or rsi) with arch_prctl, keeping the application's rdi and rsi in
 * the two words at `save`.  rax, rcx, r11 are clobbered; the flags stay
 * (`syscall` keeps them, mov changes none).
 */
.macro SET_GS block, save0, save1
	mov	%rdi, \save0
	mov	%rsi, \save1
	mov	\block, %rsi
	mov	$ARCH_SET_GS, %edi
	mov	$__NR_arch_prctl, %eax
	syscall
.endm

/*
 * NET_ON: with --complete (zp_complete, net.c), turn Syscall User Dispatch
 * on in this new thread or child (it is not inherited), %gs pointing at its
 * block already.  Every register but rax, rcx and r11, and every flag,
 * stays (the block's scratch words hold the five arguments' registers).
 */
.macro NET_ON
	mov	zp_complete(%rip), %ecx
	jrcxz	.Lnet_no\@			/* (jrcxz reaches 127 bytes: then a jmp) */
	jmp	.Lnet_on\@
.Lnet_no\@:
	jmp	.Lnet_off\@
.Lnet_on\@:
	mov	%rdi, %gs:ZT_SCRATCH0
	mov	%rsi, %gs:ZT_SCRATCH1
	mov	%rdx, %gs:ZT_SCRATCH2
	mov	%r10, %gs:ZT_SCRATCH3
	mov	%r8, %gs:ZT_SCRATCH4
	movb	$SYSCALL_DISPATCH_FILTER_BLOCK, %gs:ZT_SELECTOR
	mov	$PR_SET_SYSCALL_USER_DISPATCH, %edi
	mov	$PR_SYS_DISPATCH_ON, %esi
	lea	zp_text_start(%rip), %rdx	/* the allowed region: the runtime's code */
	mov	zp_text_len(%rip), %r10
	mov	%gs:ZT_SELF, %r8
	lea	ZT_SELECTOR(%r8), %r8		/* the thread's selector byte */
	mov	$__NR_prctl, %eax
	syscall
	mov	%gs:ZT_SCRATCH0, %rdi
	mov	%gs:ZT_SCRATCH1, %rsi
	mov	%gs:ZT_SCRATCH2, %rdx
	mov	%gs:ZT_SCRATCH3, %r10
	mov	%gs:ZT_SCRATCH4, %r8
.Lnet_off\@:
.endm

/*
 * RT_ALT_ON: a new thread that needs the runtime's signal stack (thread.c:
 * the block's rt_alt_wanted) gets it, %gs pointing at its block already.
 * Every register but rax, rcx and r11, and every flag, stays.
 */
.macro RT_ALT_ON
	mov	%gs:ZT_RT_ALT_WANTED, %ecx
	jrcxz	.Lalt_off\@
	mov	%rdi, %gs:ZT_SCRATCH0
	mov	%rsi, %gs:ZT_SCRATCH1
	mov	%gs:ZT_SELF, %rdi
	lea	ZT_RT_ALT(%rdi), %rdi		/* sigaltstack(&block->rt_alt, NULL) */
	mov	$0, %esi
	mov	$__NR_sigaltstack, %eax
	syscall
	mov	%gs:ZT_SCRATCH0, %rdi
	mov	%gs:ZT_SCRATCH1, %rsi
.Lalt_off\@:
.endm

/*
 * CHILD_START: the first instructions of a thread made by clone or clone3
 * with a new stack (rsp at the word the parent put there: the child's
 * thread block).  Point %gs at it; in a child that got its own memory
 * (no CLONE_VM) record that this copy is its own (zp_owner_pid, lock.h).
 * Every register but rax, rcx and r11 and every flag stays; rax = 0 after.
 * It gets the runtime's signal stack if it needs one (RT_ALT_ON), and with
 * --complete, Syscall User Dispatch is turned on for it (NET_ON).
 * (A signal handled before this runs uses the parent's block: a window of
 * a system call, before the thread runs any code of its own.)  The CFA is
 * above the words the child pops: the caller's CFI says how many.
 */
.macro CHILD_START
	pop	%rcx				/* the child's block */
	.cfi_adjust_cfa_offset -8
	SET_GS	%rcx, ZT_SCRATCH0(%rcx), ZT_SCRATCH1(%rcx)
	mov	%gs:ZT_SCRATCH0, %rdi
	mov	%gs:ZT_SCRATCH1, %rsi
	RT_ALT_ON
	NET_ON
	mov	%gs:ZT_OWN_MEMORY, %ecx
	jrcxz	1f
	mov	$__NR_getpid, %eax
	syscall
	mov	%eax, zp_owner_pid(%rip)	/* this memory's owner is the child now */
1:	mov	$0, %eax			/* clone's result in the child */
.endm

	.text
	.globl	zp_entry
	.hidden	zp_entry
	.type	zp_entry, @function
	.balign	64
zp_entry:
	.cfi_startproc				/* CFA = rsp + 8, as after any call */
	SAVE_FLAGS
	/* Is the caller a patched site?  Look its address up in the process's
	 * site table (sitetable.c: open addressing, Fibonacci hash; the table
	 * is never changed once published, only replaced). */
	push	%rdx				/* two scratch registers */
	.cfi_adjust_cfa_offset 8
	push	%rsi
	.cfi_adjust_cfa_offset 8
	mov	REDZONE_SKIP+8+16(%rsp), %r11	/* return address */
	sub	$2, %r11			/* the site */
	mov	zp_site_table(%rip), %rsi	/* struct zp_site_table */
	movabs	$ZP_SITE_HASH_MULT, %rdx	/* Fibonacci hashing: the top bits of */
	imul	%r11, %rdx			/* site * 2^64/phi spread nearby sites */
	mov	TABLE_SHIFT(%rsi), %ecx		/* shift = 64 - log2(slots) */
	shr	%cl, %rdx			/* slot */
1:	mov	TABLE_SLOTS(%rsi,%rdx,8), %rcx	/* the site in that slot, or 0 */
	cmp	%rcx, %r11
	je	2f				/* found */
	test	%rcx, %rcx
	jz	.Lunknown_site			/* empty slot: not (yet) known */
	add	$1, %rdx			/* next slot */
	and	TABLE_MASK(%rsi), %rdx
	jmp	1b
2:	pop	%rsi
	.cfi_adjust_cfa_offset -8
	pop	%rdx
	.cfi_adjust_cfa_offset -8
	/* A plain pass-through?  Not if a hook is installed or the call is one
	 * that needs the runtime (zp_slow_nr: 1 for those, for every number
	 * when a hook is installed). */
	lea	zp_slow_nr(%rip), %rcx
	cmp	$ZP_SLOW_NR_SIZE, %rax
	jae	.Lhigh_nr
	cmpb	$0, (%rcx,%rax)
	jne	.Lslow
.Lpass:
	syscall					/* the runtime's own syscall instruction */
	RESTORE_FLAGS 0(%rsp)
	lea	8+REDZONE_SKIP(%rsp), %rsp	/* past the flags, back to the return address */
	.cfi_adjust_cfa_offset -(8+REDZONE_SKIP)
	ret
	.cfi_adjust_cfa_offset 8+REDZONE_SKIP	/* (for what follows: at S-136) */

/* No real system call has such a number: straight to the kernel (for its
 * -ENOSYS), unless a hook wants to see it (then the last byte of zp_slow_nr,
 * no real number either, is set too). */
.Lhigh_nr:
	cmpb	$0, ZP_SLOW_NR_SIZE-1(%rcx)
	je	.Lpass
	jmp	.Lslow

/* Not in the table: an object not seen yet (found by zp_site_discover, then
 * retried), or not a patched site at all: fault like a bad call. */
.Lunknown_site:
	.cfi_adjust_cfa_offset 16		/* (the two scratch registers) */
	pop	%rsi
	.cfi_adjust_cfa_offset -8
	pop	%rdx
	.cfi_adjust_cfa_offset -8
	ENTER_RT_STACK
	FRAME_BUILD
	mov	OFF_SITE(%rbx), %rdi
	call	zp_site_discover		/* 1: now known */
	test	%eax, %eax
	jz	.Lfault
	jmp	.Ldispatch

.Lslow:
	.cfi_def_cfa rsp, -FLAGS_AT		/* at S-136, registers the application's */
	.cfi_restore rbx
	ENTER_RT_STACK
	FRAME_BUILD
.Ldispatch:
	mov	%rbx, %rdi			/* zp_dispatch(frame) */
	call	zp_dispatch			/* rax = result, rdx = action */
	test	%rdx, %rdx			/* ACT_DONE? (flags are saved in the frame) */
	jnz	.Lspecial

/* Return rax to the application: registers from the frame, flags last,
 * then back to the application's stack and the chunk given back. */
.Lreturn:
	RESTORE_ARGS
	mov	%rbx, %rsp			/* the frame */
	CFI_CFA_AT DW_RSP, OFF_APPSP
	CFI_SAVED_AT DW_RBX, DW_RSP, OFF_RBX
	mov	OFF_RBX(%rbx), %rbx		/* the application's rbx */
	.cfi_restore rbx
	RESTORE_DF_FLAGS OFF_FLAGS(%rsp)
	mov	OFF_FREE(%rsp), %rcx
	mov	OFF_APPSP(%rsp), %rsp		/* S */
	.cfi_def_cfa rsp, 0
	mov	%rcx, %gs:ZT_FREE		/* the chunk is given back */
	lea	-8(%rsp), %rsp			/* back to the return address */
	.cfi_adjust_cfa_offset 8
	ret					/* to the instruction after the site */

.Lspecial:
	CFI_IN_FRAME
	cmp	$ACT_SIGRETURN, %rdx
	je	.Lsigreturn
	cmp	$ACT_CLONE_STACK, %rdx
	je	.Lclone_stack
	cmp	$ACT_CLONE3_STACK, %rdx
	je	.Lclone3_stack
	cmp	$ACT_VFORK, %rdx
	je	.Lvfork
	cmp	$ACT_NOSTACK, %rdx
	je	.Lnostack
	cmp	$ACT_EXIT_THREAD, %rdx
	je	.Lexit_thread
.Lfault:
	/* ACT_FAULT: not called from a patched site, e.g. a call through a NULL
	 * function pointer.  Fault as such a call would: restore the registers
	 * and the stack as the call left them, then jump to a non-canonical
	 * address, which raises SIGSEGV on every x86-64 CPU; segv.c makes the
	 * fault look like the one at rax that it stands for. */
	RESTORE_ARGS
	mov	OFF_NR(%rbx), %rax		/* the "number" the call had in rax */
	LEAVE_FRAME_FLAGS			/* rsp = S - 8, as after the call */
	movabs	$0xdead000000000000, %r11	/* non-canonical */
	.globl	zp_entry_fault
	.hidden	zp_entry_fault
zp_entry_fault:
	jmp	*%r11				/* -> SIGSEGV (general protection) */

/* rt_sigreturn: the kernel restores every register and the stack from the
 * signal frame at the stack pointer, so only rsp = S and rax matter. */
.Lsigreturn:
	CFI_IN_FRAME
	mov	OFF_FREE(%rbx), %rcx
	mov	OFF_APPSP(%rbx), %rsp		/* rsp = S */
	.cfi_def_cfa rsp, 0
	mov	%rcx, %gs:ZT_FREE		/* the chunk is given back */
	mov	$__NR_rt_sigreturn, %eax
	syscall					/* does not return */
	ud2

/* clone(flags, newsp, ptid, ctid, tls) with newsp != 0: the child starts
 * with rsp = newsp.  Put the return address at newsp - 8 and below it the
 * child's thread block, and pass newsp - 16, so that the child pops the
 * block and its `ret` leaves rsp = newsp; both sides then give rsi back its
 * original value (the child inherits ours). */
.Lclone_stack:
	CFI_IN_FRAME
	RESTORE_ARGS
	mov	OFF_APPSP(%rbx), %r11
	mov	-8(%r11), %r11			/* the return address */
	mov	%r11, -8(%rsi)			/* onto the child's stack */
	mov	OFF_CHILD(%rbx), %r11		/* the child's block (zp_dispatch) */
	mov	%r11, -16(%rsi)			/* for the child to pop */
	lea	-16(%rsi), %rsi			/* the child's stack pointer */
	LEAVE_FRAME_FLAGS			/* rsp = S - 8, the chunk given back */
	mov	$__NR_clone, %eax
	syscall
	lea	16(%rsi), %rsi			/* rsi as the application passed it */
	mov	%rax, %rcx			/* child: rax == 0 */
	jrcxz	1f				/* (jrcxz: no flag changes) */
	mov	$__NR_clone, %eax		/* parent: rax = number, rcx = result */
	jmp	.Lleave_special
1:	.cfi_def_cfa rsp, 16			/* child: its block, then the return address */
	CHILD_START
	ret					/* to the site, rsp = newsp */

/* clone3(args, size) with args->stack != 0: zp_clone3_prepare copies the
 * arguments into a buffer on the runtime stack, puts the return address,
 * the application's rdi and the child's block on top of the child's stack
 * and shrinks stack_size by 24; the child pops the last two and returns.
 * The parent's stack pointer does not matter to the kernel here, so the
 * call is made with rsp at the buffer, and the parent finds the frame
 * again through the pointer kept at the buffer's start. */
.Lclone3_stack:
	CFI_IN_FRAME
	mov	OFF_RSI(%rbx), %rcx		/* size (at most CLONE3_MAX: classify.c) */
	add	$16+15, %rcx			/* + the frame pointer, rounded up */
	and	$-16, %rcx
	sub	%rcx, %rsp			/* room below everything (keeps alignment) */
	mov	%rbx, (%rsp)			/* how the parent finds the frame again */
	mov	%rbx, %rdi			/* frame */
	lea	16(%rsp), %rsi			/* buffer */
	mov	OFF_APPSP(%rbx), %rdx
	mov	-8(%rdx), %rdx			/* return address */
	call	zp_clone3_prepare		/* rax = buffer */
	RESTORE_ARGS
	mov	%rax, %rdi			/* our copy of struct clone_args */
	mov	$__NR_clone3, %eax
	pushq	OFF_FLAGS(%rbx)		/* a copy of the application's flags */
	mov	OFF_RBX(%rbx), %rbx		/* the application's rbx */
	/* CFA = *(*(rsp + 8) + OFF_APPSP): the frame pointer at the buffer */
	.cfi_escape 0x0f, 6, 0x70+DW_RSP, 8, 0x06, 0x23, OFF_APPSP, 0x06
	.cfi_restore rbx
	popfq					/* the application's flags; rsp = buffer */
	.cfi_escape 0x0f, 6, 0x70+DW_RSP, 0, 0x06, 0x23, OFF_APPSP, 0x06
	syscall
	mov	%rax, %rcx			/* child: rax == 0 */
	jrcxz	1f
	mov	(%rsp), %r11			/* parent: the frame */
	mov	OFF_RDI(%r11), %rdi		/* the application's rdi */
	mov	OFF_FREE(%r11), %rax
	mov	OFF_APPSP(%r11), %r11
	lea	-8(%r11), %rsp			/* rsp = S-8: [rsp] = return address */
	.cfi_def_cfa rsp, 8
	mov	%rax, %gs:ZT_FREE		/* the chunk is given back */
	mov	$__NR_clone3, %eax		/* rax = number, rcx = result */
	jmp	.Lleave_special
1:	.cfi_def_cfa rsp, 24			/* child: block, rdi, return address */
	CHILD_START
	pop	%rdi				/* the application's rdi */
	.cfi_adjust_cfa_offset -8
	ret					/* to the site, rsp = stack + stack_size */

/* vfork-like: the call is made off the stack (SYSCALL_OFF_STACK); then the
 * parent puts the return address back and leaves as after any special call.
 * The child points %gs at the block in the slot (the parent's stays its
 * own), and returns to the site. */
.Lvfork:
	CFI_IN_FRAME
	SYSCALL_OFF_STACK
	mov	%rax, %rcx			/* child: rax == 0 */
	jrcxz	1f
	mov	SLOT_RET(%r11), %rcx		/* parent: the return address */
	push	%rcx				/* back where the call had put it */
	.cfi_adjust_cfa_offset 8
	.cfi_offset rip, -8
	mov	SLOT_NR(%r11), %rcx		/* the number */
	movl	$0, SLOT_BUSY(%r11)		/* release the slot (the child is done with it) */
	xchg	%rax, %rcx			/* rax = number, rcx = result */
	jmp	.Lleave_special
1:	.cfi_adjust_cfa_offset -8		/* child: CFA = rsp, return address in the slot */
	CFI_SAVED_AT DW_RIP, DW_R11, SLOT_RET
	lea	SLOT_CHILD(%r11), %rcx
	SET_GS	%rcx, SLOT_SCRATCH0(%r11), SLOT_SCRATCH1(%r11)
	CFI_SAVED_AT DW_RIP, DW_RSI, (SLOT_RET-SLOT_CHILD)	/* (syscall took r11) */
	lea	-SLOT_CHILD(%rsi), %r11		/* the slot again (rsi = the block) */
	CFI_SAVED_AT DW_RIP, DW_R11, SLOT_RET
	mov	SLOT_SCRATCH0(%r11), %rdi
	mov	SLOT_SCRATCH1(%r11), %rsi
	.cfi_undefined rip			/* (NET_ON's system call takes r11) */
	NET_ON
	mov	%gs:ZT_SELF, %r11
	lea	-SLOT_CHILD(%r11), %r11		/* the slot again */
	CFI_SAVED_AT DW_RIP, DW_R11, SLOT_RET
	mov	$0, %eax			/* vfork's result in the child */
	mov	SLOT_RET(%r11), %rcx		/* leaves rcx = site + 2, as `syscall` */
	.cfi_register rip, rcx
	jmp	*%rcx				/* to the site; the parent still owns the slot */

/* munmap of the memory holding the return address (a thread freeing its own
 * stack, then exiting, as musl does): nothing may touch the stack after the
 * call, so the return address waits in a slot as for vfork.  No leave. */
.Lnostack:
	CFI_IN_FRAME
	SYSCALL_OFF_STACK
	mov	SLOT_RET(%r11), %rcx		/* the return address (rcx as syscall leaves it) */
	.cfi_register rip, rcx			/* (the slot is free from the next store on) */
	movl	$0, SLOT_BUSY(%r11)		/* release the slot */
	jmp	*%rcx				/* to the site, with rsp = S */

/* exit of a thread whose block came from the pool: zp_dispatch blocked
 * every signal and returned the status in rax.  The block is free from the
 * store on; nothing after it touches memory of ours. */
.Lexit_thread:
	CFI_IN_FRAME
	mov	%rax, %rdi			/* the status */
	mov	%gs:ZT_SELF, %rcx
	mov	$__NR_exit, %eax
	movl	$0, ZT_BUSY(%rcx)		/* the block goes back to the pool */
	syscall					/* does not return */
	ud2

/* After a special call, in the parent: rax = number, rcx = result, [rsp] =
 * return address, every other register the application's.  Build a frame
 * again so that the hook's leave sees the call, then return as usual. */
.Lleave_special:
	CFI_AT_CALL
	SAVE_FLAGS
	push	%rcx				/* the result, at S-144 */
	.cfi_adjust_cfa_offset 8
	ENTER_RT_STACK
	lea	8(%r11), %r11			/* the flags slot */
	.cfi_adjust_cfa_offset -8
	FRAME_BUILD
	mov	%rbx, %rdi			/* zp_dispatch_leave(frame, result) */
	mov	OFF_APPSP(%rbx), %rsi
	mov	RESULT_AT(%rsi), %rsi
	call	zp_dispatch_leave		/* rax = result */
	/* The unwind information ends one instruction early: the address just
	 * below zp_restore_rt must belong to no FDE, or a debugger unwinding
	 * from the runtime's signal handler (return address = zp_restore_rt,
	 * looked up as that address - 1) would take this function's rules for
	 * the signal frame's (see zp_restore_rt).  Here, at the last jump, gdb
	 * guesses the frame from the code and gets it wrong. */
	.cfi_endproc
	jmp	.Lreturn
	.size	zp_entry, .-zp_entry

/* The return path of the runtime's own signal handler (segv.c): x86-64
 * needs a restorer that makes rt_sigreturn, and the runtime has no libc.
 *
 * Its unwind information describes a signal frame, as glibc's __restore_rt
 * does: the caller is the interrupted code, whose registers are in the
 * struct ucontext at rsp (the handler's `ret` took the restorer's address
 * off the kernel's struct rt_sigframe).  The offsets are the kernel's
 * x86-64 user ABI: uc_mcontext at 40, then r8..r15, rdi, rsi, rbp, rbx,
 * rdx, rax, rcx, rsp, rip (struct sigcontext, 8 bytes each).  gdb does not
 * recognize this restorer by its code (`mov $15,%eax`, not glibc's
 * `mov $15,%rax`), so the 'S' augmentation is what tells it. */
	.set UC_GREGS, 40
.macro CFI_SIGCONTEXT dwreg, slot
	CFI_SAVED_AT \dwreg, DW_RSP, UC_GREGS+8*\slot
.endm
	.globl	zp_restore_rt
	.hidden	zp_restore_rt
	.type	zp_restore_rt, @function
zp_restore_rt:
	.cfi_startproc simple
	.cfi_signal_frame
	CFI_CFA_AT DW_RSP, UC_GREGS+8*15	/* the interrupted rsp */
	CFI_SIGCONTEXT 8, 0			/* r8..r15 */
	CFI_SIGCONTEXT 9, 1
	CFI_SIGCONTEXT 10, 2
	CFI_SIGCONTEXT 11, 3
	CFI_SIGCONTEXT 12, 4
	CFI_SIGCONTEXT 13, 5
	CFI_SIGCONTEXT 14, 6
	CFI_SIGCONTEXT 15, 7
	CFI_SIGCONTEXT 5, 8			/* rdi */
	CFI_SIGCONTEXT 4, 9			/* rsi */
	CFI_SIGCONTEXT 6, 10			/* rbp */
	CFI_SIGCONTEXT 3, 11			/* rbx */
	CFI_SIGCONTEXT 1, 12			/* rdx */
	CFI_SIGCONTEXT 0, 13			/* rax */
	CFI_SIGCONTEXT 2, 14			/* rcx */
	CFI_SIGCONTEXT DW_RIP, 16		/* rip */
	mov	$__NR_rt_sigreturn, %eax	/* rsp is at the signal frame */
	syscall					/* the runtime's own, never patched */
	ud2
	.cfi_endproc
	.size	zp_restore_rt, .-zp_restore_rt
