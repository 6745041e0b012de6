/*
 * contract-registers-asm.S - plant known values in every register, make one
 * raw system call, and record every register before and after it.
 *
 * Part of contract-registers (driver: contract-registers.c), used by
 * tests/t-contract-registers.sh.  A rewritten `syscall` becomes `call *%rax`
 * into the runtime, which must give the application what the kernel gives:
 * rax = the result, rcx and r11 clobbered, and EVERYTHING else as it was --
 * the other general registers (rdi, rsi, rdx, r10, r8, r9 included: the
 * kernel preserves the argument registers), rsp, every flag (DF=1 too: a
 * system call is no function call, the ABI's "DF=0 at calls" does not
 * apply), the x87 stack and control word, MXCSR, xmm/ymm/zmm0-31 and the
 * AVX-512 mask registers, and the red zone below the stack pointer (except
 * the 8 bytes the call itself writes, which the rewriter deals with).
 *
 *   void regtest_run(void);       the number in rt_nr, red zone unused
 *   void regtest_rz_39(void);     getpid, with canaries in the red zone
 *   void regtest_rz_512(void);    512 (-ENOSYS), with canaries in the red zone
 *
 * Inputs (filled by the driver): rt_nr (the call's number), rt_flags (rflags
 * to set), rt_have_avx / rt_have_avx512 (which state exists), the patterns
 * rt_pat_gpr[16], rt_pat_vec[32][64], rt_pat_k[8], rt_pat_rz[15],
 * rt_pat_fcw, rt_pat_mxcsr, and rt_corrupt (0, or which register the test
 * itself damages after the call, to prove that the comparison notices).
 * Outputs: rt_before and rt_after, two snapshots (layout in the driver).
 *
 * The snapshots are taken with rip-relative stores only, and with no
 * instruction that changes the flags between the flags being set and being
 * recorded (mov, lea, jrcxz, vector moves, pushfq/popq do not), so what
 * they record is exactly what the application would see.
 */

/* Snapshot layout (struct rt_snap in contract-registers.c). */
	.set	S_GPR, 0		/* 16 x 8: rax rbx rcx rdx rsi rdi rbp rsp r8-r15 */
	.set	S_FLAGS, 128		/* rflags */
	.set	S_FX, 192		/* 512: fxsave64 (x87, MXCSR, xmm0-15) */
	.set	S_YMMH, 704		/* 16 x 16: bits 128-255 of ymm0-15 */
	.set	S_ZMMH, 960		/* 16 x 32: bits 256-511 of zmm0-15 */
	.set	S_ZHI, 1472		/* 16 x 64: zmm16-31 */
	.set	S_K, 2496		/* 8 x 8: k0-k7 */
	.set	S_RZ, 2560		/* 15 x 8: the red zone, -16(%rsp) down to -128(%rsp) */
	.set	S_SIZE, 2688

/* Record every register into snapshot \s.  Uses rcx as scratch after it
 * has been stored (the kernel clobbers rcx anyway). */
.macro SNAP s, rz
	mov	%rax, \s+S_GPR+0(%rip)		/* general registers first: */
	mov	%rbx, \s+S_GPR+8(%rip)		/* nothing has touched them yet */
	mov	%rcx, \s+S_GPR+16(%rip)
	mov	%rdx, \s+S_GPR+24(%rip)
	mov	%rsi, \s+S_GPR+32(%rip)
	mov	%rdi, \s+S_GPR+40(%rip)
	mov	%rbp, \s+S_GPR+48(%rip)
	mov	%rsp, \s+S_GPR+56(%rip)
	mov	%r8, \s+S_GPR+64(%rip)
	mov	%r9, \s+S_GPR+72(%rip)
	mov	%r10, \s+S_GPR+80(%rip)
	mov	%r11, \s+S_GPR+88(%rip)
	mov	%r12, \s+S_GPR+96(%rip)
	mov	%r13, \s+S_GPR+104(%rip)
	mov	%r14, \s+S_GPR+112(%rip)
	mov	%r15, \s+S_GPR+120(%rip)
	pushfq					/* the flags (writes only -8(%rsp)) */
	popq	\s+S_FLAGS(%rip)
	fxsave64 \s+S_FX(%rip)			/* x87 state, MXCSR, xmm0-15 */
	mov	rt_have_avx(%rip), %ecx		/* ymm upper halves, if any */
	jrcxz	3f				/* (jrcxz: flags untouched; it only */
	jmp	4f				/*  reaches 127 bytes, so it jumps to */
