#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Reductions over all elements or one axis, and softmax along an axis.

extension Tensor {
    /// The shape after reducing `axis` (nil: every axis), kept as 1 when `keepDims`.
    private func reducedShape(_ axis: Int?, keepDims: Bool) -> [Int] {
        guard let axis else { return keepDims ? shape.map { _ in 1 } : [] }
        var s = shape
        if keepDims { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    /// This tensor, with reduced dimensions of size 1, repeated to `target`.
    func expanded(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let out = Tensor(uninitializedShape: target)
        let st = Tensor.broadcastStrides(shape, to: target)
        let src = storage.pointer, dst = out.storage.pointer
        Tensor.forEachRun(target, st, st) { o, i, d, _, _, n in
            for k in 0..<n { dst[o + k] = src[i + k * d] }
        }
        return out
    }

    /// Broadcasts to `target` (NumPy's `broadcast_to`); the gradient sums back.
    public func broadcast(to target: [Int]) throws -> Tensor {
        let s = try Shape.broadcast(shape, target, op: "broadcast")
        guard s == target else {
            throw TensorError.shapeMismatch(op: "broadcast", "cannot broadcast to the target", shape, target)
        }
        var out = expanded(to: target)
        if Tensor.recording(self) {
            let source = shape
            out.record([self]) { g in [g.sumToShape(source)] }
        }
        return out
    }

    /// Sum over every element, or over `axis`.
    public func sum(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try axis.map { try Shape.axis($0, rank: rank, op: "sum") }
        let outShape = reducedShape(ax, keepDims: keepDims)
        var out = Tensor.zeros(like: outShape)
        let src = storage.pointer, dst = out.storage.pointer
        if let ax {
            let (outer, n, inner) = Shape.split(shape, at: ax)
            for o in 0..<outer {
                let d = dst + o * inner
                for k in 0..<n {
                    let s = src + (o * n + k) * inner
                    for i in 0..<inner { d[i] += s[i] }
                }
            }
        } else {
            // Pairwise blocks keep fp32 rounding error small on long sums.
            var total: Double = 0
            var i = 0
            while i < count {
                let end = Swift.min(count, i + 4096)
                var block: Float = 0
                for j in i..<end { block += src[j] }
                total += Double(block)
                i = end
            }
            dst[0] = Float(total)
        }
        if Tensor.recording(self) {
            let inShape = shape
            let keptShape = reducedShape(ax, keepDims: true)
            out.record([self]) { g in
                [Tensor(shape: keptShape, storage: g.storage).expanded(to: inShape)]
            }
        }
        return out
    }

    /// Mean over every element, or over `axis`.
    public func mean(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try axis.map { try Shape.axis($0, rank: rank, op: "mean") }
        let n = ax.map { shape[$0] } ?? count
        guard n > 0 else { throw TensorError.badShape(op: "mean", shape, "the mean of no elements is undefined") }
        return try sum(axis: ax, keepDims: keepDims) * (1 / Float(n))
    }

    /// Largest element, overall or along `axis`; the gradient goes to the first maximum.
    public func max(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        try extremum(axis: axis, keepDims: keepDims, op: "max", >)
    }

    /// Smallest element, overall or along `axis`; the gradient goes to the first minimum.
    public func min(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        try extremum(axis: axis, keepDims: keepDims, op: "min", <)
    }

    /// Index of the largest element along `axis` (overall, flattened, when nil), as floats.
    public func argmax(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        let (_, index, outShape) = try extremumIndices(axis: axis, keepDims: keepDims, op: "argmax", >)
        return Tensor(shape: outShape, storage: index)
    }

    /// Per row of a 2-D tensor, the column of its largest element.
    public func argmaxRows() throws -> [Int] {
        guard rank == 2 else { throw TensorError.badShape(op: "argmax", shape, "expected a 2-D tensor") }
        return try argmax(axis: 1).scalars.map { Int($0) }
    }

    private func extremumIndices(axis: Int?, keepDims: Bool, op: String,
                                 _ better: (Float, Float) -> Bool) throws -> (Storage, Storage, [Int]) {
        let ax = try axis.map { try Shape.axis($0, rank: rank, op: op) }
        let (outer, n, inner) = ax.map { Shape.split(shape, at: $0) } ?? (1, count, 1)
        guard n > 0 else { throw TensorError.badShape(op: op, shape, "there is no element to choose") }
        let outShape = reducedShape(ax, keepDims: keepDims)
        let values = Storage(uninitializedCount: outer * inner)
        let index = Storage(uninitializedCount: outer * inner)
        let src = storage.pointer
        for o in 0..<outer {
            for i in 0..<inner {
                var best = src[o * n * inner + i]
                var at = 0
                for k in 1..<Swift.max(n, 1) {
                    let v = src[(o * n + k) * inner + i]
                    // NaN wins, as in NumPy, so that a NaN is never hidden.
                    if better(v, best) || (v.isNaN && !best.isNaN) { best = v; at = k }
                }
                values.pointer[o * inner + i] = best
                index.pointer[o * inner + i] = Float(at)
            }
        }
        return (values, index, outShape)
    }

    private func extremum(axis: Int?, keepDims: Bool, op: String,
                          _ better: (Float, Float) -> Bool) throws -> Tensor {
        let (values, index, outShape) = try extremumIndices(axis: axis, keepDims: keepDims, op: op, better)
        var out = Tensor(shape: outShape, storage: values)
        if Tensor.recording(self) {
            let ax = try axis.map { try Shape.axis($0, rank: rank, op: op) }
            let (outer, n, inner) = ax.map { Shape.split(shape, at: $0) } ?? (1, count, 1)
            let inShape = shape
            out.record([self]) { g in
                let dx = Tensor.zeros(like: inShape)
                for o in 0..<outer {
                    for i in 0..<inner {
                        let k = Int(index.pointer[o * inner + i])
                        dx.storage.pointer[(o * n + k) * inner + i] = g.storage.pointer[o * inner + i]
                    }
                }
                return [dx]
            }
        }
        return out
    }

    /// Softmax along `axis` (default: the last), computed stably by subtracting the maximum.
    public func softmax(axis: Int = -1) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "softmax")
        var out = Tensor(uninitializedShape: shape)
        let (outer, n, inner) = Shape.split(shape, at: ax)
        let src = storage.pointer, dst = out.storage.pointer
        Tensor.forEachLane(outer: outer, n: n, inner: inner) { base in
            var m = -Float.infinity
            for k in 0..<n { m = Swift.max(m, src[base + k * inner]) }
            var z: Float = 0
            for k in 0..<n {
                let e = expf(src[base + k * inner] - m)
                dst[base + k * inner] = e
                z += e
            }
            let r = 1 / z
            for k in 0..<n { dst[base + k * inner] *= r }
        }
        if Tensor.recording(self) {
            let y = out.detached()
            out.record([self]) { g in
                // dx = y ⊙ (g − Σ g⊙y)
                let dx = Tensor(uninitializedShape: y.shape)
                let py = y.storage.pointer, pg = g.storage.pointer, pd = dx.storage.pointer
                Tensor.forEachLane(outer: outer, n: n, inner: inner) { base in
                    var dot: Float = 0
                    for k in 0..<n { dot += pg[base + k * inner] * py[base + k * inner] }
                    for k in 0..<n {
                        let j = base + k * inner
                        pd[j] = py[j] * (pg[j] - dot)
                    }
                }
                return [dx]
            }
        }
        return out
    }

