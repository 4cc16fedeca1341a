/// An n-dimensional array of 32-bit floats, stored row-major and contiguous.
///
/// `Tensor` is a value: copies share storage until one of them is written to (copy on write).
/// A tensor that requires gradients carries a reference to its node in the autodiff graph;
/// operations on such tensors record how to send gradients back (see `Autodiff.swift`).
public struct Tensor {
    /// The size of each dimension; empty for a scalar.
    public private(set) var shape: [Int]
    @usableFromInline var storage: Storage
    /// The autodiff node, present when this tensor requires gradients.
    @usableFromInline var node: Node?

    /// Wraps storage already filled for `shape`.
    @usableFromInline
    init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    /// Uninitialised storage for a shape whose size has already been checked.
    @usableFromInline
    init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: Storage(uninitializedCount: Shape.product(shape)))
    }

    /// A tensor holding `values` in row-major order.
    public init(shape: [Int], values: [Float]) throws {
        let n = try Shape.count(shape)
        guard n == values.count else {
            throw TensorError.invalidArgument(
                op: "tensor", "\(values.count) values cannot fill shape \(Shape.describe(shape)) (\(n) elements)")
        }
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: n) }
        }
    }

    /// A one-dimensional tensor of `values`.
    public init(_ values: [Float]) {
        self.init(uninitializedShape: [values.count])
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: values.count) }
        }
    }

    /// A scalar (rank-0) tensor.
    public init(scalar: Float) {
        self.init(shape: [], storage: Storage(repeating: scalar, count: 1))
    }

    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) throws -> Tensor {
        _ = try Shape.count(shape, op: "full")
        return full(validated: shape, value)
    }

    public static func zeros(_ shape: [Int]) throws -> Tensor { try full(shape, 0) }
    public static func ones(_ shape: [Int]) throws -> Tensor { try full(shape, 1) }

    /// Zeros of a shape known to be valid (an existing tensor's shape).
    @usableFromInline
    static func zeros(like shape: [Int]) -> Tensor { full(validated: shape, 0) }

    /// `start, start+step, …` up to but excluding `end`.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw TensorError.invalidArgument(op: "arange", "start, end and step must be finite and step non-zero")
        }
        let steps = (Double(end) - Double(start)) / Double(step)
        guard steps <= Double(Shape.maxElements) else { throw TensorError.tooLarge(op: "arange", elements: Int.max) }
        let n = Swift.max(0, Int(steps.rounded(.up)))
        var t = Tensor(uninitializedShape: [n])
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i] = start + Float(i) * step }
        }
        return t
    }

    /// The n×n identity matrix.
    public static func eye(_ n: Int) throws -> Tensor {
        var t = try zeros([n, n])
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i * n + i] = 1 }
        }
        return t
    }

    /// Uniform samples in [low, high) from `generator`.
    public static func rand(
        _ shape: [Int], low: Float = 0, high: Float = 1, using generator: inout RandomGenerator
    ) throws -> Tensor {
        _ = try Shape.count(shape, op: "rand")
        return rand(validated: shape, low: low, high: high, using: &generator)
    }

    /// Uniform samples for a shape already validated (a layer's parameter). Not refused by the
    /// memory budget here: the allocation is counted and, past the budget, reported at the
    /// next `Memory.checkOverflow`.
    public static func rand(validated shape: [Int], low: Float, high: Float, using generator: inout RandomGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = low + (high - low) * generator.nextFloat() }
        }
        return t
    }

    /// `value` everywhere, for a shape already validated (an existing tensor's): counted as
    /// `rand(validated:)` is.
    public static func full(validated shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape, storage: Storage(repeating: value, count: Shape.product(shape)))
    }

    /// Standard normal samples (times `std`, plus `mean`) from `generator`.
    public static func randn(
        _ shape: [Int], mean: Float = 0, std: Float = 1, using generator: inout RandomGenerator
    ) throws -> Tensor {
        let n = try Shape.count(shape, op: "randn")
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i] = mean + std * generator.nextNormal() }
        }
        return t
    }

    // MARK: Inspection

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { storage.count }
    /// The elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The single element of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else {
            throw TensorError.badShape(op: "item", shape, "only a one-element tensor converts to a number")
        }
        return storage.pointer[0]
    }

    /// Read access to the elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Write access to the elements; copies the storage first if another value shares it.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Whether two tensors share one buffer (a test hook for copy-on-write and views).
    public func _sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}

extension Tensor: Equatable {
    /// Same shape and bitwise-equal elements (NaN equals NaN with the same bits).
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        if a.storage === b.storage { return true }
        for i in 0..<a.count where a.storage.pointer[i].bitPattern != b.storage.pointer[i].bitPattern {
            return false
        }
        return true
    }
}
