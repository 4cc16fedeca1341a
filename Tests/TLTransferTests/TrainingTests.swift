import Testing
@testable import TLData
@testable import TLEngine
@testable import TLNN
@testable import TLTransfer

/// Two Gaussian blobs in 2-D, labelled 0 and 1.
func blobs(_ n: Int, seed: UInt64) throws -> Dataset {
    var g = RandomGenerator(seed: seed)
    var values: [Float] = [], labels: [Int] = []
    for i in 0..<n {
        let c = i % 2
        labels.append(c)
        values += [g.nextNormal() + (c == 0 ? -2 : 2), g.nextNormal()]
    }
    return try Dataset(name: "blobs", x: Tensor(shape: [n, 2], values: values), y: labels, classes: ["a", "b"])
}

@Suite struct TrainingTests {
    @Test func lossFallsAndAccuracyRisesAboveChance() throws {
        var g = RandomGenerator(seed: 1)
        let data = try blobs(200, seed: 2)
        let net = try Models.mlp([2, 16, 2], using: &g)
        var options = TrainingOptions()
        options.epochs = 5
        options.validation = try blobs(100, seed: 3)
        let h = try Trainer.fit(net, data, options: options, using: &g)
        #expect(h.epochs.count == 5)
        #expect(h.epochs.last!["loss"]! < h.epochs.first!["loss"]!)
        #expect(h.epochs.last!["val_accuracy"]! > 0.9)
        let report = try Trainer.evaluate(net, try blobs(100, seed: 4))
        #expect(report.accuracy > 0.9 && report.count == 100)
        #expect(report.confusion.flatMap { $0 }.reduce(0, +) == 100)
        #expect(h.summary.hasPrefix("history 5 epochs · loss "))
    }

    /// With ema= the model keeps the average of its weights over the steps: the last epoch's
    /// validation measures the weights kept, and the run differs from one without it. A DANN
    /// model averages unless told not to (ema=0); a decay outside [0, 1) is refused.
    @Test func weightAverageIsWhatTheModelKeepsAndWhatValidationMeasures() throws {
        func run(ema: Float?) throws -> (Sequential, History) {
            var g = RandomGenerator(seed: 3)
            let net = try Models.mlp([2, 16, 2], using: &g)
            var options = TrainingOptions()
            options.epochs = 3
            options.ema = ema
            options.validation = try blobs(100, seed: 5)
            return (net, try Trainer.fit(net, try blobs(200, seed: 4), options: options, using: &g))
        }
        let (averaged, h) = try run(ema: 0.9), (last, _) = try run(ema: nil), (none, _) = try run(ema: 0)
        #expect(averaged.parameters.map(\.value) != last.parameters.map(\.value))
        #expect(none.parameters.map(\.value) == last.parameters.map(\.value), "ema=0 is the last step's weights")
        let kept = try Trainer.evaluate(averaged, try blobs(100, seed: 5))
        #expect(h.epochs.last?["val_loss"] == kept.loss, "validation measured the weights kept")
        var options = TrainingOptions()
        options.ema = 1
        var g = RandomGenerator(seed: 1)
        #expect(throws: TrainingError.self) { try Trainer.fit(try Models.mlp([2, 2], using: &g), try blobs(10, seed: 1), options: options, using: &g) }

        g = RandomGenerator(seed: 2)
        let dann = try AdversarialNet(try Models.mlp([2, 8, 2], using: &g), discriminator: try Models.mlp([8, 4, 2], using: &g), at: 3, lambda: .constant(0))
        var request = FitRequest(data: [try blobs(64, seed: 1)], options: TrainingOptions())
        request.options.batchSize = 16  // 4 steps
        request.target = try blobs(64, seed: 2).unlabelled()
        try expectAveragesByDefault(dann, request, epochs: 1)
    }

    @Test func frozenLayersDoNotMoveAndViewsShareWeights() throws {
        var g = RandomGenerator(seed: 5)
        let net = try Models.mlp([2, 8, 2], using: &g)
        let front = try net.view(0..<2)
        front.setFrozen(true)
        let frozen = front.namedParameters().map(\.parameter.value)
        let head = net.namedParameters().last!.parameter.value
        var options = TrainingOptions()
        options.epochs = 2
        _ = try Trainer.fit(net, try blobs(64, seed: 1), options: options, using: &g)
        #expect(front.namedParameters().map(\.parameter.value) == frozen)
        #expect(net.namedParameters().last!.parameter.value != head)
        let copy = net.copy()
        _ = try Trainer.fit(copy, try blobs(64, seed: 2), options: options, using: &g)
        #expect(net.namedParameters().last!.parameter.value != copy.namedParameters().last!.parameter.value, "a copy trains apart")
    }

