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

// Direct convolution for a handful of output channels (see ckernels.h).

typedef float f8 __attribute__((ext_vector_type(8)));

static inline f8 load8(const float *p) { f8 v; memcpy(&v, p, sizeof v); return v; }

/// acc + a·b: one fused multiply-add where the kernel runs with `fused` (AVX2 and FMA), else the
/// product rounded, then the sum (the chains ckernels.h states).
__attribute__((always_inline))
static inline f8 mul_add(f8 a, f8 b, f8 acc, const int fused) {
    if (fused) return __builtin_elementwise_fma(a, b, acc);
    {
#pragma clang fp contract(off)
        return acc + a * b;
    }
}

/// B output channels × X vectors of 8 outputs along one output row, starting at `in` (the window's
/// top-left input for the first output) and `out`: every tap (c, i, j), `offsets[t]` from `in`,
/// read as X vectors and added, times each channel's weight, onto the B × X sums, which start
/// from the bias (or 0). `valid` of the X·8 lanes are written, in each of the B planes
/// (`plane_out` apart).
__attribute__((always_inline))
static inline void direct_block(const float *in, const int64_t *offsets, const float *weights, int64_t taps,
                                const float *bias, float *out, int64_t plane_out, int64_t valid,
                                const int B, const int X, const int fused) {
    f8 acc[3][4];
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) {
        f8 start = bias ? bias[b] : 0.0f;
#pragma clang loop unroll(full)
        for (int x = 0; x < X; x++) acc[b][x] = start;
    }
    for (int64_t t = 0; t < taps; t++) {
        const float *row = in + offsets[t];
        f8 s[3];
#pragma clang loop unroll(full)
        for (int b = 0; b < B; b++) s[b] = weights[b * taps + t];
#pragma clang loop unroll(full)
        for (int x = 0; x < X; x++) {
            f8 v = load8(row + 8 * x);
#pragma clang loop unroll(full)
            for (int b = 0; b < B; b++) acc[b][x] = mul_add(s[b], v, acc[b][x], fused);
        }
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) {
        float *o = out + b * plane_out;
#pragma clang loop unroll(full)
        for (int x = 0; x < X; x++) {
            int64_t lanes = valid - 8 * x;
            if (lanes >= 8) memcpy(o + 8 * x, &acc[b][x], sizeof(f8));
            else if (lanes > 0) memcpy(o + 8 * x, &acc[b][x], (size_t)lanes * sizeof(float));
        }
    }
}

#define TL_DIRECT_B(B, X) direct_block(src, offsets, weights + first * taps, taps, bias ? bias + first : 0, dst, \
                                       plane_out, valid, B, X, fused)
#define TL_DIRECT_X(X) switch (count) { case 1: TL_DIRECT_B(1, X); break; case 2: TL_DIRECT_B(2, X); break; \
                                        default: TL_DIRECT_B(3, X); break; }

__attribute__((always_inline))
static inline void conv_direct(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                               const float *weights, int64_t o, const float *bias, float *out, int64_t *offsets,
                               const int fused) {
    const int64_t oh = h - kh + 1, ow = w - kw + 1, taps = c * kh * kw, plane_out = oh * ow;
    int64_t t = 0;
    for (int64_t ch = 0; ch < c; ch++) {
        for (int64_t i = 0; i < kh; i++) {
            for (int64_t j = 0; j < kw; j++) offsets[t++] = (ch * h + i) * w + j;
        }
    }
    for (int64_t oy = 0; oy < oh; oy++) {
        for (int64_t first = 0; first < o; first += 3) {
            const int64_t count = o - first < 3 ? o - first : 3;
            for (int64_t x0 = 0; x0 < ow; x0 += 32) {
                const float *src = image + oy * w + x0;
                float *dst = out + first * plane_out + oy * ow + x0;
                const int64_t valid = ow - x0 < 32 ? ow - x0 : 32;
                switch ((valid + 7) / 8) {
                    case 1: TL_DIRECT_X(1); break;
                    case 2: TL_DIRECT_X(2); break;
                    case 3: TL_DIRECT_X(3); break;
                    default: TL_DIRECT_X(4); break;
                }
            }
        }
    }
}

#undef TL_DIRECT_X
#undef TL_DIRECT_B

