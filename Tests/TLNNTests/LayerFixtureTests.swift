import Testing
@testable import TLEngine
@testable import TLNN

/// Forward values and gradients of layers and losses against PyTorch.
@Suite struct LayerFixtureTests {
    let layers: [String: Tensor]
    init() throws { layers = try Fixtures.load("layers.safetensors") }

    /// Checks a case stored by `grads_of` in make_fixtures.py.
    func check(_ prefix: String, inputs: Int, tolerance: Float = 1e-5, _ f: ([Tensor]) throws -> Tensor) throws {
        let xs = try (0..<inputs).map { try layers.tensor("\(prefix).in\($0)") }
        let (y, grads) = try forwardBackward(xs, r: try layers.tensor("\(prefix).r"), f)
        expectClose(y, try layers.tensor("\(prefix).y"), tolerance: tolerance, "\(prefix) output")
        for i in 0..<inputs {
            expectClose(grads[i], try layers.tensor("\(prefix).grad\(i)"), tolerance: tolerance, "\(prefix) grad \(i)")
        }
    }

    @Test func linear() throws {
        try check("linear", inputs: 3) { x in
            var g = RandomGenerator(seed: 0)
            let layer = try Linear(5, 3, using: &g)
            layer.weight.value = x[1]
            layer.bias!.value = x[2]
            return try layer(x[0])
        }
    }

    @Test func convolution() throws {
        try check("conv", inputs: 3) { x in
            var g = RandomGenerator(seed: 0)
            let layer = try Conv2d(3, 4, kernel: 3, stride: 2, padding: 1, using: &g)
            layer.weight.value = x[1]
            layer.bias!.value = x[2]
            return try layer(x[0])
        }
        try check("conv_plain", inputs: 2) { x in try Tensor.conv2d(x[0], x[1]) }
    }

    @Test func maxPooling() throws {
        try check("maxpool", inputs: 1) { x in try MaxPool2d(2)(x[0]) }
        try check("maxpool_stride", inputs: 1) { x in try MaxPool2d(3, stride: 2)(x[0]) }
    }

    @Test func softmaxes() throws {
        try check("softmax", inputs: 1) { try $0[0].softmax(axis: 1) }
        try check("log_softmax0", inputs: 1) { try $0[0].logSoftmax(axis: 0) }
    }

    @Test(arguments: ["bn2d", "bn1d"])
    func batchNorm(_ name: String) throws {
        let x = try layers.tensor("\(name).x")
        let bn = try BatchNorm(x.shape[1])
        bn.weight.value = try layers.tensor("\(name).weight").requiringGrad()
        bn.bias.value = try layers.tensor("\(name).bias").requiringGrad()
        let (y, grads) = try forwardBackward([x], r: try layers.tensor("\(name).r")) { try bn($0[0]) }
        expectClose(y, try layers.tensor("\(name).y"), tolerance: 1e-4, "\(name) output")
        expectClose(grads[0], try layers.tensor("\(name).grad_x"), tolerance: 1e-4, "\(name) grad x")
        expectClose(bn.weight.grad, try layers.tensor("\(name).grad_weight"), tolerance: 1e-4, "\(name) grad weight")
        expectClose(bn.bias.grad, try layers.tensor("\(name).grad_bias"), tolerance: 1e-4, "\(name) grad bias")
        expectClose(bn.runningMean.value, try layers.tensor("\(name).running_mean"), "\(name) running mean")
        expectClose(bn.runningVar.value, try layers.tensor("\(name).running_var"), "\(name) running var")
        #expect(try bn.batchesTracked.value.item() == 1)
        bn.setTraining(false)
        expectClose(try bn(x), try layers.tensor("\(name).y_eval"), tolerance: 1e-4, "\(name) eval output")
    }
}

@Suite struct LossFixtureTests {
    let losses: [String: Tensor]
    init() throws { losses = try Fixtures.load("losses.safetensors") }

