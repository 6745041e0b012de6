/*
 * ptest.h - small helpers shared by the test programs in tests/programs/.
 *
 * The programs are built three ways (glibc -static, glibc -static-pie, musl
 * -static) and run both unpatched and rewritten by zprewrite; the test
 * scripts compare what they print.  So everything printed must be
 * deterministic (no pids, addresses or times), and every check prints a line
 * that names it.  raw_syscallN() issue the `syscall` instruction inline, so
 * each use is a site of its own in the function that contains it: the
 * programs do not depend on which of libc's wrappers a libc happens to use.
 */
#ifndef PTEST_H
#define PTEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static inline long raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
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
static inline long raw_syscall0(long nr) { return raw_syscall6(nr, 0, 0, 0, 0, 0, 0); }
static inline long raw_syscall2(long nr, long a, long b) { return raw_syscall6(nr, a, b, 0, 0, 0, 0); }
static inline long raw_syscall3(long nr, long a, long b, long c) { return raw_syscall6(nr, a, b, c, 0, 0, 0); }

#define PTEST_LINE_MAX 512

/* Format into buf (PTEST_LINE_MAX bytes); the length, cut to what fits. */
static inline int format_line(char *buf, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, PTEST_LINE_MAX, fmt, ap);
	return n > PTEST_LINE_MAX - 1 ? PTEST_LINE_MAX - 1 : n;
}

/* Print a line with one write(2) so that lines of concurrent processes and
 * threads never mix (stdio buffers would also be duplicated by fork). */
__attribute__((format(printf, 1, 2)))
static inline void say(const char *fmt, ...)
{
	char buf[PTEST_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = format_line(buf, fmt, ap);
	va_end(ap);
	if (n > 0 && write(1, buf, (size_t)n) < 0)
		_exit(120);
}

/* A failed check: say which, and exit with a status the scripts recognise. */
__attribute__((noreturn, format(printf, 1, 2)))
static inline void die(const char *fmt, ...)
{
	char buf[PTEST_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = format_line(buf, fmt, ap);
	va_end(ap);
	if (write(2, "FAILED: ", 8) < 0 || write(2, buf, (size_t)(n > 0 ? n : 0)) < 0 ||
	    write(2, "\n", 1) < 0)
		_exit(101);
	_exit(101);
}

#define CHECK(cond, ...) do { if (!(cond)) die(__VA_ARGS__); } while (0)

/* "ENOENT" and friends, spelt out here because glibc and musl word
 * strerror() differently and the outputs are compared across builds. */
static inline const char *errname(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	case ECHILD: return "ECHILD";
	case EACCES: return "EACCES";
	case E2BIG: return "E2BIG";
	case ENOEXEC: return "ENOEXEC";
	default: return "E?";
	}
}

/* The result of a raw call as text: "-ENOSYS" or the number. */
static inline const char *rawres(long r, char *buf, size_t n)
{
	if (r < 0 && r >= -4095)
		snprintf(buf, n, "-%s(%ld)", errname((int)-r), -r);
	else
		snprintf(buf, n, "%ld", r);
	return buf;
}

#endif /* PTEST_H */
