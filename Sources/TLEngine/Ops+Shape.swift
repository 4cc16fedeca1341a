// Operations that move elements without arithmetic: reshape, permute, concat, slice, gather.

extension Tensor {
    /// The same elements under a new shape; one dimension may be -1 and is inferred.
    /// Shares storage with `self`.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var target = newShape
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        guard unknown.count <= 1, newShape.allSatisfy({ $0 >= -1 }) else {
            throw TensorError.badShape(op: "reshape", newShape, "at most one dimension may be -1, others ≥ 0")
        }
        if let u = unknown.first {
            let known = newShape.enumerated().filter { $0.offset != u }.map(\.element)
            let rest = try Shape.count(known, op: "reshape", allocating: false)
            guard rest > 0, count % rest == 0 else {
                throw TensorError.shapeMismatch(op: "reshape", "element counts differ", shape, newShape)
            }
            target[u] = count / rest
        }
        guard try Shape.count(target, op: "reshape", allocating: false) == count else {
            throw TensorError.shapeMismatch(op: "reshape", "element counts differ", shape, newShape)
        }
        return reshapedUnchecked(target)
    }

    /// Reshape to a shape known to hold the same number of elements.
    func reshapedUnchecked(_ target: [Int]) -> Tensor {
        var out = Tensor(shape: target, storage: storage)
        if Tensor.recording(self) {
            let source = shape
            out.record([self]) { g in [g.reshapedUnchecked(source)] }
        }
        return out
    }

    /// Reorders the axes: result axis i is input axis `order[i]` (NumPy's `transpose(axes)`).
    public func permuted(_ order: [Int]) throws -> Tensor {
        let axes = try order.map { try Shape.axis($0, rank: rank, op: "permute") }
        guard axes.count == rank, Set(axes).count == rank else {
            throw TensorError.invalidArgument(
                op: "permute", "\(order) is not a permutation of the \(rank) axes of a \(Shape.describe(shape)) tensor")
        }
        return permutedUnchecked(axes)
    }

    func permutedUnchecked(_ axes: [Int]) -> Tensor {
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        var out = Tensor(uninitializedShape: outShape)
        let inStrides = Shape.strides(shape)
        let strides = axes.map { inStrides[$0] }
        let src = storage.pointer, dst = out.storage.pointer
        Tensor.forEachRun(outShape, strides, strides) { o, i, d, _, _, n in
            if d == 1 {
                for k in 0..<n { dst[o + k] = src[i + k] }
            } else {
                for k in 0..<n { dst[o + k] = src[i + k * d] }
            }
        }
        if Tensor.recording(self) {
            var inverse = [Int](repeating: 0, count: axes.count)
            for (i, a) in axes.enumerated() { inverse[a] = i }
            out.record([self]) { g in [g.permutedUnchecked(inverse)] }
        }
        return out
    }

    /// Swaps two axes.
    public func transposed(_ a: Int, _ b: Int) throws -> Tensor {
        let x = try Shape.axis(a, rank: rank, op: "transpose"), y = try Shape.axis(b, rank: rank, op: "transpose")
        var order = Array(0..<rank)
        order.swapAt(x, y)
        return permutedUnchecked(order)
    }

    /// All axes reversed (NumPy's `.T`): a matrix's transpose.
    public var T: Tensor { permutedUnchecked(Array((0..<rank).reversed())) }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concat(_ parts: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = parts.first else {
            throw TensorError.invalidArgument(op: "concat", "needs at least one tensor")
        }
        let ax = try Shape.axis(axis, rank: first.rank, op: "concat")
        var outShape = first.shape
        outShape[ax] = 0
        for p in parts {
            var a = p.shape, b = first.shape
            guard a.count == b.count else {
                throw TensorError.shapeMismatch(op: "concat", "ranks differ", first.shape, p.shape)
            }
            a[ax] = 0; b[ax] = 0
            guard a == b else {
                throw TensorError.shapeMismatch(op: "concat", "dimensions other than axis \(ax) differ", first.shape, p.shape)
            }
            outShape[ax] += p.shape[ax]
        }
        _ = try Shape.count(outShape, op: "concat")
        var out = Tensor(uninitializedShape: outShape)
        let outer = Shape.product(outShape[..<ax]), inner = Shape.product(outShape[(ax + 1)...])
        let rowOut = outShape[ax] * inner
        var offset = 0
        for p in parts {
            let row = p.shape[ax] * inner
            let src = p.storage.pointer, dst = out.storage.pointer
            if outer == 1 {
                // Along the first axis each part is one run (DANN's source and target batches,
                // stacked every step): split over the threads when large.
                let to = dst + offset
                Parallel.forRanges(row) { range in
                    (to + range.lowerBound).update(from: src + range.lowerBound, count: range.count)
                }
            } else {
                for o in 0..<outer {
                    (dst + o * rowOut + offset).update(from: src + o * row, count: row)
                }
            }
            offset += row
        }
        if recording(parts) {
            let sizes = parts.map { $0.shape[ax] }
            let needs = parts.map(\.requiresGrad)
            out.record(parts) { g in
                var start = 0
                return zip(sizes, needs).map { size, need in
                    defer { start += size }
                    return need ? g.sliceUnchecked(axis: ax, start: start, count: size, step: 1) : nil
                }
            }
        }
        return out
    }

    /// Python's slice semantics on one axis: `start`, `end` (exclusive) and `step` may be nil or
    /// negative and are clamped as in `x[start:end:step]`.
    public func sliced(axis: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) throws -> Tensor {
        let ax = try Shape.axis(axis, rank: rank, op: "slice")
        guard step != 0 else { throw TensorError.invalidArgument(op: "slice", "slice step cannot be zero") }
        let n = shape[ax]
        func clamp(_ v: Int?, _ dflt: Int, low: Int, high: Int) -> Int {
            guard var v else { return dflt }
            if v < 0 { v += n }
            return Swift.min(Swift.max(v, low), high)
        }
        let first: Int, last: Int
        if step > 0 {
            first = clamp(start, 0, low: 0, high: n)
            last = clamp(end, n, low: 0, high: n)
        } else {
            first = clamp(start, n - 1, low: -1, high: n - 1)
            last = clamp(end, -1, low: -1, high: n - 1)
        }
        let span = step > 0 ? last - first : first - last
        let length = span <= 0 ? 0 : (span - 1) / Swift.abs(step) + 1
        return sliceUnchecked(axis: ax, start: first, count: length, step: step)
    }

    /// `count` elements along `axis` from `start` by `step`, indices already valid.
    func sliceUnchecked(axis ax: Int, start: Int, count length: Int, step: Int) -> Tensor {
        let (outer, n, inner) = Shape.split(shape, at: ax)
        var outShape = shape
        outShape[ax] = length
        var out = Tensor(uninitializedShape: outShape)
        let src = storage.pointer, dst = out.storage.pointer
        for o in 0..<outer {
            for k in 0..<length {
                (dst + (o * length + k) * inner).update(from: src + (o * n + start + k * step) * inner, count: inner)
            }
        }
        if Tensor.recording(self) {
            let inShape = shape
            out.record([self]) { g in
                let dx = Tensor.zeros(like: inShape)
                let pg = g.storage.pointer, pd = dx.storage.pointer
                for o in 0..<outer {
                    for k in 0..<length {
                        (pd + (o * n + start + k * step) * inner).update(from: pg + (o * length + k) * inner, count: inner)
                    }
                }
                return [dx]
            }
        }
        return out
    }

    /// Rows (entries along axis 0) at `indices`, repeats allowed; negative indices count from the end.
    public func indexSelect(_ indices: [Int]) throws -> Tensor {
        guard rank >= 1 else { throw TensorError.badShape(op: "index_select", shape, "a scalar has no rows") }
        let n = shape[0]
        let rows = try indices.map { i -> Int in
            let j = i < 0 ? i + n : i
            guard j >= 0, j < n else {
                throw TensorError.invalidArgument(op: "index_select", "index \(i) is out of range for \(n) rows")
            }
            return j
        }
        let inner = n == 0 ? 0 : count / n
        var outShape = shape
        outShape[0] = rows.count
        _ = try Shape.count(outShape, op: "index_select")
        var out = Tensor(uninitializedShape: outShape)
        let src = storage.pointer, dst = out.storage.pointer
        // Over the threads when large (a training batch: 512 × 784 values gathered on one thread
        // had left the other idle for 3 % of an MLP step).
        rows.withUnsafeBufferPointer { rows in
            Parallel.forRanges(rows.count, cost: inner) { range in
                for k in range { (dst + k * inner).update(from: src + rows[k] * inner, count: inner) }
            }
        }
        if Tensor.recording(self) {
            let inShape = shape
            out.record([self]) { g in
                let dx = Tensor.zeros(like: inShape)
                let pg = g.storage.pointer, pd = dx.storage.pointer
                for (k, r) in rows.enumerated() {
                    for i in 0..<inner { pd[r * inner + i] += pg[k * inner + i] }
                }
                return [dx]
            }
        }
        return out
    }

    /// From an N×C tensor, the element `x[i, columns[i]]` of every row, as a vector of N.
    public func gatherColumns(_ columns: [Int]) throws -> Tensor {
        guard rank == 2 else { throw TensorError.badShape(op: "gather", shape, "expected a 2-D tensor") }
        let (rows, cols) = (shape[0], shape[1])
        guard columns.count == rows else {
            throw TensorError.invalidArgument(op: "gather", "\(columns.count) indices for \(rows) rows")
        }
        for c in columns where c < 0 || c >= cols {
            throw TensorError.invalidArgument(op: "gather", "class index \(c) is out of range for \(cols) columns")
        }
        var out = Tensor(uninitializedShape: [rows])
        let src = storage.pointer, dst = out.storage.pointer
        for i in 0..<rows { dst[i] = src[i * cols + columns[i]] }
        if Tensor.recording(self) {
            let inShape = shape
            out.record([self]) { g in
                let dx = Tensor.zeros(like: inShape)
                for i in 0..<rows { dx.storage.pointer[i * cols + columns[i]] = g.storage.pointer[i] }
                return [dx]
            }
        }
        return out
    }
}
