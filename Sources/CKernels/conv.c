// The convolution's kernels (see ckernels.h): im2col, im2row and col2im for stride-1 windows
// without padding (LeNet's, most 5×5 and 1×1 convolutions, and padded ones through a padded
// copy), and the bias gradient.
#include "ckernels.h"
#include <string.h>

typedef float f4 __attribute__((ext_vector_type(4)));
typedef int32_t i4 __attribute__((ext_vector_type(4)));

static inline f4 load4(const float *p) { f4 v; memcpy(&v, p, sizeof v); return v; }
static inline void store4(float *p, f4 v) { memcpy(p, &v, sizeof v); }

/// The body of im2col for output rows `ow` long. Called with `ow` a constant (see the switch
/// below), the run copies compile to straight vector moves: with `ow` a variable, the loop over
/// each short run cost three to four times as much (20 against 4.8 µs for a LeNet's second
/// convolution's columns, 16×12×12 input and 5×5 windows).
__attribute__((always_inline))
static inline void im2col_runs(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                               float *cols, int64_t row_length, const int64_t ow) {
    const int64_t oh = h - kh + 1;
    float *row = cols;
    for (int64_t ch = 0; ch < c; ch++) {
        for (int64_t i = 0; i < kh; i++) {
            for (int64_t j = 0; j < kw; j++, row += row_length) {
                const float *src = image + (ch * h + i) * w + j;
                for (int64_t oy = 0; oy < oh; oy++) {
                    float *d = row + oy * ow;
                    const float *s = src + oy * w;
                    int64_t k = 0;
                    for (; k + 4 <= ow; k += 4) store4(d + k, load4(s + k));
                    for (; k < ow; k++) d[k] = s[k];
                }
            }
        }
    }
}

/// The body of col2im for output rows `ow` long, a constant as for `im2col_runs`: each run of
/// the columns added onto its place in the image, in the order (c, i, j, oy).
__attribute__((always_inline))
static inline void col2im_runs(const float *cols, int64_t row_length, int64_t c, int64_t h, int64_t w,
                               int64_t kh, int64_t kw, float *image, const int64_t ow) {
    const int64_t oh = h - kh + 1;
    const float *row = cols;
    for (int64_t ch = 0; ch < c; ch++) {
        for (int64_t i = 0; i < kh; i++) {
            for (int64_t j = 0; j < kw; j++, row += row_length) {
                float *dst = image + (ch * h + i) * w + j;
                for (int64_t oy = 0; oy < oh; oy++) {
                    float *d = dst + oy * w;
                    const float *s = row + oy * ow;
                    int64_t k = 0;
                    for (; k + 4 <= ow; k += 4) store4(d + k, load4(d + k) + load4(s + k));
                    for (; k < ow; k++) d[k] += s[k];
                }
            }
        }
    }
}

// One case per output width up to 32 (every width LeNet, the DANN paper's network and a
// ResNet at 32–64 pixels use), the general loop above that: `RUN(n)` with n a constant.
#define TL_WIDTHS(X, RUN) X(1, RUN) X(2, RUN) X(3, RUN) X(4, RUN) X(5, RUN) X(6, RUN) X(7, RUN) \
    X(8, RUN) X(9, RUN) X(10, RUN) X(11, RUN) X(12, RUN) X(13, RUN) X(14, RUN) X(15, RUN) X(16, RUN) \
    X(17, RUN) X(18, RUN) X(19, RUN) X(20, RUN) X(21, RUN) X(22, RUN) X(23, RUN) X(24, RUN) \
    X(25, RUN) X(26, RUN) X(27, RUN) X(28, RUN) X(29, RUN) X(30, RUN) X(31, RUN) X(32, RUN)
#define TL_CASE(n, RUN) case n: RUN(n); return;
#define TL_BY_WIDTH(width, RUN) switch (width) { TL_WIDTHS(TL_CASE, RUN) default: RUN(width); }

void tl_im2col_unpadded(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                        float *cols, int64_t row_length) {
#define TL_RUN(n) im2col_runs(image, c, h, w, kh, kw, cols, row_length, n)
    TL_BY_WIDTH(w - kw + 1, TL_RUN)
#undef TL_RUN
}

void tl_col2im_unpadded(const float *cols, int64_t row_length, int64_t c, int64_t h, int64_t w,
                        int64_t kh, int64_t kw, float *image) {
#define TL_RUN(n) col2im_runs(cols, row_length, c, h, w, kh, kw, image, n)
    TL_BY_WIDTH(w - kw + 1, TL_RUN)
#undef TL_RUN
}

/// The body of im2row for windows `kw` wide, a constant (see the switch below): for each output
/// position, its window's runs of kw inputs, channel by channel and row by row.
__attribute__((always_inline))
static inline void im2row_runs(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, float *rows,
                               const int64_t kw) {
    const int64_t oh = h - kh + 1, ow = w - kw + 1, length = c * kh * kw;
    for (int64_t oy = 0; oy < oh; oy++) {
        for (int64_t ox = 0; ox < ow; ox++) {
            float *d = rows + (oy * ow + ox) * length;
            for (int64_t ch = 0; ch < c; ch++) {
                const float *s = image + (ch * h + oy) * w + ox;
                for (int64_t i = 0; i < kh; i++, d += kw, s += w) memcpy(d, s, (size_t)kw * sizeof(float));
            }
        }
    }
}

void tl_im2row_unpadded(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, float *rows) {
#define TL_RUN(n) im2row_runs(image, c, h, w, kh, rows, n)
    switch (kw) {
        case 1: TL_RUN(1); return;
        case 2: TL_RUN(2); return;
        case 3: TL_RUN(3); return;
        case 4: TL_RUN(4); return;
        case 5: TL_RUN(5); return;
        case 7: TL_RUN(7); return;
        default: TL_RUN(kw);
    }
#undef TL_RUN
}

void tl_plane_sums(const float *g, int64_t images, int64_t channels, int64_t spatial, int64_t first,
                   int64_t count, float *out) {
    int64_t ch = first;
    for (; ch + 4 <= first + count; ch += 4) {
        f4 total = 0;
        for (int64_t img = 0; img < images; img++) {
            const float *p0 = g + (img * channels + ch) * spatial, *p1 = p0 + spatial, *p2 = p1 + spatial,
                        *p3 = p2 + spatial;
            f4 sums = 0;
            int64_t i = 0;
            for (; i + 4 <= spatial; i += 4) {
                // Lane k of a, b, c, d: channel ch + k at i, i + 1, i + 2, i + 3.
                f4 r0 = load4(p0 + i), r1 = load4(p1 + i), r2 = load4(p2 + i), r3 = load4(p3 + i);
                f4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
                f4 t2 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
                sums += __builtin_shufflevector(t0, t1, 0, 1, 4, 5);
                sums += __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
                sums += __builtin_shufflevector(t2, t3, 0, 1, 4, 5);
                sums += __builtin_shufflevector(t2, t3, 2, 3, 6, 7);
            }
            for (; i < spatial; i++) sums += (f4){p0[i], p1[i], p2[i], p3[i]};
            total += sums;
        }
        store4(out + (ch - first), total);
    }
    for (; ch < first + count; ch++) {
        float total = 0;
        for (int64_t img = 0; img < images; img++) {
            const float *p = g + (img * channels + ch) * spatial;
            float sum = 0;
            for (int64_t i = 0; i < spatial; i++) sum += p[i];
            total += sum;
        }
        out[ch - first] = total;
    }
}
