/*
 * patch.h - rewrite the accepted sites in the output image.
 */
#ifndef ZP_PATCH_H
#define ZP_PATCH_H

#include "elffile.h"
#include "image.h"
#include "sites.h"

/* Each ZP_PATCH site's 2 bytes (0f 05 / 0f 34) become ff d0, call *%rax. */
int zp_patch_sites(const struct zp_elf *e, const struct zp_sites *sites, struct zp_image *im);

#endif /* ZP_PATCH_H */
