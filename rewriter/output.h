/*
 * output.h - write the output file safely.
 *
 * The image is written to a temporary file in the output's directory, given
 * the input's mode bits, and renamed over the output only when complete: a
 * failure (or an interrupt) never leaves a half-written output behind, and
 * the input is never opened for writing.
 */
#ifndef ZP_OUTPUT_H
#define ZP_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

/* Refuse an output path that is the input itself (also through links). */
int zp_output_check(const char *in, const char *out);

int zp_output_write(const char *path, mode_t mode, const unsigned char *buf, size_t size);

#endif /* ZP_OUTPUT_H */
