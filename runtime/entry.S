/*
 * entry.S - zp_entry, where every rewritten system call arrives.
 *
 * A patched site was `syscall`; it is now `call *%rax`.  The call pushes the
 * return address and lands in the trampoline at address %rax, which slides
 * to here (trampoline.c).  On arrival:
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
 * the rewriter handles sites whose code uses that slot differently).  So the
 * first thing done is to step below the red zone; everything saved lies
 * below S - 128:
 *
 *   S-8     return address (written by the call)
 *   S-128   ... application's red zone, untouched ...
 *   S-136   flags          \
 *   S-144   site            |
 *   S-152   r9              |
 *   ...                     |  struct zp_frame (runtime.h), at S-200
 *   S-192   rdi             |
 *   S-200   rax (number)   /
 *   S-208   rbx (the register that holds the frame across the C call)
 *
 * zp_dispatch (C) decides and returns rax = result, rdx = action.  Most calls
 * are made by zp_dispatch itself; the ones that change the stack or the
 * process in ways C cannot follow are made here:
 *
 *   rt_sigreturn  the kernel reads the signal frame at the stack pointer, so
 *                 the call must be made with rsp = S exactly;
 *   clone/clone3 with a new stack (threads, posix_spawn): the child starts on
 *                 that stack with nothing of ours on it; the return address
 *                 is copied onto the new stack so the child returns from it;
 *   vfork-like (vfork, clone/clone3 sharing memory without a new stack): the
 *                 child runs on the parent's stack and overwrites everything
 *                 below S, including the return address, before the parent
 *                 resumes; the return address is kept in a slot outside the
 *                 stack (zp_vfork_claim) whose address rides in rbx, a
 *                 register the kernel restores for the parent.
 *
 * In the paths after such a call, no instruction may change the flags: the
 * kernel hands back the flags of the `syscall` instruction, which are the
 * application's again.  Tests between parent and child therefore use jrcxz.
 */

#include <asm/unistd.h>

#include "entry.h"

	.set FRAME_SIZE, 72		/* sizeof(struct zp_frame) */
	.set REDZONE_SKIP, 120		/* from S-8 down to S-128 */
	.set OFF_NR, 0			/* struct zp_frame offsets */
	.set OFF_RDI, 8
	.set OFF_RSI, 16
	.set OFF_RDX, 24
	.set OFF_R10, 32
	.set OFF_R8, 40
	.set OFF_R9, 48
	.set OFF_SITE, 56
	.set OFF_FLAGS, 64
	.set SLOT_RET, 0		/* struct zp_vfork_slot offsets */
	.set SLOT_RBX, 8
	.set SLOT_NR, 16
	.set SLOT_BUSY, 24
	.set ACT_DONE, 0		/* enum zp_act */
	.set ACT_SIGRETURN, 1
	.set ACT_CLONE_STACK, 2
	.set ACT_CLONE3_STACK, 3
	.set ACT_VFORK, 4
	.set ACT_FAULT, 5
	.set ACT_NOSTACK, 6
	.set CLONE_VM, 0x100		/* linux/sched.h (C only) */
	/* Distances from rbx (the saved rbx, S-208) once SAVE_FRAME has run: */
	.set RBX_TO_FLAGS, 8+OFF_FLAGS	/* frame.flags, S-136 */
	.set RBX_TO_RET, 8+FRAME_SIZE+REDZONE_SKIP	/* return address, S-8 */
	.set RBX_TO_S, RBX_TO_RET+8	/* the application's stack pointer S */

/*
 * SAVE_FLAGS: from [rsp] = return address, step below the red zone and save
 * the flags (pushfq is cheap; popfq costs ~15 ns, so the way back restores
 * the flags with sahf instead: RESTORE_FLAGS).
 */
.macro SAVE_FLAGS
	lea	-REDZONE_SKIP(%rsp), %rsp	/* step below the red zone (lea: flags intact) */
	pushfq					/* the application's flags, at S-136 */
.endm

