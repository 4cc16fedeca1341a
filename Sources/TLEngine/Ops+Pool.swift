import CKernels

// Pooling over N×C×H×W input: max (its windows' argmax kept for backward), average, and
// adaptive average (PyTorch's `adaptive_avg_pool2d`, the global pooling of ResNets).

extension Window {
    /// The input rows (or columns) of output row `o`'s window, clipped to the image.
    @inline(__always)
    func inside(_ o: Int, kernel: Int, size: Int) -> Range<Int> {
        let start = o * stride - pad
        return Swift.max(0, start)..<Swift.min(size, start + kernel)
    }
}

extension Tensor {
    /// Max over k×k windows of N×C×H×W input, moving by `stride` (default k), with `padding`
    /// positions on every side that never win (PyTorch's `max_pool2d`, which pads with −∞).
    ///
    /// With `relu`, the max over the windows of `x.relu()`, each value clamped as it is read:
    /// the same values and gradients as `maxPool2d(x.relu(), …)` bit for bit (ties and NaNs
    /// included: ReLU makes a NaN 0), without ReLU's own passes over the larger input and the
    /// tensors they keep. `Sequential` takes this path for a ReLU followed by max pooling.
    public static func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0,
                                 relu: Bool = false) throws -> Tensor {
        let g = try Window(input: x.shape, kh: kernel, kw: kernel, stride: stride ?? kernel, pad: padding, op: "maxpool2d")
        guard padding <= kernel / 2 else {
            throw TensorError.invalidArgument(op: "maxpool2d", "padding \(padding) is more than half the window \(kernel)")
        }
        let planes = g.n * g.c, outPlane = g.oh * g.ow
        // 2×2 windows tiling the planes, by far the most common pooling, have their own kernels.
        let tiled = g.kh == 2 && g.kw == 2 && g.stride == 2 && g.pad == 0 && g.h * g.w < Int(Int32.max)
        var out = Tensor(uninitializedShape: [g.n, g.c, g.oh, g.ow])
        let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(1, planes * outPlane))
        let src = x.storage.pointer, dst = out.storage.pointer
        let rowRanges = (0..<g.oh).map { g.inside($0, kernel: g.kh, size: g.h) }
        let columnRanges = (0..<g.ow).map { g.inside($0, kernel: g.kw, size: g.w) }
        Parallel.forRanges(planes, cost: outPlane * kernel * kernel) { range in
            if tiled {
                // The common 2×2 pooling: the range's planes in C (see CKernels).
                let first = range.lowerBound
                tl_maxpool2x2_forward(src + first * g.h * g.w, Int64(range.count), Int64(g.h), Int64(g.w), relu ? 1 : 0,
                                      dst + first * outPlane, argmax + first * outPlane)
                return
            }
            // The separable path's row maxima, one plane at a time.
            let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: g.h * g.ow)
            let rowAt = UnsafeMutablePointer<Int>.allocate(capacity: g.h * g.ow)
            defer { rowMax.deallocate(); rowAt.deallocate() }
            for p in range {
                let plane = src + p * g.h * g.w, values = dst + p * outPlane, positions = argmax + p * outPlane
                // Separably: the maximum of each input row's stretch under each output column,
                // then of those stretches down each window — kh + kw comparisons rather than
                // kh·kw — with selects rather than branches (a ResNet's 3×3 pooling took 40 ns a
                // window, mostly mispredicted branches; a fifth less now). Row-major order is
                // kept: ties go to the first value, a NaN wins (the last one).
                for y in 0..<g.h {
                    let line = y &* g.w
                    for ox in 0..<g.ow {
                        // The window clipped to the image: padding never wins (a window always
                        // holds an input, as the padding is at most half of it).
                        let columns = columnRanges[ox]
                        var at = line &+ columns.lowerBound
                        var best = read(plane[at], relu)
                        var nan = best != best ? 1 : 0
                        for x in columns.dropFirst() {
                            // Arithmetic, not branches (the winner is unpredictable); NaNs apart.
                            let v = read(plane[line &+ x], relu)
                            nan |= v != v ? 1 : 0
                            at &+= (v > best ? 1 : 0) &* (line &+ x &- at)
                            best = v > best ? v : best
                        }
                        if nan != 0 {
                            for x in columns where plane[line &+ x].isNaN { at = line &+ x; best = .nan }
                        }
                        rowMax[y &* g.ow &+ ox] = best
                        rowAt[y &* g.ow &+ ox] = at
                    }
                }
                for oy in 0..<g.oh {
                    let rows = rowRanges[oy]
                    for ox in 0..<g.ow {
                        var best = rowMax[rows.lowerBound &* g.ow &+ ox], at = rowAt[rows.lowerBound &* g.ow &+ ox]
                        var nan = best != best ? 1 : 0
                        for y in rows.dropFirst() {
                            let v = rowMax[y &* g.ow &+ ox]
                            nan |= v != v ? 1 : 0
                            at &+= (v > best ? 1 : 0) &* (rowAt[y &* g.ow &+ ox] &- at)
                            best = v > best ? v : best
                        }
                        if nan != 0 {
                            for y in rows where rowMax[y &* g.ow &+ ox].isNaN { at = rowAt[y &* g.ow &+ ox]; best = .nan }
                        }
                        values[oy &* g.ow &+ ox] = best
                        positions[oy &* g.ow &+ ox] = Int32(truncatingIfNeeded: at)
                    }
                }
            }
        }
        let indices = IndexBuffer(pointer: argmax)
        guard recording(x) else { return out }
        let inShape = x.shape
        // With the ReLU, a window's gradient passes only where its maximum is positive (a
        // non-positive maximum was a ReLU's zero).
        let kept = relu ? out.detached() : nil
        out.record([x]) { grad in
            let pg = grad.storage.pointer, py = kept?.storage.pointer
            if tiled {
                // Every input written once, the winners' gradients and zeros: no clearing pass.
                let dx = Tensor(uninitializedShape: inShape)
                let pd = dx.storage.pointer
                Parallel.forRanges(planes, cost: g.h * g.w) { range in
                    let first = range.lowerBound
                    tl_maxpool2x2_backward(pg + first * outPlane, indices.pointer + first * outPlane,
                                           py.map { $0 + first * outPlane }, Int64(range.count), Int64(g.h), Int64(g.w),
                                           pd + first * g.h * g.w)
                }
                return [dx]
            }
            let dx = Tensor.zeros(like: inShape)
            let pd = dx.storage.pointer
            Parallel.forRanges(planes, cost: outPlane) { range in
                for p in range {
                    let plane = pd + p * g.h * g.w, positions = indices.pointer + p * outPlane, from = pg + p * outPlane
                    if let maxima = py.map({ $0 + p * outPlane }) {
                        for q in 0..<outPlane { plane[Int(positions[q])] += maxima[q] > 0 ? from[q] : 0 }
                    } else {
                        for q in 0..<outPlane { plane[Int(positions[q])] += from[q] }
                    }
                }
            }
            return [dx]
        }
        return out
    }

    /// A value as max pooling reads it: itself, or with `relu` its ReLU (NaN gives 0, as `relu()`).
    @inline(__always)
    static func read(_ v: Float, _ relu: Bool) -> Float { relu ? (v > 0 ? v : 0) : v }

    /// Mean over k×k windows of N×C×H×W input, moving by `stride` (default k), with `padding`
    /// zeros on every side counted in the mean (PyTorch's `avg_pool2d` with its default
    /// `count_include_pad=True`).
    public static func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
        let g = try Window(input: x.shape, kh: kernel, kw: kernel, stride: stride ?? kernel, pad: padding, op: "avgpool2d")
        guard padding <= kernel / 2 else {
            throw TensorError.invalidArgument(op: "avgpool2d", "padding \(padding) is more than half the window \(kernel)")
        }
        let rows = (0..<g.oh).map { g.inside($0, kernel: kernel, size: g.h) }
        let columns = (0..<g.ow).map { g.inside($0, kernel: kernel, size: g.w) }
        let area = Float(kernel * kernel)
        return try windowMean(x, rows: rows, columns: columns, op: "avgpool2d") { _, _ in area }
    }

    /// The mean over an adaptive grid of `height`×`width` windows of N×C×H×W input: output row i
    /// averages input rows ⌊i·H/height⌋ ..< ⌈(i+1)·H/height⌉ (PyTorch's `adaptive_avg_pool2d`);
    /// 1×1 is global average pooling.
    public static func adaptiveAvgPool2d(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
        guard x.rank == 4 else { throw TensorError.badShape(op: "adaptive_avgpool2d", x.shape, "expected N×C×H×W input") }
        guard height > 0, width > 0 else {
            throw TensorError.invalidArgument(op: "adaptive_avgpool2d", "the output size must be positive, got \(height)×\(width)")
        }
        let (h, w) = (x.shape[2], x.shape[3])
        guard h > 0, w > 0 else { throw TensorError.badShape(op: "adaptive_avgpool2d", x.shape, "the images are empty") }
        func grid(_ outputs: Int, _ size: Int) -> [Range<Int>] {
            (0..<outputs).map { i in (i * size / outputs)..<(((i + 1) * size + outputs - 1) / outputs) }
        }
        let rows = grid(height, h), columns = grid(width, w)
        return try windowMean(x, rows: rows, columns: columns, op: "adaptive_avgpool2d") { r, c in Float(r.count * c.count) }
    }

    /// Output (oy, ox) of each plane is the sum of input rows `rows[oy]` × columns `columns[ox]`
    /// divided by `divisor(rows[oy], columns[ox])`; backward spreads each gradient back the same way.
    private static func windowMean(_ x: Tensor, rows: [Range<Int>], columns: [Range<Int>], op: String,
                                   divisor: (Range<Int>, Range<Int>) -> Float) throws -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (rows.count, columns.count)
        _ = try Shape.count([n, c, oh, ow], op: op)
        let scale = rows.flatMap { r in columns.map { 1 / divisor(r, $0) } }
        let planes = n * c, outPlane = oh * ow
        var out = Tensor(uninitializedShape: [n, c, oh, ow])
        let src = x.storage.pointer, dst = out.storage.pointer
        let cost = Swift.max(1, h * w)
        Parallel.forRanges(planes, cost: cost) { range in
            for p in range {
                let plane = src + p * h * w, values = dst + p * outPlane
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum: Float = 0
                        for y in rows[oy] {
                            let line = plane + y * w
                            for x in columns[ox] { sum += line[x] }
                        }
                        values[oy * ow + ox] = sum * scale[oy * ow + ox]
                    }
                }
            }
        }
        guard recording(x) else { return out }
        let inShape = x.shape
        out.record([x]) { grad in
            let dx = Tensor.zeros(like: inShape)
            let pg = grad.storage.pointer, pd = dx.storage.pointer
            Parallel.forRanges(planes, cost: cost) { range in
                for p in range {
                    let plane = pd + p * h * w, from = pg + p * outPlane
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let share = from[oy * ow + ox] * scale[oy * ow + ox]
                            for y in rows[oy] {
                                let line = plane + y * w
                                for x in columns[ox] { line[x] += share }
                            }
                        }
                    }
                }
            }
            return [dx]
        }
        return out
    }
}

/// Owns the argmax positions of a pooling call for as long as its backward closure lives.
final class IndexBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(pointer: UnsafeMutablePointer<Int32>) { self.pointer = pointer }
    deinit { pointer.deallocate() }
}
