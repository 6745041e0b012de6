/*
 * dynamic.h - change a dynamically linked object's interpreter and library
 * search path (for bundles, see bundle.c).
 *
 * Neither fits in place (new strings, a new entry), so both move into the
 * segments zprewrite adds: the new interpreter path and a copy of .dynstr
 * with the new search path go into the R segment, a copy of .dynamic with
 * the new entry into a RW segment of its own (the loader writes DT_DEBUG
 * there).  PT_INTERP, PT_DYNAMIC, DT_STRTAB/DT_STRSZ and the sections .interp,
 * .dynamic and .dynstr are pointed at the copies; the originals stay, unused.
 */
#ifndef ZP_DYNAMIC_H
#define ZP_DYNAMIC_H

#include <stddef.h>
#include <stdint.h>

#include "elffile.h"

struct zp_dynedit {
	const char *interp;        /* new PT_INTERP path, or NULL */
	const char *search;        /* directories to search first ("$ORIGIN/lib"), or NULL */
	const char *needed_dir;    /* with search: name every DT_NEEDED as a file here */
	/* computed by zp_dynedit_prepare: */
	unsigned char *dynstr;     /* the new .dynstr (NULL if unchanged) */
	size_t dynstr_size;
	unsigned char *dynamic;    /* the new .dynamic, to patch DT_STRTAB into */
	size_t dynamic_size;
	size_t strtab_entry;       /* index of DT_STRTAB in it */
	/* NEEDED names that moved: version requirements (DT_VERNEED) name the
	 * library with the same string, and must follow (zp_dynedit_patch). */
	uint64_t *renamed_from, *renamed_to;   /* string offsets */
	size_t nrenamed;
};

/* The dynamic section's entries (from PT_DYNAMIC, up to DT_NULL) in a new
 * array the caller frees; NULL and 0 if there is none. */
int zp_dynamic_entries(const struct zp_elf *e, Elf64_Dyn **out, size_t *n);

/* The string table the dynamic entries d[0..n) name (DT_STRTAB, DT_STRSZ),
 * as file bytes, with *size set to DT_STRSZ; NULL unless all of it is in the
 * file. */
const char *zp_dynamic_strtab(const struct zp_elf *e, const Elf64_Dyn *d, size_t n, uint64_t *size);

/* The string at offset off of such a table, or NULL unless it starts and
 * ends (NUL) inside the table's size bytes; strs may be NULL. */
const char *zp_dynamic_str(const char *strs, uint64_t size, uint64_t off);

/* Read the object's dynamic section and build the new tables. */
int zp_dynedit_prepare(const struct zp_elf *e, struct zp_dynedit *d);
void zp_dynedit_free(struct zp_dynedit *d);

/* Point the new .dynamic's DT_STRTAB at where the new .dynstr was placed. */
void zp_dynedit_set_strtab(struct zp_dynedit *d, uint64_t vaddr);

/* In the output image (a copy of e's bytes at the same offsets), make the
 * version requirements name the renamed libraries. */
void zp_dynedit_patch(const struct zp_dynedit *d, const struct zp_elf *e, unsigned char *image);

/* The object's DT_NEEDED names and search path, for resolving its
 * dependencies: calls fn for each NEEDED; *rpath and *runpath are set to
 * the strings (or NULL). */
int zp_dynamic_needed(const struct zp_elf *e, void (*fn)(const char *name, void *arg), void *arg,
		      const char **rpath, const char **runpath);

#endif /* ZP_DYNAMIC_H */
