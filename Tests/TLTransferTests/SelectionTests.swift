#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TLData
@testable import TLEngine
@testable import TLNN
@testable import TLTransfer

/// A "model" whose logits are its input: scores can be checked on chosen predictions.
final class Identity: Layer {
    func forward(_ x: Tensor) throws -> Tensor { x }
    func copy() -> any Layer { self }
    var summary: String { "Identity()" }
}

/// An adversarial method (DANN, DSN, SDT, PixelDA) keeps its weights averaged over the last
/// steps unless ema= says otherwise: leaving ema unset trains as AdversarialNet.defaultEMA does,
/// not as ema=0, and the model's settings say so.
func expectAveragesByDefault(_ method: any TrainingMethod, _ request: FitRequest, epochs: Int = 2,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
    func trained(ema: Float?) throws -> [Tensor] {
        let copy = method.clone()
        var r = request
        r.options.epochs = epochs
        r.options.ema = ema
        var g = RandomGenerator(seed: 9)
        _ = try copy.fit(r, using: &g)
        return copy.network.parameters.map(\.value)
    }
    #expect(try trained(ema: nil) == trained(ema: AdversarialNet.defaultEMA), sourceLocation: sourceLocation)
    #expect(try trained(ema: nil) != trained(ema: 0), sourceLocation: sourceLocation)
    #expect(method.settings.contains { $0.name == "weights kept" }, sourceLocation: sourceLocation)
}

@Suite struct SelectionTests {
    @Test func entropyAndInformationMaximisationHaveTheirExtremes() throws {
        let uniform = try Selection.scores(Identity(), try Tensor.zeros([6, 3]))
        #expect(Swift.abs(uniform.entropy - Glibc.log(3)) < 1e-6)
        #expect(Swift.abs(uniform.informationMaximization) < 1e-6)
        // Confident and spread evenly over the three classes.
        var confident = [Float](repeating: 0, count: 18)
        for i in 0..<6 { confident[i * 3 + i % 3] = 40 }
        let sharp = try Selection.scores(Identity(), try Tensor(shape: [6, 3], values: confident))
        #expect(sharp.entropy < 1e-6)
        #expect(Swift.abs(sharp.informationMaximization - Glibc.log(3)) < 1e-5)
        // Confident but all one class: no information.
        var collapsed = [Float](repeating: 0, count: 18)
        for i in 0..<6 { collapsed[i * 3] = 40 }
        #expect(try Selection.scores(Identity(), try Tensor(shape: [6, 3], values: collapsed)).informationMaximization < 1e-5)
        // Clusters of similar predictions make denser neighbourhoods than a uniform spread.
        #expect(sharp.softNeighbourhoodDensity < uniform.softNeighbourhoodDensity)
        #expect(throws: TrainingError.self) { try Selection.scores(Identity(), try Tensor.zeros([1, 3])) }
    }

    @Test func proxyADistanceIsZeroForOneDomainAndTwoForSeparableOnes() throws {
        var g = RandomGenerator(seed: 1)
        let a = try Tensor.randn([200, 4], using: &g), b = try Tensor.randn([200, 4], using: &g)
        #expect(try Selection.proxyADistance(a, b, using: &g) < 0.4)
        let far = try b + 10
        #expect(try Selection.proxyADistance(a, far, using: &g) > 1.9)
        #expect(throws: TrainingError.self) { try Selection.proxyADistance(a, try Tensor.zeros([5, 3]), using: &g) }
    }
}

@Suite struct AdaptationTests {
    /// Source blobs around (±2, 0); the target is the same task shifted by (0, 3).
    func domains() throws -> (Dataset, Dataset) {
        let source = try blobs(128, seed: 1)
        var target = try blobs(128, seed: 2)
        target.x = try (target.x + Tensor(shape: [1, 2], values: [0, 3])).detached()
        return (source, target)
    }

