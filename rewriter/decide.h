/*
 * decide.h - settle how each site found by findsites.c is rewritten.
 *
 * `call *%rax` stores its return address at -8 from the stack pointer the
 * site had: inside the 128-byte red zone that leaf code may use to keep data
 * below the stack pointer, across a `syscall` too.  decide.c analyses the
 * function around each site (stack-pointer tracking over its instructions,
 * with frame-pointer aliases) and keeps `call *%rax` only where nothing lives
 * in that slot.
 */
#ifndef ZP_DECIDE_H
#define ZP_DECIDE_H

#include "decode.h"
#include "elffile.h"
#include "funcs.h"
#include "findsites.h"

int zp_decide(const struct zp_elf *e, const struct zp_funcs *f, struct zp_decoder *d,
	      struct zp_sites *sites);

#endif /* ZP_DECIDE_H */
