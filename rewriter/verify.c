/*
 * verify.c - cross-check the sites with libopcodes (see verify.h).
 */
#include <dis-asm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verify.h"
#include "warn.h"

/* libopcodes prints through these; keep the text of one instruction. */
struct capture {
	char text[256];
	size_t len;
};

static int capture_vprintf(struct capture *c, const char *fmt, va_list ap)
{
	int n = vsnprintf(c->text + c->len, sizeof c->text - c->len, fmt, ap);
	if (n > 0)
		c->len += (size_t)n < sizeof c->text - c->len ? (size_t)n : sizeof c->text - c->len - 1;
	return n;
}

static int capture_printf(void *stream, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = capture_vprintf(stream, fmt, ap);
	va_end(ap);
	return n;
}

static int capture_styled(void *stream, enum disassembler_style style, const char *fmt, ...)
{
	(void)style;
	va_list ap;
	va_start(ap, fmt);
	int n = capture_vprintf(stream, fmt, ap);
	va_end(ap);
	return n;
}

/* Does libopcodes, decoding from `start`, see a syscall/sysenter at addr? */
static int opcodes_agrees(disassembler_ftype dis, disassemble_info *info, struct capture *cap,
			  const struct zp_code *code, uint64_t start, uint64_t addr, int sweep)
{
	bfd_vma pc = start;

	while (pc < addr) {
		cap->len = 0;
		int n = dis(pc, info);
		if (n <= 0) {
			if (!sweep)
				return 0;
			n = 1;
		}
		if (sweep && strstr(cap->text, "(bad)"))
			n = 1;   /* resynchronise as the Zydis sweep does */
		pc += (bfd_vma)n;
	}
	if (pc != addr)
		return 0;
	cap->len = 0;
	cap->text[0] = 0;
	if (dis(pc, info) != 2)
		return 0;
	(void)code;
	return !strncmp(cap->text, "syscall", 7) || !strncmp(cap->text, "sysenter", 8);
}

int zp_verify_sites(const struct zp_elf *e, struct zp_sites *sites)
{
	struct capture cap = { "", 0 };
	disassemble_info info;
	int demoted = 0;

	disassembler_ftype dis = disassembler(bfd_arch_i386, false, bfd_mach_x86_64, NULL);
	if (!dis)
		return zp_error(e->path, "libopcodes has no x86-64 disassembler");
	for (size_t i = 0; i < sites->n; i++) {
		struct zp_site *s = &sites->v[i];
		if (s->decision != ZP_PATCH && s->decision != ZP_STUB)
			continue;
		const struct zp_code *code = s->code;
		init_disassemble_info(&info, &cap, capture_printf, capture_styled);
		info.arch = bfd_arch_i386;
		info.mach = bfd_mach_x86_64;
		info.read_memory_func = buffer_read_memory;
		info.buffer = (bfd_byte *)code->bytes;
		info.buffer_vma = code->addr;
		info.buffer_length = code->size;
		disassemble_init_for_target(&info);
		if (!opcodes_agrees(dis, &info, &cap, code, s->decode_start, s->addr,
				    s->found == ZP_FOUND_SWEEP)) {
			s->decision = ZP_SKIP;
			s->reason = "libopcodes decodes it differently";
			demoted++;
		}
	}
	return demoted;
}
