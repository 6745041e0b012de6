/*
 * mech_loops.S - the timed inner loops of bench/mech.c.
 *
 * They are written in assembly so that every variant runs the same loop
 * (load the number, make the call, count down) and differs only in how the
 * system call is reached: the compiler can neither inline the called
 * functions, nor unroll or reorder the loops, nor use the red zone under the
 * return address that `call` pushes.
 *
 * All loops share one C signature:
 *     long loop(long nr, long a1, long a2, long a3, unsigned long n);
 * They run n calls of system call nr with arguments a1..a3 (a4 = 0) and
 * return the value of the last call (0 when n is 0), which mech.c checks so
 * that a loop that silently did something else cannot pass for fast.
 *
 * Registers during the loop: nr in %r9 and the count in %r8, because the
 * kernel preserves every register across `syscall` except %rax, %rcx and
 * %r11; the arguments are in %rdi, %rsi, %rdx, %r10 for the same reason and
 * are loaded only once.
 */

	.text

/* Shared prologue: move the C arguments into the system call registers. */
.macro LOOP_ENTRY
	mov	%rdi, %r9
	mov	%rsi, %rdi
	mov	%rdx, %rsi
	mov	%rcx, %rdx
	xor	%r10d, %r10d
	xor	%eax, %eax
	test	%r8, %r8
	jz	2f
.endm

/* 1. native: the raw instruction, as an unpatched program executes it. */
	.globl	zpb_loop_native
	.type	zpb_loop_native, @function
	.p2align 6
zpb_loop_native:
	LOOP_ENTRY
	.p2align 4
1:	mov	%r9, %rax
	syscall
	dec	%r8
	jnz	1b
2:	ret
	.size	zpb_loop_native, . - zpb_loop_native

/*
 * 2. floor: the same system call one direct `call` away.  A rewritten site
 * must at least call somewhere that executes `syscall` and returns; the
 * return right after a kernel transition is what costs (see REFERENCE.md),
 * so no pass-through hook can be cheaper than this.
 */
	.globl	zpb_loop_floor
	.type	zpb_loop_floor, @function
	.p2align 6
zpb_loop_floor:
	LOOP_ENTRY
	.p2align 4
1:	mov	%r9, %rax
	call	zpb_syscall_ret
	dec	%r8
	jnz	1b
2:	ret
	.size	zpb_loop_floor, . - zpb_loop_floor

/*
 * 2b. floor-ind: as floor, but through an indirect call, which is what a
 * rewritten site (`call *%rax`) executes.  %rax holds the number, so the
 * target goes in %rbx (callee-saved, hence the push/pop outside the loop).
 */
	.globl	zpb_loop_floor_ind
	.type	zpb_loop_floor_ind, @function
	.p2align 6
zpb_loop_floor_ind:
	push	%rbx
	lea	zpb_syscall_ret(%rip), %rbx
	LOOP_ENTRY
	.p2align 4
1:	mov	%r9, %rax
	call	*%rbx
	dec	%r8
	jnz	1b
2:	pop	%rbx
	ret
	.size	zpb_loop_floor_ind, . - zpb_loop_floor_ind

/*
 * 3. cached: a plain call to a function that returns a stored value and
 * never enters the kernel: the floor for a hook that answers by itself
 * (a cached getpid, for instance).
 */
	.globl	zpb_loop_cached
	.type	zpb_loop_cached, @function
	.p2align 6
zpb_loop_cached:
	LOOP_ENTRY
	.p2align 4
1:	mov	%r9, %rax
	call	zpb_cached_ret
	dec	%r8
	jnz	1b
2:	ret
	.size	zpb_loop_cached, . - zpb_loop_cached

/* The callees, on their own cache lines, away from the loops. */
	.p2align 6
	.type	zpb_syscall_ret, @function
zpb_syscall_ret:
	syscall
	ret
	.size	zpb_syscall_ret, . - zpb_syscall_ret

	.p2align 6
	.type	zpb_cached_ret, @function
zpb_cached_ret:
	mov	zpb_cached_value(%rip), %rax
	ret
	.size	zpb_cached_ret, . - zpb_cached_ret

	.bss
	.p2align 6
	.globl	zpb_cached_value
	.type	zpb_cached_value, @object
zpb_cached_value:
	.zero	8
	.size	zpb_cached_value, 8

	.section .note.GNU-stack, "", @progbits