/*
 * SAVE_FRAME_REST: after SAVE_FLAGS, build the rest of the frame and leave
 * rbx = address of the saved rbx (frame - 8), rsp aligned to 16 below it.
 * Uses r11 as scratch; rcx is left alone (the leave path passes a value in it).
 */
.macro SAVE_FRAME_REST
	cld					/* C code expects DF=0; RESTORE_DF_FLAGS puts it back */
	mov	REDZONE_SKIP+8(%rsp), %r11	/* the return address ... */
	sub	$2, %r11			/* ... minus 2 is the site */
	push	%r11				/* frame.site */
	push	%r9				/* frame.args[5] */
	push	%r8				/* frame.args[4] */
	push	%r10				/* frame.args[3] */
	push	%rdx				/* frame.args[2] */
	push	%rsi				/* frame.args[1] */
	push	%rdi				/* frame.args[0] */
	push	%rax				/* frame.nr */
	push	%rbx				/* rbx is callee-saved, but we use it below */
	mov	%rsp, %rbx			/* rbx = &saved rbx; the frame is at rbx + 8 */
	and	$-16, %rsp			/* the C ABI wants a 16-byte aligned stack */
.endm

.macro SAVE_FRAME
	SAVE_FLAGS
	SAVE_FRAME_REST
.endm

/*
 * RESTORE_FLAGS: with rsp at the saved flags and the result in rax, put back
 * the arithmetic flags the application had: OF through an addition that
 * overflows exactly when OF was set, then SF ZF AF PF CF with sahf.  DF is
 * not touched: the fast path never changes it (neither does the kernel), and
 * the slow path restores it first (RESTORE_DF_FLAGS).  rcx is clobbered
 * (syscall clobbers it too).  Only flag-neutral instructions may follow.
 */
.macro RESTORE_FLAGS
	mov	%rax, %rcx			/* keep the result */
	movzbl	1(%rsp), %eax			/* flags bits 8..15 */
	shr	$3, %eax			/* OF (bit 11) to bit 0 */
	and	$1, %eax
	add	$0x7f, %al			/* 0x7f + 1 overflows: OF = old OF */
	movb	(%rsp), %ah			/* flags bits 0..7 */
	sahf					/* SF ZF AF PF CF (OF untouched) */
	mov	%rcx, %rax			/* the result again */
.endm

/*
 * RESTORE_DF_FLAGS: RESTORE_FLAGS after C code ran (SAVE_FRAME_REST's cld):
 * DF back first (std if it was set), then the others.
 */
.macro RESTORE_DF_FLAGS
	testb	$0x04, 1(%rsp)			/* DF (bit 10) was set? */
	jz	1f
	std					/* (rare) */
1:	RESTORE_FLAGS
.endm

/*
 * RESTORE_ARGS: reload the six argument registers from the frame at rbx + 8
 * (the application's values; a hook only ever changed a copy).
 */
.macro RESTORE_ARGS
	mov	8+OFF_RDI(%rbx), %rdi
	mov	8+OFF_RSI(%rbx), %rsi
	mov	8+OFF_RDX(%rbx), %rdx
	mov	8+OFF_R10(%rbx), %r10
	mov	8+OFF_R8(%rbx), %r8
	mov	8+OFF_R9(%rbx), %r9
.endm

/*
 * SYSCALL_OFF_STACK: make the call in the frame at rbx + 8 with rsp = S and
 * nothing of ours left on the stack (vfork: the child overwrites it; munmap:
 * it may be gone).  The return address and the application's rbx wait in a
 * slot (zp_vfork_claim), whose address rides in rbx, which the kernel keeps.
 * After: rax = result, r11 = the slot, rbx = the application's, flags the
 * application's (the kernel restores those of the `syscall`).
 */
.macro SYSCALL_OFF_STACK
	lea	8(%rbx), %rdi			/* frame */
	mov	RBX_TO_RET(%rbx), %rsi		/* return address */
	mov	(%rbx), %rdx			/* the application's rbx */
	call	zp_vfork_claim			/* rax = slot */
	RESTORE_ARGS
	mov	8+OFF_NR(%rbx), %rcx		/* the number */
	lea	RBX_TO_FLAGS(%rbx), %rsp	/* rsp = flags slot */
	mov	%rax, %rbx			/* rbx = slot */
	mov	%rcx, %rax			/* the number */
	popfq					/* the application's flags */
	lea	REDZONE_SKIP+8(%rsp), %rsp	/* rsp = S: nothing of ours is on it */
	syscall
	mov	%rbx, %r11			/* the slot */
	mov	SLOT_RBX(%r11), %rbx		/* the application's rbx */
