/*
 * segment.h - add zprewrite's segments to the output and fix up the headers.
 *
 * layout.h says what the new segments are and where they go; this fills
 * them: the descriptor segment (struct zp_desc, the new program header
 * table, the site table, hook relocations, moved strings), the runtime, the
 * stubs, the moved dynamic section and the hook.  The program header table
 * moves into the descriptor segment, where there is room for the new
 * entries (the old one stays, unused, where it was: nothing after it has to
 * move), and PT_PHDR, if present, describes the moved table (ld.so derives
 * the load bias from it).  e_entry points to the runtime's initializer.
 * With section headers, the table is copied to the end with sections for
 * the new segments, so that objdump, gdb and readelf -S show them, and with
 * the unwind tables and function names of the runtime and the hook, so
 * that gdb and perf can walk and name their frames (debugsec.h).
 */
#ifndef ZP_SEGMENT_H
#define ZP_SEGMENT_H

#include "blob.h"
#include "dynamic.h"
#include "elffile.h"
#include "embed.h"
#include "image.h"
#include "layout.h"
#include "findsites.h"

/* Fill the segments of lo (zp_layout_plan) in im.  dyn: a new interpreter /
 * library path (bundles), or NULL; its DT_STRTAB is set to where the new
 * .dynstr went.  desc_flags: the bits of zp_desc.flags the options decide
 * (the page-0 policy). */
int zp_segment_add(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_sites *sites,
		   const struct zp_embed *hook, struct zp_dynedit *dyn, const struct zp_layout *lo,
		   uint32_t desc_flags, struct zp_image *im);

/* Does the file already carry zprewrite's segments? */
int zp_segment_is_rewritten(const struct zp_elf *e);

#endif /* ZP_SEGMENT_H */