3:	jmp	1f				/*  a jmp that skips the block) */
4:
	vextractf128 $1, %ymm0, \s+S_YMMH+0*16(%rip)
	vextractf128 $1, %ymm1, \s+S_YMMH+1*16(%rip)
	vextractf128 $1, %ymm2, \s+S_YMMH+2*16(%rip)
	vextractf128 $1, %ymm3, \s+S_YMMH+3*16(%rip)
	vextractf128 $1, %ymm4, \s+S_YMMH+4*16(%rip)
	vextractf128 $1, %ymm5, \s+S_YMMH+5*16(%rip)
	vextractf128 $1, %ymm6, \s+S_YMMH+6*16(%rip)
	vextractf128 $1, %ymm7, \s+S_YMMH+7*16(%rip)
	vextractf128 $1, %ymm8, \s+S_YMMH+8*16(%rip)
	vextractf128 $1, %ymm9, \s+S_YMMH+9*16(%rip)
	vextractf128 $1, %ymm10, \s+S_YMMH+10*16(%rip)
	vextractf128 $1, %ymm11, \s+S_YMMH+11*16(%rip)
	vextractf128 $1, %ymm12, \s+S_YMMH+12*16(%rip)
	vextractf128 $1, %ymm13, \s+S_YMMH+13*16(%rip)
	vextractf128 $1, %ymm14, \s+S_YMMH+14*16(%rip)
	vextractf128 $1, %ymm15, \s+S_YMMH+15*16(%rip)
1:	mov	rt_have_avx512(%rip), %ecx	/* zmm upper quarters, zmm16-31, k0-7 */
	jrcxz	5f
	jmp	6f
5:	jmp	2f
6:
	vextracti64x4 $1, %zmm0, \s+S_ZMMH+0*32(%rip)
	vextracti64x4 $1, %zmm1, \s+S_ZMMH+1*32(%rip)
	vextracti64x4 $1, %zmm2, \s+S_ZMMH+2*32(%rip)
	vextracti64x4 $1, %zmm3, \s+S_ZMMH+3*32(%rip)
	vextracti64x4 $1, %zmm4, \s+S_ZMMH+4*32(%rip)
	vextracti64x4 $1, %zmm5, \s+S_ZMMH+5*32(%rip)
	vextracti64x4 $1, %zmm6, \s+S_ZMMH+6*32(%rip)
	vextracti64x4 $1, %zmm7, \s+S_ZMMH+7*32(%rip)
	vextracti64x4 $1, %zmm8, \s+S_ZMMH+8*32(%rip)
	vextracti64x4 $1, %zmm9, \s+S_ZMMH+9*32(%rip)
	vextracti64x4 $1, %zmm10, \s+S_ZMMH+10*32(%rip)
	vextracti64x4 $1, %zmm11, \s+S_ZMMH+11*32(%rip)
	vextracti64x4 $1, %zmm12, \s+S_ZMMH+12*32(%rip)
	vextracti64x4 $1, %zmm13, \s+S_ZMMH+13*32(%rip)
	vextracti64x4 $1, %zmm14, \s+S_ZMMH+14*32(%rip)
	vextracti64x4 $1, %zmm15, \s+S_ZMMH+15*32(%rip)
	vmovdqu64 %zmm16, \s+S_ZHI+0*64(%rip)
	vmovdqu64 %zmm17, \s+S_ZHI+1*64(%rip)
	vmovdqu64 %zmm18, \s+S_ZHI+2*64(%rip)
	vmovdqu64 %zmm19, \s+S_ZHI+3*64(%rip)
	vmovdqu64 %zmm20, \s+S_ZHI+4*64(%rip)
	vmovdqu64 %zmm21, \s+S_ZHI+5*64(%rip)
	vmovdqu64 %zmm22, \s+S_ZHI+6*64(%rip)
	vmovdqu64 %zmm23, \s+S_ZHI+7*64(%rip)
	vmovdqu64 %zmm24, \s+S_ZHI+8*64(%rip)
	vmovdqu64 %zmm25, \s+S_ZHI+9*64(%rip)
	vmovdqu64 %zmm26, \s+S_ZHI+10*64(%rip)
	vmovdqu64 %zmm27, \s+S_ZHI+11*64(%rip)
	vmovdqu64 %zmm28, \s+S_ZHI+12*64(%rip)
	vmovdqu64 %zmm29, \s+S_ZHI+13*64(%rip)
	vmovdqu64 %zmm30, \s+S_ZHI+14*64(%rip)
	vmovdqu64 %zmm31, \s+S_ZHI+15*64(%rip)
	kmovq	%k0, \s+S_K+0*8(%rip)		/* kmovq: AVX512BW (the driver checks) */
	kmovq	%k1, \s+S_K+1*8(%rip)
	kmovq	%k2, \s+S_K+2*8(%rip)
	kmovq	%k3, \s+S_K+3*8(%rip)
	kmovq	%k4, \s+S_K+4*8(%rip)
	kmovq	%k5, \s+S_K+5*8(%rip)
	kmovq	%k6, \s+S_K+6*8(%rip)
	kmovq	%k7, \s+S_K+7*8(%rip)
