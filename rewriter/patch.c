/*
 * patch.c - turn each accepted `syscall` into `call *%rax`, or into a jump
 * to its stub (see patch.h).
 *
 * `call *%rax` (ff d0) is exactly as long as `syscall` (0f 05), so nothing
 * around a site moves.  The bytes are checked once more before they are
 * changed: a site must still hold the instruction it was found as.  A
 * red-zone site's window (the site and whole instructions next to it,
 * decide.c) becomes `jmp stub` followed by int3: nothing jumps into a
 * window but to its start (stub.h says what the stub does).
 */
#include <string.h>

#include "patch.h"
#include "warn.h"

/* The bytes each site changes (its 2 bytes in place, or its stub's window)
 * must not overlap: where they did, the later jump would overwrite the
 * earlier (decide.c keeps them apart). */
static void check_windows(const struct zp_sites *sites)
{
	uint64_t changed = 0;

	for (size_t i = 0; i < sites->n; i++) {
		const struct zp_site *s = &sites->v[i];
		if (s->decision != ZP_STUB && s->decision != ZP_PATCH)
			continue;
		uint64_t start = s->decision == ZP_STUB ? s->win_start : s->addr;
		uint64_t end = s->decision == ZP_STUB ? s->win_start + s->win_len : s->addr + 2;
		if (start < changed)
			ZP_BUG("a stub window overlaps the bytes of another site");
		changed = end;
	}
}

/* The image's bytes at the site's address (len of them). */
static unsigned char *code_at(const struct zp_elf *e, struct zp_image *im, uint64_t addr, uint64_t len)
{
	int64_t off = zp_elf_offset_of(e, addr, len);

	if (off < 0 || (size_t)off + len > im->size)
		ZP_BUG("a site outside the file");
	return im->buf + off;
}

static void patch_in_place(const struct zp_elf *e, const struct zp_site *s, struct zp_image *im)
{
	unsigned char *p = code_at(e, im, s->addr, 2);

	if (p[0] != 0x0f || (p[1] != 0x05 && p[1] != 0x34))
		ZP_BUG("a site that is not syscall/sysenter");
	p[0] = 0xff;
	p[1] = 0xd0;
}

static int jump_to_stub(const struct zp_elf *e, const struct zp_site *s, uint64_t stub, struct zp_image *im)
{
	int64_t dist = (int64_t)(stub - s->win_start);

	if (dist > INT32_MAX - 4096 || dist < INT32_MIN + 4096)
		return zp_error(e->path, "the stub for the site at %#lx would be out of a jump's reach",
				(unsigned long)s->addr);
	unsigned char *w = code_at(e, im, s->win_start, s->win_len);
	int32_t rel = (int32_t)(dist - 5);
	w[0] = 0xe9;   /* jmp rel32 */
	memcpy(w + 1, &rel, 4);
	memset(w + 5, 0xcc, s->win_len - 5);
	return 0;
}

int zp_patch_sites(const struct zp_elf *e, const struct zp_sites *sites, const uint64_t *stub_vaddr,
		   struct zp_image *im)
{
	check_windows(sites);
	for (size_t i = 0; i < sites->n; i++) {
		const struct zp_site *s = &sites->v[i];
		if (s->decision == ZP_PATCH)
			patch_in_place(e, s, im);
		else if (s->decision == ZP_STUB && jump_to_stub(e, s, stub_vaddr[i], im))
			return -1;
	}
	return 0;
}
