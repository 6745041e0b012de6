/*
 * decode.c - Zydis behind struct zp_insn (see decode.h).
 *
 * Two Zydis decoders: one in minimal mode for the fast scans (lengths and
 * mnemonics only), one complete for the instructions whose operands matter.
 */
#include <stdlib.h>
#include <string.h>
#include <Zydis/Zydis.h>

#include "decode.h"

struct zp_decoder {
	ZydisDecoder minimal;
	ZydisDecoder full;
};

struct zp_decoder *zp_decoder_new(void)
{
	struct zp_decoder *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&d->minimal, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) ||
	    !ZYAN_SUCCESS(ZydisDecoderEnableMode(&d->minimal, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE)) ||
	    !ZYAN_SUCCESS(ZydisDecoderInit(&d->full, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
		free(d);
		return NULL;
	}
	return d;
}

void zp_decoder_free(struct zp_decoder *d)
{
	free(d);
}

/* The fields zp_decode fills; zp_decode_full clears the rest first. */
static void set_kind(struct zp_insn *out, const ZydisDecodedInstruction *in, uint64_t addr)
{
	out->addr = addr;
	out->len = in->length;
	out->mnemonic = in->mnemonic;
	out->kind = in->mnemonic == ZYDIS_MNEMONIC_SYSCALL ? ZP_INSN_SYSCALL :
		    in->mnemonic == ZYDIS_MNEMONIC_SYSENTER ? ZP_INSN_SYSENTER : ZP_INSN_OTHER;
}

int zp_decode(struct zp_decoder *d, const unsigned char *bytes, size_t avail,
	      uint64_t addr, struct zp_insn *out)
{
	ZydisDecoderContext ctx;
	ZydisDecodedInstruction in;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&d->minimal, &ctx, bytes, avail, &in)))
		return -1;
	set_kind(out, &in, addr);
	return 0;
}

static int is_reg(const ZydisDecodedOperand *op, ZydisRegister r)
{
	return op->type == ZYDIS_OPERAND_TYPE_REGISTER && op->reg.value == r;
}

static int64_t imm_of(const ZydisDecodedOperand *op)
{
	return op->imm.is_signed ? op->imm.value.s : (int64_t)op->imm.value.u;
}

/* Register number of a 64-bit general register (or the one enclosing it). */
static int gpr(ZydisRegister r)
{
	static const ZydisRegister order[16] = {
		ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
		ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
		ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
		ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
	};
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	for (int i = 0; i < 16; i++)
		if (order[i] == big)
			return i;
	return ZP_NO_REG;
}

static int is_gpr64(const ZydisDecodedOperand *op)
{
	return op->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       ZydisRegisterGetClass(op->reg.value) == ZYDIS_REGCLASS_GPR64;
}

/* 64-bit copies: mov %src,%dst and lea d(%src),%dst. */
static void register_copies(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
			    struct zp_insn *out)
{
	if (in->mnemonic == ZYDIS_MNEMONIC_MOV && is_gpr64(&ops[0]) && is_gpr64(&ops[1])) {
		out->copy_dst = gpr(ops[0].reg.value);
		out->copy_src = gpr(ops[1].reg.value);
	} else if (in->mnemonic == ZYDIS_MNEMONIC_LEA && is_gpr64(&ops[0]) &&
		   ops[1].mem.index == ZYDIS_REGISTER_NONE && gpr(ops[1].mem.base) != ZP_NO_REG) {
		out->copy_dst = gpr(ops[0].reg.value);
		out->copy_src = gpr(ops[1].mem.base);
		out->copy_delta = ops[1].mem.disp.value;
	}
}

/* How the instruction changes rsp, and which registers it writes or copies.
 * (Long: one case for each way an instruction moves rsp, kept together so
 * that the list can be read and checked in one place.) */