// `name`: `body` compiled for AVX2 and FMA (fused multiply-adds) where the CPU has them, for the
// baseline (multiply, then add) elsewhere. PARAMS is the parameter list, the rest its names.
#define TL_DISPATCHED(name, body, PARAMS, ...) \
    __attribute__((target("avx2,fma"))) static void body##_fma PARAMS { body(__VA_ARGS__, 1); } \
    static void body##_plain PARAMS { body(__VA_ARGS__, 0); } \
    void name PARAMS { \
        if (tl_conv_direct_fused()) body##_fma(__VA_ARGS__); \
        else body##_plain(__VA_ARGS__); \
    }

int tl_conv_direct_fused(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

TL_DISPATCHED(tl_conv_direct, conv_direct,
              (const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, const float *weights,
               int64_t o, const float *bias, float *out, int64_t *offsets),
              image, c, h, w, kh, kw, weights, o, bias, out, offsets)

/// The sum of a vector's lanes, in a fixed order: halves added, then ((0 + 2) + (1 + 3)).
__attribute__((always_inline))
static inline float lane_sum(f8 v) {
    f4 h = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
    return (h[0] + h[2]) + (h[1] + h[3]);
}

/// B output channels × J taps (c, i, j0 + jj) of the weight gradient: for every output row and
/// vector of 8 outputs, the output gradient's vectors times the inputs under them at each tap,
/// summed lane by lane over the rows and vectors, then over the lanes, and added onto `dw`.
__attribute__((always_inline))
static inline void weight_block(const float *image, int64_t w, int64_t oh, int64_t vectors, const float *grad,
                                int64_t grad_row, int64_t grad_plane, float *dw, int64_t taps,
                                const int B, const int J, const int fused) {
    f8 acc[3][3];
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) {
#pragma clang loop unroll(full)
        for (int jj = 0; jj < J; jj++) acc[b][jj] = 0;
    }
    for (int64_t y = 0; y < oh; y++) {
        const float *in = image + y * w, *g = grad + y * grad_row;
        for (int64_t xv = 0; xv < vectors; xv++) {
            f8 gv[3];
#pragma clang loop unroll(full)
            for (int b = 0; b < B; b++) gv[b] = load8(g + b * grad_plane + 8 * xv);
#pragma clang loop unroll(full)
            for (int jj = 0; jj < J; jj++) {
                f8 v = load8(in + 8 * xv + jj);
#pragma clang loop unroll(full)
                for (int b = 0; b < B; b++) acc[b][jj] = mul_add(gv[b], v, acc[b][jj], fused);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < B; b++) {
#pragma clang loop unroll(full)
        for (int jj = 0; jj < J; jj++) dw[b * taps + jj] += lane_sum(acc[b][jj]);
    }
}

#define TL_WEIGHT_B(B, J) weight_block(image + ch * h * w + i * w + j0, w, oh, vectors, grad + first * grad_plane, \
                                       grad_row, grad_plane, dw + (first * c + ch) * kh * kw + i * kw + j0, taps, B, J, fused)
#define TL_WEIGHT_J(J) switch (count) { case 1: TL_WEIGHT_B(1, J); break; case 2: TL_WEIGHT_B(2, J); break; \
                                        default: TL_WEIGHT_B(3, J); break; }

__attribute__((always_inline))
static inline void conv_direct_weights(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                                       const float *grad, int64_t o, int64_t ow, int64_t grad_row, float *dw,
                                       const int fused) {
    const int64_t oh = h - kh + 1, taps = c * kh * kw, vectors = (ow + 7) / 8, grad_plane = oh * grad_row;
    for (int64_t ch = 0; ch < c; ch++) {
        for (int64_t i = 0; i < kh; i++) {
            for (int64_t j0 = 0; j0 < kw; j0 += 3) {
                for (int64_t first = 0; first < o; first += 3) {
                    const int64_t count = o - first < 3 ? o - first : 3;
                    switch (kw - j0 < 3 ? kw - j0 : 3) {
                        case 1: TL_WEIGHT_J(1); break;
                        case 2: TL_WEIGHT_J(2); break;
                        default: TL_WEIGHT_J(3); break;
                    }
                }
            }
        }
    }
}

#undef TL_WEIGHT_J
#undef TL_WEIGHT_B

TL_DISPATCHED(tl_conv_direct_weight_gradient, conv_direct_weights,
              (const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, const float *grad,
               int64_t o, int64_t ow, int64_t grad_row, float *dw),
              image, c, h, w, kh, kw, grad, o, ow, grad_row, dw)

#undef TL_DISPATCHED
