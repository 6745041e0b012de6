/*
 * stub.c - build the red-zone stubs and the jumps to them (see stub.h).
 */
#include <string.h>

#include "stub.h"

static const unsigned char lea_down[] = { 0x48, 0x8d, 0x64, 0x24, 0x80 };       /* lea -0x80(%rsp),%rsp */
static const unsigned char call_rax[] = { 0xff, 0xd0 };                         /* call *%rax */
static const unsigned char lea_up[] = { 0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0 }; /* lea 0x80(%rsp),%rsp */

size_t zp_stub_size(const struct zp_site *s)
{
	return s->win_len - 2 + sizeof lea_down + sizeof call_rax + sizeof lea_up + 5;
}

static void put_jmp(unsigned char *at, uint64_t from, uint64_t to)
{
	int32_t rel = (int32_t)(to - (from + 5));
	at[0] = 0xe9;
	memcpy(at + 1, &rel, 4);
}

uint64_t zp_stub_emit(const struct zp_site *s, const unsigned char *window, uint64_t vaddr,
		      unsigned char *out)
{
	size_t k = 0, post = s->win_len - s->pre_len - 2;

	memcpy(out + k, window, s->pre_len);
	k += s->pre_len;
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

void zp_stub_jump(const struct zp_site *s, unsigned char *window, uint64_t vaddr)
{
	put_jmp(window, s->win_start, vaddr);
	memset(window + 5, 0xcc, s->win_len - 5);
}
