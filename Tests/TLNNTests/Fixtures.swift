import Testing
@testable import TLEngine
@testable import TLNN

/// The committed reference files of Tests/Fixtures (made by make_fixtures.py).
enum Fixtures {
    static let directory: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    static func path(_ name: String) -> String { directory + "/" + name }

    /// The tensors of a fixture safetensors file by name.
    static func load(_ name: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (key, t) in try Safetensors.read(path(name)).tensors { result[key] = t }
        return result
    }
}

extension Dictionary where Key == String, Value == Tensor {
    func tensor(_ key: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Tensor {
        try #require(self[key], "fixture has no '\(key)'", sourceLocation: sourceLocation)
    }

    /// Class ids stored as int64 tensors.
    func labels(_ key: String) throws -> [Int] { try tensor(key).scalars.map { Int($0) } }
}

/// Elementwise closeness, relative to magnitude above 1.
func expectClose(_ a: Tensor?, _ b: Tensor, tolerance: Float = 1e-5, _ what: String = "",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard let a else {
        Issue.record("\(what): no tensor", sourceLocation: sourceLocation)
        return
    }
    #expect(a.shape == b.shape, "\(what): shapes \(a.shape) and \(b.shape)", sourceLocation: sourceLocation)
    guard a.shape == b.shape else { return }
    let worst = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
    #expect(worst <= tolerance, "\(what): largest difference \(worst)", sourceLocation: sourceLocation)
}

/// Runs `y = f(inputs)` and `(y·r).sum().backward()` like the generator did; returns y and the grads.
func forwardBackward(_ inputs: [Tensor], r: Tensor, _ f: ([Tensor]) throws -> Tensor) throws -> (Tensor, [Tensor?]) {
    let leaves = inputs.map { $0.requiringGrad() }
    let y = try f(leaves)
    try (y * r).sum().backward()
    return (y.detached(), leaves.map(\.grad))
}
