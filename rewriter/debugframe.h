/*
 * debugframe.h - unwind tables (DWARF call frame information) for the code
 * zprewrite adds to a file.
 *
 * A debugger or profiler that stops a thread inside the runtime or a hook
 * needs their CFI to find the application's frames above.  The runtime and
 * a hook built with -g carry it in .debug_frame (runtime.ld; hooks.md):
 * not loaded, with absolute addresses as linked (the runtime at 0, a hook
 * at its own 0).  The rewritten file gets one .debug_frame (gdb reads one
 * section per name): the input's own, if it has one, then the runtime's
 * and the hook's, each FDE moved to where layout.c put its code.  gdb reads
 * it along with the program's .eh_frame, as libdw and libunwind (perf) do.
 * Not .eh_frame: that one is the program's, loaded, found through
 * PT_GNU_EH_FRAME and used by its exceptions; the runtime's unwind
 * information is for looking at a stopped thread only.
 */
#ifndef ZP_DEBUGFRAME_H
#define ZP_DEBUGFRAME_H

#include <stddef.h>
#include <stdint.h>

struct zp_dframe {
	unsigned char *buf;
	size_t size, cap;
};

/* Append bytes as they are (the input's own .debug_frame, which comes
 * first, so that its CIE offsets stay); -1: out of memory. */
int zp_dframe_append_raw(struct zp_dframe *d, const unsigned char *src, size_t size);

/* Append the .debug_frame src of code linked `delta` bytes below where it
 * is now: every FDE's initial location + delta, every CIE pointer + where
 * src starts in d.  0: done; 1: src is not a .debug_frame this understands
 * (nothing appended); -1: out of memory. */
int zp_dframe_append_moved(struct zp_dframe *d, const unsigned char *src, size_t size, uint64_t delta);

void zp_dframe_free(struct zp_dframe *d);

#endif /* ZP_DEBUGFRAME_H */
