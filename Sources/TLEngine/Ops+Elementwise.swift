#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Elementwise arithmetic with NumPy broadcasting, and the unary functions.
// Each primitive computes its result and, beside it, the rule that sends gradients back.

extension Tensor {
    // MARK: Kernels

    /// `f` applied to every element.
    @inline(__always)
    func map(cost: Int = 1, _ f: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let src = storage.pointer
        let dst = out.storage.pointer
        Parallel.forRanges(count, cost: cost) { r in
            for i in r { dst[i] = f(src[i]) }
        }
        return out
    }

    /// `f` applied pairwise to tensors of one shape.
    @inline(__always)
    static func zipSame(_ a: Tensor, _ b: Tensor, cost: Int = 1, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(a.shape == b.shape, "zipSame on \(a.shape) and \(b.shape)")
        let out = Tensor(uninitializedShape: a.shape)
        let pa = a.storage.pointer, pb = b.storage.pointer, po = out.storage.pointer
        Parallel.forRanges(a.count, cost: cost) { r in
            for i in r { po[i] = f(pa[i], pb[i]) }
        }
        return out
    }

    /// Elementwise sum of two gradients of one shape.
    static func sumSameShape(_ a: Tensor, _ b: Tensor) -> Tensor { zipSame(a, b, +) }

