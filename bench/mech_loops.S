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
 * The kernel loops (native, floor, floor-ind and their callee) are emitted
 * twice by one macro: as code in .text, and as a byte image in .rodata that
 * mech.c copies into an anonymous executable mapping at run time (the jit-*
 * mechanisms), and into a file-backed one (file-native).  A rewriter
 * patches only executable sections of the file, so in a rewritten mech the
 * .text loops take the patched path while the copies still run the raw
 * `syscall`: the unpatched reference, measured in the same process as the
 * patched loops (with --complete, the runtime catches the copies' calls
 * instead: bench/README.md).  Both instances are position-independent
 * (calls and lea stay inside the block) and start 64-byte aligned.  Their
 * padding is asked for as nops (0x90) because the assembler pads a data
 * section with zeros, which the copy would execute; in .text it writes long
 * nops instead.  So the copies differ from .text only in how their padding
 * nops are encoded; the instructions of every loop iteration are the same.
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

/* The loops that call C functions keep their state in the callee-saved
 * registers: five pushes, so the stack stays 16-byte aligned at each call. */
.macro SAVE_CALLEE
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
.endm

.macro RESTORE_CALLEE
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
.endm

/*
 * KERNEL_LOOPS prefix, type: the loops that enter the kernel, and the callee
 * of the floor loops, with every symbol named prefix + the usual name.
 */
.macro KERNEL_LOOPS p, t

/* 1. native: the raw instruction, as an unpatched program executes it. */
	.globl	\p\()loop_native
	.type	\p\()loop_native, \t
	.p2align 6, 0x90
\p\()loop_native:
	LOOP_ENTRY
	.p2align 4, 0x90
1:	mov	%r9, %rax
	syscall
	dec	%r8
	jnz	1b
2:	ret
	.size	\p\()loop_native, . - \p\()loop_native

/*
 * 2. floor: the same system call one direct `call` away.  A rewritten site
 * must at least call somewhere that executes `syscall` and returns; the
 * return right after a kernel transition is what costs (see the team's
 * reference measurements, REFERENCE.md, which is not in this repository),
 * so no pass-through hook can be cheaper than this.
 */
	.globl	\p\()loop_floor
	.type	\p\()loop_floor, \t
	.p2align 6, 0x90
\p\()loop_floor:
	LOOP_ENTRY
	.p2align 4, 0x90
1:	mov	%r9, %rax
	call	\p\()syscall_ret
	dec	%r8
	jnz	1b
2:	ret
	.size	\p\()loop_floor, . - \p\()loop_floor

/*
 * 2b. floor-ind: as floor, but through an indirect call, which is what a
 * rewritten site (`call *%rax`) executes.  %rax holds the number, so the
 * target goes in %rbx (callee-saved, hence the push/pop outside the loop).
 */
	.globl	\p\()loop_floor_ind
	.type	\p\()loop_floor_ind, \t
	.p2align 6, 0x90
\p\()loop_floor_ind:
	push	%rbx
	lea	\p\()syscall_ret(%rip), %rbx
	LOOP_ENTRY
	.p2align 4, 0x90
1:	mov	%r9, %rax
	call	*%rbx
	dec	%r8
	jnz	1b
2:	pop	%rbx
	ret
	.size	\p\()loop_floor_ind, . - \p\()loop_floor_ind

/* The callee of the floor loops, on its own cache line. */
	.p2align 6, 0x90
	.globl	\p\()syscall_ret
	.type	\p\()syscall_ret, \t
\p\()syscall_ret:
	syscall
	ret
	.size	\p\()syscall_ret, . - \p\()syscall_ret
.endm

	KERNEL_LOOPS zpb_, @function

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

	.p2align 6
	.type	zpb_cached_ret, @function
zpb_cached_ret:
	mov	zpb_cached_value(%rip), %rax
	ret
	.size	zpb_cached_ret, . - zpb_cached_ret

