// PNG and JPEG decoding for tl's image loading, through libpng's simplified API and libjpeg(-turbo).
// libjpeg reports errors by calling a function that must not return: that needs setjmp/longjmp,
// which Swift cannot do, hence this small C layer. Every function returns 0 on success and
// otherwise writes a one-line reason into `error` (at most `error_size` bytes, terminated).
#ifndef TL_CIMAGE_H
#define TL_CIMAGE_H

#include <stddef.h>

/// 1 for a PNG file, 2 for a JPEG file (by their first bytes), 0 for anything else or an
/// unreadable file.
int tl_image_format(const char *path);

/// The width and height of a PNG or JPEG file, read from its header only.
int tl_image_size(const char *path, int *width, int *height, char *error, size_t error_size);

/// Decodes a PNG or JPEG file into 8-bit pixels, row by row, `channels` (1: grey, 3: RGB) per
/// pixel, converting as needed (transparency is composed on black). `*pixels` is allocated with
/// malloc; the caller frees it. A file with corrupt data is an error, not a partly grey image.
int tl_image_decode(const char *path, int channels, unsigned char **pixels, int *width, int *height,
                    char *error, size_t error_size);

#endif