    /// Strides of `shape` seen from a broadcast `outShape`: 0 where the dimension is stretched.
    static func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
        let pad = outShape.count - shape.count
        let own = Shape.strides(shape)
        return (0..<outShape.count).map { i in
            i < pad || shape[i - pad] == 1 ? 0 : own[i - pad]
        }
    }

    /// Visits every element of `outShape` in row-major order with the matching offsets into two
    /// broadcast operands: `body(outIndexStart, offsetA, strideA, offsetB, strideB, runLength)`
    /// is called once per run along the last dimension.
    @inline(__always)
    static func forEachRun(
        _ outShape: [Int], _ sa: [Int], _ sb: [Int],
        _ body: (_ o: Int, _ a: Int, _ strideA: Int, _ b: Int, _ strideB: Int, _ n: Int) -> Void
    ) {
        let rank = outShape.count
        guard rank > 0 else { body(0, 0, 0, 0, 0, 1); return }
        let n = outShape[rank - 1]
        let total = Shape.product(outShape)
        guard n > 0, total > 0 else { return }
        var index = [Int](repeating: 0, count: rank)
        var offA = 0, offB = 0, o = 0
        while o < total {
            body(o, offA, sa[rank - 1], offB, sb[rank - 1], n)
            o += n
            // Advance the multi-index over the outer dimensions.
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                offA += sa[d]
                offB += sb[d]
                if index[d] < outShape[d] { break }
                offA -= sa[d] * outShape[d]
                offB -= sb[d] * outShape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// `f` applied pairwise under broadcasting to a shape already known to be the broadcast.
    @inline(__always)
    static func broadcastZip(_ a: Tensor, _ b: Tensor, to outShape: [Int], cost: Int = 1,
                             _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape { return zipSame(a, b, cost: cost, f) }
        let out = Tensor(uninitializedShape: outShape)
        let pa = a.storage.pointer, pb = b.storage.pointer, po = out.storage.pointer
        if b.count == 1, a.shape == outShape {
            let s = pb[0]
            Parallel.forRanges(a.count, cost: cost) { r in for i in r { po[i] = f(pa[i], s) } }
            return out
        }
        if a.count == 1, b.shape == outShape {
            let s = pa[0]
            Parallel.forRanges(b.count, cost: cost) { r in for i in r { po[i] = f(s, pb[i]) } }
            return out
        }
        let sa = broadcastStrides(a.shape, to: outShape)
        let sb = broadcastStrides(b.shape, to: outShape)
        forEachRun(outShape, sa, sb) { o, ia, da, ib, db, n in
            if da == 1 && db == 1 {
                for k in 0..<n { po[o + k] = f(pa[ia + k], pb[ib + k]) }
            } else {
                for k in 0..<n { po[o + k] = f(pa[ia + k * da], pb[ib + k * db]) }
            }
        }
        return out
    }

    /// Sums a gradient of a broadcast result back down to an operand's `shape`.
    func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let out = Tensor.zeros(like: target)
        let st = Tensor.broadcastStrides(target, to: shape)
        let src = storage.pointer, dst = out.storage.pointer
        Tensor.forEachRun(shape, st, st) { o, it, dt, _, _, n in
            if dt == 0 {
                var acc: Float = 0
                for k in 0..<n { acc += src[o + k] }
                dst[it] += acc
            } else {
                for k in 0..<n { dst[it + k * dt] += src[o + k] }
            }
        }
        return out
    }

    /// A broadcasting binary primitive: the result and its two gradient rules.
    @inline(__always)
    static func binary(
        _ a: Tensor, _ b: Tensor, op: String, cost: Int = 1,
        _ f: (Float, Float) -> Float,
        gradA: @escaping (_ g: Tensor, _ out: Tensor) -> Tensor,
        gradB: @escaping (_ g: Tensor, _ out: Tensor) -> Tensor
    ) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape, op: op)
        var out = broadcastZip(a, b, to: shape, cost: cost, f)
        if recording(a, b) {
            let needA = a.requiresGrad, needB = b.requiresGrad
            let result = out.detached()
            out.record([a, b]) { g in
                [needA ? gradA(g, result).sumToShape(a.shape) : nil,
                 needB ? gradB(g, result).sumToShape(b.shape) : nil]
            }
        }
        return out
    }

    /// A unary primitive whose derivative is written in terms of input `x`, output `y` and
    /// incoming gradient `g`.
    @inline(__always)
    func unary(cost: Int = 1, _ f: (Float) -> Float,
               derivative: @escaping (_ x: Float, _ y: Float, _ g: Float) -> Float) -> Tensor {
        var out = map(cost: cost, f)
        if Tensor.recording(self) {
            let x = detached(), y = out.detached()
            out.record([self]) { g in
                let dx = Tensor(uninitializedShape: x.shape)
                let px = x.storage.pointer, py = y.storage.pointer, pg = g.storage.pointer
                let pd = dx.storage.pointer
                Parallel.forRanges(x.count, cost: cost) { r in
                    for i in r { pd[i] = derivative(px[i], py[i], pg[i]) }
                }
                return [dx]
            }
        }
        return out
    }

    // MARK: Arithmetic

    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "add", +, gradA: { g, _ in g }, gradB: { g, _ in g })
    }

    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "subtract", -, gradA: { g, _ in g }, gradB: { g, _ in g.map { -$0 } })
    }

    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let (ad, bd) = (a.detached(), b.detached())
        return try binary(
            a, b, op: "multiply", *,
            gradA: { g, _ in broadcastZip(g, bd, to: g.shape, *) },
            gradB: { g, _ in broadcastZip(g, ad, to: g.shape, *) })
    }

    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let bd = b.detached()
        return try binary(
            a, b, op: "divide", /,
            gradA: { g, _ in broadcastZip(g, bd, to: g.shape, /) },
            gradB: { g, y in
                // d(a/b)/db = -(a/b)/b
                let gy = zipSame(g, y) { -$0 * $1 }
                return broadcastZip(gy, bd, to: g.shape, /)
            })
    }

    /// Elementwise power with broadcasting. The exponent's gradient uses log(a), as PyTorch does
    /// (NaN for negative bases); where a is 0 and the result 0 it is taken as 0.
    public static func pow(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let (ad, bd) = (a.detached(), b.detached())
        return try binary(
            a, b, op: "power", cost: 8, { powf($0, $1) },
            gradA: { g, _ in
                let shape = g.shape
                let base = broadcastZip(ad, bd, to: shape, cost: 8) { x, p in p == 0 ? 0 : p * powf(x, p - 1) }
                return zipSame(g, base, *)
            },
            gradB: { g, y in
                let la = broadcastZip(ad, y, to: g.shape, cost: 4) { x, yy in yy == 0 && x == 0 ? 0 : yy * logf(x) }
                return zipSame(g, la, *)
            })
    }

    /// The remainder with the sign of the divisor (Python's `%`): a − ⌊a/b⌋·b.
    public static func % (a: Tensor, b: Tensor) throws -> Tensor {
        let (ad, bd) = (a.detached(), b.detached())
        return try binary(
            a, b, op: "remainder", { x, y in x - (x / y).rounded(.down) * y },
            gradA: { g, _ in g },
            gradB: { g, _ in
                let quotient = broadcastZip(ad, bd, to: g.shape) { x, y in -(x / y).rounded(.down) }
                return zipSame(g, quotient, *)
            })
    }

    public static prefix func - (a: Tensor) -> Tensor {
        a.unary({ -$0 }, derivative: { _, _, g in -g })
    }

    // Mixed with numbers: the number is a scalar tensor that broadcasts.
    public static func + (a: Tensor, b: Float) throws -> Tensor { try a + Tensor(scalar: b) }
    public static func - (a: Tensor, b: Float) throws -> Tensor { try a - Tensor(scalar: b) }
    public static func * (a: Tensor, b: Float) throws -> Tensor { try a * Tensor(scalar: b) }
    public static func / (a: Tensor, b: Float) throws -> Tensor { try a / Tensor(scalar: b) }
    public static func + (a: Float, b: Tensor) throws -> Tensor { try Tensor(scalar: a) + b }
    public static func - (a: Float, b: Tensor) throws -> Tensor { try Tensor(scalar: a) - b }
    public static func * (a: Float, b: Tensor) throws -> Tensor { try Tensor(scalar: a) * b }
    public static func / (a: Float, b: Tensor) throws -> Tensor { try Tensor(scalar: a) / b }
    public static func pow(_ a: Tensor, _ p: Float) throws -> Tensor { try pow(a, Tensor(scalar: p)) }

    // MARK: Unary functions

    public func exp() -> Tensor { unary(cost: 4, { expf($0) }, derivative: { _, y, g in g * y }) }
    public func log() -> Tensor { unary(cost: 4, { logf($0) }, derivative: { x, _, g in g / x }) }
    public func sqrt() -> Tensor { unary(cost: 2, { $0.squareRoot() }, derivative: { _, y, g in g / (2 * y) }) }
    public func abs() -> Tensor {
        unary({ Swift.abs($0) }, derivative: { x, _, g in x > 0 ? g : (x < 0 ? -g : 0) })
    }
    /// max(x, 0) (NaN gives 0); the gradient passes where the output is positive. Written out
    /// rather than through `unary`: a closure called per element keeps the loops from being
    /// vectorised, and ReLU runs on every activation of every network.
    public func relu() -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let src = storage.pointer, dst = out.storage.pointer
        Parallel.forRanges(count) { r in
            for i in r { dst[i] = src[i] > 0 ? src[i] : 0 }
        }
        if Tensor.recording(self) {
            let y = out.detached()
            out.record([self]) { g in
                let dx = Tensor(uninitializedShape: y.shape)
                let py = y.storage.pointer, pg = g.storage.pointer, pd = dx.storage.pointer
                Parallel.forRanges(y.count) { r in
                    // Both loads unconditional, so the choice is a vector blend: a conditional
                    // load of g kept a branch per element (half of them mispredicted).
                    for i in r {
                        let (yi, gi) = (py[i], pg[i])
                        pd[i] = yi > 0 ? gi : 0
                    }
                }
                return [dx]
            }
        }
        return out
    }
    public func sigmoid() -> Tensor {
        unary(cost: 4, { x in
            // Split by sign so exp never overflows.
            x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
        }, derivative: { _, y, g in g * y * (1 - y) })
    }
    public func tanh() -> Tensor { unary(cost: 4, { tanhf($0) }, derivative: { _, y, g in g * (1 - y * y) }) }

    /// Gradient reversal (Ganin & Lempitsky): the identity forward; backward multiplies the
    /// gradient by −λ, so layers before it learn to confuse what comes after it.
    public func reversingGradient(lambda: Float) -> Tensor {
        var out = Tensor(shape: shape, storage: storage)
        if Tensor.recording(self) {
            out.record([self]) { g in [g.map { -lambda * $0 }] }
        }
        return out
    }

    /// 0/1 tensors from comparisons (no gradient).
    public static func compare(_ a: Tensor, _ b: Tensor, op: String,
                               _ f: (Float, Float) -> Bool) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape, op: op)
        return broadcastZip(a, b, to: shape) { f($0, $1) ? 1 : 0 }
    }
}