    @Test func adversarialTrainingRecordsTheDomainClassifierAndLearnsTheLabels() throws {
        var g = RandomGenerator(seed: 3)
        let (source, target) = try domains()
        let net = try Models.mlp([2, 16, 16, 2], using: &g)
        let discriminator = Sequential([try Linear(16, 16, using: &g), Activation(.relu), try Linear(16, 2, using: &g)])
        let adv = try AdversarialNet(net, discriminator: discriminator, at: 4, lambda: .constant(1))
        var options = TrainingOptions()
        options.epochs = 10
        let h = try Trainer.fitAdversarial(adv, source: source, target: target.unlabelled(), lambda: .schedule(max: 1),
                                           options: options, using: &g)
        #expect(h.epochs.allSatisfy { $0["domain_accuracy"] != nil })
        #expect(h.summary.contains("domain acc"))
        #expect(try Trainer.accuracy(adv, source) > 0.9, "the label predictor learns the source")
        #expect(adv.reversal.lambda > 0.99, "the schedule ends near 1")
        #expect(throws: TrainingError.self) { try AdversarialNet(net, discriminator: discriminator, at: 0, lambda: .constant(1)) }
    }

    /// SDT's two objectives reach disjoint weights: the confusion loss, computed through the domain
    /// classifier with its weights fixed, trains only what comes before it.
    @Test func fixedWeightsPassGradientsToTheInputOnly() throws {
        var g = RandomGenerator(seed: 4)
        let d = try Linear(3, 2, using: &g)
        let x = try Tensor.randn([5, 3], using: &g).requiringGrad()
        try withFixedWeights(d) { try d.forward(x) }.sum().backward()
        #expect(d.weight.grad == nil && d.bias?.grad == nil, "no gradient for the fixed weights")
        #expect(x.grad != nil, "the input still gets one")
        #expect(!d.weight.isFrozen, "the weights stay trainable afterwards")
        // Both objectives together: the classifier's gradient is its own loss's alone.
        let both = try d.forward(x.detached()).sum() + (try withFixedWeights(d) { try d.forward(x) } * 3).sum()
        try both.backward()
        let alone = try Linear(3, 2, using: &g)
        alone.weight.assign(d.weight.value)
        try alone.forward(x.detached()).sum().backward()
        #expect(d.weight.grad?.scalars == alone.weight.grad?.scalars)
    }

