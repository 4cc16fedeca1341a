#include "cimage.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

/// Images larger than this many pixels are refused before decoding (a corrupt header can claim
/// 2^31 × 2^31).
#define TL_MAX_PIXELS (1L << 28)

static void set_error(char *error, size_t size, const char *message) {
    if (size == 0) return;
    snprintf(error, size, "%s", message);
}

enum kind { KIND_UNKNOWN, KIND_PNG, KIND_JPEG, KIND_UNREADABLE };

static enum kind sniff(const char *path, char *error, size_t size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_error(error, size, strerror(errno));
        return KIND_UNREADABLE;
    }
    unsigned char head[8] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0) return KIND_PNG;
    if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return KIND_JPEG;
    set_error(error, size, "not a PNG or JPEG image");
    return KIND_UNKNOWN;
}

// --- JPEG -------------------------------------------------------------------------------------

struct jpeg_failure {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int warned;
};

static void jpeg_fail(j_common_ptr info) {
    struct jpeg_failure *failure = (struct jpeg_failure *)info->err;
    (*info->err->format_message)(info, failure->message);
    longjmp(failure->jump, 1);
}

/// Warnings (level −1) mean corrupt data that libjpeg would fill in grey: kept, and reported as
/// an error once decoding ends. Trace messages (level ≥ 0) are ignored.
static void jpeg_warn(j_common_ptr info, int level) {
    struct jpeg_failure *failure = (struct jpeg_failure *)info->err;
    if (level < 0 && !failure->warned) {
        (*info->err->format_message)(info, failure->message);
        failure->warned = 1;
    }
}

static int jpeg_read(const char *path, int channels, unsigned char **pixels, int *width, int *height,
                     char *error, size_t size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_error(error, size, strerror(errno));
        return 1;
    }
    struct jpeg_decompress_struct info;
    struct jpeg_failure failure;
    memset(&failure, 0, sizeof failure);
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_fail;
    failure.manager.emit_message = jpeg_warn;
    unsigned char *volatile buffer = NULL;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        free(buffer);
        set_error(error, size, failure.message);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, f);
    jpeg_read_header(&info, TRUE);
    if ((long)info.image_width * (long)info.image_height > TL_MAX_PIXELS) {
        snprintf(failure.message, sizeof failure.message, "%u×%u pixels is too large an image",
                 info.image_width, info.image_height);
        longjmp(failure.jump, 1);
    }
    *width = (int)info.image_width;
    *height = (int)info.image_height;
    if (pixels == NULL) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        return 0;
    }
    info.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * (size_t)info.output_components;
    buffer = malloc(stride * info.output_height);
    if (!buffer) {
        snprintf(failure.message, sizeof failure.message, "out of memory");
        longjmp(failure.jump, 1);
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = buffer + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    fclose(f);
    if (failure.warned) {
        free(buffer);
        set_error(error, size, failure.message);
        return 1;
    }
    *pixels = buffer;
    return 0;
}

// --- PNG --------------------------------------------------------------------------------------

static int png_read(const char *path, int channels, unsigned char **pixels, int *width, int *height,
                    char *error, size_t size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path)) {
        set_error(error, size, image.message);
        return 1;
    }
    if ((long)image.width * (long)image.height > TL_MAX_PIXELS) {
        png_image_free(&image);
        snprintf(error, size, "%u×%u pixels is too large an image", image.width, image.height);
        return 1;
    }
    *width = (int)image.width;
    *height = (int)image.height;
    if (pixels == NULL) {
        png_image_free(&image);
        return 0;
    }
    image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    png_color black = {0, 0, 0};
    unsigned char *buffer = malloc(PNG_IMAGE_SIZE(image));
    if (!buffer) {
        png_image_free(&image);
        set_error(error, size, "out of memory");
        return 1;
    }
    if (!png_image_finish_read(&image, &black, buffer, 0, NULL)) {
        set_error(error, size, image.message);
        png_image_free(&image);
        free(buffer);
        return 1;
    }
    *pixels = buffer;
    return 0;
}

// --- Both -------------------------------------------------------------------------------------

int tl_image_format(const char *path) {
    char unused[1];
    switch (sniff(path, unused, 0)) {
    case KIND_PNG: return 1;
    case KIND_JPEG: return 2;
    default: return 0;
    }
}

int tl_image_size(const char *path, int *width, int *height, char *error, size_t error_size) {
    switch (sniff(path, error, error_size)) {
    case KIND_PNG: return png_read(path, 3, NULL, width, height, error, error_size);
    case KIND_JPEG: return jpeg_read(path, 3, NULL, width, height, error, error_size);
    default: return 1;
    }
}

int tl_image_decode(const char *path, int channels, unsigned char **pixels, int *width, int *height,
                    char *error, size_t error_size) {
    *pixels = NULL;
    switch (sniff(path, error, error_size)) {
    case KIND_PNG: return png_read(path, channels, pixels, width, height, error, error_size);
    case KIND_JPEG: return jpeg_read(path, channels, pixels, width, height, error, error_size);
    default: return 1;
    }
}
