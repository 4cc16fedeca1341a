import CBLAS

// 2-D convolution through im2col and one GEMM for the whole batch, and 2-D max-pooling.

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
        let rows = g.c * g.kh * g.kw, spatial = g.oh * g.ow, columns = g.n * spatial
        _ = try Shape.count([rows, columns], op: "conv2d")
        _ = try Shape.count([g.n, o, g.oh, g.ow], op: "conv2d")

        // cols: (C·kh·kw) × (N·oh·ow). Each image's product O × (oh·ow) is written straight into its
        // place in the N×O×oh×ow result, onto its bias; images are spread over the threads.
        let cols = im2col(x, g)
        var out = Tensor(uninitializedShape: [g.n, o, g.oh, g.ow])
        let pw = weight.storage.pointer, pc = cols.storage.pointer, po = out.storage.pointer
        let pb = bias?.storage.pointer
        Parallel.forRanges(g.n, cost: o * spatial * rows / 8) { images in
            for img in images {
                let c = po + img * o * spatial
                if let pb {
                    for ch in 0..<o { (c + ch * spatial).update(repeating: pb[ch], count: spatial) }
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(spatial), Int32(rows), 1,
                            pw, Int32(rows), pc + img * spatial, Int32(columns), pb == nil ? 0 : 1, c, Int32(spatial))
            }
        }
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        guard recording(inputs) else { return out }
        let w = weight.detached()
        let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        out.record(inputs) { grad in
            var dw: Tensor?, dx: Tensor?, db: Tensor?
            if needB {
                var d = Tensor(uninitializedShape: [o])
                let pg = grad.storage.pointer, pd = d.storage.pointer
                pd.update(repeating: 0, count: o)
                for img in 0..<g.n {
                    for ch in 0..<o {
                        let plane = pg + (img * o + ch) * spatial
                        var sum: Float = 0
                        for i in 0..<spatial { sum += plane[i] }
                        pd[ch] += sum
                    }
                }
                db = d
            }
            guard needW || needX else { return [dx, dw, db] }
            // G as O × (N·oh·ow), the layout of the columns.
            let g2 = grad.reshapedUnchecked([g.n, o, spatial]).permutedUnchecked([1, 0, 2])
            if needW {
                let d = Tensor(uninitializedShape: w.shape)
                gemm(m: o, n: rows, k: columns, a: g2.storage.pointer, transposeA: false,
                     b: cols.storage.pointer, transposeB: true, c: d.storage.pointer)
                dw = d
            }
            if needX {
                let dcols = Tensor(uninitializedShape: [rows, columns])
                gemm(m: rows, n: columns, k: o, a: w.storage.pointer, transposeA: true,
                     b: g2.storage.pointer, transposeB: false, c: dcols.storage.pointer)
                dx = col2im(dcols, g)
            }
            return [dx, dw, db]
        }
        return out
    }

    /// Unfolds every kh×kw window of `x` into a column: row (c, i, j), column (n, oy, ox).
    static func im2col(_ x: Tensor, _ g: Window) -> Tensor {
        let spatial = g.oh * g.ow, columns = g.n * spatial
        var cols = Tensor(uninitializedShape: [g.c * g.kh * g.kw, columns])
        let src = x.storage.pointer, dst = cols.storage.pointer
        Parallel.forRanges(g.c * g.kh * g.kw, cost: columns) { rowRange in
            for row in rowRange {
                let ch = row / (g.kh * g.kw), i = (row / g.kw) % g.kh, j = row % g.kw
                for img in 0..<g.n {
                    let plane = src + (img * g.c + ch) * g.h * g.w
                    let out = dst + row * columns + img * spatial
                    for oy in 0..<g.oh {
                        let y = oy * g.stride - g.pad + i
                        let line = out + oy * g.ow
                        guard y >= 0, y < g.h else {
                            line.update(repeating: 0, count: g.ow)
                            continue
                        }
                        if g.stride == 1 {
                            // Output columns whose input column j − pad + ox lies inside the image,
                            // copied in one run; the padding on either side is zero.
                            let lo = Swift.min(g.ow, Swift.max(0, g.pad - j)), hi = Swift.max(lo, Swift.min(g.ow, g.w + g.pad - j))
                            if lo > 0 { line.update(repeating: 0, count: lo) }
                            if hi > lo { (line + lo).update(from: plane + y * g.w + lo - g.pad + j, count: hi - lo) }
                            if hi < g.ow { (line + hi).update(repeating: 0, count: g.ow - hi) }
                            continue
                        }
                        for ox in 0..<g.ow {
                            let xx = ox * g.stride - g.pad + j
                            line[ox] = xx >= 0 && xx < g.w ? plane[y * g.w + xx] : 0
                        }
                    }
                }
            }
        }
        return cols
    }

    /// Adds every column back onto the window it came from (the adjoint of `im2col`).
    static func col2im(_ cols: Tensor, _ g: Window) -> Tensor {
        let spatial = g.oh * g.ow, columns = g.n * spatial
        var x = Tensor.zeros(like: [g.n, g.c, g.h, g.w])
        let src = cols.storage.pointer, dst = x.storage.pointer
        // Split by channel: rows of one channel write only that channel's planes.
        Parallel.forRanges(g.c, cost: g.kh * g.kw * columns) { channels in
            for ch in channels {
                for i in 0..<g.kh {
                    for j in 0..<g.kw {
                        let row = (ch * g.kh + i) * g.kw + j
                        for img in 0..<g.n {
                            let plane = dst + (img * g.c + ch) * g.h * g.w
                            let col = src + row * columns + img * spatial
                            // Output columns whose input column lies inside the image.
                            let lo = Swift.min(g.ow, Swift.max(0, (g.pad - j + g.stride - 1) / g.stride))
                            let hi = Swift.max(lo, Swift.min(g.ow, (g.w + g.pad - j + g.stride - 1) / g.stride))
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
                }
            }
        }
        return x
    }

    /// Max over k×k windows of N×C×H×W input, moving by `stride` (default k).
    public static func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil) throws -> Tensor {
        let g = try Window(input: x.shape, kh: kernel, kw: kernel, stride: stride ?? kernel, pad: 0, op: "maxpool2d")
        let planes = g.n * g.c, outPlane = g.oh * g.ow
        var out = Tensor(uninitializedShape: [g.n, g.c, g.oh, g.ow])
        let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(1, planes * outPlane))
        let src = x.storage.pointer, dst = out.storage.pointer
        Parallel.forRanges(planes, cost: outPlane * kernel * kernel) { range in
            for p in range {
                let plane = src + p * g.h * g.w, values = dst + p * outPlane, positions = argmax + p * outPlane
                if g.kh == 2, g.kw == 2, g.stride == 2 {
                    // The common 2×2 pooling, unrolled.
                    for oy in 0..<g.oh {
                        let top = 2 * oy * g.w
                        for ox in 0..<g.ow {
                            let a = top + 2 * ox
                            // Selects rather than branches: on real activations the winner
                            // is unpredictable, and mispredicted branches dominated the cost.
                            // Arithmetic rather than branches: the winner is unpredictable, and
                            // mispredicted branches dominated the cost. A NaN anywhere wins.
                            let (b, c, d) = (plane[a + 1], plane[a + g.w], plane[a + g.w + 1])
                            var best = plane[a], at = a
                            var nan = (best != best ? 1 : 0) | (b != b ? 1 : 0) | (c != c ? 1 : 0) | (d != d ? 1 : 0)
                            var take = b > best ? 1 : 0
                            at &+= take &* (a &+ 1 &- at)
                            best = b > best ? b : best
                            take = c > best ? 1 : 0
                            at &+= take &* (a &+ g.w &- at)
                            best = c > best ? c : best
                            take = d > best ? 1 : 0
                            at &+= take &* (a &+ g.w &+ 1 &- at)
                            best = d > best ? d : best
                            if nan != 0 {
                                at = [a, a + 1, a + g.w, a + g.w + 1].first { plane[$0].isNaN } ?? a
                                best = .nan
                            }
                            values[oy * g.ow + ox] = best
                            positions[oy * g.ow + ox] = Int32(truncatingIfNeeded: at)
                        }
                    }
                    continue
                }
                for oy in 0..<g.oh {
                    for ox in 0..<g.ow {
                        let corner = (oy * g.stride) * g.w + ox * g.stride
                        var best = plane[corner], at = corner
                        for i in 0..<g.kh {
                            let rowStart = corner + i * g.w
                            for j in 0..<g.kw where i > 0 || j > 0 {
                                let v = plane[rowStart + j]
                                if v > best || v.isNaN { best = v; at = rowStart + j }
                            }
                        }
                        values[oy * g.ow + ox] = best
                        positions[oy * g.ow + ox] = Int32(truncatingIfNeeded: at)
                    }
                }
            }
        }
        let indices = IndexBuffer(pointer: argmax)
        guard recording(x) else { return out }
        let inShape = x.shape
        out.record([x]) { grad in
            var dx = Tensor.zeros(like: inShape)
            let pg = grad.storage.pointer, pd = dx.storage.pointer
            Parallel.forRanges(planes, cost: outPlane) { range in
                for p in range {
                    let plane = pd + p * g.h * g.w, positions = indices.pointer + p * outPlane, from = pg + p * outPlane
                    for q in 0..<outPlane { plane[Int(positions[q])] += from[q] }
                }
            }
            return [dx]
        }
        return out
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

/// Owns the argmax positions of a pooling call for as long as its backward closure lives.
final class IndexBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(pointer: UnsafeMutablePointer<Int32>) { self.pointer = pointer }
    deinit { pointer.deallocate() }
}
