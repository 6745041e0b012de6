/*
 * debugsec.h - the non-loaded sections that make the code zprewrite adds
 * visible to debuggers and profilers: its unwind tables in .debug_frame
 * (the runtime's and the hook's: debugframe.h; the stubs': stubcfi.h) and
 * its function names in .symtab (symtab.h).
 *
 * They are appended to the image.  The input's own .debug_frame, .symtab
 * and .strtab, when it has them, are extended (their contents first, so
 * that nothing that refers into them changes) and their section headers
 * point at the copies; otherwise new sections are added.  Only running out
 * of memory makes this fail: an input whose tables cannot be extended
 * (compressed, linked unusually) gets fewer of them, with a warning.
 */
#ifndef ZP_DEBUGSEC_H
#define ZP_DEBUGSEC_H

#include "blob.h"
#include "elffile.h"
#include "embed.h"
#include "image.h"
#include "findsites.h"
#include "layout.h"

#define ZP_DEBUGSEC_MAX 3

struct zp_debugsec {
	struct {
		size_t index;            /* an input section ... */
		uint64_t offset, size;   /* ... whose contents are now here */
	} moved[ZP_DEBUGSEC_MAX];
	size_t nmoved;
	const char *names[ZP_DEBUGSEC_MAX];
	GElf_Shdr news[ZP_DEBUGSEC_MAX];   /* new sections (sh_name left to the caller) */
	size_t nnew;
};

/* role_shndx[r]: the index of the section that holds role r's bytes (0 if
 * none); first: the index the first of out->news will get. */
int zp_debugsec_add(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_embed *hook,
		    const struct zp_sites *sites, const struct zp_layout *lo, const size_t *role_shndx,
		    size_t first, struct zp_image *im, struct zp_debugsec *out);

#endif /* ZP_DEBUGSEC_H */
