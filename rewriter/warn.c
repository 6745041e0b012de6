/*
 * warn.c - the one place that formats zprewrite's errors and warnings
 * (see warn.h for the convention).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warn.h"

static char error_line[1024];
int zp_quiet;

int zp_error(const char *file, const char *fmt, ...)
{
	va_list ap;

	if (error_line[0])
		return -1;
	int n = snprintf(error_line, sizeof error_line, "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof error_line)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(error_line + n, sizeof error_line - (size_t)n, fmt, ap);
	va_end(ap);
	/* One line, whatever the message contains (a file name with a newline). */
	for (char *p = error_line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

const char *zp_error_message(void)
{
	return error_line[0] ? error_line : NULL;
}

void zp_error_clear(void)
{
	error_line[0] = 0;
}

void zp_warn(const char *file, const char *fmt, ...)
{
	va_list ap;

	if (zp_quiet)
		return;
	fprintf(stderr, "zprewrite: %s: warning: ", file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void zp_bug(const char *file, int line, const char *msg)
{
	fprintf(stderr, "zprewrite: internal error at %s:%d: %s (please report)\n", file, line, msg);
	abort();
}