    @Test func softLabelsAreEachClassMeanPredictionAtTheTemperature() throws {
        // The network's logits are its inputs; two samples of class 0, one of class 1, none of class 2.
        let x = try Tensor(shape: [3, 3], values: [2, 0, 0, 0, 2, 0, 0, 4, 0])
        let data = try Dataset(name: "d", x: x, y: [0, 0, 1], classes: ["a", "b", "c"])
        let net = try DomainConfusionNet(Sequential([Identity(), Identity()]), discriminator: Identity(), at: 1, temperature: 2)
        let soft = try net.softLabels(data, classes: 3).scalars
        let e = Float(Glibc.exp(1.0)), e2 = Float(Glibc.exp(2.0))
        let p0 = [(e / (e + 2) + 1 / (e + 2)) / 2, (1 / (e + 2) + e / (e + 2)) / 2, 1 / (e + 2)]
        let p1 = [1 / (e2 + 2), e2 / (e2 + 2), 1 / (e2 + 2)]
        for (a, b) in zip(soft, p0 + p1 + [0, 0, 1]) { #expect(Swift.abs(a - b) < 1e-6) }
        #expect(throws: TrainingError.self) { try DomainConfusionNet(Sequential([Identity(), Identity()]), discriminator: Identity(), at: 1, temperature: 0) }
        #expect(throws: TrainingError.self) { try DomainConfusionNet(Sequential([Identity(), Identity()]), discriminator: Identity(), at: 1, confusion: -1) }
    }

    @Test func domainConfusionLearnsTheLabelsAndRecordsEachObjective() throws {
        var g = RandomGenerator(seed: 5)
        let (source, target) = try domains()
        let net = try Models.mlp([2, 16, 16, 2], using: &g)
        let discriminator = Sequential([try Linear(16, 16, using: &g), Activation(.relu), try Linear(16, 2, using: &g)])
        let sdt = try DomainConfusionNet(net, discriminator: discriminator, at: 4)
        let before = discriminator.parameters.map(\.value.scalars)
        var request = FitRequest(data: [source], options: TrainingOptions())
        request.options.epochs = 10
        request.target = target.unlabelled()
        request.targetLabels = try target.take(4, perClass: true)
        let h = try sdt.fit(request, using: &g)
        for name in ["source_accuracy", "domain_accuracy", "confusion", "target_loss", "soft_label_loss"] {
            #expect(h.epochs.allSatisfy { $0[name] != nil }, "\(name) recorded")
        }
        try expectAveragesByDefault(sdt, request)
        #expect(try Trainer.accuracy(sdt, source) > 0.9 && (try Trainer.accuracy(sdt, target)) > 0.9)
        #expect(discriminator.parameters.map(\.value.scalars) != before, "the domain classifier learns")
        request.targetLabels = nil
        request.target = nil
        #expect(throws: TrainingError.self) { try sdt.fit(request, using: &g) }
        request.target = target.unlabelled()
        request.lambda = .constant(1)
        #expect(throws: RefusedOption.self) { try sdt.fit(request, using: &g) }
    }

    @Test func domainSeparationLearnsTheLabelsAndRecordsEachLoss() throws {
        var g = RandomGenerator(seed: 6)
        let (source, target) = try domains()
        let encoder = { (g: inout RandomGenerator) in try Models.mlp([2, 16, 8], last: .he, using: &g) }
        let net = try SeparationNet(shared: try encoder(&g), privateSource: try encoder(&g), privateTarget: try encoder(&g),
                                    decoder: try Models.mlp([8, 16, 2], using: &g), classifier: try Models.mlp([8, 2], using: &g),
                                    discriminator: try Models.mlp([8, 8, 2], using: &g))
        var request = FitRequest(data: [source], options: TrainingOptions())
        request.options.epochs = 10
        request.target = target.unlabelled()
        let h = try net.fit(request, using: &g)
        for name in ["source_accuracy", "reconstruction", "difference", "domain_accuracy", "lambda"] {
            #expect(h.epochs.allSatisfy { $0[name] != nil }, "\(name) recorded")
        }
        #expect((h.epochs.last?["reconstruction"] ?? 1) < (h.epochs.first?["reconstruction"] ?? 0), "reconstructions improve")
        #expect(try Trainer.accuracy(net, source) > 0.9)
        for code in SeparationNet.Code.allCases {
            #expect(try net.reconstruct(source.x, from: code, source: true).shape == source.x.shape)
        }
        try expectAveragesByDefault(net, request)
        // Parts that do not fit are named.
        let wrongDecoder = try SeparationNet(shared: try encoder(&g), privateSource: try encoder(&g), privateTarget: try encoder(&g),
                                             decoder: try Models.mlp([8, 3], using: &g), classifier: try Models.mlp([8, 2], using: &g),
                                             discriminator: try Models.mlp([8, 2], using: &g))
        #expect(throws: TrainingError.self) { try wrongDecoder.check(sampleShape: [2]) }
        let p = try encoder(&g)
        #expect(throws: TrainingError.self) {
            try SeparationNet(shared: try encoder(&g), privateSource: p, privateTarget: p, decoder: try Models.mlp([8, 2], using: &g),
                              classifier: try Models.mlp([8, 2], using: &g), discriminator: try Models.mlp([8, 2], using: &g))
        }
        request.target = nil
        #expect(throws: TrainingError.self) { try net.fit(request, using: &g) }
        // A decoder back up to images ends in a convolution: that is the layer that starts flat.
        let first = try Linear(8, 16, using: &g), last = try Conv2d(4, 1, kernel: 3, padding: 1, using: &g)
        let convolutional = try SeparationNet(shared: try encoder(&g), privateSource: try encoder(&g), privateTarget: try encoder(&g),
                                              decoder: Sequential([first, Activation(.relu), try Unflatten([4, 2, 2]), try Upsample(2), last]),
                                              classifier: try Models.mlp([8, 2], using: &g), discriminator: try Models.mlp([8, 2], using: &g))
        #expect(convolutional.startDecoderFlat())
        #expect(last.weight.value.scalars.allSatisfy { $0 == 0 } && first.weight.value.scalars.contains { $0 != 0 })
    }

