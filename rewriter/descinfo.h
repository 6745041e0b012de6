/*
 * descinfo.h - `zprewrite --list` of a file zprewrite already rewrote.
 *
 * Such a file has no sites left to decide; what matters to its user is what
 * the rewrite put into it: the page-0 policy, whether a hook is embedded, how
 * many sites the runtime will recognize.  All of that is in its struct
 * zp_desc (runtime/zp_abi.h), which this module finds and describes.
 */
#ifndef ZP_DESCINFO_H
#define ZP_DESCINFO_H

#include <stdio.h>

#include "elffile.h"

/* Print a few "# key: value" lines and a "# summary:" line about the
 * descriptor of e (which zp_segment_is_rewritten() recognized); -1 with
 * zp_error if it is cut short. */
int zp_descinfo_list(const struct zp_elf *e, FILE *to);

#endif /* ZP_DESCINFO_H */
