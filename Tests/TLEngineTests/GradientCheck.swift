import Testing
@testable import TLEngine

/// How to draw test inputs for an op, so that finite differences are meaningful.
enum InputKind {
    /// Standard normal values.
    case normal
    /// Values in ±[0.2, 1.2]: away from the kink of relu and abs.
    case awayFromZero
    /// Values in [0.5, 1.5]: in the domain of log, sqrt and fractional powers.
    case positive
    /// A shuffled ladder of well separated values: no ties for max, min and pooling.
    case distinct
}

/// Draws a test tensor of `shape`.
func sample(_ shape: [Int], _ kind: InputKind = .normal, _ rng: inout RandomGenerator) -> Tensor {
    let n = shape.reduce(1, *)
    var values = [Float](repeating: 0, count: n)
    switch kind {
    case .normal:
        for i in 0..<n { values[i] = rng.nextNormal() }
    case .awayFromZero:
        for i in 0..<n { values[i] = (0.2 + rng.nextFloat()) * (rng.nextFloat() < 0.5 ? -1 : 1) }
    case .positive:
        for i in 0..<n { values[i] = 0.5 + rng.nextFloat() }
    case .distinct:
        let order = rng.permutation(n)
        for i in 0..<n { values[i] = Float(order[i]) * 0.1 - Float(n) * 0.05 }
    }
    return try! Tensor(shape: shape, values: values)
}

/// Compares the engine's reverse-mode gradients of `op` with central finite differences.
///
/// The scalar checked is L = Σ op(x)·r for a random r, so every output element contributes.
/// Both sides are computed in fp32 (L summed in Double), hence the tolerances.
func checkGradients(
    _ shapes: [[Int]], _ kinds: [InputKind]? = nil, step: Float = 1e-2,
    tolerance: Float = 1e-2, seed: UInt64 = 7, _ op: ([Tensor]) throws -> Tensor,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var rng = RandomGenerator(seed: seed)
    let inputs = shapes.enumerated().map { i, s in sample(s, kinds?[i] ?? .normal, &rng).requiringGrad() }
    let output = try op(inputs)
    let r = sample(output.shape, .normal, &rng)
    try (output * r).sum().backward()

    func objective(_ xs: [Tensor]) throws -> Double {
        let y = try GradMode.withoutGrad { try op(xs) }
        return zip(y.scalars, r.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    for (i, x) in inputs.enumerated() {
        let analytic = try #require(x.grad, "input \(i) got no gradient", sourceLocation: sourceLocation)
        #expect(analytic.shape == x.shape, sourceLocation: sourceLocation)
        for j in 0..<x.count {
            var plus = inputs.map { $0.detached() }, minus = plus
            plus[i].withUnsafeMutableBufferPointer { $0[j] += step }
            minus[i].withUnsafeMutableBufferPointer { $0[j] -= step }
            let numeric = Float((try objective(plus) - objective(minus)) / Double(2 * step))
            let a = analytic.scalars[j]
            #expect(
                Swift.abs(a - numeric) <= tolerance * Swift.max(1, Swift.abs(numeric)),
                "input \(i) element \(j): reverse mode \(a), finite differences \(numeric)",
                sourceLocation: sourceLocation)
        }
    }
}

/// Elementwise closeness with a relative and an absolute part.
func expectClose(_ a: Tensor, _ b: Tensor, tolerance: Float = 1e-5,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)", sourceLocation: sourceLocation)
    guard a.shape == b.shape else { return }
    let worst = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
    #expect(worst <= tolerance, "largest relative difference \(worst)", sourceLocation: sourceLocation)
}

func tensor(_ shape: [Int], _ values: [Float]) -> Tensor { try! Tensor(shape: shape, values: values) }
