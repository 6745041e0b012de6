/*
 * image.h - the output file being built, in memory.
 *
 * The output starts as a byte-for-byte copy of the input (so nothing the
 * section headers do not describe is lost: padding, trailing data, signatures)
 * and grows at the end.  patch.c changes the program's code in place, segment.c
 * appends the new segments and tables and rewrites the headers, output.c
 * writes the result.
 */
#ifndef ZP_IMAGE_H
#define ZP_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct zp_image {
	unsigned char *buf;
	size_t size, cap;
};

int zp_image_init(struct zp_image *im, const unsigned char *bytes, size_t size);
void zp_image_free(struct zp_image *im);

/* Grow to `size` bytes (new bytes are zero). */
int zp_image_resize(struct zp_image *im, size_t size);

/* Append len bytes (NULL: zeros) at `align`; returns the offset, or -1. */
int64_t zp_image_append(struct zp_image *im, const void *bytes, size_t len, size_t align);

#endif /* ZP_IMAGE_H */