2:
	.if \rz				/* the red zone, 15 slots */
	.irp	i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14
	mov	-16-8*\i(%rsp), %rcx		/* -16(%rsp) ... -128(%rsp) */
	mov	%rcx, \s+S_RZ+8*\i(%rip)
	.endr
	.endif
.endm

/*
 * REGTEST name, rz, nr: the function `name`.  rz = 1 also keeps canaries in
 * the red zone across the call (such a site is one the rewriter sends
 * through a stub, which needs the number as a constant: nr); rz = 0 takes
 * the number from rt_nr and leaves the red zone alone (the rewriter patches
 * such a site in place).  The site is labelled name_site.
 */
.macro REGTEST name, rz, nr
	.globl	\name
	.type	\name, @function
	.balign	16
\name:
	.cfi_startproc
	push	%rbx				/* the callee-saved registers of the */
	.cfi_adjust_cfa_offset 8		/* C caller, which are about to be */
	push	%rbp				/* overwritten with patterns */
	.cfi_adjust_cfa_offset 8
	push	%r12
	.cfi_adjust_cfa_offset 8
	push	%r13
	.cfi_adjust_cfa_offset 8
	push	%r14
	.cfi_adjust_cfa_offset 8
	push	%r15
	.cfi_adjust_cfa_offset 8
	mov	%rsp, rt_saved_rsp(%rip)	/* to come back even if rsp is lost */

	.if \rz
	/* The red zone: 15 canaries from -16(%rsp) to -128(%rsp).  -8(%rsp) is
	 * left alone: the rewritten call writes its return address there (the
	 * rewriter treats code that keeps data in that slot separately). */
	.irp	i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14
	mov	rt_pat_rz+8*\i(%rip), %rax	/* canary i ... */
	mov	%rax, -16-8*\i(%rsp)		/* ... below the stack pointer */
	.endr
	.endif

	/* Vector registers, as wide as the CPU (and the kernel) allow. */
	mov	rt_have_avx512(%rip), %ecx	/* (flags are free here: test/jz */
	test	%ecx, %ecx			/*  reach further than jrcxz) */
	jz	.Lno_avx512\@
	.irp	i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 rt_pat_vec+64*\i(%rip), %zmm\i	/* all 512 bits of zmm0-31 */
	.endr
	.irp	i, 0,1,2,3,4,5,6,7
	kmovq	rt_pat_k+8*\i(%rip), %k\i	/* the mask registers */
	.endr
	jmp	.Lvec_done\@
.Lno_avx512\@:
	mov	rt_have_avx(%rip), %ecx
	test	%ecx, %ecx
	jz	.Lno_avx\@
	.irp	i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	rt_pat_vec+64*\i(%rip), %ymm\i	/* 256 bits of ymm0-15 */
	.endr
	jmp	.Lvec_done\@
.Lno_avx\@:
	.irp	i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	rt_pat_vec+64*\i(%rip), %xmm\i	/* SSE only: xmm0-15 */
	.endr
