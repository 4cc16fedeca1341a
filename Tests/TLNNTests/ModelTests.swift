import Testing
@testable import TLEngine
@testable import TLNN

@Suite struct ModelTests {
    @Test func initialisationIsHeUniformAndSeeded() throws {
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        let a = try Linear(100, 50, using: &g1), b = try Linear(100, 50, using: &g2)
        #expect(a.weight.value == b.weight.value && a.bias!.value == b.bias!.value)
        let w = a.weight.value.scalars, bound = Float(6.0 / 100).squareRoot()  // He: √(6/fan_in)
        #expect(w.allSatisfy { Swift.abs($0) <= bound })
        #expect(w.max()! > 0.9 * bound && w.min()! < -0.9 * bound)
        #expect(a.bias!.value.scalars.allSatisfy { Swift.abs($0) <= 0.1 }, "biases as PyTorch's, 1/√fan_in")
        let conv = try Conv2d(4, 8, kernel: 3, using: &g1)
        let convBound = Float(6.0 / 36).squareRoot()
        #expect(conv.weight.value.scalars.allSatisfy { Swift.abs($0) <= convBound })
        #expect(conv.weight.value.scalars.max()! > 0.9 * convBound)
        // An output layer is drawn as PyTorch draws it, on reset and in copies too.
        let output = try Linear(100, 10, initialisation: .output, using: &g1)
        #expect(output.weight.value.scalars.allSatisfy { Swift.abs($0) <= 0.1 } && output.weight.value.scalars.max()! > 0.09)
        output.reset(using: &g1)
        #expect(output.weight.value.scalars.allSatisfy { Swift.abs($0) <= 0.1 })
        #expect((output.copy() as? Linear)?.initialisation == .output)
        let copy = try fixtureCNN(seed: 3), again = try fixtureCNN(seed: 3)
        #expect(copy.namedParameters().map(\.parameter.value) == again.namedParameters().map(\.parameter.value))
    }

    @Test func resetDrawsNewWeights() throws {
        var g = RandomGenerator(seed: 1)
        let net = try fixtureCNN()
        let before = net.namedParameters().map(\.parameter.value)
        net.reset(using: &g)
        #expect(net.namedParameters()[0].parameter.value != before[0])
    }

    @Test func invalidLayersThrow() {
        var g = RandomGenerator(seed: 1)
        #expect(throws: TensorError.self) { try Linear(0, 3, using: &g) }
        #expect(throws: TensorError.self) { try Conv2d(3, 4, kernel: 0, using: &g) }
        #expect(throws: TensorError.self) { try Dropout(1) }
        #expect(throws: TensorError.self) { try MaxPool2d(0) }
        #expect(throws: TensorError.self) { try BatchNorm(0) }
    }

