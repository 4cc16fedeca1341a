// Small compute kernels of tl's engine written in C, where Swift compiled them to slow code (its
// SIMD types' generic paths; loops over short runs of variable length): clang's portable vector
// extensions (SSE on x86-64, NEON on arm64) with exact IEEE semantics (no fast-math), so each
// kernel gives the same bits as the scalar rules it states.
#ifndef TL_CKERNELS_H
#define TL_CKERNELS_H

#include <stdint.h>

/// 2×2 max pooling with stride 2 and no padding over `planes` planes of h×w floats (oh = h/2,
/// ow = w/2 outputs each, consecutive planes), with `relu` reading each input as its ReLU
/// (v > 0 ? v : 0, so a NaN reads 0). Per window the inputs are taken in row-major order: the
/// first of equal maxima wins, a NaN wins (the first NaN if several). Writes each window's
/// maximum to `values` and its position in the plane (y·w + x) to `positions`.
void tl_maxpool2x2_forward(const float *input, int64_t planes, int64_t h, int64_t w, int relu,
                           float *values, int32_t *positions);

/// The gradient of `tl_maxpool2x2_forward` for the same planes: every input of `dx` is written
/// (nothing to clear beforehand) — 0 + the window's gradient at its winner, 0 elsewhere and in
/// a last odd row or column that no window covers. With `maxima` (the forward's values, when it
/// read the ReLU) a window passes its gradient only where its maximum is positive.
void tl_maxpool2x2_backward(const float *grad, const int32_t *positions, const float *maxima,
                            int64_t planes, int64_t h, int64_t w, float *dx);

/// im2col of one C×H×W image for stride-1 windows without padding: row (c, i, j) of `cols` (rows
/// `row_length` floats apart) holds, at column oy·ow + ox, input (c, oy + i, ox + j); oh = h − kh + 1,
/// ow = w − kw + 1.
void tl_im2col_unpadded(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                        float *cols, int64_t row_length);

/// The transpose of `tl_im2col_unpadded`'s columns: row oy·ow + ox of `rows` (c·kh·kw floats
/// long) holds at (c, i, j) input (c, oy + i, ox + j).
void tl_im2row_unpadded(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, float *rows);

/// The adjoint of `tl_im2col_unpadded`: adds every value of `cols` onto the input of `image` it
/// was taken from, run by run in the order (c, i, j, oy).
void tl_col2im_unpadded(const float *cols, int64_t row_length, int64_t c, int64_t h, int64_t w,
                        int64_t kh, int64_t kw, float *image);

/// The bias gradient of a convolution: for channels first ..< first + count of N×C×spatial `g`,
/// out[ch − first] = Σ over images of (Σ over the plane), each plane summed in one chain from 0 in
/// order and the images' sums added in order — the scalar loop's numbers bit for bit, four channels
/// at a time in the lanes of one vector (planes read four values at a time and transposed).
void tl_plane_sums(const float *g, int64_t images, int64_t channels, int64_t spatial, int64_t first,
                   int64_t count, float *out);

#endif
