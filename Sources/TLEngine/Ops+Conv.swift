import CBLAS

// 2-D convolution through im2col and a GEMM per image, dropout and batch normalisation.

/// Geometry of a convolution or pooling window over N×C×H×W input.
struct Window {
    let n: Int, c: Int, h: Int, w: Int
    let kh: Int, kw: Int, stride: Int, pad: Int
    /// Output height and width (stored: the kernels read them in their inner loops).
    let oh: Int, ow: Int

    init(input: [Int], kh: Int, kw: Int, stride: Int, pad: Int, op: String) throws {
        guard input.count == 4 else {
            throw TensorError.badShape(op: op, input, "expected N×C×H×W input")
        }
        guard kh > 0, kw > 0, stride > 0, pad >= 0 else {
            throw TensorError.invalidArgument(op: op, "kernel and stride must be positive and padding non-negative")
        }
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (self.kh, self.kw, self.stride, self.pad) = (kh, kw, stride, pad)
        guard h + 2 * pad >= kh, w + 2 * pad >= kw else {
            throw TensorError.badShape(
                op: op, input, "a \(kh)×\(kw) window does not fit in \(h)×\(w) input with padding \(pad)")
        }
        (oh, ow) = ((h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1)
    }

    /// For kernel column `j`: the output columns lo..<hi whose input column lies inside the image.
    func insideColumns(_ j: Int) -> (lo: Int, hi: Int) {
        let lo = Swift.min(ow, Swift.max(0, (pad - j + stride - 1) / stride))
        return (lo, Swift.max(lo, Swift.min(ow, (w + pad - j + stride - 1) / stride)))
    }
}

extension Tensor {
    /// Cross-correlation of N×C×H×W input with O×C×kh×kw weights plus an optional bias of O values
    /// (PyTorch's `conv2d`).
    public static func conv2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1,
                              padding: Int = 0) throws -> Tensor {
        guard weight.rank == 4 else { throw TensorError.badShape(op: "conv2d", weight.shape, "expected O×C×kh×kw weights") }
        let g = try Window(input: x.shape, kh: weight.shape[2], kw: weight.shape[3], stride: stride, pad: padding, op: "conv2d")
        guard weight.shape[1] == g.c else {
            throw TensorError.shapeMismatch(
                op: "conv2d", "input has \(g.c) channels, weights expect \(weight.shape[1])", x.shape, weight.shape)
        }
        let o = weight.shape[0]
        if let bias, bias.shape != [o] {
            throw TensorError.shapeMismatch(op: "conv2d", "the bias needs one value per output channel", bias.shape, weight.shape)
        }
        let rows = g.c * g.kh * g.kw, spatial = g.oh * g.ow, image = g.c * g.h * g.w
        _ = try Shape.count([rows, spatial], op: "conv2d")
        _ = try Shape.count([g.n, o, g.oh, g.ow], op: "conv2d")

        // Image by image, over the threads: the image's columns, (C·kh·kw) × (oh·ow), are unfolded
        // into a buffer that stays in cache, and the product O × (oh·ow) is written straight into
        // the image's place in the N×O×oh×ow result, onto its bias. Nothing batch-sized is kept.
        var out = Tensor(uninitializedShape: [g.n, o, g.oh, g.ow])
        let pw = weight.storage.pointer, px = x.storage.pointer, po = out.storage.pointer
        let pb = bias?.storage.pointer
        Parallel.forRanges(g.n, cost: o * spatial * rows / 8) { images in
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * spatial)
            defer { cols.deallocate() }
            for img in images {
                im2col(px + img * image, g, into: cols)
                let c = po + img * o * spatial
                if let pb {
                    for ch in 0..<o { (c + ch * spatial).update(repeating: pb[ch], count: spatial) }
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(spatial), Int32(rows), 1,
                            pw, Int32(rows), cols, Int32(spatial), pb == nil ? 0 : 1, c, Int32(spatial))
            }
        }
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        guard recording(inputs) else { return out }
        let w = weight.detached(), input = x.detached()
        let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        out.record(inputs) { grad in
            var dw: Tensor?, dx: Tensor?, db: Tensor?
            let pg = grad.storage.pointer
            if needB {
                let d = Tensor(uninitializedShape: [o])
                let pd = d.storage.pointer
                pd.update(repeating: 0, count: o)
                for img in 0..<g.n {
                    let planes = pg + img * o * spatial
                    // Eight channels side by side, one lane each: every channel's sum runs in
                    // the same order as alone, but the additions no longer wait on each other.
                    var ch = 0
                    while ch + 8 <= o {
                        let p = planes + ch * spatial
                        var sums = SIMD8<Float>(repeating: 0)
                        for i in 0..<spatial {
                            sums += SIMD8(p[i], p[spatial + i], p[2 * spatial + i], p[3 * spatial + i],
                                          p[4 * spatial + i], p[5 * spatial + i], p[6 * spatial + i], p[7 * spatial + i])
                        }
                        for lane in 0..<8 { pd[ch + lane] += sums[lane] }
                        ch += 8
                    }
                    for c in ch..<o {
                        let plane = planes + c * spatial
                        var sum: Float = 0
                        for i in 0..<spatial { sum += plane[i] }
                        pd[c] += sum
                    }
                }
                db = d
            }
            guard needW || needX else { return [dx, dw, db] }
            // Image by image again, each image's gradient G (O × oh·ow) read where it lies:
            // dW += G · colsᵀ with the columns unfolded anew (cheaper than keeping them), and
            // dcols = Wᵀ · G folded back onto the image's own part of dx. Each thread sums dW
            // for its images; the sums are added in chunk order.
            let chunks = Swift.max(1, Swift.min(Parallel.threads, g.n)), per = (g.n + chunks - 1) / chunks
            let partial = UnsafeMutablePointer<Float>.allocate(capacity: needW ? chunks * o * rows : 1)
            defer { partial.deallocate() }
            if needW { partial.update(repeating: 0, count: chunks * o * rows) }
            let d = needX ? Tensor.zeros(like: input.shape) : nil
            let pin = input.storage.pointer, pdx = d?.storage.pointer
            Parallel.forChunks(chunks) { chunk in
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * spatial)
                defer { cols.deallocate() }
                for img in Swift.min(g.n, chunk * per)..<Swift.min(g.n, (chunk + 1) * per) {
                    let gi = pg + img * o * spatial
                    if needW {
                        im2col(pin + img * image, g, into: cols)
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(o), Int32(rows), Int32(spatial), 1,
                                    gi, Int32(spatial), cols, Int32(spatial), 1, partial + chunk * o * rows, Int32(rows))
                    }
                    if let pdx {
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(spatial), Int32(o), 1,
                                    pw, Int32(rows), gi, Int32(spatial), 0, cols, Int32(spatial))
                        col2im(cols, g, addingInto: pdx + img * image)
                    }
                }
            }
            if needW {
                let sum = Tensor(uninitializedShape: w.shape)
                let ps = sum.storage.pointer
                ps.update(from: partial, count: o * rows)
                for chunk in 1..<chunks {
                    let part = partial + chunk * o * rows
                    for i in 0..<(o * rows) { ps[i] += part[i] }
                }
                dw = sum
            }
            dx = d
            return [dx, dw, db]
        }
        return out
    }

    /// Copies `n` floats where `n` is small (an output row of a convolution: 8–32): in vector
    /// registers, as a call to memmove per row cost more than the copy itself.
    @inline(__always)
    static func copyShortRun(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        var k = 0
        while k + 8 <= n {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self), toByteOffset: 4 * k, as: SIMD8<Float>.self)
            k += 8
        }
        if k + 4 <= n {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * k, as: SIMD4<Float>.self), toByteOffset: 4 * k, as: SIMD4<Float>.self)
            k += 4
        }
        while k < n {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * k, as: Float.self), toByteOffset: 4 * k, as: Float.self)
            k += 1
        }
    }

    /// Adds `n` floats of `src` onto `dst` where `n` is small, in vector registers.
    @inline(__always)
    static func addShortRun(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        var k = 0
        while k + 8 <= n {
            let sum = d.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self)
                + s.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self)
            d.storeBytes(of: sum, toByteOffset: 4 * k, as: SIMD8<Float>.self)
            k += 8
        }
        while k < n {
            dst[k] += src[k]
            k += 1
        }
    }

    /// The common case of im2col and col2im, stride 1 and no padding, with nothing to clip: every
    /// column row (c, i, j) is oh runs of ow image values. Calls `body(image, column)` with the
    /// offsets of each run in the image and in the columns, in column order — run by run rather
    /// than element by element (the general loop's index arithmetic cost more than the copies).
    @inline(__always)
    static func forEachUnclippedRun(_ g: Window, _ body: (_ image: Int, _ column: Int) -> Void) {
        var column = 0
        for ch in 0..<g.c {
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    var image = ch * g.h * g.w + i * g.w + j
                    for _ in 0..<g.oh {
                        body(image, column)
                        // Inside the image and the columns by construction: no overflow checks.
                        column &+= g.ow
                        image &+= g.w
                    }
                }
            }
        }
    }

    /// Unfolds every kh×kw window of one C×H×W image into a column of `dst`: row (c, i, j),
    /// column (oy, ox), rows oh·ow long.
    static func im2col(_ src: UnsafePointer<Float>, _ g: Window, into dst: UnsafeMutablePointer<Float>) {
        if g.stride == 1, g.pad == 0 {
            forEachUnclippedRun(g) { image, column in copyShortRun(dst + column, src + image, g.ow) }
            return
        }
        let spatial = g.oh * g.ow
        for row in 0..<(g.c * g.kh * g.kw) {
            let ch = row / (g.kh * g.kw), i = (row / g.kw) % g.kh, j = row % g.kw
            let plane = src + ch * g.h * g.w
            let out = dst + row * spatial
            // Padding on either side of the inside columns is zero.
            let (lo, hi) = g.insideColumns(j)
            for oy in 0..<g.oh {
                let y = oy * g.stride - g.pad + i
                let line = out + oy * g.ow
                guard y >= 0, y < g.h else {
                    line.update(repeating: 0, count: g.ow)
                    continue
                }
                for ox in 0..<lo { line[ox] = 0 }
                let source = plane + y * g.w - g.pad + j
                if g.stride == 1 {
                    copyShortRun(line + lo, source + lo, hi - lo)
                } else {
                    for ox in lo..<hi { line[ox] = source[ox * g.stride] }
                }
                for ox in hi..<g.ow { line[ox] = 0 }
            }
        }
    }

    /// Adds every column of one image's `cols` back onto the window it came from, in `dst`, the
    /// image's C×H×W gradient (the adjoint of `im2col`).
    static func col2im(_ cols: UnsafePointer<Float>, _ g: Window, addingInto dst: UnsafeMutablePointer<Float>) {
        if g.stride == 1, g.pad == 0 {
            forEachUnclippedRun(g) { image, column in addShortRun(dst + image, cols + column, g.ow) }
            return
        }
        let spatial = g.oh * g.ow
        for row in 0..<(g.c * g.kh * g.kw) {
            let ch = row / (g.kh * g.kw), i = (row / g.kw) % g.kh, j = row % g.kw
            let plane = dst + ch * g.h * g.w
            let col = cols + row * spatial
            let (lo, hi) = g.insideColumns(j)
            for oy in 0..<g.oh {
                let y = oy * g.stride - g.pad + i
                guard y >= 0, y < g.h else { continue }
                let line = plane + y * g.w - g.pad + j, source = col + oy * g.ow
                if g.stride == 1 {
                    for ox in lo..<hi { line[ox] += source[ox] }
                } else {
                    for ox in lo..<hi { line[ox * g.stride] += source[ox] }
                }
            }
        }
    }

    /// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest
    /// by 1/(1−p); otherwise the identity.
    public func dropout(_ p: Float, training: Bool, using generator: inout RandomGenerator) throws -> Tensor {
        guard p >= 0, p < 1 else { throw TensorError.invalidArgument(op: "dropout", "p must be in [0, 1), got \(p)") }
        guard training, p > 0 else { return self }
        var mask = Tensor(uninitializedShape: shape)
        let scale = 1 / (1 - p)
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<m.count { m[i] = generator.nextFloat() < p ? 0 : scale }
        }
        return try self * mask
    }

    /// Batch normalisation over every axis but 1 (N×C, N×C×L or N×C×H×W input).
    ///
    /// In training it normalises with the batch's statistics and moves the running ones by
    /// `momentum` (the running variance unbiased, as PyTorch does); otherwise it uses the running ones.
    public func batchNorm(
        weight: Tensor, bias: Tensor, runningMean: inout Tensor, runningVar: inout Tensor,
        training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5
    ) throws -> Tensor {
        guard rank >= 2 else { throw TensorError.badShape(op: "batchnorm", shape, "expected N×C… input") }
        let c = shape[1]
        guard weight.shape == [c], bias.shape == [c], runningMean.shape == [c], runningVar.shape == [c] else {
            throw TensorError.shapeMismatch(
                op: "batchnorm", "input has \(c) channels, the layer has \(weight.shape.first ?? 0)", shape, weight.shape)
        }
        let x = reshapedUnchecked([shape[0], c, count / Swift.max(1, shape[0] * c)])
        let perChannel = [1, c, 1]
        let mean: Tensor, variance: Tensor
        if training {
            let m = shape[0] * x.shape[2]
            guard m > 1 else {
                throw TensorError.badShape(op: "batchnorm", shape, "training needs more than one value per channel")
            }
            mean = try x.mean(axis: 0, keepDims: true).mean(axis: 2, keepDims: true)
            let centered = try x - mean
            variance = try (centered * centered).mean(axis: 0, keepDims: true).mean(axis: 2, keepDims: true)
            let unbias = Float(m) / Float(m - 1)
            let (bm, bv) = (mean.detached().scalars, variance.detached().scalars)
            runningMean.withUnsafeMutableBufferPointer { r in
                for i in 0..<c { r[i] = (1 - momentum) * r[i] + momentum * bm[i] }
            }
            runningVar.withUnsafeMutableBufferPointer { r in
                for i in 0..<c { r[i] = (1 - momentum) * r[i] + momentum * bv[i] * unbias }
            }
        } else {
            mean = runningMean.reshapedUnchecked(perChannel)
            variance = runningVar.reshapedUnchecked(perChannel)
        }
        let normalized = try (x - mean) / (variance + epsilon).sqrt()
        let y = try normalized * weight.reshapedUnchecked(perChannel) + bias.reshapedUnchecked(perChannel)
        return y.reshapedUnchecked(shape)
    }
}