    @Test func pixelDATrainsItsThreePartsAndRestylesImages() throws {
        var g = RandomGenerator(seed: 7)
        let source = try Digits.generate(count: 48, style: .mnist, seed: 1), target = try Digits.generate(count: 48, style: .mnistm, seed: 2)
        let generator = Sequential([try Conv2d(4, 4, kernel: 3, padding: 1, using: &g), Activation(.relu),
                                    try Conv2d(4, 3, kernel: 3, padding: 1, using: &g), Activation(.tanh)])
        let discriminator = Sequential([Flatten(), try Linear(2352, 2, using: &g)])
        let net = try PixelDANet(generator: generator, discriminator: discriminator, classifier: try Models.mlp([2352, 16, 10], using: &g))
        let before = (generator.parameters + discriminator.parameters).map(\.value.scalars)
        var request = FitRequest(data: [source], options: TrainingOptions())
        request.options.epochs = 2
        request.options.batchSize = 16
        request.target = target.unlabelled()
        let h = try net.fit(request, using: &g)
        for name in ["generated_accuracy", "discriminator_accuracy", "generator_loss", "content"] {
            #expect(h.epochs.allSatisfy { $0[name] != nil }, "\(name) recorded")
        }
        #expect((generator.parameters + discriminator.parameters).map(\.value.scalars) != before, "generator and discriminator learn")
        let restyled = try net.generate(source.x)
        #expect(restyled.shape == source.x.shape && restyled != source.x)
        #expect(try net.generate(source.x) == restyled, "the same noise each call")
        try expectAveragesByDefault(net, request, epochs: 1)
        // Parts that do not fit are named.
        let shrinking = try PixelDANet(generator: Sequential([try Conv2d(4, 3, kernel: 3, using: &g)]), discriminator: discriminator,
                                       classifier: try Models.mlp([2352, 10], using: &g))
        #expect(throws: TrainingError.self) { try shrinking.check(sampleShape: [3, 28, 28]) }
        #expect(throws: TrainingError.self) { try net.check(sampleShape: [2352]) }
        request.target = nil
        #expect(throws: TrainingError.self) { try net.fit(request, using: &g) }
    }

    @Test func lambdaScheduleFollowsGaninEtAl() {
        #expect(LambdaSetting.schedule(max: 1).value(progress: 0) == 0)
        #expect(Swift.abs(LambdaSetting.schedule(max: 1).value(progress: 0.5) - Float(2 / (1 + Glibc.exp(-5.0)) - 1)) < 1e-6)
        #expect(LambdaSetting.constant(0.3).value(progress: 0.7) == 0.3)
    }

    /// The history is read for the three ways adversarial training fails, each with advice.
    @Test func adversarialHistoriesThatFailedAreNamed() {
        func history(_ rows: [(source: Double, domain: Double)]) -> History {
            var h = History()
            h.epochs = rows.enumerated().map { i, r in
                EpochRecord(epoch: i + 1, seconds: 1, samplesPerSecond: 1, figures: [("source_accuracy", r.source), ("domain_accuracy", r.domain)])
            }
            return h
        }
        let collapsed = Trainer.adversarialWarnings(history([(0.6, 0.7), (0.9, 0.8), (0.11, 0.5)]), lambda: .standard, classes: 10, steps: 300)
        #expect(collapsed.count == 1 && collapsed[0].contains("at chance on the source") && collapsed[0].contains("try lambda_max=0.1 (it was 0.3)"))
        let undone = Trainer.adversarialWarnings(history([(0.7, 0.7), (0.95, 0.8), (0.6, 0.6)]), lambda: .constant(1), classes: 10, steps: 300)
        #expect(undone.count == 1 && undone[0].contains("source accuracy fell from 0.95 (epoch 2) to 0.6 (epoch 3)"))
        #expect(undone[0].contains("try lambda=0.333 (it was 1)"))
        let unfooled = Trainer.adversarialWarnings(history([(0.7, 0.97), (0.9, 0.99), (0.95, 0.99)]), lambda: .standard, classes: 10, steps: 300)
        #expect(unfooled.count == 1 && unfooled[0].contains("told source from target at every epoch"))
        let inverted = Trainer.adversarialWarnings(history([(0.5, 0.5), (0.5, 0.4), (0.6, 0.12)]), lambda: .standard, classes: 10, steps: 300)
        #expect(inverted.count == 1 && inverted[0].contains("below chance") && inverted[0].contains("sdt()"))
        #expect(Trainer.adversarialWarnings(history([(0.7, 0.8), (0.9, 0.85), (0.95, 0.88)]), lambda: .standard, classes: 10, steps: 300).isEmpty)
        #expect(Trainer.adversarialWarnings(history([(0.7, 0.97), (0.9, 0.99)]), lambda: .constant(0), classes: 10, steps: 300).isEmpty, "no reversal")
        #expect(Trainer.adversarialWarnings(history([(0.6, 0.7), (0.11, 0.5)]), lambda: .standard, classes: 10, steps: 4).isEmpty, "a handful of steps")
    }

