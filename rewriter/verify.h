/*
 * verify.h - a second opinion on each site from binutils' disassembler.
 *
 * Zydis finds the sites; libopcodes (the disassembler behind objdump), an
 * independent decoder, must agree that each one is a `syscall`/`sysenter` at
 * an instruction boundary when decoding from the same starting point.  A site
 * the two disagree on is not patched.  Run with --verify (the tests always do).
 */
#ifndef ZP_VERIFY_H
#define ZP_VERIFY_H

#include "elffile.h"
#include "findsites.h"

/* Returns the number of sites demoted to ZP_SKIP, or -1 on error. */
int zp_verify_sites(const struct zp_elf *e, struct zp_sites *sites);

#endif /* ZP_VERIFY_H */
