/*
 * patch.c - turn each accepted `syscall` into `call *%rax` (see patch.h).
 *
 * `call *%rax` (ff d0) is exactly as long as `syscall` (0f 05), so nothing
 * around a site moves.  The bytes are checked once more before they are
 * changed: a site must still hold the instruction it was found as.
 */
#include <string.h>

#include "patch.h"
#include "warn.h"

int zp_patch_sites(const struct zp_elf *e, const struct zp_sites *sites, struct zp_image *im)
{
	for (size_t i = 0; i < sites->n; i++) {
		const struct zp_site *s = &sites->v[i];
		if (s->decision != ZP_PATCH)
			continue;
		int64_t off = zp_elf_offset_of(e, s->addr, 2);
		if (off < 0 || (size_t)off + 2 > im->size)
			ZP_BUG("a site outside the file");
		unsigned char *p = im->buf + off;
		if (p[0] != 0x0f || (p[1] != 0x05 && p[1] != 0x34))
			ZP_BUG("a site that is not syscall/sysenter");
		p[0] = 0xff;
		p[1] = 0xd0;
	}
	return 0;
}
