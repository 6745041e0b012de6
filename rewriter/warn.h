/*
 * warn.h - how zprewrite reports problems.
 *
 * Every error a user can cause ends up as exactly one line on stderr,
 *     zprewrite: FILE: what is wrong
 * and a non-zero exit status.  Functions deep in the pipeline do not print:
 * they record the first error with zp_error() (which returns -1, so that
 * `return zp_error(...)` reads naturally) and return a failure; main() prints
 * the recorded line once everything is cleaned up.  Warnings (zp_warn) are
 * printed at once and do not change the exit status.
 */
#ifndef ZP_WARN_H
#define ZP_WARN_H

#include <stdarg.h>

/* Record "FILE: message" as the error to report (the first one wins). */
int zp_error(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The recorded error ("FILE: message"), or NULL. */
const char *zp_error_message(void);

/* Forget the recorded error (the caller handled it). */
void zp_error_clear(void);

/* Print "zprewrite: FILE: warning: message" now (unless --quiet). */
void zp_warn(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int zp_quiet;

/* Internal invariant broken: a bug in zprewrite, not bad input. */
#define ZP_BUG(msg) zp_bug(__FILE__, __LINE__, msg)
void zp_bug(const char *file, int line, const char *msg) __attribute__((noreturn));

#endif /* ZP_WARN_H */
