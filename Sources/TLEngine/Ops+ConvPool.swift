import CKernels

// A convolution, its ReLU and a 2×2 max pooling in one pass over the images: the LeNet pattern.

extension Tensor {
    /// `maxPool2d(conv2d(x, weight, bias, stride, padding).relu(), kernel: 2)` — the same values
    /// and gradients bit for bit — image by image, so that the convolution's output never exists
    /// for the whole batch: each image's O × oh × ow planes are made in a buffer that stays in
    /// cache and pooled at once, and in backward each image's gradient is spread back over its
    /// planes in that buffer and used there by the weight and input products. The batch-sized
    /// output and its gradient (2.4 MB each for a LeNet's first convolution at batch 64), each
    /// written whole and read back from beyond the caches, made the separate passes slow.
    ///
    /// Returns nil where the separate operations are to be used instead: a convolution whose
    /// images share products (small outputs, large weights: see `imagesPerProduct`) or that goes
    /// through the direct kernel (a handful of output channels: `convolvesDirectly`), an output
    /// smaller than 2×2, or planes too large for the pooling's 32-bit positions. Throws what
    /// `conv2d` throws.
    public static func conv2dReluMaxPool2x2(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1,
                                            padding: Int = 0) throws -> Tensor? {
        let g = try convolutionWindow(x, weight, bias: bias, stride: stride, padding: padding)
        let o = weight.shape[0]
        let rows = g.c * g.kh * g.kw, spatial = g.oh * g.ow, image = g.c * g.h * g.w
        guard g.oh >= 2, g.ow >= 2, spatial < Int(Int32.max), imagesPerProduct(g, rows: rows, outputs: o) == 1,
              !convolvesDirectly(g, outputs: o) else {
            return nil
        }
        let (ph, pw) = (g.oh / 2, g.ow / 2), pooled = ph * pw

        var out = Tensor(uninitializedShape: [g.n, o, ph, pw])
        let positions = IndexBuffer(pointer: .allocate(capacity: Swift.max(1, g.n * o * pooled)))
        let weights = weight.storage.pointer, px = x.storage.pointer, po = out.storage.pointer
        let pb = bias?.storage.pointer, at = positions.pointer
        Parallel.forRanges(g.n, cost: o * spatial * rows / 8) { images in
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * spatial)
            let planes = UnsafeMutablePointer<Float>.allocate(capacity: o * spatial)
            defer { cols.deallocate(); planes.deallocate() }
            for img in images {
                convolveImage(px + img * image, g, weights: weights, outputs: o, bias: pb, columns: cols, into: planes)
                tl_maxpool2x2_forward(planes, Int64(o), Int64(g.oh), Int64(g.ow), 1,
                                      po + img * o * pooled, at + img * o * pooled)
            }
        }
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        guard recording(inputs) else { return out }
        let w = weight.detached(), input = x.detached(), maxima = out.detached()
        let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        out.record(inputs) { grad in
            let pg = grad.storage.pointer, kept = maxima.storage.pointer
            // Each image's bias sums, added in image order afterwards: `planeSums`'s numbers.
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: needB ? g.n * o : 1)
            defer { sums.deallocate() }
            let (dx, dw) = convolutionBackwardByImage(input, w, g, needX: needX, needW: needW) { img, planes in
                let first = img * o * pooled
                tl_maxpool2x2_backward(pg + first, positions.pointer + first, kept + first,
                                       Int64(o), Int64(g.oh), Int64(g.ow), planes)
                if needB { tl_plane_sums(planes, 1, Int64(o), Int64(spatial), 0, Int64(o), sums + img * o) }
                return UnsafePointer(planes)
            }
            var db: Tensor?
            if needB {
                let d = Tensor.zeros(like: [o])
                let pd = d.storage.pointer
                for img in 0..<g.n {
                    for ch in 0..<o { pd[ch] += sums[img * o + ch] }
                }
                db = d
            }
            return [dx, dw, db]
        }
        return out
    }
}
