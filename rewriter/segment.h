/*
 * segment.h - add zprewrite's segments to the output and fix up the headers.
 *
 * After the input's last byte (and, for the address arithmetic of kernels
 * before 5.18, at a file offset that matches its address the way the first
 * segment's does), the output gains:
 *
 *   R    .zprewrite        struct zp_desc, the new program header table, the
 *                          patched sites, hook relocations
 *   R+X  .zprewrite.text   the runtime
 *   RW   .zprewrite.data   the runtime's variables
 *   ...  .zprewrite.hook*  the hook's segments, with --hook
 *
 * The program header table moves into the R segment, where there is room for
 * the new entries (the old one stays, unused, where it was: nothing after it
 * has to move).  e_entry points to the runtime's initializer.  With section
 * headers, the table is copied to the end with sections for the new
 * segments, so that objdump, gdb and readelf -S show them.
 */
#ifndef ZP_SEGMENT_H
#define ZP_SEGMENT_H

#include "blob.h"
#include "dynamic.h"
#include "elffile.h"
#include "embed.h"
#include "image.h"
#include "sites.h"

/* Where things went, for messages and tests. */
struct zp_layout {
	uint64_t desc_vaddr, runtime_vaddr, data_vaddr, hook_vaddr;
	uint64_t new_entry;
	size_t nsites;
};

/* dyn: a new interpreter / library path (bundles), or NULL; desc_flags: bits
 * of zp_desc.flags the options decide (the page-0 policy). */
int zp_segment_add(const struct zp_elf *e, const struct zp_blob *blob,
		   const struct zp_sites *sites, const struct zp_embed *hook,
		   struct zp_dynedit *dyn, uint32_t desc_flags, struct zp_image *im,
		   struct zp_layout *out);

/* Does the file already carry zprewrite's segments? */
int zp_segment_is_rewritten(const struct zp_elf *e);

#endif /* ZP_SEGMENT_H */
