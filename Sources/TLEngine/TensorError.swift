/// An error a caller can cause: a bad shape, an axis out of range, a value out of its domain.
///
/// Engine functions throw these instead of trapping, so that a shell can show the message
/// and keep running. The language layer adds the source location.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// Two shapes that an operation needs to agree do not.
    case shapeMismatch(op: String, String, [Int], [Int])
    /// A single shape is unacceptable for an operation.
    case badShape(op: String, [Int], String)
    /// An axis outside `-rank..<rank`.
    case badAxis(op: String, axis: Int, rank: Int)
    /// Any other invalid argument.
    case invalidArgument(op: String, String)
    /// A tensor larger than the engine's limit.
    case tooLarge(op: String, elements: Int)
    /// Larger than the memory budget (`Memory`).
    case overBudget(op: String, elements: Int)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, detail, a, b):
            return "shape mismatch in \(op): \(detail) (\(Shape.describe(a)) and \(Shape.describe(b)))"
        case let .badShape(op, shape, detail):
            return "bad shape \(Shape.describe(shape)) for \(op): \(detail)"
        case let .badAxis(op, axis, rank):
            return "axis \(axis) is out of range for \(op) on a tensor of rank \(rank)"
        case let .invalidArgument(op, detail):
            return "\(op): \(detail)"
        case let .overBudget(op, elements):
            return MemoryError(op: op, asked: elements * MemoryLayout<Float>.stride, held: nil, budget: Memory.budgetBytes).description
        case let .tooLarge(op, elements):
            let size = elements == Int.max ? "more than \(Shape.maxElements)" : String(elements)
            return "\(op): a tensor of \(size) elements is too large (the limit is \(Shape.maxElements))"
        }
    }
}
