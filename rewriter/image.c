/*
 * image.c - the growable output buffer (see image.h).
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"

int zp_image_init(struct zp_image *im, const unsigned char *bytes, size_t size)
{
	im->cap = size + (size >> 3) + 65536;
	im->buf = malloc(im->cap);
	if (!im->buf)
		return -1;
	memcpy(im->buf, bytes, size);
	im->size = size;
	return 0;
}

void zp_image_free(struct zp_image *im)
{
	free(im->buf);
	memset(im, 0, sizeof *im);
}

int zp_image_resize(struct zp_image *im, size_t size)
{
	if (size > im->cap) {
		size_t cap = im->cap * 2 > size ? im->cap * 2 : size;
		unsigned char *nb = realloc(im->buf, cap);
		if (!nb)
			return -1;
		im->buf = nb;
		im->cap = cap;
	}
	if (size > im->size)
		memset(im->buf + im->size, 0, size - im->size);
	im->size = size;
	return 0;
}

int64_t zp_image_append(struct zp_image *im, const void *bytes, size_t len, size_t align)
{
	size_t off = (im->size + align - 1) & ~(align - 1);

	if (zp_image_resize(im, off + len))
		return -1;
	if (bytes)
		memcpy(im->buf + off, bytes, len);
	return (int64_t)off;
}
