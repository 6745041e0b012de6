/*
 * findsites.h - the system call sites of a file, and what is done with each.
 *
 * findsites.c finds them: every 0f 05 / 0f 34 byte pair in executable code
 * is a candidate; decoding the functions that contain it (funcs.h) tells
 * whether it is a `syscall`/`sysenter` instruction or bytes inside another
 * instruction.  Code no function covers is decoded by a linear sweep, and
 * its sites say so.  decide.c then settles how each site is rewritten, and
 * the later stages read what it settled here.
 */
#ifndef ZP_FINDSITES_H
#define ZP_FINDSITES_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "elffile.h"
#include "funcs.h"

enum zp_site_found {
	ZP_FOUND_FUNC,       /* decoded from the start of a function */
	ZP_FOUND_SWEEP,      /* decoded by a linear sweep of code outside functions */
};

enum zp_stub_kind {
	ZP_STUB_REDZONE,     /* steps below the red zone around the call */
	ZP_STUB_STACKLESS,   /* an exit with no stack left: uses the runtime's */
};

enum zp_decision {
	ZP_PATCH,            /* rewritten to call *%rax */
	ZP_STUB,             /* red zone: a jump to a stub that steps below it first */
	ZP_SKIP,             /* a site left as it is (reason says why) */
	ZP_NOT_INSN,         /* the byte pair is inside another instruction */
};

struct zp_site {
	uint64_t addr;
	enum zp_insn_kind kind;          /* SYSCALL / SYSENTER; OTHER for ZP_NOT_INSN */
	const struct zp_code *code;      /* the section it is in */
	enum zp_site_found found;
	uint64_t decode_start;           /* where the decoding that found it began */
	const char *func_source;         /* "symtab", "eh_frame", "sweep" */
	enum zp_decision decision;
	const char *reason;
	/* ZP_NOT_INSN (findsites.c): the instruction the byte pair is inside,
	 * and its mnemonic (0: bytes that do not decode). */
	uint64_t enclosing;
	int enclosing_mnemonic;
	/* Red zone (decide.c): an instruction that uses the slot `call *%rax`
	 * would overwrite, 0 if none. */
	uint64_t slot_user;
	/* ZP_STUB: the bytes [win_start, win_start + win_len) (>= 5, the site
	 * and whole instructions around it) become a jump to a stub that runs
	 * the moved instructions with the call in the middle. */
	enum zp_stub_kind stub_kind;
	uint64_t win_start;
	uint8_t win_len;
	uint8_t pre_len;                 /* bytes before the site in the window */
};

struct zp_sites {
	struct zp_site *v;   /* sorted by address */
	size_t n;
};

int zp_sites_find(const struct zp_elf *e, const struct zp_funcs *f, struct zp_decoder *d,
		  struct zp_sites *out);
void zp_sites_free(struct zp_sites *s);

/* Counts for the summary line. */
struct zp_site_counts {
	size_t sites, patched, stubs, skipped, not_insn, by_sweep;
};
struct zp_site_counts zp_sites_count(const struct zp_sites *s);

#endif /* ZP_FINDSITES_H */