/*
 * 3c. fault: the number as the target of `call *%rax`, as a rewritten site
 * executes it, in a process where nothing is mapped at that address (an
 * unrewritten mech: the page 0 of a rewritten one is not there).  The call
 * pushes its return address and faults at the address = the number; mech.c's
 * SIGSEGV handler answers and returns to the instruction after the call:
 * the least any fault-based path (the runtime's trap path) can cost.
 */
	.globl	zpb_loop_fault
	.type	zpb_loop_fault, @function
	.p2align 6
zpb_loop_fault:
	LOOP_ENTRY
	.p2align 4
1:	mov	%r9, %rax
	call	*%rax
	dec	%r8
	jnz	1b
2:	ret
	.size	zpb_loop_fault, . - zpb_loop_fault

/*
 * 3b. libc-syscall, libc-getpid: the C library's own functions, syscall(nr,
 * a1, a2, a3) and getpid(), called in a loop.  Their `syscall` instructions
 * are the C library's, at other addresses than the loops above, which
 * matters for a rewritten mech: the runtime looks every site up in a table.
 * The loop state lives in callee-saved registers (SAVE_CALLEE).
 */
	.globl	zpb_loop_libc_syscall
	.type	zpb_loop_libc_syscall, @function
	.p2align 6
zpb_loop_libc_syscall:
	SAVE_CALLEE
	mov	%rdi, %rbx
	mov	%rsi, %r12
	mov	%rdx, %r13
	mov	%rcx, %r14
	mov	%r8, %r15
	xor	%eax, %eax
	test	%r15, %r15
	jz	2f
	.p2align 4
1:	mov	%rbx, %rdi
	mov	%r12, %rsi
	mov	%r13, %rdx
	mov	%r14, %rcx
	call	syscall@PLT
	dec	%r15
	jnz	1b
2:	RESTORE_CALLEE
	ret
	.size	zpb_loop_libc_syscall, . - zpb_loop_libc_syscall

	.globl	zpb_loop_libc_getpid
	.type	zpb_loop_libc_getpid, @function
	.p2align 6
zpb_loop_libc_getpid:
	SAVE_CALLEE
	mov	%r8, %r15
	xor	%eax, %eax
	test	%r15, %r15
	jz	2f
	.p2align 4
1:	call	getpid@PLT
	dec	%r15
	jnz	1b
2:	RESTORE_CALLEE
	ret
	.size	zpb_loop_libc_getpid, . - zpb_loop_libc_getpid

/*
 * 3d. libc-clock, vdso-clock: a function called through a pointer,
 * zpb_call_target(a1, a2, a3), in a loop: mech.c points it at the C
 * library's clock_gettime or straight at the vDSO's.  The same loop for
 * both, so that only the function differs.  The function returns an int:
 * the last value is sign-extended.
 */
	.globl	zpb_loop_fncall
	.type	zpb_loop_fncall, @function
	.p2align 6
zpb_loop_fncall:
	SAVE_CALLEE
	mov	%rsi, %rbx
	mov	%rdx, %r12
	mov	%rcx, %r13
	mov	%r8, %r15
	xor	%eax, %eax
	test	%r15, %r15
	jz	2f
	.p2align 4
1:	mov	%rbx, %rdi
	mov	%r12, %rsi
	mov	%r13, %rdx
	call	*zpb_call_target(%rip)
	dec	%r15
	jnz	1b
2:	cltq
	RESTORE_CALLEE
	ret
	.size	zpb_loop_fncall, . - zpb_loop_fncall

/*
 * 4. The image of the kernel loops for the jit-* mechanisms: data, not code,
 * so that no rewriter touches its `syscall` instructions (see the top).
 * zpb_jit_image..zpb_jit_image_end is copied as one block.
 */
	.section .rodata.zpb_jit, "a", @progbits
	.p2align 6
	.globl	zpb_jit_image
zpb_jit_image:
	KERNEL_LOOPS zpb_jit_, @object
	.globl	zpb_jit_image_end
zpb_jit_image_end:

	.bss
	.p2align 6
	.globl	zpb_cached_value
	.type	zpb_cached_value, @object
zpb_cached_value:
	.zero	8
	.size	zpb_cached_value, 8

	.globl	zpb_call_target
	.type	zpb_call_target, @object
zpb_call_target:
	.zero	8
	.size	zpb_call_target, 8

	.section .note.GNU-stack, "", @progbits
