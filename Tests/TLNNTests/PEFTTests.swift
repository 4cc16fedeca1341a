import Testing
@testable import TLEngine
@testable import TLNN

/// LoRA and adapters: gradients by finite differences, starting as the base layer, merging, and
/// what is frozen.
@Suite struct PEFTTests {
    func randn(_ shape: [Int], _ g: inout RandomGenerator, scale: Float = 1) -> Tensor {
        (try! Tensor.randn(shape, using: &g) * scale).detached()
    }

    /// Compares reverse-mode gradients of Σ layer(x)·r with respect to x and every trainable
    /// parameter with central finite differences (in fp32, summed in Double).
    func checkGradients(_ layer: any Layer, input shape: [Int], seed: UInt64 = 3, step: Float = 1e-2,
                        tolerance: Float = 1e-2, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var g = RandomGenerator(seed: seed)
        let x = randn(shape, &g).requiringGrad()
        let y = try layer(x)
        let r = randn(y.shape, &g)
        try (y * r).sum().backward()
        func objective(_ input: Tensor) throws -> Double {
            let out = try GradMode.withoutGrad { try layer(input) }
            return zip(out.scalars, r.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        func compare(_ analytic: Tensor?, _ count: Int, _ what: String, _ perturb: (Int, Float) -> Void, _ input: () -> Tensor) throws {
            let a = try #require(analytic, "\(what) got no gradient", sourceLocation: sourceLocation)
            for j in 0..<count {
                perturb(j, step)
                let plus = try objective(input())
                perturb(j, -2 * step)
                let minus = try objective(input())
                perturb(j, step)
                let numeric = Float((plus - minus) / Double(2 * step))
                #expect(Swift.abs(a.scalars[j] - numeric) <= tolerance * Swift.max(1, Swift.abs(numeric)),
                        "\(what)[\(j)]: reverse mode \(a.scalars[j]), finite differences \(numeric)", sourceLocation: sourceLocation)
            }
        }
        var xv = x.detached()
        try compare(x.grad, x.count, "input", { j, d in xv.withUnsafeMutableBufferPointer { $0[j] += d } }, { xv })
        for (name, p) in layer.namedParameters() where !p.isFrozen {
            let grad = p.grad
            var v = p.value.detached()
            try compare(grad, v.count, name, { j, d in
                v.withUnsafeMutableBufferPointer { $0[j] += d }
                p.assign(v)
            }, { x.detached() })
        }
    }

    /// A LoRA layer with a non-zero B, so that every gradient is exercised.
    func lora(_ base: any Layer, rank: Int, alpha: Float, _ g: inout RandomGenerator) throws -> LoRA {
        let layer = try LoRA(base, rank: rank, alpha: alpha, using: &g)
        layer.b.assign(randn(layer.b.value.shape, &g, scale: 0.5))
        base.setFrozen(true)
        return layer
    }

    @Test func loraGradients() throws {
        var g = RandomGenerator(seed: 1)
        try checkGradients(try lora(try Linear(5, 3, using: &g), rank: 2, alpha: 3, &g), input: [4, 5])
        try checkGradients(try lora(try Linear(5, 3, using: &g), rank: 2, alpha: 2, &g), input: [2, 3, 5])
        try checkGradients(try lora(try Conv2d(2, 3, kernel: 3, stride: 2, padding: 1, using: &g), rank: 2, alpha: 4, &g),
                           input: [2, 2, 5, 5])
    }

    @Test func adapterGradients() throws {
        var g = RandomGenerator(seed: 6)
        for (base, shape) in [(try Linear(4, 6, using: &g), [3, 4]), (try Conv2d(2, 3, kernel: 3, padding: 1, using: &g), [2, 2, 4, 4])] as [(any Layer, [Int])] {
            let adapter = try Adapter(after: base, size: 2, using: &g)
            for p in adapter.up.parameters { p.assign(randn(p.value.shape, &g, scale: 0.5)) }
            base.setFrozen(true)
            // Finite differences are only meaningful away from ReLU's kink: with checkGradients'
            // input (seed 3), no value entering the bottleneck's ReLU is within 0.01 of it.
            var inputs = RandomGenerator(seed: 3)
            let pre = try GradMode.withoutGrad { try adapter.down(try base(randn(shape, &inputs))) }
            try #require(pre.scalars.allSatisfy { Swift.abs($0) > 0.01 }, "the check would straddle ReLU's kink")
            try checkGradients(adapter, input: shape, step: 1e-3)
        }
    }

    /// B and up start at zero: a wrapped layer gives its base's outputs exactly.
    @Test func wrappersStartAsTheBase() throws {
        var g = RandomGenerator(seed: 3)
        let conv = try Conv2d(3, 4, kernel: 3, padding: 1, using: &g)
        let x = randn([2, 3, 6, 6], &g)
        let base = try conv(x)
        #expect(try LoRA(conv, rank: 2, alpha: 2, using: &g)(x).scalars == base.scalars)
        #expect(try Adapter(after: conv, size: 2, using: &g)(x).scalars == base.scalars)
    }

    /// Merging folds the update into the weights: the same outputs, a plain layer.
    @Test func mergeGivesTheSameOutputs() throws {
        var g = RandomGenerator(seed: 4)
        for (base, shape) in [(try Linear(6, 4, using: &g), [5, 6]),
                              (try Conv2d(3, 4, kernel: 3, stride: 2, padding: 1, using: &g), [2, 3, 7, 7])] as [(any Layer, [Int])] {
            let layer = try lora(base, rank: 3, alpha: 6, &g)
            let x = randn(shape, &g)
            let merged = try layer.merged()
            #expect(type(of: merged) == type(of: base))
            expectClose(try merged(x), try layer(x), tolerance: 1e-5, "merged \(base.summary)")
        }
    }

    /// Wrapping a model freezes every weight but the new ones, renames as PEFT does, and reaches
    /// layers inside residual blocks, their shortcut included.
    @Test func wrappingAModel() throws {
        var g = RandomGenerator(seed: 5)
        let block = try ResNet.basicBlock(2, 4, stride: 2, using: &g)
        let net = Sequential(entries: [("block", block), ("pool", try AdaptiveAvgPool2d(1)), ("flatten", Flatten()),
                                       ("fc", try Linear(4, 3, using: &g))])
        let x = randn([2, 2, 6, 6], &g)
        net.setTraining(false)
        let before = try net(x)
        let sites = PEFT.sites(of: net)
        #expect(sites.map(\.path) == ["block", "block.conv1", "block.bn1", "block.relu", "block.conv2", "block.bn2",
                                      "block.downsample", "block.downsample.0", "block.downsample.1", "pool", "flatten", "fc"])
        let chosen = try PEFT.choose(sites, names: ["block.downsample.0", "fc"], accepts: LoRA.wraps, what: "layers", op: "lora")
        try PEFT.wrap(net, chosen) { try LoRA($0, rank: 2, alpha: 2, using: &g) }
        #expect(try net(x).scalars == before.scalars)
        let trainable = net.namedParameters().filter { !$0.parameter.isFrozen && !$0.parameter.isBuffer }.map(\.name)
        #expect(trainable == ["block.downsample.0.lora_A", "block.downsample.0.lora_B", "fc.lora_A", "fc.lora_B"])
        #expect(net.namedParameters().map(\.name).contains("fc.base_layer.weight"))
        #expect(net.trainableCount == 2 * 2 + 4 * 2 + 2 * 4 + 3 * 2)
        #expect(throws: TensorError.self) { try PEFT.choose(sites, names: ["pool"], accepts: LoRA.wraps, what: "layers", op: "lora") }
        #expect(throws: TensorError.self) { try PEFT.choose(sites, names: ["nothing"], accepts: LoRA.wraps, what: "layers", op: "lora") }
        #expect(try PEFT.merge(net) == 2)
        #expect(net.entries.last?.layer is Linear)
        #expect(!PEFT.sites(of: net).contains { $0.layer is LoRA })
    }

    @Test func refusals() throws {
        var g = RandomGenerator(seed: 6)
        #expect(throws: TensorError.self) { try LoRA(Flatten(), rank: 2, alpha: 2, using: &g) }
        #expect(throws: TensorError.self) { try LoRA(try Linear(3, 3, using: &g), rank: 0, alpha: 2, using: &g) }
        #expect(throws: TensorError.self) { try Adapter(after: Activation(.relu), size: 2, using: &g) }
        #expect(throws: TensorError.self) { try Adapter(after: try Linear(3, 3, using: &g), size: 0, using: &g) }
    }
}
