/*
 * layout.h - where everything zprewrite adds to a file goes.
 *
 * The layout is decided before any byte is written, from the input, the
 * decided sites, the runtime, the hook and the dynamic edits: patch.c needs
 * it for the jumps to the stubs, segment.c to fill the new segments.  Each
 * new segment has a role; they follow each other in the file and in memory
 * in the order of enum zp_seg_role, above everything the input has:
 *
 *   R    .zprewrite          ZP_SEG_DESC: struct zp_desc, the new program
 *                            header table, the site table, hook relocations,
 *                            the moved interpreter path and .dynstr
 *   R+X  .zprewrite.text     ZP_SEG_RT_TEXT: the runtime
 *   RW   .zprewrite.data     ZP_SEG_RT_DATA: the runtime's variables
 *   RW   .dynamic            ZP_SEG_DYNAMIC: the moved dynamic section (bundles)
 *   R+X  .zprewrite.stubs    ZP_SEG_STUBS: the red-zone stubs
 *   ...  .zprewrite.hook.*   ZP_SEG_HOOK + i: the hook's segment i (--hook)
 *
 * Placement rules (REFERENCE.md, "Adding a segment to an ELF file"):
 *  - new PT_LOADs go above the highest existing address, page-aligned, with
 *    offset and address congruent modulo the page size, and are listed after
 *    the existing PT_LOADs so the table stays sorted by address;
 *  - the program header table must be inside a PT_LOAD at the address its
 *    offset implies.  Linux >= 5.18 finds it through the segment that holds
 *    it; older kernels compute AT_PHDR as (first segment's address - its
 *    offset) + e_phoff, so the descriptor segment is placed at the file
 *    offset that makes both agree (the gap before it is zeros, typically the
 *    size of .bss).
 * All numbers are derived from the input alone, so the same input and
 * options give the same output, byte for byte.
 */
#ifndef ZP_LAYOUT_H
#define ZP_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "dynamic.h"
#include "elffile.h"
#include "embed.h"
#include "findsites.h"

enum zp_seg_role {
	ZP_SEG_DESC,
	ZP_SEG_RT_TEXT,
	ZP_SEG_RT_DATA,
	ZP_SEG_DYNAMIC,
	ZP_SEG_STUBS,
	ZP_SEG_HOOK,             /* ZP_SEG_HOOK + i for the hook's segment i */
	ZP_SEG_COUNT = ZP_SEG_HOOK + ZP_EMBED_MAX_SEGS,
};

/* One new segment. */
struct zp_newseg {
	int used;                /* this role has a segment in this output */
	const char *name;        /* the section name for its file bytes */
	uint32_t flags;          /* PF_R / PF_W / PF_X */
	uint64_t vaddr, offset, filesz, memsz;
};

/* Where the parts of the descriptor segment are (offsets from its start). */
struct zp_desc_parts {
	uint64_t desc, phdrs, sites, relocs, interp, dynstr, size;
};

struct zp_layout {
	struct zp_newseg seg[ZP_SEG_COUNT];   /* by role */
	size_t nseg;             /* how many are used */
	size_t phnum;            /* entries in the new program header table */
	struct zp_desc_parts in_desc;
	size_t npatched;         /* entries of the site table: in place and in stubs */
	uint64_t hook_base;      /* the address the hook's vaddr 0 goes to */
	uint64_t *stub_vaddr;    /* per site (index in sites->v): its stub, for ZP_STUB sites */
};

/* Decide the layout; -1 (with zp_error) if the file cannot take it. */
int zp_layout_plan(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_sites *sites,
		   const struct zp_embed *hook, const struct zp_dynedit *dyn, struct zp_layout *lo);
void zp_layout_free(struct zp_layout *lo);

#endif /* ZP_LAYOUT_H */