.endm

/*
 * NEW_OWNER: in the child of a clone with a new stack but without CLONE_VM
 * (a fork that starts on another stack), record that this copy of memory
 * is the child's own (zp_owner_pid, lock.h), then leave rax = 0, clone's
 * result in the child.  Every register but rax, rcx and r11 and every flag
 * stays: `syscall` keeps them, mov changes no flag.  (A signal handled
 * before this runs still sees the parent as the owner: a window of two
 * system calls, in a process nothing else knows yet.)
 */
.macro NEW_OWNER
	mov	$__NR_getpid, %eax
	syscall
	mov	%eax, zp_owner_pid(%rip)	/* this memory's owner is the child now */
	mov	$0, %eax			/* clone's result in the child */
.endm

	.text
	.globl	zp_entry
	.hidden	zp_entry
	.type	zp_entry, @function
	.balign	64
zp_entry:
	SAVE_FLAGS
	/* Is the caller a patched site?  Look its address up in the process's
	 * site table (sites.c: open addressing, Fibonacci hash; the table is
	 * never changed once published, only replaced). */
	push	%rdx				/* two scratch registers */
	push	%rsi
	mov	REDZONE_SKIP+8+16(%rsp), %r11	/* return address */
	sub	$2, %r11			/* the site */
	mov	zp_site_table(%rip), %rsi	/* struct zp_site_table */
	movabs	$0x9e3779b97f4a7c15, %rdx	/* Fibonacci hashing: the top bits of */
	imul	%r11, %rdx			/* site * 2^64/phi spread nearby sites */
	mov	(%rsi), %ecx			/* shift = 64 - log2(slots) */
	shr	%cl, %rdx			/* slot */
1:	mov	16(%rsi,%rdx,8), %rcx		/* the site in that slot, or 0 */
	cmp	%rcx, %r11
	je	2f				/* found */
	test	%rcx, %rcx
	jz	.Lunknown_site			/* empty slot: not (yet) known */
	add	$1, %rdx			/* next slot */
	and	8(%rsi), %rdx			/* (mask) */
	jmp	1b
2:	pop	%rsi
	pop	%rdx
	/* A plain pass-through?  Not if a hook is installed or the call is one
	 * entry.S makes itself (zp_slow_nr: 1 for those, for every number
	 * when a hook is installed). */
	lea	zp_slow_nr(%rip), %rcx
	cmp	$ZP_SLOW_NR_SIZE, %rax
	jae	.Lhigh_nr
	cmpb	$0, (%rcx,%rax)
	jne	.Lslow
.Lpass:
	syscall					/* the runtime's own syscall instruction */
	RESTORE_FLAGS
	lea	8+REDZONE_SKIP(%rsp), %rsp	/* past the flags, back to the return address */
	ret

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
	pop	%rsi
	pop	%rdx
	SAVE_FRAME_REST
	mov	8+OFF_SITE(%rbx), %rdi
	call	zp_site_discover		/* 1: now known */
	test	%eax, %eax
	jz	.Lfault
	jmp	.Ldispatch

.Lslow:
	SAVE_FRAME_REST
.Ldispatch:
	lea	8(%rbx), %rdi			/* zp_dispatch(frame) */
	call	zp_dispatch			/* rax = result, rdx = action */
	test	%rdx, %rdx			/* ACT_DONE? (flags are saved in the frame) */
	jnz	.Lspecial

