/*
 * rewrite.h - the whole pipeline, as main() drives it:
 *
 *   read ELF (elffile.c) -> find functions (funcs.c) -> find sites (findsites.c)
 *   -> decide (decide.c; verify.c cross-checks with libopcodes)
 *   -> lay out the new segments (layout.c) -> patch (patch.c)
 *   -> add segments (segment.c) -> write (output.c)
 *
 * --list stops after deciding and prints what it would do (list.c); of a
 * file zprewrite already rewrote, it describes the descriptor (descinfo.c).
 */
#ifndef ZP_REWRITE_H
#define ZP_REWRITE_H

#include <stdio.h>

#include "decode.h"
#include "elffile.h"
#include "funcs.h"
#include "findsites.h"
#include "page0.h"

struct zp_options {
	int verify;            /* cross-check every site with libopcodes */
	const char *hook;      /* --hook HOOK.so, or NULL */
	enum zp_page0_policy page0;   /* --page0=, written into zp_desc.flags */
	int page0_given;       /* --page0 was given (--list then names the policy) */
	int complete;          /* --complete: ZP_DESC_COMPLETE */
	int vdso;              /* --vdso: ZP_DESC_VDSO */
	/* For bundles (bundle.c): */
	const char *interp;    /* new PT_INTERP, or NULL */
	const char *search;    /* library directories to search first, or NULL */
	const char *needed_dir; /* with search: where every DT_NEEDED library is */
};

/* What the analysis of one file found. */
struct zp_analysis {
	struct zp_elf elf;
	struct zp_funcs funcs;
	struct zp_sites sites;
	struct zp_decoder *dec;
};

int zp_analyze(const char *path, const struct zp_options *o, struct zp_analysis *a);
void zp_analysis_free(struct zp_analysis *a);

int zp_rewrite_file(const char *in, const char *out, const struct zp_options *o);
int zp_list_file(const char *in, const struct zp_options *o, FILE *to);

/* list.c (the options: --page0 given explicitly is named in the summary) */
void zp_list_print(const struct zp_analysis *a, const struct zp_options *o, FILE *to);

#endif /* ZP_REWRITE_H */
