/*
 * stubcfi.h - unwind tables for the red-zone stubs (stub.h).
 *
 * A stub runs instructions moved from its site's window, so at each of its
 * instructions the thread is where it would be at one instruction of the
 * original function, with the same registers, and the same stack pointer
 * but for the 128 bytes the stub steps below the red zone.  The stub's
 * frame says just that: its caller is the original function at that
 * instruction, with rsp = the CFA (rsp, or rsp + 128 around the call), and
 * every other register as it is.  The original function's own unwind
 * information (the program's .eh_frame) then does the rest: a backtrace
 * from zp_entry shows the stub, then the function the site is in and its
 * callers.  The return address is given as an expression of the stub's
 * own pc (DW_OP_breg16), so it holds at whatever address the file loads.
 * The stackless exit's stub has taken a stack of the runtime's: there,
 * the thread has no caller any more (the return address is undefined).
 */
#ifndef ZP_STUBCFI_H
#define ZP_STUBCFI_H

#include "debugframe.h"
#include "findsites.h"
#include "layout.h"

/* Append a CIE and an FDE for each stub of lo to d; -1: out of memory. */
int zp_stubcfi_append(struct zp_dframe *d, const struct zp_sites *sites, const struct zp_layout *lo);

#endif /* ZP_STUBCFI_H */