/* Return rax to the application: unwind the frame, flags last. */
.Lreturn:
	mov	%rbx, %rsp			/* back to the saved rbx */
	pop	%rbx				/* the application's rbx */
	lea	8(%rsp), %rsp			/* skip frame.nr (rax carries the result) */
	pop	%rdi				/* the application's arguments, unchanged */
	pop	%rsi
	pop	%rdx
	pop	%r10
	pop	%r8
	pop	%r9
	lea	8(%rsp), %rsp			/* skip frame.site */
	RESTORE_DF_FLAGS
	lea	8+REDZONE_SKIP(%rsp), %rsp	/* past the flags, back to the return address */
	ret					/* to the instruction after the site */

.Lspecial:
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
.Lfault:
	/* ACT_FAULT: not called from a patched site, e.g. a call through a NULL
	 * function pointer.  Fault as such a call would: restore the registers
	 * and the stack as the call left them, then jump to a non-canonical
	 * address, which raises SIGSEGV on every x86-64 CPU. */
	RESTORE_ARGS
	mov	8+OFF_NR(%rbx), %rax		/* the "number" the call had in rax */
	mov	(%rbx), %rcx			/* the application's rbx */
	lea	RBX_TO_FLAGS(%rbx), %rsp	/* rsp = flags slot */
	mov	%rcx, %rbx
	popfq					/* flags as they were */
	lea	REDZONE_SKIP(%rsp), %rsp	/* rsp = S - 8, as after the call */
	movabs	$0xdead000000000000, %r11	/* non-canonical */
	.globl	zp_entry_fault
	.hidden	zp_entry_fault
zp_entry_fault:					/* signals.c makes the fault look native */
	jmp	*%r11				/* -> SIGSEGV (general protection) */

/* rt_sigreturn: the kernel restores every register and the stack from the
 * signal frame at the stack pointer, so only rsp = S and rax matter. */
.Lsigreturn:
	lea	RBX_TO_S(%rbx), %rsp	/* rsp = S */
	mov	$__NR_rt_sigreturn, %eax
	syscall					/* does not return */
	ud2

/* clone(flags, newsp, ptid, ctid, tls) with newsp != 0: the child starts
 * with rsp = newsp.  Put the return address at newsp - 8 and below it
 * whether the child gets its own memory, and pass newsp - 16, so that the
 * child pops that word and its `ret` leaves rsp = newsp; both sides then
 * give rsi back its original value (the child inherits ours). */
.Lclone_stack:
	RESTORE_ARGS
	mov	RBX_TO_RET(%rbx), %r11	/* return address at S-8 */
	mov	%r11, -8(%rsi)			/* onto the child's stack */
	mov	%rdi, %r11			/* the flags (the application's are */
	not	%r11				/* saved: popfq below restores them) */
	and	$CLONE_VM, %r11			/* nonzero: no CLONE_VM, its own memory */
	mov	%r11, -16(%rsi)			/* for the child to pop */
	lea	-16(%rsi), %rsi			/* the child's stack pointer */
	mov	$__NR_clone, %eax
	mov	(%rbx), %rcx			/* the application's rbx */
	lea	RBX_TO_FLAGS(%rbx), %rsp	/* rsp = flags slot */
	mov	%rcx, %rbx
	popfq					/* the application's flags */
	lea	REDZONE_SKIP(%rsp), %rsp	/* rsp = S-8: [rsp] = return address */
	syscall
	lea	16(%rsi), %rsi			/* rsi as the application passed it */
	mov	%rax, %rcx			/* child: rax == 0 */
	jrcxz	1f				/* (jrcxz: no flag changes) */
	mov	$__NR_clone, %eax		/* parent: rax = number, rcx = result */
	jmp	.Lleave_special
1:	pop	%rcx				/* child: its own memory? */
	jrcxz	2f
	NEW_OWNER
2:	ret					/* to the site, rsp = newsp */

/* clone3(args, size) with args->stack != 0: zp_clone3_prepare copies the
 * arguments into a buffer on our stack, puts the return address, the
 * application's rdi and whether the child gets its own memory on top of the
 * child's stack and shrinks stack_size by 24; the child pops the last two
 * and returns.  The parent's stack pointer does not
 * matter to the kernel here, so the call is made with rsp at the buffer:
 * the frame stays above rsp, where a signal cannot overwrite it, and the
 * parent finds it again through the pointer kept at the buffer's start. */
