/*
 * entry.h - constants shared by entry.S and the C side of the runtime.
 */
#ifndef ZP_ENTRY_H
#define ZP_ENTRY_H

/* zp_slow_nr has one byte per system call number below this; numbers at or
 * above it always take the slow path (there are none but bad ones). */
#define ZP_SLOW_NR_SIZE 512

#endif /* ZP_ENTRY_H */
