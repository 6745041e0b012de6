/*
 * decode.h - x86-64 instructions, as the rest of zprewrite needs to see them.
 *
 * decode.c turns bytes into a struct zp_insn with Zydis.  Finding sites needs
 * only lengths and "is this syscall/sysenter", which Zydis's minimal mode gives
 * quickly; the red-zone analysis of the code around a site (decide.c) also
 * needs control flow and the instruction's stack effects, which
 * zp_decode_full() adds: how it moves rsp, which registers it writes or copies
 * (frame-pointer code reaches the stack through rbp, alloca code saves rsp in
 * another register), and which register-based memory it touches.
 */
#ifndef ZP_DECODE_H
#define ZP_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum zp_insn_kind {
	ZP_INSN_OTHER,
	ZP_INSN_SYSCALL,     /* 0f 05 */
	ZP_INSN_SYSENTER,    /* 0f 34 */
};

enum zp_flow {
	ZP_FLOW_NEXT,        /* falls through */
	ZP_FLOW_JUMP,        /* unconditional direct jump to target */
	ZP_FLOW_BRANCH,      /* conditional direct jump to target, or falls through */
	ZP_FLOW_CALL,        /* call (direct or not): returns to the next instruction */
	ZP_FLOW_RET,
	ZP_FLOW_INDIRECT,    /* jump through a register or memory */
	ZP_FLOW_STOP,        /* hlt, ud2, int3: does not continue */
};

/* General registers by their encoding number (rax 0, rcx 1, rdx 2, rbx 3,
 * rsp 4, rbp 5, rsi 6, rdi 7, r8..r15 8..15). */
#define ZP_REG_RSP 4
#define ZP_REG_RBP 5
#define ZP_NO_REG (-1)

enum zp_sp_effect {
	ZP_SP_NONE,          /* rsp unchanged */
	ZP_SP_DELTA,         /* rsp += sp_delta (push, pop, add/sub/lea with a constant) */
	ZP_SP_DOWN,          /* rsp lowered by an unknown amount (alloca: sub %reg; and $-16) */
	ZP_SP_FROM_REG,      /* rsp = sp_reg + sp_delta (mov %rbp,%rsp; lea d(%rbx),%rsp) */
	ZP_SP_LEAVE,         /* leave: rsp = rbp + 8, rbp = what was at rbp */
	ZP_SP_UNKNOWN,       /* rsp set in a way not followed */
};

/* A memory operand based on a general register, with a displacement.  The
 * analysis uses those whose base holds a known stack address.  `lea` of such
 * an address counts as an access of everything from it up to the base: the
 * pointer may be handed to anything (the kernel, as a system call's buffer,
 * for one). */
struct zp_stack_access {
	int base;            /* register number */
	int is_address;      /* lea: the address is taken, not accessed here */
	int64_t disp;        /* displacement of the lowest byte accessed */
	uint64_t size;       /* bytes */
};

struct zp_insn {
	uint64_t addr;
	uint8_t len;
	enum zp_insn_kind kind;
	int mnemonic;        /* ZydisMnemonic, for messages */
	/* zp_decode_full() only: */
	enum zp_flow flow;
	uint64_t target;
	enum zp_sp_effect sp;
	int sp_reg;
	int64_t sp_delta;
	int copy_dst, copy_src;   /* copy_dst = copy_src + copy_delta (64-bit mov/lea) */
	int64_t copy_delta;
	uint16_t writes;     /* general registers written (bit = register number) */
	int naccess;
	struct zp_stack_access access[2];
	int rax_imm_valid;   /* mov $imm, %eax/%rax: rax = rax_imm afterwards */
	int64_t rax_imm;
	int rip_relative;    /* uses rip: cannot be copied elsewhere as is */
};

struct zp_decoder;

struct zp_decoder *zp_decoder_new(void);
void zp_decoder_free(struct zp_decoder *d);

/* Decode one instruction at bytes[0..avail) mapped at addr.  Returns 0 on
 * success, -1 if the bytes are not a valid instruction. */
int zp_decode(struct zp_decoder *d, const unsigned char *bytes, size_t avail,
	      uint64_t addr, struct zp_insn *out);
int zp_decode_full(struct zp_decoder *d, const unsigned char *bytes, size_t avail,
		   uint64_t addr, struct zp_insn *out);

/* Does any instruction in the code use x87, MMX, SSE, AVX or AVX-512 state?
 * (Linear decoding; undecodable bytes are skipped.) */
int zp_code_uses_vector(struct zp_decoder *d, const unsigned char *bytes, size_t len, uint64_t addr);

/* "mov", "syscall"... */
const char *zp_mnemonic_name(int mnemonic);

#endif /* ZP_DECODE_H */