    @Test func batchNormOfOneSampleInTrainingUsesItsRunningStatistics() throws {
        // A last batch of one sample has no variance: normalised by the running statistics,
        // which it leaves alone, instead of stopping the training with an error.
        let bn = try BatchNorm(3)
        bn.runningMean.value = try Tensor(shape: [3], values: [1, 2, 3])
        bn.runningVar.value = try Tensor(shape: [3], values: [4, 4, 4])
        let one = try Tensor(shape: [1, 3], values: [3, 2, 1])
        let y = try bn(one).scalars
        for (a, b) in zip(y, [Float(1), 0, -1]) { #expect(abs(a - b) < 1e-4) }
        #expect(bn.runningMean.value.scalars == [1, 2, 3])
        let image = try bn(try Tensor.ones([1, 3, 1, 1]))
        #expect(image.shape == [1, 3, 1, 1])
        // Two samples are a batch: its own statistics, and the running ones move.
        _ = try bn(try Tensor(shape: [2, 3], values: [0, 0, 0, 2, 2, 2]))
        #expect(bn.runningMean.value.scalars != [1, 2, 3])
    }

    @Test func upsampleRepeatsEachValueAsABlockAndSumsTheBlocksGradient() throws {
        let up = try Upsample(2)
        let x = try Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]).requiringGrad()
        let y = try up(x)
        #expect(y.shape == [1, 1, 4, 4])
        #expect(y.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        // d(Σ w·y)/dx is the sum of w over each value's 2×2 block.
        let weights = try Tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init))
        try (y * weights).sum().backward()
        let blockSums: [Float] = [10, 18, 42, 50]  // 0+1+4+5, 2+3+6+7, 8+9+12+13, 10+11+14+15
        #expect(x.grad?.scalars == blockSums)
        #expect(try Upsample(3)(try Tensor.zeros([2, 3, 5, 7])).shape == [2, 3, 15, 21])
        #expect(throws: TensorError.self) { try up(try Tensor.zeros([2, 3])) }
        #expect(throws: TensorError.self) { try Upsample(0) }
    }

    @Test func unflattenGivesBackOneSamplesShape() throws {
        let x = try Tensor(shape: [2, 12], values: (0..<24).map(Float.init))
        let maps = try Unflatten([3, 2, 2])(x)
        #expect(maps.shape == [2, 3, 2, 2] && maps.scalars == x.scalars)
        #expect(try Flatten()(maps) == x)
        #expect(throws: TensorError.self) { try Unflatten([3, 2, 2])(try Tensor.zeros([2, 10])) }
        #expect(throws: TensorError.self) { try Unflatten([0, 2]) }
        #expect(throws: TensorError.self) { try Unflatten([10_000_000, 10_000_000, 10_000_000]) }  // no overflow trap
    }

    @Test func dropoutOnlyInTraining() throws {
        let d = try Dropout(0.5)
        let x = try Tensor.ones([1000])
        let y = try d(x)
        let zeros = y.scalars.filter { $0 == 0 }.count
        #expect(zeros > 400 && zeros < 600)
        #expect(y.scalars.allSatisfy { $0 == 0 || $0 == 2 })
        d.setTraining(false)
        #expect(try d(x) == x)
    }

    @Test func gradientReversalLayerUsesItsCurrentLambda() throws {
        let grl = GradientReversal(lambda: 1)
        grl.lambda = 0.25
        let x = Tensor([1, 2]).requiringGrad()
        try grl(x).sum().backward()
        #expect(x.grad?.scalars == [-0.25, -0.25])
    }

    @Test func l2spPullsTowardTheStartingWeights() throws {
        let p = Parameter(Tensor([1, 2])), fresh = Parameter(Tensor([3]))
        let anchor = L2SP(anchoring: [p])
        p.value.withUnsafeMutableBufferPointer { $0[0] = 2 }  // moved by 1
        let penalty = try anchor.penalty(alpha: 4, fresh: [fresh], beta: 2)
        #expect(try penalty.item() == 4 / 2 * 1 + 2 / 2 * 9)
        try penalty.backward()
        #expect(p.grad?.scalars == [4, 0])  // α(w − w⁰)
        #expect(fresh.grad?.scalars == [6])  // βw
    }

    /// The weight average starts at the weights after the first step and then moves a fraction
    /// 1 − d toward each new step's weights; swapping twice restores the current weights, and
    /// applying leaves the average (unless it is not finite). Frozen weights are not averaged.
    @Test func weightAverageFollowsTheStepsWithItsDecay() throws {
        let p = Parameter(Tensor([0, 10])), frozen = Parameter(Tensor([7]))
        frozen.isFrozen = true
        let average = WeightAverage([p, frozen], decay: 0.5)
        func set(_ values: [Float]) { p.assign(Tensor(values)) }
        set([2, 4]); average.update()  // a = [2, 4]
        set([4, 0]); average.update()  // a = [3, 2]
        set([5, 2]); average.update()  // a = [4, 2]
        average.swap()
        #expect(p.value.scalars == [4, 2] && !p.isFrozen)
        average.swap()
        #expect(p.value.scalars == [5, 2])
        #expect(average.withAverage { p.value.scalars } == [4, 2] && p.value.scalars == [5, 2])
        average.apply()
        #expect(p.value.scalars == [4, 2] && frozen.value.scalars == [7])
        average.apply()  // nothing left to apply
        #expect(p.value.scalars == [4, 2])
        let diverged = WeightAverage([p], decay: 0.9)
        diverged.update()
        set([.infinity, 0]); diverged.update()
        diverged.apply()
        #expect(p.value.scalars[0] == .infinity, "a non-finite average leaves the last iterate")
    }

    /// The whole stack learns: a small MLP separates two Gaussian blobs.
    @Test func smallNetworkLearns() throws {
        var g = RandomGenerator(seed: 8)
        let n = 128
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<n {
            let c = i % 2
            labels.append(c)
            values += [g.nextNormal() + (c == 0 ? -1.5 : 1.5), g.nextNormal() + (c == 0 ? 1 : -1)]
        }
        let x = try Tensor(shape: [n, 2], values: values)
        let net = Sequential([try Linear(2, 16, using: &g), Activation(.relu), try Linear(16, 2, using: &g)])
        let optimizer = SGD(learningRate: 0.1, momentum: 0.9)
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            optimizer.zeroGrad(net.parameters)
            let loss = try Loss.crossEntropy(net(x), labels)
            try loss.backward()
            optimizer.step(net.parameters)
            if step == 0 { first = try loss.item() }
            last = try loss.item()
        }
        let predictions = try GradMode.withoutGrad { try net(x).argmaxRows() }
        let accuracy = Float(zip(predictions, labels).filter { $0 == $1 }.count) / Float(n)
        #expect(last < first / 3)
        #expect(accuracy > 0.9)
    }

    /// A convolution, ReLU and 2×2 max pooling run as one pass in a `Sequential` (and a ReLU
    /// followed by other max pooling as another): the outputs and every gradient are those of
    /// the layers one by one, bit for bit, and errors still name the layer they arise in.
    @Test func convolutionReLUAndPoolingRunAsOnePassWithTheSameNumbers() throws {
        var g = RandomGenerator(seed: 4)
        let net = Sequential([try Conv2d(1, 4, kernel: 3, using: &g), Activation(.relu), try MaxPool2d(2),
                              Flatten(), try Linear(144, 3, using: &g)])
        let x = try Tensor.randn([5, 1, 14, 14], using: &g)
        let labels = [0, 1, 2, 1, 0]
        try Loss.crossEntropy(net(x), labels).backward()
        let fused = net.namedParameters().map { $0.parameter.grad?.scalars ?? [] }
        var h = x
        for layer in net.layers { h = try layer.forward(h) }
        #expect(try net(x).scalars.map(\.bitPattern) == h.scalars.map(\.bitPattern))
        SGD(learningRate: 0.1).zeroGrad(net.parameters)
        try Loss.crossEntropy(h, labels).backward()
        #expect(net.namedParameters().map { $0.parameter.grad?.scalars ?? [] } == fused)
        #expect(fused.allSatisfy { $0.contains { $0 != 0 } })
        let tooSmall = Sequential([Activation(.relu), try MaxPool2d(3)])
        #expect { _ = try tooSmall(try Tensor.zeros([1, 1, 2, 2])) } throws: { error in
            (error as? LayerError)?.layer == "1" && (error as? LayerError)?.summary.hasPrefix("MaxPool2d") == true
        }
        // The convolution's own errors name it; a 1×1 output runs the layers one by one, and
        // the pooling's error names the pooling.
        #expect { _ = try net(try Tensor.zeros([1, 2, 14, 14])) } throws: { error in
            (error as? LayerError)?.layer == "0" && (error as? LayerError)?.summary.hasPrefix("Conv2d") == true
        }
        #expect { _ = try net(try Tensor.zeros([1, 1, 3, 3])) } throws: { error in
            (error as? LayerError)?.layer == "2" && (error as? LayerError)?.summary.hasPrefix("MaxPool2d") == true
        }
    }

    @Test func frozenLayersKeepTheirWeightsThroughTraining() throws {
        var g = RandomGenerator(seed: 2)
        let net = Sequential([try Linear(3, 4, using: &g), Activation(.tanh), try Linear(4, 2, using: &g)])
        try net.view(0..<1).setFrozen(true)
        let frozen = net.namedParameters()[0].parameter.value
        let head = net.namedParameters()[2].parameter.value
        let optimizer = Adam(learningRate: 0.1)
        let x = try Tensor.randn([8, 3], using: &g)
        for _ in 0..<3 {
            optimizer.zeroGrad(net.parameters)
            try Loss.crossEntropy(net(x), [0, 1, 0, 1, 0, 1, 0, 1]).backward()
            optimizer.step(net.parameters)
        }
        #expect(net.namedParameters()[0].parameter.value == frozen)
        #expect(net.namedParameters()[0].parameter.grad == nil)
        #expect(net.namedParameters()[2].parameter.value != head)
    }
}