    @Test func crossEntropy() throws {
        let logits = try losses.tensor("ce.logits").requiringGrad()
        let loss = try Loss.crossEntropy(logits, try losses.labels("ce.labels"))
        expectClose(try loss.reshaped([1]), try losses.tensor("ce.loss"))
        try loss.backward()
        expectClose(logits.grad, try losses.tensor("ce.grad"))
        #expect(throws: TensorError.self) { try Loss.crossEntropy(logits, [0, 1]) }
        #expect(throws: TensorError.self) { try Loss.crossEntropy(logits, [0, 1, 2, 3, 4]) }
    }

    @Test func meanSquaredError() throws {
        let a = try losses.tensor("mse.a").requiringGrad()
        let loss = try Loss.mse(a, try losses.tensor("mse.b"))
        expectClose(try loss.reshaped([1]), try losses.tensor("mse.loss"))
        try loss.backward()
        expectClose(a.grad, try losses.tensor("mse.grad"))
    }

    @Test func binaryCrossEntropyFromLogits() throws {
        let z = try losses.tensor("bce.logits").requiringGrad()
        let loss = try Loss.binaryCrossEntropy(logits: z, targets: try losses.tensor("bce.targets"))
        expectClose(try loss.reshaped([1]), try losses.tensor("bce.loss"))
        try loss.backward()
        expectClose(z.grad, try losses.tensor("bce.grad"))
    }

    @Test func marginRankingHinge() throws {
        let s = try losses.tensor("hinge.scores").requiringGrad()
        let loss = try Loss.marginRanking(scores: s, labels: try losses.labels("hinge.labels"), margin: 0.5)
        expectClose(try loss.reshaped([1]), try losses.tensor("hinge.loss"))
        try loss.backward()
        expectClose(s.grad, try losses.tensor("hinge.grad"))
    }

    @Test func softLabelsAndDomainConfusion() throws {
        // SDT's soft-label loss at temperature 2: cross-entropy against class probabilities.
        let z = try losses.tensor("soft.logits").requiringGrad()
        let soft = try Loss.softCrossEntropy(z * 0.5, targets: try losses.tensor("soft.targets"))
        expectClose(try soft.reshaped([1]), try losses.tensor("soft.loss"))
        try soft.backward()
        expectClose(z.grad, try losses.tensor("soft.grad"))
        // Domain confusion: against ½, ½.
        let d = try losses.tensor("confusion.logits").requiringGrad()
        let confusion = try Loss.softCrossEntropy(d, targets: try Tensor.full([6, 2], 0.5))
        expectClose(try confusion.reshaped([1]), try losses.tensor("confusion.loss"))
        try confusion.backward()
        expectClose(d.grad, try losses.tensor("confusion.grad"))
        #expect(throws: TensorError.self) { try Loss.softCrossEntropy(d, targets: try Tensor.full([6, 3], 0.5)) }
    }

    @Test func domainSeparationLosses() throws {
        let pred = try losses.tensor("simse.pred").requiringGrad()
        let simse = try Loss.scaleInvariantMSE(pred, try losses.tensor("simse.real"))
        expectClose(try simse.reshaped([1]), try losses.tensor("simse.loss"))
        try simse.backward()
        expectClose(pred.grad, try losses.tensor("simse.grad"))
        // A reconstruction off by a constant shift costs nothing.
        let shifted = try Loss.scaleInvariantMSE(try losses.tensor("simse.real") + 0.3, try losses.tensor("simse.real"))
        #expect(Swift.abs(try shifted.item()) < 1e-6)
        let a = try losses.tensor("difference.a").requiringGrad(), b = try losses.tensor("difference.b").requiringGrad()
        let difference = try Loss.difference(a, b)
        expectClose(try difference.reshaped([1]), try losses.tensor("difference.loss"))
        try difference.backward()
        expectClose(a.grad, try losses.tensor("difference.grad_a"), tolerance: 1e-5)
        expectClose(b.grad, try losses.tensor("difference.grad_b"), tolerance: 1e-5)
        // Shrinking the codes cannot lower it.
        expectClose(try Loss.difference(try a.detached() * 0.01, b.detached()).reshaped([1]), try losses.tensor("difference.loss"), tolerance: 1e-5)
        #expect(throws: TensorError.self) { try Loss.difference(a, try Tensor.zeros([4, 3])) }
    }

