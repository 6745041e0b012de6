/*
 * bundle.h - `zprewrite --bundle DIR PROGRAM` (see bundle.c).
 */
#ifndef ZP_BUNDLE_H
#define ZP_BUNDLE_H

#include <stddef.h>

#include "rewrite.h"

/* Rewrite PROGRAM, its loader and all the libraries it needs (and `extra`
 * ones, names or paths) into DIR.  force: replace a non-empty DIR. */
int zp_bundle(const char *dir, const char *program, const char *const *extra, size_t nextra,
	      const struct zp_options *o, int force);

#endif /* ZP_BUNDLE_H */
