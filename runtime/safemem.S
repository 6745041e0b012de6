/*
 * safemem.S - one load or store that cannot crash the runtime.
 *
 * The trap path's SIGSEGV handler (segv.c) must read the word a faulting
 * `call *%rax` pushed, and write one when a call faulted before pushing,
 * on every system call: a system call (process_vm_readv) for each would
 * cost as much as the rest of the handler.  These are plain moves; if one
 * of them faults, the handler sees the fault at zp_safe_read8_insn or
 * zp_safe_write8_insn and resumes at zp_safe_fixup, which returns -EFAULT
 * (like the kernel's exception tables).  Assembly, because C cannot name
 * the instruction that may fault.
 *
 *   long zp_safe_read8(const void *addr, uint64_t *out)   0 or -EFAULT
 *   long zp_safe_write8(void *addr, uint64_t value)        0 or -EFAULT
 *
 * Unwind information: leaf functions, CFA = rsp + 8 throughout (the
 * default rules), also at zp_safe_fixup, entered with the stack of the
 * faulting move.  In .debug_frame, as the rest of the runtime's (entry.S).
 */
	.cfi_sections .debug_frame
	.text
	.globl	zp_safe_read8, zp_safe_read8_insn, zp_safe_write8, zp_safe_write8_insn, zp_safe_fixup
	.hidden	zp_safe_read8, zp_safe_read8_insn, zp_safe_write8, zp_safe_write8_insn, zp_safe_fixup
	.type	zp_safe_read8, @function
zp_safe_read8:
	.cfi_startproc
zp_safe_read8_insn:
	mov	(%rdi), %rax		/* may fault: then zp_safe_fixup */
	mov	%rax, (%rsi)		/* *out (the caller's own memory) */
	xor	%eax, %eax		/* 0: read */
	ret
	.cfi_endproc
	.size	zp_safe_read8, .-zp_safe_read8

	.type	zp_safe_write8, @function
zp_safe_write8:
	.cfi_startproc
zp_safe_write8_insn:
	mov	%rsi, (%rdi)		/* may fault: then zp_safe_fixup */
	xor	%eax, %eax		/* 0: written */
	ret
	.cfi_endproc
	.size	zp_safe_write8, .-zp_safe_write8

	.type	zp_safe_fixup, @function
zp_safe_fixup:
	.cfi_startproc
	mov	$-14, %rax		/* -EFAULT: the handler resumed us here */
	ret
	.cfi_endproc
	.size	zp_safe_fixup, .-zp_safe_fixup

/* long zp_safe_cmpxchg16(void *addr, uint16_t old, uint16_t new): one atomic
 * 2-byte exchange (net.c writes `call *%rax` over a `syscall` that other
 * threads may be running: they see one or the other, never half). */
	.globl	zp_safe_cmpxchg16, zp_safe_cmpxchg16_insn
	.hidden	zp_safe_cmpxchg16, zp_safe_cmpxchg16_insn
	.type	zp_safe_cmpxchg16, @function
zp_safe_cmpxchg16:
	mov	%esi, %eax		/* the expected bytes, in ax */
zp_safe_cmpxchg16_insn:
	lock cmpxchg %dx, (%rdi)	/* may fault: then zp_safe_fixup */
	setne	%al			/* 1: they were not the expected ones */
	movzbl	%al, %eax
	ret
	.size	zp_safe_cmpxchg16, .-zp_safe_cmpxchg16
