/*
 * rawclone.S - raw clone and clone3 for the test programs, written out by hand
 * so that the tests do not depend on how a libc wraps them.
 *
 *   long raw_clone3_run(struct clone_args *args, size_t size,
 *                       int (*fn)(void *), void *arg);
 *   long raw_clone_run(unsigned long flags, void *newsp,
 *                      int (*fn)(void *), void *arg);
 *
 * Both make the call from their own `syscall` instruction (a site zprewrite
 * rewrites) and return the kernel's result in the parent.  The child, on
 * whatever stack the kernel gave it (the new stack, or the parent's stack for
 * a vfork-like call without one, or a copy for a fork-like call), calls
 * fn(arg) and ends with exit(fn's result): it never returns from here.  fn
 * and arg travel to the child in r8 and r9, which both calls leave alone
 * (clone's r8 is its tls argument: no CLONE_SETTLS here, so it is ignored) and
 * which the child inherits.  The parent's r8/r9 are caller-saved anyway.
 */
	.text

	.globl	raw_clone3_run
	.type	raw_clone3_run, @function
raw_clone3_run:
	.cfi_startproc
	mov	%rdx, %r8		/* fn, for the child */
	mov	%rcx, %r9		/* arg, for the child */
	mov	$435, %eax		/* __NR_clone3; rdi = args, rsi = size */
	syscall
	test	%rax, %rax		/* 0 in the child */
	jz	.Lchild
	ret				/* parent: child's tid, or -errno */
	.cfi_endproc
	.size	raw_clone3_run, .-raw_clone3_run

	.globl	raw_clone_run
	.type	raw_clone_run, @function
raw_clone_run:
	.cfi_startproc
	mov	%rdx, %r8		/* fn (clone's tls argument: ignored) */
	mov	%rcx, %r9		/* arg */
	xor	%edx, %edx		/* parent_tid = NULL */
	xor	%r10d, %r10d		/* child_tid = NULL */
	mov	$56, %eax		/* __NR_clone; rdi = flags, rsi = newsp */
	syscall
	test	%rax, %rax
	jz	.Lchild
	ret
	.cfi_endproc
	.size	raw_clone_run, .-raw_clone_run

/* The child of either call: rsp is wherever the kernel started it. */
	.type	raw_clone_child, @function
raw_clone_child:
	.cfi_startproc
	.cfi_undefined rip		/* the outermost frame of the child */
.Lchild:
	xor	%ebp, %ebp		/* no frame above this one */
	and	$-16, %rsp		/* the ABI's alignment at the call below */
	mov	%r9, %rdi		/* fn(arg) */
	call	*%r8
	mov	%eax, %edi		/* exit(result): ends only this task */
	mov	$60, %eax		/* __NR_exit */
	syscall
	ud2
	.cfi_endproc
	.size	raw_clone_child, .-raw_clone_child

	.section .note.GNU-stack, "", @progbits