    @Test func pixelDAContentLoss() throws {
        let generated = try losses.tensor("content.generated").requiringGrad()
        let loss = try Loss.foregroundMSE(generated, try losses.tensor("content.source"))
        expectClose(try loss.reshaped([1]), try losses.tensor("content.loss"))
        try loss.backward()
        expectClose(generated.grad, try losses.tensor("content.grad"))
        #expect(throws: TensorError.self) { try Loss.foregroundMSE(generated, try Tensor.zeros([2, 3])) }
    }
}

@Suite struct DiscrepancyTests {
    let fixture: [String: Tensor]
    init() throws { fixture = try Fixtures.load("discrepancy.safetensors") }

    static let measures: [(String, @Sendable (Tensor, Tensor) throws -> Tensor)] = [
        ("mmd", { try Discrepancy.linearMMD($0, $1) }),
        ("mkmmd", { try Discrepancy.multiKernelMMD($0, $1) }),
        ("coral", { try Discrepancy.coral($0, $1) }),
        ("cmd", { try Discrepancy.cmd($0, $1) }),
    ]

    @Test func matchReferenceValuesAndGradients() throws {
        for (name, measure) in Self.measures {
            let s = try fixture.tensor("source").requiringGrad(), t = try fixture.tensor("target").requiringGrad()
            let loss = try measure(s, t)
            expectClose(try loss.reshaped([1]), try fixture.tensor("\(name).loss"), tolerance: 1e-5, "\(name) value")
            try loss.backward()
            expectClose(s.grad, try fixture.tensor("\(name).grad_s"), tolerance: 1e-4, "\(name) source grad")
            expectClose(t.grad, try fixture.tensor("\(name).grad_t"), tolerance: 1e-4, "\(name) target grad")
        }
    }

    @Test func zeroForIdenticalBatchesWithFiniteGradients() throws {
        let s = try fixture.tensor("source")
        for (name, measure) in Self.measures {
            let a = s.requiringGrad()
            let value = try measure(a, s)
            let loss = try value.item()
            #expect(Swift.abs(loss) < 1e-6, "\(name) of a batch with itself is \(loss)")
            let loss_ = value
            try loss_.backward()
            #expect(a.grad?.scalars.allSatisfy(\.isFinite) == true, "\(name) gradient")
        }
    }

    @Test func rejectMismatchedWidths() throws {
        let a = try Tensor.zeros([4, 3]), b = try Tensor.zeros([4, 2])
        for (_, measure) in Self.measures {
            #expect(throws: TensorError.self) { try measure(a, b) }
        }
        #expect(throws: TensorError.self) { try Discrepancy.coral(try Tensor.zeros([1, 3]), try Tensor.zeros([1, 3])) }
    }
}

@Suite struct OptimizerFixtureTests {
    let fixture: [String: Tensor]
    init() throws { fixture = try Fixtures.load("optimizers.safetensors") }

    @Test(arguments: ["sgd", "sgd_momentum", "sgd_nesterov", "adam", "adam_wd"])
    func threeStepsMatchPyTorch(_ name: String) throws {
        let p = Parameter(try fixture.tensor("p0"))
        let optimizer: any Optimizer = switch name {
        case "sgd": SGD(learningRate: 0.1)
        case "sgd_momentum": SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        case "sgd_nesterov": SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
        case "adam": Adam(learningRate: 0.01)
        default: Adam(learningRate: 0.01, weightDecay: 0.1)
        }
        for step in 1...3 {
            // A gradient arrives through backward of Σ p·g.
            optimizer.zeroGrad([p])
            try (p.value * fixture.tensor("g\(step)")).sum().backward()
            optimizer.step([p])
            expectClose(p.value, try fixture.tensor("\(name).step\(step)"), "\(name) step \(step)")
        }
    }

    @Test func frozenParametersDoNotMove() throws {
        let p = Parameter(try Tensor.ones([3]))
        try (p.value * 2).sum().backward()
        p.isFrozen = true
        let before = p.value
        SGD(learningRate: 0.5).step([p])
        Adam().step([p])
        #expect(p.value == before)
        #expect(p.grad == nil)
    }
}