    /// Aligned training that ends at chance on the source is named, with a tenth of the weight
    /// to try; a run that learnt, or a handful of steps, says nothing.
    @Test func alignedTrainingLeftAtChanceIsNamed() {
        func history(_ source: [Double]) -> History {
            var h = History()
            h.epochs = source.enumerated().map { i, a in
                EpochRecord(epoch: i + 1, seconds: 1, samplesPerSecond: 1, figures: [("loss", 2.3), ("source_accuracy", a), ("cmd", 0.01)])
            }
            return h
        }
        let warning = Trainer.collapseWarning(history([0.11, 0.1, 0.09]), alignment: .cmd, weight: 0.3, classes: 10, steps: 400)
        #expect(warning?.contains("still at chance on the source (accuracy 0.09 for 10 classes) with the cmd term at weight 0.3") == true)
        #expect(warning?.contains("try align_weight=0.03") == true)
        #expect(Trainer.collapseWarning(history([0.5, 0.8, 0.9]), alignment: .cmd, weight: 0.3, classes: 10, steps: 400) == nil)
        #expect(Trainer.collapseWarning(history([0.1]), alignment: .mmd, weight: 0.1, classes: 10, steps: 4) == nil, "a handful of steps")
        #expect(Trainer.collapseWarning(history([0.1, 0.1]), alignment: .mmd, weight: 0, classes: 10, steps: 400) == nil, "no alignment to blame")
    }

    /// CMD's interval is the batch's range, but never less than a quarter of the widest range the
    /// run has seen: features that shrink do not make its pull grow without bound (the collapse
    /// to chance from scratch on svhn → mnist). The other discrepancies ignore the range.
    @Test func cmdsIntervalDoesNotShrinkWithTheFeatures() throws {
        var g = RandomGenerator(seed: 3)
        let s = try Tensor.randn([16, 4], mean: 2, std: 2, using: &g).relu(), t = try Tensor.randn([16, 4], mean: 3, std: 2, using: &g).relu()
        var widest: Float = 0
        let wide = try Alignment.cmd.loss(s, t, widest: &widest)
        let range = Swift.max(s.scalars.max() ?? 0, t.scalars.max() ?? 0) - Swift.min(s.scalars.min() ?? 0, t.scalars.min() ?? 0)
        #expect(widest == range)
        #expect(try wide.item() == Discrepancy.cmd(s, t, low: 0, high: range).item(), "a batch at the widest range uses its own")
        let small = try s * 0.01, smallT = try t * 0.01
        let shrunk = try Alignment.cmd.loss(small, smallT, widest: &widest)
        #expect(widest == range, "a narrower batch leaves the widest range")
        #expect(try shrunk.item() == Discrepancy.cmd(small, smallT, low: 0, high: Alignment.cmdRangeFloor * range).item())
        #expect(try shrunk.item() < Discrepancy.cmd(small, smallT, low: 0, high: 0.01 * range).item(), "the pull stays bounded")
        var untouched: Float = 0
        _ = try Alignment.mmd.loss(s, t, widest: &untouched)
        #expect(untouched == 0)
    }

    /// The default weights of the discrepancies: the unbounded ones (linear MMD, CMD) below 1.
    @Test func unboundedDiscrepanciesWeighLess() {
        #expect(Alignment.mmd.defaultWeight == 0.1)
        #expect(Alignment.cmd.defaultWeight == 0.3)
        #expect(Alignment.mkmmd.defaultWeight == 1 && Alignment.coral.defaultWeight == 1)
    }

    @Test func theDefaultScheduleRampsToItsCeiling() {
        #expect(LambdaSetting.standard.value(progress: 0) == 0)
        #expect(Swift.abs(LambdaSetting.standard.value(progress: 1) - LambdaSetting.defaultMax * Float(2 / (1 + Glibc.exp(-10.0)) - 1)) < 1e-6)
        #expect(LambdaSetting.defaultMax < 1, "the paper's ceiling destroyed the features at a constant SGD rate")
    }
}

