/*
 * funcs.h - where functions start and end: the instruction boundaries that
 * decoding starts from.
 *
 * Linear decoding from the start of a function is reliable on x86-64 code
 * produced by compilers (no data inside functions), whereas decoding from an
 * arbitrary byte is not.  Function ranges come from the symbol tables and
 * from the .eh_frame unwind records (FDEs), which stay in stripped binaries.
 */
#ifndef ZP_FUNCS_H
#define ZP_FUNCS_H

#include <stddef.h>
#include <stdint.h>

#include "elffile.h"

enum zp_func_source {
	ZP_FUNC_SYMBOL,      /* .symtab / .dynsym */
	ZP_FUNC_FDE,         /* .eh_frame */
};

struct zp_func {
	uint64_t start, end;
	const char *name;    /* NULL for FDE-only functions */
	enum zp_func_source source;
};

struct zp_funcs {
	struct zp_func *v;   /* sorted by start, then longest first; no duplicates */
	size_t n;
	uint64_t maxlen;     /* longest function, to bound overlap searches */
	size_t nfde;         /* how many FDEs were read */
};

int zp_funcs_collect(const struct zp_elf *e, struct zp_funcs *f);
void zp_funcs_free(struct zp_funcs *f);

/* Call fn for each function whose range contains addr. */
void zp_funcs_covering(const struct zp_funcs *f, uint64_t addr,
		       void (*fn)(const struct zp_func *, void *), void *arg);

#endif /* ZP_FUNCS_H */
