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
 *
 * Unwind information (in .debug_frame, as the rest of the runtime's: see
 * entry.S): nothing called zp_start, so its return address is undefined,
 * which ends a debugger's backtrace here, as glibc's _start does; the CFA
 * follows the pushes, and rbx while the stack is realigned for C.
 */
	.cfi_sections .debug_frame
	.section .text.zp_start, "ax"
	.globl	zp_start
	.hidden	zp_start
	.type	zp_start, @function
zp_start:
	.cfi_startproc
	.cfi_undefined rip
	pushfq				/* the flags as the kernel left them */
	.cfi_adjust_cfa_offset 8
	push	%rax			/* then all 15 general registers but rsp */
	.cfi_adjust_cfa_offset 8
	push	%rbx
	.cfi_adjust_cfa_offset 8
	push	%rcx
	.cfi_adjust_cfa_offset 8
	push	%rdx
	.cfi_adjust_cfa_offset 8
	push	%rsi
	.cfi_adjust_cfa_offset 8
	push	%rdi
	.cfi_adjust_cfa_offset 8
	push	%rbp
	.cfi_adjust_cfa_offset 8
	push	%r8
	.cfi_adjust_cfa_offset 8
	push	%r9
	.cfi_adjust_cfa_offset 8
	push	%r10
	.cfi_adjust_cfa_offset 8
	push	%r11
	.cfi_adjust_cfa_offset 8
	push	%r12
	.cfi_adjust_cfa_offset 8
	push	%r13
	.cfi_adjust_cfa_offset 8
	push	%r14
	.cfi_adjust_cfa_offset 8
	push	%r15
	.cfi_adjust_cfa_offset 8
	mov	%rsp, %rbx		/* remember where they are (rbx is callee-saved) */
	.cfi_def_cfa_register rbx
	lea	16*8(%rsp), %rdi	/* zp_init(sp): sp = the original rsp, at argc */
	and	$-16, %rsp		/* the C ABI wants 16-byte alignment */
	cld				/* and DF = 0 */
	call	zp_init
	mov	%rbx, %rsp		/* back to the saved registers */
	.cfi_def_cfa_register rsp
	pop	%r15
	.cfi_adjust_cfa_offset -8
	pop	%r14
	.cfi_adjust_cfa_offset -8
	pop	%r13
	.cfi_adjust_cfa_offset -8
	pop	%r12
	.cfi_adjust_cfa_offset -8
	pop	%r11
	.cfi_adjust_cfa_offset -8
	pop	%r10
	.cfi_adjust_cfa_offset -8
	pop	%r9
	.cfi_adjust_cfa_offset -8
	pop	%r8
	.cfi_adjust_cfa_offset -8
	pop	%rbp
	.cfi_adjust_cfa_offset -8
	pop	%rdi
	.cfi_adjust_cfa_offset -8
	pop	%rsi
	.cfi_adjust_cfa_offset -8
	pop	%rdx
	.cfi_adjust_cfa_offset -8
	pop	%rcx
	.cfi_adjust_cfa_offset -8
	pop	%rbx
	.cfi_adjust_cfa_offset -8
	pop	%rax
	.cfi_adjust_cfa_offset -8
	popfq
	.cfi_adjust_cfa_offset -8
	jmp	*zp_orig_entry(%rip)	/* the program's entry, set by zp_init */
	.cfi_endproc
	.size	zp_start, .-zp_start