@Suite struct ZeroShotTests {
    /// Four classes defined by 3 binary attributes; images are their attribute vectors plus noise.
    let table = try! Tensor(shape: [4, 3], values: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0])

    func samples(_ classes: [Int], _ n: Int, seed: UInt64) throws -> Dataset {
        var g = RandomGenerator(seed: seed)
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<n {
            let c = classes[i % classes.count]
            labels.append(c)
            values += (0..<3).map { table.scalars[c * 3 + $0] + 0.1 * g.nextNormal() }
        }
        return try Dataset(name: "toy", x: Tensor(shape: [n, 3], values: values), y: labels, classes: ["a", "b", "c", "ab"])
    }

    @Test func anEmbedderPicksTheUnseenClassWhoseAttributesMatch() throws {
        // f is the identity: an image's embedding is its (noisy) attribute vector.
        let zs = try Embedder(f: Identity(), g: nil, margin: 0.1)
        let report = try Trainer.evaluateZeroShot(zs, try samples([2, 3], 40, seed: 1), classTable: table)
        #expect(report.accuracy == 1, "class c is (0,0,1) and ab is (1,1,0)")
    }

    @Test func trainingOnSeenClassesTransfersToAnUnseenOne() throws {
        var g = RandomGenerator(seed: 2)
        let f = Sequential([try Linear(3, 3, using: &g)])
        let zs = try Embedder(f: f, g: nil, margin: 0.5)
        var options = TrainingOptions()
        options.epochs = 40
        options.optimizer = .adam
        options.learningRate = 0.05
        let h = try Trainer.fitEmbedder(zs, try samples([0, 1, 2], 90, seed: 3), classTable: table, options: options, using: &g)
        #expect(h.epochs.last!["loss"]! < h.epochs.first!["loss"]!)
        // "ab" was never seen; it must be told apart from "c" by its attributes alone.
        let report = try Trainer.evaluateZeroShot(zs, try samples([2, 3], 40, seed: 4), classTable: table)
        #expect(report.accuracy > 0.9)
    }

    @Test func aNormalisedEmbedderScoresCosinesOfStandardisedFeatures() throws {
        var g = RandomGenerator(seed: 6)
        let f = Sequential([Flatten(), try Linear(3, 4, using: &g)])
        let zs = try Embedder(f: f, g: try Linear(3, 4, using: &g), margin: 0.1)
        #expect(zs.standardizer?.features == 4, "f's width is its last linear layer's")
        zs.setTraining(true)
        let x = try Tensor.randn([16, 3], using: &g) * 50 + 20
        let scores = try zs.scores(x, classTable: table).scalars
        #expect(scores.allSatisfy { Swift.abs($0) <= 1 + 1e-5 }, "cosines")
        #expect(try Embedder(f: f, g: nil, margin: 0.1, normalized: false).standardizer == nil)
        // A width that is not f's output is refused with advice, not a crash.
        let wrong = try Embedder(f: f, g: nil, margin: 0.1, width: 7)
        #expect(throws: TrainingError.self) { try wrong.scores(x, classTable: table) }
    }

    @Test func conseIgnoresWhatEveryWordVectorShares() throws {
        // Word vectors with a large common offset: the cosines are taken about their mean, so
        // the offset changes nothing.
        var g = RandomGenerator(seed: 7)
        let vectors = try Tensor.randn([4, 5], using: &g)
        let shifted = try vectors + Tensor(shape: [1, 5], values: [20, -20, 20, 20, -20])
        let classifier = Sequential([try Linear(3, 4, using: &g)])
        let x = try Tensor.randn([12, 3], using: &g)
        let plain = try ConSE(classifier: classifier, wordVectors: vectors, top: 2, seen: [0, 1])
        let offset = try ConSE(classifier: classifier, wordVectors: shifted, top: 2, seen: [0, 1])
        let a = try plain.scores(x, classTable: try vectors.indexSelect([2, 3])).argmaxRows()
        let b = try offset.scores(x, classTable: try shifted.indexSelect([2, 3])).argmaxRows()
        #expect(a == b)
    }

    @Test func cslsKeepsAHubFromTakingImagesThatAreNotItsOwn() throws {
        // Row 4 is a hub: close to rows 0 and 2 as well as to an image of class 0 (cosine 0.505
        // about the table's mean, against 0.365 for row 5). Its neighbours are as close, so CSLS
        // (2·cos − r(e) − r(v), k = 2) lowers it below row 5, whose neighbourhood is sparse.
        let vectors = try Tensor(shape: [6, 4], values: [2, -2, 0, -1, -1, 2, -2, 2, 0, 2, 0, -2,
                                                         -2, -1, -2, 0, 1, 0, 0, -2, 2, -1, 2, 2])
        let x = try Tensor(shape: [1, 6], values: [9, -9, -9, -9, -9, -9])
        func choice(_ k: Int) throws -> [Int] {
            let cz = try ConSE(classifier: Identity(), wordVectors: vectors, top: 1, seen: [0, 1, 2, 3], csls: k)
            return try Trainer.predictZeroShot(cz, x, classTable: vectors, candidates: [4, 5])
        }
        #expect(try choice(0) == [4], "the plain cosine picks the hub")
        #expect(try choice(2) == [5])
        let cz = try ConSE(classifier: Identity(), wordVectors: vectors, top: 1, seen: [0, 1, 2, 3], csls: 2)
        let scores = try cz.scores(x, classTable: try vectors.indexSelect([4, 5])).scalars
        #expect(abs(scores[0] - 0.02391) < 1e-4 && abs(scores[1] - 0.23854) < 1e-4, "CSLS values \(scores) (computed with NumPy)")
        #expect(throws: TrainingError.self) { try ConSE(classifier: Identity(), wordVectors: vectors, top: 1, seen: [0], csls: -1) }
        #expect(try ConSE(classifier: Identity(), wordVectors: vectors, top: 1, seen: [0], csls: 9).csls == 5, "all the other rows")
    }

    @Test func anAttributeClassifierPicksTheClassWhoseAttributesAreMostLikely() throws {
        // Logits that say "attribute 3 yes, 1 and 2 no" belong to c; "1 and 2 yes, 3 no" to ab.
        let ac = AttributeClassifier(f: Identity())
        let x = try Tensor(shape: [2, 3], values: [-4, -4, 4, 4, 4, -4])
        let data = try Dataset(name: "toy", x: x, y: [2, 3], classes: ["a", "b", "c", "ab"])
        #expect(try Trainer.evaluateZeroShot(ac, data, classTable: table).accuracy == 1)
        // The scores are the log-likelihoods of each class's attribute row.
        let scores = try ac.scores(try Tensor(shape: [1, 3], values: [0, 0, 0]), classTable: table).scalars
        for s in scores { #expect(abs(s - 3 * log(0.5)) < 1e-5) }
        #expect(throws: TrainingError.self) { try ac.scores(x, classTable: try Tensor(shape: [4, 2], values: [Float](repeating: 0, count: 8))) }
        #expect(throws: TrainingError.self) { try ac.scores(x, classTable: table * 3) }
    }

    @Test func attributesLearnedOnSeenClassesRecogniseAnUnseenOne() throws {
        var g = RandomGenerator(seed: 5)
        let ac = AttributeClassifier(f: Sequential([try Linear(3, 3, using: &g)]))
        var options = TrainingOptions()
        options.epochs = 40
        options.optimizer = .adam
        options.learningRate = 0.05
        let h = try Trainer.fitAttributeClassifier(ac, try samples([0, 1, 2], 90, seed: 3), classTable: table, options: options, using: &g)
        #expect(h.epochs.last!["loss"]! < h.epochs.first!["loss"]!)
        #expect(h.epochs.last!["seen_accuracy"]! > 0.9, "seen-class accuracy")
        let report = try Trainer.evaluateZeroShot(ac, try samples([2, 3], 40, seed: 4), classTable: table)
        #expect(report.accuracy > 0.9)
    }

    @Test func conseCombinesTheTopSeenClassVectors() throws {
        // Word vectors: a, b and their mix ab; an image equally likely to be a or b is an "ab".
        let vectors = try Tensor(shape: [4, 2], values: [1, 0, 0, 1, -1, -1, 0.7, 0.7])
        let cz = try ConSE(classifier: Identity(), wordVectors: vectors, top: 2, seen: [0, 1, 2])
        let logits = try Tensor(shape: [2, 4], values: [5, 5, -9, -9, -9, -9, 5, -9])
        let data = try Dataset(name: "toy", x: logits, y: [3, 2], classes: ["a", "b", "c", "ab"])
        let report = try Trainer.evaluateZeroShot(cz, data, classTable: vectors)
        #expect(report.accuracy == 1)
        #expect(throws: TrainingError.self) { try ConSE(classifier: Identity(), wordVectors: vectors, top: 0, seen: [0]) }
    }
}