    /// log(softmax(x)) along `axis`, computed as x − max − log Σ exp(x − max).
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "log_softmax")
        var out = Tensor(uninitializedShape: shape)
        let (outer, n, inner) = Shape.split(shape, at: ax)
        let src = storage.pointer, dst = out.storage.pointer
        Tensor.forEachLane(outer: outer, n: n, inner: inner) { base in
            var m = -Float.infinity
            for k in 0..<n { m = Swift.max(m, src[base + k * inner]) }
            var z: Float = 0
            for k in 0..<n { z += expf(src[base + k * inner] - m) }
            let shift = m + logf(z)
            for k in 0..<n { dst[base + k * inner] = src[base + k * inner] - shift }
        }
        if Tensor.recording(self) {
            let y = out.detached()
            out.record([self]) { g in
                // dx = g − softmax ⊙ Σ g
                let dx = Tensor(uninitializedShape: y.shape)
                let py = y.storage.pointer, pg = g.storage.pointer, pd = dx.storage.pointer
                Tensor.forEachLane(outer: outer, n: n, inner: inner) { base in
                    var total: Float = 0
                    for k in 0..<n { total += pg[base + k * inner] }
                    for k in 0..<n {
                        let j = base + k * inner
                        pd[j] = pg[j] - expf(py[j]) * total
                    }
                }
                return [dx]
            }
        }
        return out
    }

    /// Calls `body` with the offset of the first element of every lane along an axis split as
    /// (outer, n, inner); a lane's elements are `base + k·inner` for k in 0..<n.
    @inline(__always)
    static func forEachLane(outer: Int, n: Int, inner: Int, _ body: (Int) -> Void) {
        Parallel.forRanges(outer * inner, cost: Swift.max(1, n * 4)) { r in
            for lane in r {
                let o = lane / inner, i = lane % inner
                body(o * n * inner + i)
            }
        }
    }

    /// Euclidean norm of all elements. Its gradient x/‖x‖ is taken as 0 at x = 0, so losses
    /// built on distances (CMD) stay finite when two batches agree exactly.
    public func norm() -> Tensor {
        let src = storage.pointer
        var acc: Double = 0
        for i in 0..<count { acc += Double(src[i]) * Double(src[i]) }
        let value = Float(acc.squareRoot())
        var out = Tensor(scalar: value)
        if Tensor.recording(self) {
            let x = detached()
            out.record([self]) { g in
                let scale = value > 0 ? g.storage.pointer[0] / value : 0
                return [x.map { $0 * scale }]
            }
        }
        return out
    }
}
