/// Shape arithmetic shared by the ops: element counts, strides, broadcasting, axis checks.
public enum Shape {
    /// The largest tensor the engine agrees to allocate (2^31 − 1 elements, 8 GiB of fp32):
    /// BLAS takes 32-bit sizes, and a request past this is almost surely a mistake.
    public static let maxElements = Int(Int32.max)

    /// Number of elements of `shape`, checked for negative dimensions and overflow, and, when it
    /// is about to be `allocating` a new tensor, against what the memory budget has left.
    public static func count(_ shape: [Int], op: String = "tensor", allocating: Bool = true) throws -> Int {
        for d in shape where d < 0 {
            throw TensorError.badShape(op: op, shape, "dimensions must not be negative")
        }
        // The sizes other than zeros must multiply to at most `maxElements`, in any order: an
        // empty tensor (0 × 2^40) would otherwise have an axis no code can walk, and products
        // of its sizes (strides) that overflow.
        var n = 1
        for d in shape where d != 0 {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else {
                throw TensorError.tooLarge(op: op, elements: overflow ? Int.max : p)
            }
            n = p
        }
        if shape.contains(0) { return 0 }
        guard n <= Memory.budgetBytes / MemoryLayout<Float>.stride else { throw TensorError.overBudget(op: op, elements: n) }
        if allocating { try Memory.reserve(n * MemoryLayout<Float>.stride, for: op) }
        return n
    }

    /// Product of dimensions of a shape already known to be valid.
    @inlinable
    public static func product<C: Collection>(_ dims: C) -> Int where C.Element == Int {
        dims.reduce(1, *)
    }

    /// Row-major strides of a contiguous tensor of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// NumPy's broadcast of two shapes, aligned at the right.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw TensorError.shapeMismatch(op: op, "shapes cannot be broadcast together", a, b)
            }
        }
        _ = try count(out, op: op)
        return out
    }

    /// Normalises a possibly negative axis against `rank`.
    public static func axis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { throw TensorError.badAxis(op: op, axis: axis, rank: rank) }
        return a
    }

    /// Splits `shape` around `axis` into (outer, n, inner) element counts.
    static func split(_ shape: [Int], at axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (product(shape[..<axis]), shape[axis], product(shape[(axis + 1)...]))
    }

    /// `2×3×4`, or `scalar` for rank 0.
    public static func describe(_ shape: [Int]) -> String {
        shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "×")
    }
}
