/*
 * stub.c - build the red-zone stubs (see stub.h; patch.c writes the jumps
 * to them).
 */
#include <string.h>

#include "stub.h"
#include "zp_abi.h"

/* The stubs step over the ABI's red zone (zp_abi.h); its size is encoded
 * below as a disp8 of -128 and a disp32 of +128. */
_Static_assert(ZP_REDZONE == 128, "the stubs' lea encodings hold -128 and +128");
static const unsigned char lea_down[] = { 0x48, 0x8d, 0x64, 0x24, (unsigned char)-ZP_REDZONE }; /* lea -0x80(%rsp),%rsp */
static const unsigned char call_rax[] = { 0xff, 0xd0 };                         /* call *%rax */
static const unsigned char lea_up[] = { 0x48, 0x8d, 0xa4, 0x24, ZP_REDZONE, 0, 0, 0 }; /* lea 0x80(%rsp),%rsp */

/* The stackless exit's stub, after the moved instructions (encodings from
 * gas; the two rel32 fields are filled in by zp_stub_emit):
 *   mov $1, %r11d                          41 bb 01 00 00 00
 *   lock xadd %r11, exit_counter(%rip)     f0 4c 0f c1 1d rel32
 *   and $(ZP_EXIT_STACKS-1), %r11d         41 83 e3 mask
 *   shl $log2(ZP_EXIT_STACK_SIZE), %r11    49 c1 e3 shift
 *   lea exit_stacks+SIZE(%rip), %rsp       48 8d 25 rel32
 *   add %r11, %rsp                         4c 01 dc
 *   call *%rax                             ff d0
 *   ud2                                    0f 0b  (exit does not return) */
static const unsigned char exit_head[] = {
	0x41, 0xbb, 0x01, 0x00, 0x00, 0x00,
	0xf0, 0x4c, 0x0f, 0xc1, 0x1d, 0, 0, 0, 0,
	0x41, 0x83, 0xe3, ZP_EXIT_STACKS - 1,
	0x49, 0xc1, 0xe3, ZP_EXIT_STACK_SHIFT,
	0x48, 0x8d, 0x25, 0, 0, 0, 0,
	0x4c, 0x01, 0xdc,
};
#define EXIT_COUNTER_REL 11   /* offset of the xadd's rel32 */
#define EXIT_STACKS_REL 26    /* offset of the lea's rel32 */

size_t zp_stub_size(const struct zp_site *s)
{
	if (s->stub_kind == ZP_STUB_STACKLESS)
		return s->pre_len + sizeof exit_head + sizeof call_rax + 2;
	return s->win_len - 2 + sizeof lea_down + sizeof call_rax + sizeof lea_up + 5;
}

void zp_stub_parts(const struct zp_site *s, uint64_t vaddr, struct zp_stub_parts *p)
{
	p->down = vaddr + s->pre_len;
	if (s->stub_kind == ZP_STUB_STACKLESS) {
		p->call = p->down + sizeof exit_head;
		p->up = p->post = p->jmp = p->call + sizeof call_rax;   /* (ud2: no way back) */
		return;
	}
	p->call = p->down + sizeof lea_down;
	p->up = p->call + sizeof call_rax;
	p->post = p->up + sizeof lea_up;
	p->jmp = p->post + (s->win_len - s->pre_len - 2);
}

static void put_rel32(unsigned char *field, uint64_t field_vaddr, uint64_t target)
{
	int32_t rel = (int32_t)(target - (field_vaddr + 4));
	memcpy(field, &rel, 4);
}

static void put_jmp(unsigned char *at, uint64_t from, uint64_t to)
{
	int32_t rel = (int32_t)(to - (from + 5));
	at[0] = 0xe9;
	memcpy(at + 1, &rel, 4);
}

uint64_t zp_stub_emit(const struct zp_site *s, const unsigned char *window, uint64_t vaddr,
		      const struct zp_stub_env *env, unsigned char *out)
{
	size_t k = 0, post = s->win_len - s->pre_len - 2;

	memcpy(out + k, window, s->pre_len);
	k += s->pre_len;
	if (s->stub_kind == ZP_STUB_STACKLESS) {
		memcpy(out + k, exit_head, sizeof exit_head);
		put_rel32(out + k + EXIT_COUNTER_REL, vaddr + k + EXIT_COUNTER_REL, env->exit_counter);
		put_rel32(out + k + EXIT_STACKS_REL, vaddr + k + EXIT_STACKS_REL,
			  env->exit_stacks + ZP_EXIT_STACK_SIZE);
		k += sizeof exit_head;
		uint64_t call = vaddr + k;
		memcpy(out + k, call_rax, sizeof call_rax);
		k += sizeof call_rax;
		out[k++] = 0x0f;   /* ud2 */
		out[k++] = 0x0b;
		return call;
	}
	memcpy(out + k, lea_down, sizeof lea_down);
	k += sizeof lea_down;
	uint64_t call = vaddr + k;
	memcpy(out + k, call_rax, sizeof call_rax);
	k += sizeof call_rax;
	memcpy(out + k, lea_up, sizeof lea_up);
	k += sizeof lea_up;
	memcpy(out + k, window + s->pre_len + 2, post);
	k += post;
	put_jmp(out + k, vaddr + k, s->win_start + s->win_len);
	return call;
}
