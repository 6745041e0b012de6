/*
 * onstack.S - call a C function on another stack.
 *
 *   long zp_on_stack(long (*fn)(void *), void *arg, uintptr_t top)
 *
 * The SIGSYS handler (net.c) runs on the application's stack or signal
 * stack; the hook must run on the thread's runtime stack (thread.c).  C
 * cannot move its own stack pointer, hence these few instructions.
 */
	.text
	.globl	zp_on_stack
	.hidden	zp_on_stack
	.type	zp_on_stack, @function
zp_on_stack:
	push	%rbp			/* rbp keeps the caller's stack pointer */
	mov	%rsp, %rbp
	and	$-16, %rdx		/* the C ABI wants 16-byte alignment */
	mov	%rdx, %rsp		/* the other stack */
	mov	%rdi, %rax
	mov	%rsi, %rdi		/* fn(arg) */
	call	*%rax
	mov	%rbp, %rsp		/* back to the caller's stack */
	pop	%rbp
	ret
	.size	zp_on_stack, .-zp_on_stack
