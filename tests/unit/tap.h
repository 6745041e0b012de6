/*
 * tap.h - the little TAP producer the unit tests share (tests/unit/).
 *
 * Each test program prints "ok N - name" or "not ok N - name # why" per
 * check and the plan "1..N" at the end, and exits non-zero if any check
 * failed.  "# TODO" marks a known, reported deviation: shown, not counted
 * as a failure (TAP's own rule).  Header-only: each program has one
 * translation unit of its own plus the code under test.
 */
#ifndef ZP_TAP_H
#define ZP_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

#define TAP_UNUSED __attribute__((unused))

/* One check: ok is its result; why (printf-style) says what went wrong. */
__attribute__((format(printf, 3, 4))) TAP_UNUSED
static int tap_check(int ok, const char *name, const char *why, ...)
{
	tap_n++;
	if (ok) {
		printf("ok %d - %s\n", tap_n, name);
		return 1;
	}
	va_list ap;
	va_start(ap, why);
	printf("not ok %d - %s # ", tap_n, name);
	vprintf(why, ap);
	printf("\n");
	va_end(ap);
	tap_failed++;
	return 0;
}

/* A check known to fail for a reported reason (TAP "# TODO"). */
TAP_UNUSED static void tap_todo(int ok, const char *name, const char *reason)
{
	tap_n++;
	printf("%sok %d - %s # TODO %s\n", ok ? "" : "not ", tap_n, name, reason);
}

/* The plan, and the exit status. */
TAP_UNUSED static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif /* ZP_TAP_H */
