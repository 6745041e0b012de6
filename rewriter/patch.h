/*
 * patch.h - change the program's own code: the one place where the bytes of
 * its instructions are rewritten.
 */
#ifndef ZP_PATCH_H
#define ZP_PATCH_H

#include <stdint.h>

#include "elffile.h"
#include "image.h"
#include "findsites.h"

/* Each ZP_PATCH site's 2 bytes (0f 05 / 0f 34) become ff d0, call *%rax;
 * each ZP_STUB site's window becomes a jump to its stub, at stub_vaddr[i]
 * for the site sites->v[i] (layout.h).  -1 (with zp_error) if a stub is out
 * of a jump's reach. */
int zp_patch_sites(const struct zp_elf *e, const struct zp_sites *sites, const uint64_t *stub_vaddr,
		   struct zp_image *im);

#endif /* ZP_PATCH_H */