.Lclone3_stack:
	mov	8+OFF_RSI(%rbx), %rcx		/* size (at most 4096: dispatch.c) */
	add	$16+15, %rcx			/* + the frame pointer, rounded up */
	and	$-16, %rcx
	sub	%rcx, %rsp			/* room below everything (keeps alignment) */
	mov	%rbx, (%rsp)			/* how the parent finds the frame again */
	lea	8(%rbx), %rdi			/* frame */
	lea	16(%rsp), %rsi			/* buffer */
	mov	RBX_TO_RET(%rbx), %rdx		/* return address */
	call	zp_clone3_prepare		/* rax = buffer */
	RESTORE_ARGS
	mov	%rax, %rdi			/* our copy of struct clone_args */
	mov	$__NR_clone3, %eax
	pushq	8+OFF_FLAGS(%rbx)		/* a copy of the application's flags */
	mov	(%rbx), %rbx			/* the application's rbx */
	popfq					/* the application's flags; rsp = buffer */
	syscall
	mov	%rax, %rcx			/* child: rax == 0 */
	jrcxz	1f
	mov	(%rsp), %r11			/* parent: the frame */
	mov	8+OFF_RDI(%r11), %rdi		/* the application's rdi */
	lea	RBX_TO_RET(%r11), %rsp	/* rsp = S-8: [rsp] = return address */
	mov	$__NR_clone3, %eax		/* rax = number, rcx = result */
	jmp	.Lleave_special
1:	pop	%rcx				/* child: its own memory? */
	jrcxz	2f
	NEW_OWNER
2:	pop	%rdi				/* the application's rdi */
	ret					/* to the site, rsp = stack + stack_size */

/* vfork-like: the call is made off the stack (SYSCALL_OFF_STACK); then the
 * parent puts the return address back and leaves as after any special call. */
.Lvfork:
	SYSCALL_OFF_STACK
	mov	%rax, %rcx			/* child: rax == 0 */
	jrcxz	1f
	mov	SLOT_RET(%r11), %rcx		/* parent: the return address */
	push	%rcx				/* back where the call had put it */
	mov	SLOT_NR(%r11), %rcx		/* the number */
	movl	$0, SLOT_BUSY(%r11)		/* release the slot (the child is done with it) */
	xchg	%rax, %rcx			/* rax = number, rcx = result */
	jmp	.Lleave_special
1:	mov	SLOT_RET(%r11), %rcx		/* child: leaves rcx = site + 2, as `syscall` */
	jmp	*%rcx				/* to the site; the parent still owns the slot */

/* munmap of the memory holding the return address (a thread freeing its own
 * stack, then exiting, as musl does): nothing may touch the stack after the
 * call, so the return address waits in a slot as for vfork.  No leave. */
.Lnostack:
	SYSCALL_OFF_STACK
	mov	SLOT_RET(%r11), %rcx		/* the return address (rcx as syscall leaves it) */
	movl	$0, SLOT_BUSY(%r11)		/* release the slot */
	jmp	*%rcx				/* to the site, with rsp = S */

/* After a special call, in the parent: rax = number, rcx = result, [rsp] =
 * return address, every other register the application's.  Build a frame
 * again so that the hook's leave sees the call, then return as usual. */
.Lleave_special:
	SAVE_FRAME
	lea	8(%rbx), %rdi			/* zp_dispatch_leave(frame, result) */
	mov	%rcx, %rsi
	call	zp_dispatch_leave		/* rax = result */
	jmp	.Lreturn
	.size	zp_entry, .-zp_entry

/* The return path of the runtime's own signal handler (signals.c): x86-64
 * needs a restorer that makes rt_sigreturn, and the runtime has no libc. */
	.globl	zp_restore_rt
	.hidden	zp_restore_rt
	.type	zp_restore_rt, @function
zp_restore_rt:
	mov	$__NR_rt_sigreturn, %eax	/* rsp is at the signal frame */
	syscall					/* the runtime's own, never patched */
	ud2
	.size	zp_restore_rt, .-zp_restore_rt
