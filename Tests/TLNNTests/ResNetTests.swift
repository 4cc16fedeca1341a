import Foundation
import Testing
@testable import TLEngine
@testable import TLNN

/// Pooling with padding, adaptive pooling, torchvision's basic block and ResNet-18 against PyTorch
/// (resnet.safetensors, from make_fixtures.py's `resnet()`).
@Suite struct ResNetTests {
    let fixtures: [String: Tensor]
    init() throws { fixtures = try Fixtures.load("resnet.safetensors") }

    func check(_ prefix: String, _ f: (Tensor) throws -> Tensor) throws {
        let x = try fixtures.tensor("\(prefix).in0")
        let (y, grads) = try forwardBackward([x], r: try fixtures.tensor("\(prefix).r")) { try f($0[0]) }
        expectClose(y, try fixtures.tensor("\(prefix).y"), "\(prefix) output")
        expectClose(grads[0], try fixtures.tensor("\(prefix).grad0"), "\(prefix) grad")
    }

    @Test func pooling() throws {
        try check("maxpool_pad") { try MaxPool2d(3, stride: 2, padding: 1)($0) }
        try check("avgpool_pad") { try AvgPool2d(3, stride: 2, padding: 1)($0) }
        try check("avgpool") { try AvgPool2d(2)($0) }
        try check("adaptive3") { try AdaptiveAvgPool2d(3)($0) }
        try check("adaptive1") { try AdaptiveAvgPool2d(1)($0) }
    }

    /// torchvision's BasicBlock(4, 8, stride=2) with its downsample, in training: the same names,
    /// outputs, gradients of the input and of every weight, and running statistics.
    @Test func basicBlockInTraining() throws {
        var g = RandomGenerator(seed: 0)
        let block = try ResNet.basicBlock(4, 8, stride: 2, using: &g)
        let prefix = "block."
        let names = Set(fixtures.keys.filter { $0.hasPrefix(prefix) && !$0.hasPrefix("block.grad") && !$0.hasPrefix("block.after") }
            .map { String($0.dropFirst(prefix.count)) }).subtracting(["x", "y", "r", "grad_x"])
        #expect(Set(block.namedParameters().map(\.name)) == names)
        try block.loadWeights(block.namedParameters().map { ($0.name, try fixtures.tensor(prefix + $0.name)) }, source: "fixture")
        let (y, grads) = try forwardBackward([try fixtures.tensor("block.x")], r: try fixtures.tensor("block.r")) { try block($0[0]) }
        expectClose(y, try fixtures.tensor("block.y"), tolerance: 1e-4, "block output")
        expectClose(grads[0], try fixtures.tensor("block.grad_x"), tolerance: 1e-4, "block grad x")
        for (name, p) in block.namedParameters() {
            if p.isBuffer {
                guard name.contains("running") else { continue }
                expectClose(p.value, try fixtures.tensor("block.after.\(name)"), "\(name) after one batch")
            } else {
                expectClose(p.grad, try fixtures.tensor("block.grad.\(name)"), tolerance: 1e-4, "grad \(name)")
            }
        }
    }

    /// make_fixtures.py's `formula`: values in [0, 1) from an integer hash of index and name.
    static func formula(_ n: Int, _ name: String) -> [Double] {
        let seed = UInt64(name.unicodeScalars.enumerated().reduce(0) { $0 + ($1.offset + 1) * Int($1.element.value) } % 1_000_003)
        return (0..<UInt64(n)).map { k in Double((k &* 2_654_435_761 &+ seed &* 40503) & 0xFFFF_FFFF) / 4_294_967_296 }
    }

    static func formulaTensor(_ name: String, _ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        let u = formula(n, name)
        let last = name.split(separator: ".").last.map(String.init) ?? name
        let values: [Double]
        if last == "weight", shape.count > 1 {
            let bound = (3.0 / Double(n / shape[0])).squareRoot()
            values = u.map { (2 * $0 - 1) * bound }
        } else if last == "weight" || last == "running_var" {
            values = u.map { 0.5 + $0 }
        } else {
            values = u.map { ($0 - 0.5) * 0.2 }
        }
        return (try? Tensor(shape: shape, values: values.map { Float($0) })) ?? Tensor(scalar: 0)
    }

    /// tl's ResNet-18 has torchvision's state_dict names and shapes: weights written under those
    /// names (as a converted torchvision checkpoint would be) load with `loadWeights`, and the
    /// logits on 3×64×64 and 3×224×224 images agree with torchvision's to 1e-4 of their scale.
    @Test func resnet18MatchesTorchvision() throws {
        var g = RandomGenerator(seed: 0)
        let source = try ResNet.make(depth: 18, classes: 1000, using: &g)
        #expect(source.namedParameters().count == 122)
        #expect(source.parameterCount == 11_689_512)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tl-resnet18-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        for (name, p) in source.namedParameters() where p.storedType != .int64 {
            p.value = Self.formulaTensor(name, p.value.shape)
        }
        try source.saveWeights(to: file)
        let net = try ResNet.make(depth: 18, classes: 1000, using: &g)
        try net.loadWeights(from: file)
        net.setTraining(false)
        for size in [64, 224] {
            let input = Self.formula(2 * 3 * size * size, "input\(size)").map { Float(2 * $0 - 1) }
            let logits = try GradMode.withoutGrad { try net(try Tensor(shape: [2, 3, size, size], values: input)) }
            let expected = try fixtures.tensor("resnet18.logits\(size)")
            #expect(logits.shape == expected.shape)
            let scale = expected.scalars.map(abs).max() ?? 1
            let worst = zip(logits.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst / scale <= 1e-4, "\(size)×\(size): largest difference \(worst) for logits up to \(scale)")
        }
    }
}
