/*
 * blob.h - the runtime that zprewrite copies into every rewritten file.
 *
 * The runtime is built as a small ELF file linked at address 0
 * (runtime/runtime.ld) with one R+X and one RW segment, and embedded in the
 * zprewrite executable (blob_data.S).  It is copied as is; the only bytes changed
 * in each copy are its link to the object's descriptor (zp_desc_offset).
 * Its unwind tables (.debug_frame) and symbols go into the output's
 * non-loaded sections, moved to where it lands (debugsec.h).
 */
#ifndef ZP_BLOB_H
#define ZP_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct zp_blob {
	const unsigned char *text;   /* the R+X segment, linked at text_vaddr */
	uint64_t text_vaddr, text_size;
	const unsigned char *data;   /* the RW segment's file bytes */
	uint64_t data_vaddr, data_filesz, data_memsz;
	uint64_t start;              /* zp_start: the new e_entry */
	uint64_t desc_offset;        /* zp_desc_offset: where the link goes */
	const unsigned char *debug_frame;   /* its unwind tables, as linked */
	uint64_t debug_frame_size;
	void *elf;                   /* the runtime's Elf, for symbol lookups */
};

/* Read the embedded runtime; a failure here is a build problem. */
int zp_blob_load(struct zp_blob *b);
void zp_blob_free(struct zp_blob *b);

/* Address (link-time, blob-relative) of a runtime symbol; -1 if absent. */
int zp_blob_symbol(const struct zp_blob *b, const char *name, uint64_t *addr);

#endif /* ZP_BLOB_H */