static void stack_effects(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
			  struct zp_insn *out)
{
	out->copy_dst = out->copy_src = out->sp_reg = ZP_NO_REG;
	for (int i = 0; i < in->operand_count; i++) {
		const ZydisDecodedOperand *op = &ops[i];
		if (!(op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) || op->type != ZYDIS_OPERAND_TYPE_REGISTER)
			continue;
		int r = gpr(op->reg.value);
		if (r != ZP_NO_REG)
			out->writes |= (uint16_t)(1u << r);
	}
	register_copies(in, ops, out);
	if (!(out->writes & (1u << ZP_REG_RSP)))
		return;
	out->sp = ZP_SP_UNKNOWN;
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_PUSH:
	case ZYDIS_MNEMONIC_PUSHFQ:
		out->sp = ZP_SP_DELTA;
		out->sp_delta = -(int64_t)(in->operand_width / 8);
		break;
	case ZYDIS_MNEMONIC_POP:
	case ZYDIS_MNEMONIC_POPFQ:
		if (!is_reg(&ops[0], ZYDIS_REGISTER_RSP)) {
			out->sp = ZP_SP_DELTA;
			out->sp_delta = in->operand_width / 8;
		}
		break;
	case ZYDIS_MNEMONIC_CALL:
		out->sp = ZP_SP_NONE;    /* the callee pops what the call pushed */
		break;
	case ZYDIS_MNEMONIC_RET:
		out->sp = ZP_SP_DELTA;
		out->sp_delta = 8;
		break;
	case ZYDIS_MNEMONIC_SUB:
	case ZYDIS_MNEMONIC_ADD:
		if (is_reg(&ops[0], ZYDIS_REGISTER_RSP) && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			out->sp = ZP_SP_DELTA;
			out->sp_delta = in->mnemonic == ZYDIS_MNEMONIC_ADD ? imm_of(&ops[1]) : -imm_of(&ops[1]);
		} else if (is_reg(&ops[0], ZYDIS_REGISTER_RSP) && in->mnemonic == ZYDIS_MNEMONIC_SUB) {
			out->sp = ZP_SP_DOWN;   /* alloca: sub %reg,%rsp with a size >= 0 */
		}
		break;
	case ZYDIS_MNEMONIC_AND:
		/* Aligning down: rsp only gets lower. */
		if (is_reg(&ops[0], ZYDIS_REGISTER_RSP) && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
		    imm_of(&ops[1]) < 0)
			out->sp = ZP_SP_DOWN;
		break;
	case ZYDIS_MNEMONIC_LEAVE:
		out->sp = ZP_SP_LEAVE;
		break;
	case ZYDIS_MNEMONIC_MOV:
	case ZYDIS_MNEMONIC_LEA:
		if (out->copy_dst == ZP_REG_RSP) {
			if (out->copy_src == ZP_REG_RSP) {
				out->sp = ZP_SP_DELTA;
				out->sp_delta = out->copy_delta;
			} else {
				out->sp = ZP_SP_FROM_REG;
				out->sp_reg = out->copy_src;
				out->sp_delta = out->copy_delta;
			}
		}
		break;
	default:
		break;
	}
}

/* Explicit memory operands based on a general register (pushes and calls
 * are accounted for by the stack-pointer effect instead). */
static void stack_accesses(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
			   struct zp_insn *out)
{
	for (int i = 0; i < in->operand_count_visible && out->naccess < 2; i++) {
		const ZydisDecodedOperand *op = &ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY ||
		    (op->mem.type != ZYDIS_MEMOP_TYPE_MEM && op->mem.type != ZYDIS_MEMOP_TYPE_AGEN))
			continue;
		int base = gpr(op->mem.base);
		if (base == ZP_NO_REG)
			continue;
		int lea = op->mem.type == ZYDIS_MEMOP_TYPE_AGEN;
		if (lea && op->mem.disp.value >= 0)
			continue;   /* a pointer into the frame, not below its base */
		if (lea && out->copy_dst == ZP_REG_RSP)
			continue;   /* setting rsp (stack_effects), not taking an address */
		struct zp_stack_access *a = &out->access[out->naccess++];
		a->base = base;
		a->is_address = lea;
		a->disp = op->mem.disp.value;
		a->size = op->size ? op->size / 8 : 8;
		/* With an index register (an array, index >= 0) the access may
		 * reach anywhere from the displacement up to the base.  A small
		 * negative displacement is index arithmetic (buf[i - 1] with buf
		 * at the base), not an array below the base. */
		if (op->mem.index != ZYDIS_REGISTER_NONE) {
			if (a->disp >= -8) {
				out->naccess--;
				continue;
			}
			a->size = (uint64_t)-a->disp;
		} else if (lea) {
			a->size = (uint64_t)-a->disp;   /* up to the base register */
		}
	}
}