@Suite struct ProjectionTests {
    /// Points in 3-D spread 3, 2 and 1 along three orthogonal (rotated) directions.
    func spread(_ n: Int, seed: UInt64) throws -> Tensor {
        var g = RandomGenerator(seed: seed)
        let axes: [[Float]] = [[0.6, 0.8, 0], [-0.8, 0.6, 0], [0, 0, 1]]
        var values: [Float] = []
        for _ in 0..<n {
            let z = [3 * g.nextNormal(), 2 * g.nextNormal(), g.nextNormal()]
            values += (0..<3).map { c in (0..<3).reduce(Float(0)) { $0 + z[$1] * axes[$1][c] } + 5 }
        }
        return try Tensor(shape: [n, 3], values: values)
    }

    /// YᵀY of the projections: diagonal (components uncorrelated) with a descending diagonal.
    func checkPrincipal(_ y: Tensor, totalVariance: Double) throws {
        let k = y.shape[1]
        let c = try Tensor.matmul2D(y, y, transposeA: true).scalars.map(Double.init)
        for i in 0..<k { for j in 0..<k where i != j { #expect(abs(c[i * k + j]) < 1e-3 * c[0], "off-diagonal \(i),\(j)") } }
        for i in 1..<k { #expect(c[i * k + i] <= c[(i - 1) * k + i - 1] * (1 + 1e-4)) }
        let kept = (0..<k).reduce(0.0) { $0 + c[$1 * k + $1] }
        #expect(abs(kept - totalVariance) < 1e-3 * totalVariance, "all variance kept")
    }

    @Test func pcaFindsTheDirectionsOfLargestSpread() throws {
        let x = try spread(400, seed: 1)
        let centred = try x - x.mean(axis: 0, keepDims: true)
        let total = Double(try (centred * centred).sum().item())
        let y = try Projection.pca(x, k: 3)
        try checkPrincipal(y, totalVariance: total)
        // The first component is the 3-spread direction (0.6, 0.8, 0): its variance is about 9.
        let first = try Projection.pca(x, k: 1)
        let variance = Double(try (first * first).mean().item())
        #expect(variance > 7.5 && variance < 10.5)
        // Signs are fixed: the largest projection of each component is positive.
        for j in 0..<3 {
            let column = (0..<400).map { y.scalars[$0 * 3 + j] }
            #expect(column.max()! >= -column.min()!)
        }
    }

    @Test func pcaOfFewWideSamplesUsesTheGramMatrixAndAgrees() throws {
        // 6 samples of 40 values: rank 5 after centring, so 5 components keep everything.
        var g = RandomGenerator(seed: 2)
        let x = try Tensor(shape: [6, 40], values: (0..<240).map { _ in g.nextNormal() })
        let centred = try x - x.mean(axis: 0, keepDims: true)
        try checkPrincipal(try Projection.pca(x, k: 5), totalVariance: Double(try (centred * centred).sum().item()))
        #expect(throws: TrainingError.self) { try Projection.pca(x, k: 7) }
        #expect(throws: TrainingError.self) { try Projection.pca(try Tensor(shape: [1, 3], values: [1, 2, 3]), k: 1) }
    }

    @Test func tsneKeepsSeparateClustersApartAndRepeatsItself() throws {
        var g = RandomGenerator(seed: 3)
        // Two clusters of 25 points in 10-D, far apart.
        let values = (0..<50).flatMap { i in (0..<10).map { _ in g.nextNormal() + (i < 25 ? 0 : 8) } }
        let x = try Tensor(shape: [50, 10], values: values)
        let map = try Projection.tsne(x, perplexity: 8, iterations: 300)
        #expect(map.shape == [50, 2])
        let m = map.scalars
        for i in 0..<50 {
            let nearest = (0..<50).filter { $0 != i }.min { a, b in
                func d(_ j: Int) -> Float { let dx = m[i * 2] - m[j * 2], dy = m[i * 2 + 1] - m[j * 2 + 1]; return dx * dx + dy * dy }
                return d(a) < d(b)
            }!
            #expect((nearest < 25) == (i < 25), "point \(i)'s nearest neighbour is in its own cluster")
        }
        #expect(try Projection.tsne(x, perplexity: 8, iterations: 300).scalars == m, "no randomness")
        #expect(throws: TrainingError.self) { try Projection.tsne(x, perplexity: 30) }
        #expect(throws: TrainingError.self) { try Projection.tsne(x, dims: 4) }
    }
}
