/*
 * start.S - zp_start, the initializer a rewritten executable's e_entry points to.
 *
 * It runs before the program's own entry point: from the kernel (static
 * executables, and the dynamic loader) or from the dynamic loader (a
 * dynamically linked executable).  Either way the program's entry expects a
 * precise state: rsp at argc, rdx = the function to register with atexit
 * (0 from the kernel, _dl_fini from ld.so), and the ABI's initial flags.  So
 * every register and the flags are saved, zp_init (init.c) sets up the
 * runtime on the process stack below them, and everything is put back before
 * jumping to the original entry point.  zp_init does not return on failure: it
 * explains and exits with status 127.
 */
	.section .text.zp_start, "ax"
	.globl	zp_start
	.hidden	zp_start
	.type	zp_start, @function
zp_start:
	pushfq				/* the flags as the kernel left them */
	push	%rax			/* then all 15 general registers but rsp */
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rbx		/* remember where they are (rbx is callee-saved) */
	lea	16*8(%rsp), %rdi	/* zp_init(sp): sp = the original rsp, at argc */
	and	$-16, %rsp		/* the C ABI wants 16-byte alignment */
	cld				/* and DF = 0 */
	call	zp_init
	mov	%rbx, %rsp		/* back to the saved registers */
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	popfq
	jmp	*zp_orig_entry(%rip)	/* the program's entry, set by zp_init */
	.size	zp_start, .-zp_start