int zp_decode_full(struct zp_decoder *d, const unsigned char *bytes, size_t avail,
		   uint64_t addr, struct zp_insn *out)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d->full, bytes, avail, &in, ops)))
		return -1;
	memset(out, 0, sizeof *out);
	set_kind(out, &in, addr);
	out->flow = ZP_FLOW_NEXT;
	switch (in.meta.category) {
	case ZYDIS_CATEGORY_UNCOND_BR:
	case ZYDIS_CATEGORY_COND_BR:
		if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[0].imm.is_relative) {
			ZyanU64 t;
			ZydisCalcAbsoluteAddress(&in, &ops[0], addr, &t);
			out->target = t;
			out->flow = in.meta.category == ZYDIS_CATEGORY_COND_BR ? ZP_FLOW_BRANCH : ZP_FLOW_JUMP;
		} else {
			out->flow = ZP_FLOW_INDIRECT;
		}
		break;
	case ZYDIS_CATEGORY_CALL:
		out->flow = ZP_FLOW_CALL;
		break;
	case ZYDIS_CATEGORY_RET:
		out->flow = ZP_FLOW_RET;
		break;
	default:
		if (in.mnemonic == ZYDIS_MNEMONIC_HLT || in.mnemonic == ZYDIS_MNEMONIC_UD2 ||
		    in.mnemonic == ZYDIS_MNEMONIC_INT3 || in.mnemonic == ZYDIS_MNEMONIC_UD0 ||
		    in.mnemonic == ZYDIS_MNEMONIC_UD1)
			out->flow = ZP_FLOW_STOP;
		break;
	}
	stack_effects(&in, ops, out);
	stack_accesses(&in, ops, out);
	for (int i = 0; i < in.operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.base == ZYDIS_REGISTER_RIP)
			out->rip_relative = 1;
	if (in.attributes & ZYDIS_ATTRIB_IS_RELATIVE)
		out->rip_relative = 1;
	if (in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
	    (is_reg(&ops[0], ZYDIS_REGISTER_EAX) || is_reg(&ops[0], ZYDIS_REGISTER_RAX))) {
		out->rax_imm_valid = 1;
		/* mov to eax zero-extends; mov $imm32 to rax sign-extends */
		out->rax_imm = is_reg(&ops[0], ZYDIS_REGISTER_EAX) ? (int64_t)(uint32_t)ops[1].imm.value.u
								   : imm_of(&ops[1]);
	}
	return 0;
}

const char *zp_mnemonic_name(int mnemonic)
{
	const char *s = ZydisMnemonicGetString((ZydisMnemonic)mnemonic);
	return s ? s : "?";
}

/* Does this instruction touch x87/MMX/SSE/AVX/AVX-512 state? */
static int touches_vector(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
	for (int i = 0; i < in->operand_count; i++) {
		if (ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER)
			continue;
		switch (ZydisRegisterGetClass(ops[i].reg.value)) {
		case ZYDIS_REGCLASS_X87:
		case ZYDIS_REGCLASS_MMX:
		case ZYDIS_REGCLASS_XMM:
		case ZYDIS_REGCLASS_YMM:
		case ZYDIS_REGCLASS_ZMM:
		case ZYDIS_REGCLASS_MASK:
			return 1;
		default:
			break;
		}
	}
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_VZEROUPPER:
	case ZYDIS_MNEMONIC_VZEROALL:
	case ZYDIS_MNEMONIC_EMMS:
	case ZYDIS_MNEMONIC_LDMXCSR:
	case ZYDIS_MNEMONIC_VLDMXCSR:
	case ZYDIS_MNEMONIC_FXRSTOR:
	case ZYDIS_MNEMONIC_FXRSTOR64:
	case ZYDIS_MNEMONIC_XRSTOR:
	case ZYDIS_MNEMONIC_XRSTOR64:
	case ZYDIS_MNEMONIC_FLDCW:
	case ZYDIS_MNEMONIC_FLDENV:
	case ZYDIS_MNEMONIC_FNINIT:
		return 1;
	default:
		return 0;
	}
}

int zp_code_uses_vector(struct zp_decoder *d, const unsigned char *bytes, size_t len, uint64_t addr)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	for (size_t pc = 0; pc < len;) {
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d->full, bytes + pc, len - pc, &in, ops))) {
			pc++;   /* padding or data: resynchronise */
			continue;
		}
		if (touches_vector(&in, ops))
			return 1;
		pc += in.length;
	}
	(void)addr;
	return 0;
}