    @Test func conservativeTrainingStaysCloserToTheStart() throws {
        func drift(conservative: Float) throws -> Float {
            var g = RandomGenerator(seed: 7)
            let net = try Models.mlp([2, 8, 2], using: &g)
            let start = net.parameters.map(\.value)
            var options = TrainingOptions()
            options.epochs = 10
            options.learningRate = 0.05
            options.conservative = conservative
            // Flipped labels demand a large change from the starting weights.
            var flipped = try blobs(64, seed: 3)
            flipped.y = flipped.y?.map { 1 - $0 }
            _ = try Trainer.fit(net, flipped, options: options, using: &g)
            return zip(net.parameters.map(\.value), start).reduce(Float(0)) { total, pair in
                total + zip(pair.0.scalars, pair.1.scalars).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            }
        }
        let free = try drift(conservative: 0), anchored = try drift(conservative: 1)
        #expect(anchored < free * 0.5, "squared distance from the start: \(anchored) with L2-SP, \(free) without")
    }

    @Test func consistencyKeepsPredictionsCloseToTheStartingModel() throws {
        func change(consistency: Float) throws -> Float {
            var g = RandomGenerator(seed: 8)
            let net = try Models.mlp([2, 8, 2], using: &g)
            let probe = try blobs(50, seed: 9).x
            let before = try GradMode.withoutGrad { try net.forward(probe).softmax(axis: 1) }
            var options = TrainingOptions()
            options.epochs = 4
            options.consistency = consistency
            // Flipped labels pull the model away from what it predicted.
            var flipped = try blobs(64, seed: 3)
            flipped.y = flipped.y?.map { 1 - $0 }
            _ = try Trainer.fit(net, flipped, options: options, using: &g)
            let after = try GradMode.withoutGrad { try net.forward(probe).softmax(axis: 1) }
            return try (after - before).abs().mean().item()
        }
        #expect(try change(consistency: 5) < change(consistency: 0))
    }

    @Test func divergingLossNamesEpochAndBatch() throws {
        var g = RandomGenerator(seed: 1)
        let net = try Models.mlp([2, 8, 2], using: &g)
        var options = TrainingOptions()
        options.learningRate = 1e30
        options.momentum = 0
        do {
            _ = try Trainer.fit(net, try blobs(256, seed: 1), options: options, using: &g)
            Issue.record("expected the loss to diverge")
        } catch let e as TrainingError {
            #expect(e.description.contains("in epoch 1, batch"))
            #expect(e.description.contains("try a lower learning rate"))
        }
    }

    @Test func ctrlCStopsBetweenBatchesAndKeepsWhatWasLearned() throws {
        var g = RandomGenerator(seed: 1)
        let net = try Models.mlp([2, 8, 2], using: &g)
        var options = TrainingOptions()
        options.epochs = 3
        options.batchSize = 8
        var batches = 0
        let reporter = TrainingReporter(progress: { _ in
            batches += 1
            if batches == 3 { Cancellation.request() }
        })
        let h = try Trainer.fit(net, try blobs(64, seed: 1), options: options, using: &g, reporter: reporter)
        #expect(h.interruptedAt?.epoch == 1 && h.interruptedAt?.batch == 4)
        #expect(h.epochs.isEmpty && !Cancellation.isRequested)
    }

    @Test func reportNumbersStayShort() {
        #expect(Report.format(0.87449) == "0.874")
        #expect(Report.format(2) == "2")
        #expect(Report.format(0.00028653145) == "2.87e-4")
        #expect(Report.format(-3.2e12) == "-3.2e12")
        #expect(Report.format(.nan) == "nan")
    }

    @Test func trainingAModelWithEveryWeightFrozenSaysSo() throws {
        var g = RandomGenerator(seed: 1)
        let net = try Models.mlp([2, 2], using: &g)
        net.setFrozen(true)
        do {
            _ = try Trainer.fit(net, try blobs(8, seed: 1), options: TrainingOptions(), using: &g)
            Issue.record("expected an error")
        } catch let e as TrainingError {
            #expect(e.description.contains("nothing to train"))
        }
    }

    @Test func unlabelledOrMismatchedDataIsAnError() throws {
        var g = RandomGenerator(seed: 1)
        let net = try Models.mlp([2, 2], using: &g)
        #expect(throws: TrainingError.self) { try Trainer.fit(net, try blobs(8, seed: 1).unlabelled(), options: TrainingOptions(), using: &g) }
        let three = try Dataset(name: "t", x: Tensor.zeros([2, 2]), y: [0, 2], classes: ["a", "b", "c"])
        #expect(throws: TrainingError.self) { try Trainer.evaluate(net, three) }
    }
}
