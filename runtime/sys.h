/*
 * sys.h - raw Linux system calls for the freestanding runtime.
 *
 * The runtime has no libc: every system call it makes for itself (mapping the
 * trampoline, writing a message, passing a call through) is issued here with
 * the runtime's own `syscall` instruction, which zprewrite never patches, so
 * these calls never come back into the hook.
 */
#ifndef ZP_SYS_H
#define ZP_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>

static inline long zp_sys6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long zp_sys0(long nr) { return zp_sys6(nr, 0, 0, 0, 0, 0, 0); }
static inline long zp_sys1(long nr, long a1) { return zp_sys6(nr, a1, 0, 0, 0, 0, 0); }
static inline long zp_sys2(long nr, long a1, long a2) { return zp_sys6(nr, a1, a2, 0, 0, 0, 0); }
static inline long zp_sys3(long nr, long a1, long a2, long a3)
{ return zp_sys6(nr, a1, a2, a3, 0, 0, 0); }
static inline long zp_sys4(long nr, long a1, long a2, long a3, long a4)
{ return zp_sys6(nr, a1, a2, a3, a4, 0, 0); }

/* A result in [-4095, -1] is -errno, as the kernel returns it. */
static inline int zp_is_err(long ret) { return (unsigned long)ret > -4096UL; }

#endif /* ZP_SYS_H */
