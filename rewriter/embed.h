/*
 * embed.h - a hook object prepared for embedding (--hook HOOK.so).
 *
 * embed.c reads a hook built as a self-contained shared object against
 * zprewrite/hook.h, checks it (x86-64 ELF, its own segments only, relocations
 * the runtime can apply, a zp_hook_enter), and describes it here: its loadable
 * segments with their addresses relative to the hook's base, its entry points,
 * and its relocations, resolved to "hook base + x" or "runtime base + y".
 * layout.c places it; the runtime applies the relocations at start-up, since
 * the final addresses are only known then.
 */
#ifndef ZP_EMBED_H
#define ZP_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "elffile.h"

struct zp_embed_seg {
	uint64_t vaddr, filesz, memsz;   /* vaddr relative to the hook's base */
	uint32_t flags;                  /* PF_R / PF_W / PF_X */
	const unsigned char *bytes;
};

struct zp_embed_reloc {
	uint64_t where;          /* hook-relative address of the 8-byte slot */
	uint64_t value;          /* hook-relative, or runtime-relative if in_runtime */
	int in_runtime;
};

/* Loadable segments a hook may have (it needs two or three). */
#define ZP_EMBED_MAX_SEGS 8

struct zp_embed {
	struct zp_elf elf;       /* the hook file */
	struct zp_embed_seg seg[ZP_EMBED_MAX_SEGS];
	size_t nseg;
	uint64_t span;           /* bytes from the base to the end of the last segment */
	uint64_t init, enter, leave, exit;   /* hook-relative, 0 if absent */
	struct zp_embed_reloc *relocs;
	size_t nrelocs;
	int uses_vector;         /* SSE/AVX/x87 instructions in its code */
};

/* Read and check HOOK.so; runtime symbols it uses are looked up in blob. */
int zp_embed_load(const char *path, const struct zp_blob *blob, struct zp_embed *h);
void zp_embed_free(struct zp_embed *h);

#endif /* ZP_EMBED_H */