.Lvec_done\@:

	/* x87: a non-default control word (rounding toward zero, 53-bit
	 * precision) and all eight stack slots in use. */
	fninit					/* empty stack, default control word */
	fldcw	rt_pat_fcw(%rip)		/* the pattern control word */
	fldpi					/* st(7) at the end: pi */
	fldl2e					/* log2(e) */
	fldl2t					/* log2(10) */
	fldlg2					/* log10(2) */
	fldln2					/* ln(2) */
	fld1					/* 1.0 */
	fldz					/* 0.0 */
	fildq	rt_pat_gpr+8(%rip)		/* st(0): an integer pattern */
	ldmxcsr	rt_pat_mxcsr(%rip)		/* SSE control: rounding and FTZ */

	/* General registers: all 15 but rsp (rax last: the number). */
	mov	rt_pat_gpr+1*8(%rip), %rbx
	mov	rt_pat_gpr+2*8(%rip), %rcx	/* clobbered by the call anyway */
	mov	rt_pat_gpr+3*8(%rip), %rdx	/* arg 3 */
	mov	rt_pat_gpr+4*8(%rip), %rsi	/* arg 2 */
	mov	rt_pat_gpr+5*8(%rip), %rdi	/* arg 1 */
	mov	rt_pat_gpr+6*8(%rip), %rbp
	mov	rt_pat_gpr+8*8(%rip), %r8	/* arg 5 */
	mov	rt_pat_gpr+9*8(%rip), %r9	/* arg 6 */
	mov	rt_pat_gpr+10*8(%rip), %r10	/* arg 4 */
	mov	rt_pat_gpr+11*8(%rip), %r11	/* clobbered by the call anyway */
	mov	rt_pat_gpr+12*8(%rip), %r12
	mov	rt_pat_gpr+13*8(%rip), %r13
	mov	rt_pat_gpr+14*8(%rip), %r14
	mov	rt_pat_gpr+15*8(%rip), %r15

	/* The flags: CF, PF, AF, ZF, SF, DF, OF as the pattern says. */
	pushq	rt_flags(%rip)			/* (push/pop: the slot at -8 only) */
	popfq
	mov	rt_nr(%rip), %rax		/* the system call number */
	SNAP	rt_before, \rz			/* what the application has now */
	mov	rt_pat_gpr+2*8(%rip), %rcx	/* (the snapshot used rcx) */
	.ifnc	\nr, var
	mov	$\nr, %eax			/* the number as a constant, right */
	.endif					/* before the site (it goes with it) */
	.globl	\name\()_site
\name\()_site:
	syscall					/* THE call (rewritten: call *%rax) */

	/* Self-test: damage one register, when asked to, without touching
	 * anything else (rcx and r11 are free after a system call). */
	mov	rt_corrupt(%rip), %ecx		/* 0: leave everything alone */
	jrcxz	.Lno_corrupt\@
	lea	rt_corrupt_table(%rip), %r11	/* table of 32-bit offsets */
	movslq	-4(%r11,%rcx,4), %rcx		/* entry rt_corrupt - 1 */
	lea	(%r11,%rcx), %rcx		/* its address (lea: no flags) */
	call	*%rcx				/* writes only -8(%rsp) */
.Lno_corrupt\@:
	SNAP	rt_after, \rz			/* what the application got back */

	/* Back to a state C code expects. */
	cld					/* DF = 0 */
	fninit					/* x87 empty, control word 0x37f */
	ldmxcsr	rt_default_mxcsr(%rip)		/* MXCSR 0x1f80 */
	mov	rt_have_avx(%rip), %ecx
	jrcxz	1f
	vzeroupper				/* no dirty upper state left behind */
1:	mov	rt_saved_rsp(%rip), %rsp	/* the stack as saved at the start */
	pop	%r15				/* the C caller's registers */
	.cfi_adjust_cfa_offset -8
	pop	%r14
	.cfi_adjust_cfa_offset -8
	pop	%r13
	.cfi_adjust_cfa_offset -8
	pop	%r12
	.cfi_adjust_cfa_offset -8
	pop	%rbp
	.cfi_adjust_cfa_offset -8
	pop	%rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	\name, .-\name
.endm

	.text
	REGTEST	regtest_run, 0, var		/* the plain case, any number */
	REGTEST	regtest_rz_39, 1, 39		/* red zone in use: getpid */
	REGTEST	regtest_rz_512, 1, 512		/* red zone in use: -ENOSYS */

/*
 * The deliberate damage, one small function each (called with rsp = S - 8,
 * so their own stack use stays at -8(%rsp) of the caller).  Flags are left
 * alone except where the flags are the target.  Order = rt_corrupt values
 * 1, 2, ... (names in the driver).
 */
	.macro CORRUPT name, body:vararg
	.type	rt_c_\name, @function
