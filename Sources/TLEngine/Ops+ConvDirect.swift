import CKernels

// Convolutions with a handful of output channels, computed directly from the padded image (the
// C kernels `tl_conv_direct` and `tl_conv_direct_weight_gradient`) rather than through im2col
// and a product: which convolutions, their gradients, and the padded copies the kernels read.

extension Tensor {
    /// Whether a convolution goes through `tl_conv_direct` rather than im2col and a product: a
    /// handful of output channels (a generator's last layer, 32 → 3), stride 1, windows larger
    /// than 1×1. There im2col writes C·kh·kw values per position for a product only O rows deep
    /// (PixelDA's 32 → 3 layer: 8.6 ms forward at batch 64 for 43 million multiply-adds), and
    /// the input gradient Wᵀ·G, O deep, is spread back by col2im; directly, the input gradient
    /// is the convolution of the output gradient, padded by k − 1 − pad, with the weights
    /// flipped and transposed (O input channels, C outputs).
    static func convolvesDirectly(_ g: Window, outputs o: Int) -> Bool {
        g.stride == 1 && o <= 4 && g.kh * g.kw > 1 && g.pad < g.kh && g.pad < g.kw
    }

    /// Whether the direct kernels chain fused multiply-adds (AVX2 and FMA) or multiply, then add.
    static var directConvolutionFuses: Bool { tl_conv_direct_fused() != 0 }

    /// The input and weight gradients of a direct convolution (see `convolvesDirectly`), image by
    /// image over the threads. The input gradient: each image's output gradient, padded by
    /// k − 1 − pad, convolved with the weights flipped in both axes and transposed to C×O×kh×kw.
    /// The weight gradient: `tl_conv_direct_weight_gradient` on the padded image and the output
    /// gradient with rows widened to whole vectors; each thread sums its images' gradients, and
    /// the sums are added in chunk order (as `convolutionBackwardByImage`).
    static func directBackward(_ grad: Tensor, _ input: Tensor, _ w: Tensor, _ g: Window, needX: Bool, needW: Bool)
        -> (dx: Tensor?, dw: Tensor?) {
        let o = w.shape[0], spatial = g.oh * g.ow, image = g.c * g.h * g.w, taps = g.kh * g.kw
        let pw = w.storage.pointer, pg = grad.storage.pointer, pin = input.storage.pointer
        let flipped = UnsafeMutablePointer<Float>.allocate(capacity: needX ? g.c * o * taps : 1)
        defer { flipped.deallocate() }
        if needX {
            for ch in 0..<g.c {
                for out in 0..<o {
                    for t in 0..<taps { flipped[(ch * o + out) * taps + taps - 1 - t] = pw[(out * g.c + ch) * taps + t] }
                }
            }
        }
        let dx = needX ? Tensor(uninitializedShape: [g.n, g.c, g.h, g.w]) : nil
        let pdx = dx?.storage.pointer
        let chunks = Swift.max(1, Swift.min(Parallel.threads, g.n)), per = (g.n + chunks - 1) / chunks
        let weights = o * g.c * taps
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: needW ? chunks * weights : 1)
        defer { partial.deallocate() }
        if needW { partial.update(repeating: 0, count: chunks * weights) }
        // Rows of the output gradient as whole vectors; the image's rows wide enough for them.
        let row = (g.ow + 7) / 8 * 8, imageRow = Swift.max(g.w + 2 * g.pad, row + g.kw - 1)
        Parallel.forChunks(chunks) { chunk in
            let gradRows = UnsafeMutablePointer<Float>.allocate(capacity: needW ? o * g.oh * row : 1)
            let offsets = UnsafeMutablePointer<Int64>.allocate(capacity: o * taps)
            defer { gradRows.deallocate(); offsets.deallocate() }
            if needW { gradRows.update(repeating: 0, count: o * g.oh * row) }
            for img in Swift.min(g.n, chunk * per)..<Swift.min(g.n, (chunk + 1) * per) {
                let gi = pg + img * o * spatial
                if needW {
                    for r in 0..<(o * g.oh) { copyShortRun(gradRows + r * row, gi + r * g.ow, g.ow) }
                    withBorder(pin + img * image, planes: g.c, h: g.h, w: g.w, border: g.pad, width: imageRow) { padded, h, width in
                        tl_conv_direct_weight_gradient(padded, Int64(g.c), Int64(h), Int64(width), Int64(g.kh), Int64(g.kw),
                                                       gradRows, Int64(o), Int64(g.ow), Int64(row), partial + chunk * weights)
                    }
                }
                if let pdx {
                    withBorder(gi, planes: o, h: g.oh, w: g.ow, border: g.kh - 1 - g.pad, left: g.kw - 1 - g.pad) { padded, h, width in
                        tl_conv_direct(padded, Int64(o), Int64(h), Int64(width), Int64(g.kh), Int64(g.kw), flipped, Int64(g.c), nil,
                                       pdx + img * image, offsets)
                    }
                }
            }
        }
        guard needW else { return (dx, nil) }
        return (dx, chunkSum(partial, chunks: chunks, shape: w.shape))
    }

    /// Runs `body` on a copy of `planes` h×w planes with a border of zeros — `border` rows above
    /// and below, `left` columns (`border` unless given) on the left, rows `width` long (the
    /// same border on the right unless given) — and 8 zeros after the last plane, for the reads
    /// the direct kernels make past it; with the copy's height and row length.
    @inline(__always)
    static func withBorder(_ src: UnsafePointer<Float>, planes: Int, h: Int, w: Int, border: Int, left: Int? = nil,
                           width: Int? = nil, _ body: (UnsafePointer<Float>, Int, Int) -> Void) {
        let side = left ?? border, ph = h + 2 * border, pw = width ?? w + 2 * side
        withUnsafeTemporaryAllocation(of: Float.self, capacity: planes * ph * pw + 8) { buffer in
            // Only the border is cleared: zeroing the whole copy first had cost a third as much
            // as the convolution itself (PixelDA's 32 → 3 layer).
            let padded = buffer.baseAddress!, right = pw - side - w
            for plane in 0..<planes {
                let top = padded + plane * ph * pw
                top.update(repeating: 0, count: border * pw)
                for y in 0..<h {
                    let line = top + (y + border) * pw
                    for k in 0..<side { line[k] = 0 }
                    copyShortRun(line + side, src + (plane * h + y) * w, w)
                    for k in 0..<right { line[side + w + k] = 0 }
                }
                (top + (h + border) * pw).update(repeating: 0, count: border * pw)
            }
            (padded + planes * ph * pw).update(repeating: 0, count: 8)
            body(padded, ph, pw)
        }
    }
}
