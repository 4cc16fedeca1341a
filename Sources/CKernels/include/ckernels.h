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

/// Direct convolution of one C×H×W image (stride 1, no padding: pad beforehand) by O×C×kh×kw
/// `weights`, for convolutions with a handful of output channels, where im2col would write
/// C·kh·kw values per position for a product only O rows deep. Output (o, oy, ox) of the O×oh×ow
/// `out` is a chain over the taps in order (c, i, j) from bias[o] (0 without a bias):
/// sum = fma(w[o, c, i, j], image[c, oy + i, ox + j], sum) where the CPU has AVX2 and FMA
/// (`tl_conv_direct_fused`), sum + w·x rounded twice elsewhere. Reads up to 7 floats past the
/// last row of the image (finite values or not, they reach no output): leave that room.
/// `offsets`: room for C·kh·kw integers (where each tap lies in the image).
void tl_conv_direct(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                    const float *weights, int64_t o, const float *bias, float *out, int64_t *offsets);

/// The weight gradient of `tl_conv_direct` for one image, added onto the O×C×kh×kw `dw`:
/// dw[o, c, i, j] += Σ over outputs (oy, ox) of grad[o, oy, ox] · image[c, oy + i, ox + j], where
/// `grad` is O×oh×`grad_row` (rows a whole number of 8-float vectors, zeros past the `ow` outputs
/// of each row) and the C×h×w `image` has rows of at least 8·⌈ow/8⌉ + kw − 1 floats, zeros past its
/// inside (so that the lanes past ow multiply zeros by zeros). Each lane sums its outputs over
/// the rows and vectors in order (fused multiply-adds as `tl_conv_direct`), then the 8 lanes are
/// added in a fixed order (halves, then (0 + 2) + (1 + 3)) and the sum added onto dw.
void tl_conv_direct_weight_gradient(const float *image, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                                    const float *grad, int64_t o, int64_t ow, int64_t grad_row, float *dw);

/// 1 when `tl_conv_direct` and `tl_conv_direct_weight_gradient` use fused multiply-adds (AVX2
/// and FMA), 0 otherwise.
int tl_conv_direct_fused(void);

#endif
