/*
 * sites.S - a program with one of each kind of site zprewrite must tell apart,
 * for the golden files (tests/golden/).  Hand-written assembly so that the
 * binary, and so zprewrite's --list output, depends on nothing but gas and ld.
 * Run, it writes "sites ok\n" and exits with status 0.
 *
 *   do_write    a syscall in a function with a symbol and CFI
 *   helper      a syscall in code with CFI but no symbol (found from .eh_frame)
 *   uncovered   a syscall in code with neither (found by the linear sweep)
 *   immediate   0f 05 bytes inside a mov's immediate: not an instruction
 *   redzone     a leaf that keeps data at -8(%rsp) across a syscall
 *   never_sysenter  a sysenter (never executed)
 */
	.text
	.globl	_start
	.type	_start, @function
_start:
	.cfi_startproc
	.cfi_undefined rip
	call	do_write		/* write(1, "sites ok\n", 9) */
	call	.Lhelper		/* getpid() */
	call	uncovered		/* getppid() */
	call	immediate
	call	redzone			/* gettid(), keeping a value below rsp */
	cmp	$0x1234, %rax		/* redzone returns what it kept */
	jne	1f
	mov	$60, %eax		/* exit(0) */
	xor	%edi, %edi
	syscall
1:	mov	$60, %eax		/* exit(1) */
	mov	$1, %edi
	syscall
	.cfi_endproc
	.size	_start, .-_start

	.type	do_write, @function
do_write:
	.cfi_startproc
	mov	$1, %eax		/* write */
	mov	$1, %edi		/* fd 1 */
	lea	msg(%rip), %rsi
	mov	$9, %edx
	syscall
	ret
	.cfi_endproc
	.size	do_write, .-do_write

/* A local label: no symbol, but CFI gives its range. */
.Lhelper:
	.cfi_startproc
	mov	$39, %eax		/* getpid */
	syscall
	ret
	.cfi_endproc

	.type	immediate, @function
immediate:
	.cfi_startproc
	mov	$0x050f, %eax		/* the bytes 0f 05 inside an instruction */
	ret
	.cfi_endproc
	.size	immediate, .-immediate

	.type	redzone, @function
redzone:
	.cfi_startproc
	movq	$0x1234, -8(%rsp)	/* kept in the red zone ... */
	mov	$186, %eax		/* gettid */
	syscall
	mov	-8(%rsp), %rax		/* ... and read back after the call */
	ret
	.cfi_endproc
	.size	redzone, .-redzone

	.type	never_sysenter, @function
never_sysenter:
	.cfi_startproc
	sysenter
	ret
	.cfi_endproc
	.size	never_sysenter, .-never_sysenter

	.balign	16
/* No symbol, no CFI: only the linear sweep finds this code. */
	.globl	uncovered_end
uncovered = .
	mov	$110, %eax		/* getppid */
	syscall
	ret
uncovered_end:

	.section .rodata
msg:	.ascii	"sites ok\n"
	.section .note.GNU-stack, "", @progbits
