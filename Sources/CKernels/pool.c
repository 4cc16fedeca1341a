// 2×2, stride-2 max pooling: see ckernels.h. Four windows at a time from two input rows split
// into even and odd columns; the rest one window at a time with the same rules.
#include "ckernels.h"
#include <string.h>

typedef float f4 __attribute__((ext_vector_type(4)));
typedef int32_t i4 __attribute__((ext_vector_type(4)));

static inline f4 load4(const float *p) { f4 v; memcpy(&v, p, sizeof v); return v; }
static inline void store4(float *p, f4 v) { memcpy(p, &v, sizeof v); }
static inline void store4i(int32_t *p, i4 v) { memcpy(p, &v, sizeof v); }
static inline i4 load4i(const int32_t *p) { i4 v; memcpy(&v, p, sizeof v); return v; }

/// Lanes of `a` where `mask` is set, else of `b` (bit selects: NaNs and signed zeros pass as they are).
static inline f4 select4(i4 mask, f4 a, f4 b) { return (f4)((mask & (i4)a) | (~mask & (i4)b)); }

/// ReLU as pooling reads it: 0 wherever the value is not positive (NaN included).
static inline f4 relu4(f4 v) { return (f4)((v > 0) & (i4)v); }
static inline float relu1(float v) { return v > 0 ? v : 0; }

/// `v` (at `position`) replaces the best so far where it is larger, or is a NaN and the best is not
/// (with `relu`, a constant, no read is a NaN and that rule is left out: half the instructions).
static inline void keep4(const int relu, f4 *best, i4 *at, f4 v, i4 position) {
    i4 take = relu ? (v > *best) : (v > *best) | ((v != v) & (*best == *best));
    *best = select4(take, v, *best);
    *at = (take & position) | (~take & *at);
}

static inline void keep1(const int relu, float *best, int32_t *at, float v, int32_t position) {
    if (v > *best || (!relu && v != v && *best == *best)) { *best = v; *at = position; }
}

__attribute__((always_inline))
static inline void maxpool2x2_forward(const float *input, int64_t planes, int64_t h, int64_t w, const int relu,
                                      float *values, int32_t *positions) {
    const int64_t oh = h / 2, ow = w / 2;
    for (int64_t p = 0; p < planes; p++) {
        const float *plane = input + p * h * w;
        float *out = values + p * oh * ow;
        int32_t *at = positions + p * oh * ow;
        for (int64_t oy = 0; oy < oh; oy++) {
            const float *top = plane + 2 * oy * w, *bottom = top + w;
            const int32_t row = (int32_t)(2 * oy * w);
            int64_t ox = 0;
            for (; ox + 4 <= ow; ox += 4) {
                f4 t0 = load4(top + 2 * ox), t1 = load4(top + 2 * ox + 4);
                f4 b0 = load4(bottom + 2 * ox), b1 = load4(bottom + 2 * ox + 4);
                if (relu) { t0 = relu4(t0); t1 = relu4(t1); b0 = relu4(b0); b1 = relu4(b1); }
                f4 a = __builtin_shufflevector(t0, t1, 0, 2, 4, 6), b = __builtin_shufflevector(t0, t1, 1, 3, 5, 7);
                f4 c = __builtin_shufflevector(b0, b1, 0, 2, 4, 6), d = __builtin_shufflevector(b0, b1, 1, 3, 5, 7);
                i4 first = (i4){0, 2, 4, 6} + (row + (int32_t)(2 * ox));
                f4 best = a;
                i4 where = first;
                keep4(relu, &best, &where, b, first + 1);
                keep4(relu, &best, &where, c, first + (int32_t)w);
                keep4(relu, &best, &where, d, first + (int32_t)w + 1);
                store4(out + oy * ow + ox, best);
                store4i(at + oy * ow + ox, where);
            }
            for (; ox < ow; ox++) {
                const int32_t first = row + (int32_t)(2 * ox);
                float a = top[2 * ox], b = top[2 * ox + 1], c = bottom[2 * ox], d = bottom[2 * ox + 1];
                if (relu) { a = relu1(a); b = relu1(b); c = relu1(c); d = relu1(d); }
                float best = a;
                int32_t where = first;
                keep1(relu, &best, &where, b, first + 1);
                keep1(relu, &best, &where, c, first + (int32_t)w);
                keep1(relu, &best, &where, d, first + (int32_t)w + 1);
                out[oy * ow + ox] = best;
                at[oy * ow + ox] = where;
            }
        }
    }
}

void tl_maxpool2x2_forward(const float *input, int64_t planes, int64_t h, int64_t w, int relu,
                           float *values, int32_t *positions) {
    // The ReLU's reads are never NaN: its kernel leaves out the NaN rule.
    if (relu) maxpool2x2_forward(input, planes, h, w, 1, values, positions);
    else maxpool2x2_forward(input, planes, h, w, 0, values, positions);
}

void tl_maxpool2x2_backward(const float *grad, const int32_t *positions, const float *maxima,
                            int64_t planes, int64_t h, int64_t w, float *dx) {
    const int64_t oh = h / 2, ow = w / 2;
    const f4 zero = 0;
    for (int64_t p = 0; p < planes; p++) {
        const float *g = grad + p * oh * ow, *kept = maxima ? maxima + p * oh * ow : 0;
        const int32_t *at = positions + p * oh * ow;
        float *plane = dx + p * h * w;
        for (int64_t oy = 0; oy < oh; oy++) {
            float *top = plane + 2 * oy * w, *bottom = top + w;
            const int32_t row = (int32_t)(2 * oy * w);
            int64_t ox = 0;
            for (; ox + 4 <= ow; ox += 4) {
                // 0 + g, as adding onto a cleared gradient gives (−0 becomes +0).
                f4 v = load4(g + oy * ow + ox) + zero;
                if (kept) v = select4(load4(kept + oy * ow + ox) > 0, v, zero);
                i4 code = load4i(at + oy * ow + ox) - ((i4){0, 2, 4, 6} + (row + (int32_t)(2 * ox)));
                f4 a = select4(code == 0, v, zero), b = select4(code == 1, v, zero);
                f4 c = select4(code == (int32_t)w, v, zero), d = select4(code == (int32_t)w + 1, v, zero);
                store4(top + 2 * ox, __builtin_shufflevector(a, b, 0, 4, 1, 5));
                store4(top + 2 * ox + 4, __builtin_shufflevector(a, b, 2, 6, 3, 7));
                store4(bottom + 2 * ox, __builtin_shufflevector(c, d, 0, 4, 1, 5));
                store4(bottom + 2 * ox + 4, __builtin_shufflevector(c, d, 2, 6, 3, 7));
            }
            for (; ox < ow; ox++) {
                float v = 0.0f + g[oy * ow + ox];
                if (kept && !(kept[oy * ow + ox] > 0)) v = 0;
                const int32_t code = at[oy * ow + ox] - (row + (int32_t)(2 * ox));
                top[2 * ox] = code == 0 ? v : 0;
                top[2 * ox + 1] = code == 1 ? v : 0;
                bottom[2 * ox] = code == (int32_t)w ? v : 0;
                bottom[2 * ox + 1] = code == (int32_t)w + 1 ? v : 0;
            }
            // An odd last column belongs to no window.
            if (w & 1) { top[w - 1] = 0; bottom[w - 1] = 0; }
        }
        // An odd last row too.
        if (h & 1) memset(plane + (h - 1) * w, 0, (size_t)w * sizeof(float));
    }
}
