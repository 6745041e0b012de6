/*
 * benchutil.h - helpers shared by the bench programs (mech.c, interleave.c,
 * vmcost.c): an error exit, a clock in ns, the median of some doubles.
 *
 * Define BENCH_NAME (the program's name, the prefix of its error messages)
 * before including this file.  Everything is static inline, so a program
 * pays only for what it uses.  It is found next to the including file, so the
 * build lines need no -I (see bench/run.sh).
 */
#ifndef ZPB_BENCHUTIL_H
#define ZPB_BENCHUTIL_H

#ifndef BENCH_NAME
#error "define BENCH_NAME before including benchutil.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "NAME: message" on stderr, then exit(1). */
static inline void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(BENCH_NAME ": ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The time on clock `id`, in ns (through the vDSO: no system call). */
static inline double clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Wall time (CLOCK_MONOTONIC), in ns. */
static inline double wall_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of v[0..n-1], n >= 1; v is left as it is (a sorted copy). */
static inline double median(const double *v, int n)
{
	double *t = malloc((size_t)n * sizeof *t);
	if (!t)
		die("out of memory");
	memcpy(t, v, (size_t)n * sizeof *t);
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	double m = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	free(t);
	return m;
}

#endif
