/*
 * slide.S - enter the trampoline at every number from 0 to 8191 from one
 * patched site, and check that each call arrives at the hook with its number
 * and arguments, and comes back with every register but rax, rcx and r11,
 * the flags and the stack as they were.  The answer hook (answer.c) returns
 * (nr * 7) ^ rdi ^ rsi<<1 ^ rdx<<2 ^ r10<<3 ^ r8<<4 when r9 is its magic.
 * Exit status: 0 all good; 10 + k for check k failing (the number that
 * failed is printed in decimal).
 */
	.set	MAGIC, 0x5a11de0000000000
	.set	LAST, 8191

	.text
	.globl	_start
	.type	_start, @function
_start:
	xor	%r12d, %r12d			/* r12 = number under test */
	mov	$0x1111111111111111, %rbx	/* values that must survive */
	mov	$0x2222222222222222, %rbp
	mov	$0x3333333333333333, %r13
	mov	$0x4444444444444444, %r14
	mov	$0x5555555555555555, %r15
	movabs	$0x7777777777777777, %rax	/* canaries above the stack pointer */
	push	%rax
	movabs	$0x6666666666666666, %rax
	push	%rax
.Lloop:
	mov	%r12, %rax			/* the number */
	mov	$0x0101010101010101, %rdi	/* arguments */
	mov	$0x0202020202020202, %rsi
	mov	$0x0303030303030303, %rdx
	mov	$0x0404040404040404, %r10
	mov	$0x0505050505050505, %r8
	movabs	$MAGIC, %r9
	mov	%rsp, %rcx			/* remember rsp in ... */
	movq	%rcx, %xmm0			/* ... a register the call must keep */
	stc					/* CF=1, and ZF, SF set by ... */
	mov	$-1, %ecx			/* (mov: flags unchanged) */
	lea	site(%rip), %r11
	jmp	*%r11				/* the site, at its own label */
site:
	syscall					/* patched to call *%rax */
	/* Flags: CF must still be set. */
	jnc	.Lbad_flags
	/* rsp and the canaries */
	movq	%xmm0, %rcx
	cmp	%rcx, %rsp
	jne	.Lbad_stack
	movabs	$0x6666666666666666, %rcx
	cmp	%rcx, (%rsp)
	jne	.Lbad_stack
	movabs	$0x7777777777777777, %rcx
	cmp	%rcx, 8(%rsp)
	jne	.Lbad_stack
	/* Registers the kernel preserves. */
	movabs	$0x1111111111111111, %rcx
	cmp	%rcx, %rbx
	jne	.Lbad_regs
	movabs	$0x2222222222222222, %rcx
	cmp	%rcx, %rbp
	jne	.Lbad_regs
	movabs	$0x3333333333333333, %rcx
	cmp	%rcx, %r13
	jne	.Lbad_regs
	movabs	$0x4444444444444444, %rcx
	cmp	%rcx, %r14
	jne	.Lbad_regs
	movabs	$0x5555555555555555, %rcx
	cmp	%rcx, %r15
	jne	.Lbad_regs
	movabs	$0x0101010101010101, %rcx
	cmp	%rcx, %rdi
	jne	.Lbad_regs
	movabs	$0x0202020202020202, %rcx
	cmp	%rcx, %rsi
	jne	.Lbad_regs
	movabs	$0x0303030303030303, %rcx
	cmp	%rcx, %rdx
	jne	.Lbad_regs
	movabs	$0x0404040404040404, %rcx
	cmp	%rcx, %r10
	jne	.Lbad_regs
	movabs	$0x0505050505050505, %rcx
	cmp	%rcx, %r8
	jne	.Lbad_regs
	movabs	$MAGIC, %rcx
	cmp	%rcx, %r9
	jne	.Lbad_regs
	/* The answer: (nr * 7) ^ rdi ^ rsi<<1 ^ rdx<<2 ^ r10<<3 ^ r8<<4 */
	imul	$7, %r12, %rcx
	xor	%rdi, %rcx
	mov	%rsi, %r11
	shl	$1, %r11
	xor	%r11, %rcx
	mov	%rdx, %r11
	shl	$2, %r11
	xor	%r11, %rcx
	mov	%r10, %r11
	shl	$3, %r11
	xor	%r11, %rcx
	mov	%r8, %r11
	shl	$4, %r11
	xor	%r11, %rcx
	cmp	%rcx, %rax
	jne	.Lbad_result
	inc	%r12
	cmp	$LAST, %r12
	jbe	.Lloop
	mov	$0, %edi
	jmp	.Lexit
.Lbad_flags:
	mov	$10, %edi
	jmp	.Lreport
.Lbad_stack:
	mov	$11, %edi
	jmp	.Lreport
.Lbad_regs:
	mov	$12, %edi
	jmp	.Lreport
.Lbad_result:
	mov	$13, %edi
.Lreport:
	/* Print r12 in decimal, then exit with edi. */
	mov	%edi, %ebx
	lea	buf+24(%rip), %rsi
	movb	$10, (%rsi)
	mov	%r12, %rax
	mov	$10, %ecx
1:	xor	%edx, %edx
	div	%rcx
	add	$'0', %dl
	dec	%rsi
	mov	%dl, (%rsi)
	test	%rax, %rax
	jnz	1b
	lea	buf+25(%rip), %rdx
	sub	%rsi, %rdx
	mov	$1, %eax			/* write(1, ...) (through the hook: r9 is not magic) */
	mov	$1, %edi
	xor	%r9d, %r9d
	syscall
	mov	%ebx, %edi
.Lexit:
	mov	$60, %eax			/* exit */
	xor	%r9d, %r9d
	syscall
	.size	_start, .-_start

	.bss
buf:	.space	32
	.section .note.GNU-stack, "", @progbits
