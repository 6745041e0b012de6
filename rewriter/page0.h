/*
 * page0.h - the page-0 policies (--page0=, ZP_PAGE0): names and meaning.
 *
 * A rewritten program finds its trampoline at address 0 when it can map it
 * there, and otherwise takes the runtime's slower trap path.  Which of the
 * two it tries is the policy written into zp_desc.flags (runtime/zp_abi.h);
 * the runtime reads it, and the environment variable ZP_PAGE0 overrides it.
 * The rewriter's option parsing, --list and --check-host share the names and
 * the one-line descriptions here, so that they always say the same thing.
 */
#ifndef ZP_PAGE0_H
#define ZP_PAGE0_H

#include <stdint.h>

#include "zp_abi.h"

/* The policy named `name` ("auto", "fast", "require", "never"), or -1. */
int zp_page0_parse(const char *name);

/* The name of a policy (0..3). */
const char *zp_page0_name(enum zp_page0_policy p);

/* What a policy asks for, in a few words ("page 0 when it can be mapped
 * execute-only, else the trap path"). */
const char *zp_page0_meaning(enum zp_page0_policy p);

/* The bits of zp_desc.flags that carry a policy, and back. */
uint32_t zp_page0_flags(enum zp_page0_policy p);
enum zp_page0_policy zp_page0_of_flags(uint32_t flags);

/* "auto, fast, require, never": for messages. */
#define ZP_PAGE0_NAMES "auto, fast, require, never"

#endif /* ZP_PAGE0_H */