rt_c_\name:
	.cfi_startproc
	\body
	ret
	.cfi_endproc
	.size	rt_c_\name, .-rt_c_\name
	.endm

	CORRUPT	rbx, not %rbx			/* not: no flags */
	CORRUPT	rbp, not %rbp
	CORRUPT	rdx, not %rdx
	CORRUPT	rsi, not %rsi
	CORRUPT	rdi, not %rdi
	CORRUPT	r8, not %r8
	CORRUPT	r9, not %r9
	CORRUPT	r10, not %r10
	CORRUPT	r12, not %r12
	CORRUPT	r13, not %r13
	CORRUPT	r14, not %r14
	CORRUPT	r15, not %r15
	CORRUPT	cf, cmc				/* complement CF */
	.type	rt_c_arith, @function
rt_c_arith:				/* flip SF ZF AF PF CF (not OF) */
	.cfi_startproc
	mov	%rax, %r11			/* keep rax (the result) */
	lahf					/* ah = SF:ZF:0:AF:0:PF:1:CF */
	not	%ah				/* not: no flags */
	sahf					/* the flipped ones back */
	mov	%r11, %rax
	ret
	.cfi_endproc
	.size	rt_c_arith, .-rt_c_arith
	CORRUPT	std, std			/* DF = 1 (noticed when the pattern had 0) */
	CORRUPT	cld, cld			/* DF = 0 (noticed when the pattern had 1) */
	CORRUPT	xmm7, xorps %xmm7, %xmm7	/* low 128 bits of xmm7 */
	CORRUPT	ymm3h, vmovdqa %xmm3, %xmm3	/* VEX.128 zeroes bits 128 and up */
	CORRUPT	zmm5h, vmovdqa %ymm5, %ymm5	/* VEX.256 zeroes bits 256 and up */
	CORRUPT	zmm20, vpxorq %zmm20, %zmm20, %zmm20
	CORRUPT	k3, knotq %k3, %k3
	CORRUPT	x87, fxch %st(1)		/* swap st(0) and st(1) */
	CORRUPT	fcw, fldcw rt_default_fcw(%rip)	/* default control word */
	.type	rt_c_mxcsr, @function
rt_c_mxcsr:				/* change MXCSR's rounding field */
	.cfi_startproc
	stmxcsr	rt_tmp(%rip)			/* current MXCSR */
	mov	rt_tmp(%rip), %ecx
	lea	0x2000(%rcx), %ecx		/* +1 in the RC field (lea: no flags) */
	mov	%ecx, rt_tmp(%rip)
	ldmxcsr	rt_tmp(%rip)
	ret
	.cfi_endproc
	.size	rt_c_mxcsr, .-rt_c_mxcsr
	CORRUPT	redzone, movq $0x5a5a, -56(%rsp)	/* the caller's -64(%rsp) */

	.section .rodata
	.balign	4
rt_corrupt_table:			/* offsets from the table, in CORRUPT order */
	.irp	n, rbx,rbp,rdx,rsi,rdi,r8,r9,r10,r12,r13,r14,r15,cf,arith,std,cld,xmm7,ymm3h,zmm5h,zmm20,k3,x87,fcw,mxcsr,redzone
	.long	rt_c_\n - rt_corrupt_table
	.endr
rt_default_mxcsr:
	.long	0x1f80
rt_default_fcw:
	.short	0x037f

	.bss
	.balign	64
	.globl	rt_before, rt_after, rt_pat_vec, rt_pat_gpr, rt_pat_k, rt_pat_rz
	.globl	rt_nr, rt_flags, rt_have_avx, rt_have_avx512, rt_corrupt, rt_pat_fcw, rt_pat_mxcsr
rt_before:	.skip	S_SIZE
rt_after:	.skip	S_SIZE
rt_pat_vec:	.skip	32*64
rt_pat_gpr:	.skip	16*8
rt_pat_k:	.skip	8*8
rt_pat_rz:	.skip	15*8
rt_nr:		.skip	8
rt_flags:	.skip	8
rt_have_avx:	.skip	8
rt_have_avx512:	.skip	8
rt_corrupt:	.skip	8
rt_saved_rsp:	.skip	8
rt_tmp:		.skip	8
rt_pat_fcw:	.skip	8
rt_pat_mxcsr:	.skip	8

	.section .note.GNU-stack, "", @progbits
