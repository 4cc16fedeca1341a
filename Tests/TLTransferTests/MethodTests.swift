import Testing
@testable import TLData
@testable import TLEngine
@testable import TLNN
@testable import TLTransfer

@Suite struct MethodTests {
    /// The builders draw their output layers as PyTorch does and every other layer He-uniform;
    /// an autoencoder's code layer, which a ReLU follows, is not an output layer.
    @Test func buildersDrawTheirOutputLayersAsOutputs() throws {
        var g = RandomGenerator(seed: 9)
        let linears = { (s: Sequential) in s.layers.compactMap { $0 as? Linear }.map(\.initialisation) }
        #expect(linears(try Models.mlp([4, 8, 3], using: &g)) == [.he, .output])
        #expect(linears(try Models.cnn(classes: 10, input: [1, 28, 28], using: &g)) == [.he, .output])
        #expect(linears(try Autoencoder.make(sizes: [6, 4, 2], activation: .relu, using: &g).sequential) == [.he, .he, .he, .output])
    }

    @Test func multitaskLearnsEveryHead() throws {
        var g = RandomGenerator(seed: 1)
        let a = try blobs(128, seed: 1)
        // Task B: the sign of the second feature, which task A ignores.
        var b = try blobs(96, seed: 2)
        b.y = try b.x.sliced(axis: 1, start: 1, end: 2).scalars.map { $0 > 0 ? 1 : 0 }
        let net = try MultitaskNet(trunk: Models.mlp([2, 16], using: &g), heads: [try Linear(16, 2, using: &g), try Linear(16, 2, using: &g)])
        var options = TrainingOptions()
        options.epochs = 15
        let h = try net.fit(FitRequest(data: [a, b], options: options), using: &g)
        #expect(h.epochs.last!["loss"]! < h.epochs.first!["loss"]!)
        #expect(h.names == ["loss", "accuracy", "accuracy_0", "accuracy_1"], "overall, then each head's accuracy")
        guard case .reports(let reports) = try net.evaluate(EvaluationRequest(data: [try blobs(100, seed: 5), b])) else {
            Issue.record("a report per head")
            return
        }
        #expect(reports[0].accuracy > 0.9 && reports[1].accuracy > 0.75)
        #expect(net.namedParameters().first?.name == "trunk.1.weight")
        #expect(throws: TrainingError.self) { try net.fit(FitRequest(data: [a], options: options), using: &g) }
    }

    /// Adaptation pairs every source batch with a target batch, starting the target over when it
    /// runs out, and draws each pair only when it is used.
    @Test func sourceBatchesArePairedWithACycledTarget() throws {
        let source = try Dataset(name: "s", x: Tensor(shape: [5, 1], values: [0, 1, 2, 3, 4]), y: [0, 1, 0, 1, 0], classes: ["a", "b"])
        let target = try Dataset(name: "t", x: Tensor(shape: [3, 1], values: [10, 11, 12]), y: nil, classes: [])
        var options = TrainingOptions()
        options.batchSize = 2
        options.shuffle = false
        var g = RandomGenerator(seed: 1)
        let pairs = try Trainer.pairedBatches(source, target, options: options, using: &g)
        for _ in 0..<2 {  // the sequence can be walked again
            let walked = pairs.map { ($0.source.x.scalars, $0.source.y ?? [], $0.target.scalars) }
            #expect(walked.map(\.0) == [[0, 1], [2, 3], [4]])
            #expect(walked.map(\.1) == [[0, 1], [0, 1], [0]])
            #expect(walked.map(\.2) == [[10, 11], [12], [10, 11]])
        }
        let iterator = pairs.makeIterator()
        #expect(iterator.next()?.target.scalars == [10, 11])
        let empty = try Dataset(name: "e", x: Tensor.zeros([0, 1]), y: nil, classes: [])
        #expect(throws: TrainingError.self) { try Trainer.pairedBatches(source, empty, options: options, using: &g) }
    }

    @Test func progressiveColumnsStayFrozenWhileTheNewOneLearns() throws {
        var g = RandomGenerator(seed: 2)
        let old = try Models.mlp([2, 8, 2], using: &g)
        let before = old.namedParameters().map(\.parameter.value)
        let net = try ProgressiveNet(columns: [old], new: try Models.mlp([2, 8, 2], using: &g), using: &g)
        #expect(net.adapters.count == 1 && (net.adapters.values.first?.first as? Linear)?.weight.value.shape == [2, 8])
        var options = TrainingOptions()
        options.epochs = 8
        _ = try Trainer.fit(net, try blobs(128, seed: 3), options: options, using: &g)
        #expect(old.namedParameters().map(\.parameter.value) == before)
        #expect(try Trainer.accuracy(net, try blobs(100, seed: 4)) > 0.9)
    }

    @Test func progressiveConvolutionalColumnsGetConvolutionalAdapters() throws {
        var g = RandomGenerator(seed: 2)
        func column(_ k: Int) throws -> Sequential {
            Sequential([try Conv2d(1, 2, kernel: 3, padding: 1, using: &g), Activation(.relu), try Conv2d(2, 3, kernel: k, padding: k / 2, using: &g),
                        Flatten(), try Linear(48, 2, using: &g)])
        }
        let old = try column(3), new = try column(3)
        let net = try ProgressiveNet(columns: [old], new: new, using: &g)
        #expect(net.adapters.keys.sorted() == [2, 4])
        let lateral = try #require(net.adapters[2]?.first as? Conv2d)
        #expect((lateral.inputChannels, lateral.outputChannels, lateral.kernel, lateral.padding) == (2, 3, 3, 1) && lateral.bias == nil)
        let x = try Tensor.randn([5, 1, 4, 4], using: &g)
        let alone = try new.forward(x), together = try net.forward(x)
        #expect(together.shape == [5, 2] && together != alone, "the frozen column reaches the output through the adapters")
        // A convolution of another kernel at the same place is another layout.
        #expect(throws: TrainingError.self) { try ProgressiveNet(columns: [try column(5)], new: try column(3), using: &g) }
        #expect(throws: TrainingError.self) { try ProgressiveNet(columns: [old], new: try Models.mlp([16, 8, 2], using: &g), using: &g) }
    }

    @Test func autoencoderReconstructsBetterAsItTrains() throws {
        var g = RandomGenerator(seed: 3)
        let data = try Digits.generate(count: 128, style: .mnist, seed: 1).unlabelled()
        let net = Sequential([Flatten(), try Linear(2352, 32, using: &g), Activation(.relu), try Linear(32, 2352, using: &g)])
        var options = TrainingOptions()
        options.epochs = 25
        options.batchSize = 32
        options.optimizer = .adam
        options.learningRate = 0.003
        let h = try Trainer.fitReconstruction(net, data, options: options, using: &g)
        let first = h.epochs.first!["reconstruction"]!, last = h.epochs.last!["reconstruction"]!
        #expect(last < first * 0.7, "\(first) → \(last)")
        #expect(h.names == ["reconstruction"], "no labels, no accuracy")
        #expect(!h.summary.contains("acc"))
    }

    @Test func kmeansFindsSeparatedClusters() throws {
        var g = RandomGenerator(seed: 4)
        var values: [Float] = []
        for i in 0..<60 { values += [Float(i % 3) * 10 + g.nextNormal() * 0.3, g.nextNormal() * 0.3] }
        let ids = try Clustering.kmeans(try Tensor(shape: [60, 2], values: values), k: 3, using: &g)
        let truth = (0..<60).map { $0 % 3 }
        let s = try Clustering.scores(clusters: ids, labels: truth)
        #expect(s.nmi > 0.999 && s.ari > 0.999 && s.accuracy == 1)
        #expect(throws: TrainingError.self) { try Clustering.kmeans(try Tensor.zeros([3, 2]), k: 5, using: &g) }
    }

    @Test func clusterScoresMatchTheirDefinitions() throws {
        // Relabelling clusters changes nothing.
        let perfect = try Clustering.scores(clusters: [2, 2, 0, 0, 1, 1], labels: [0, 0, 1, 1, 2, 2])
        #expect(perfect.nmi > 0.9999 && perfect.ari > 0.9999 && perfect.accuracy == 1)
        // Computed with scikit-learn 1.x (normalized_mutual_info_score, adjusted_rand_score) for
        // clusters [0,0,1,1,1,2] against labels [0,0,0,1,1,1]; the best matching gets 4 of 6 right.
        let s = try Clustering.scores(clusters: [0, 0, 1, 1, 1, 2], labels: [0, 0, 0, 1, 1, 1])
        #expect(Swift.abs(s.nmi - 0.4398695005110285) < 1e-9)
        #expect(Swift.abs(s.ari - 0.11764705882352941) < 1e-9)
        #expect(Swift.abs(s.accuracy - 4.0 / 6.0) < 1e-12)
        #expect(throws: TrainingError.self) { try Clustering.scores(clusters: [0], labels: [0, 1]) }
        // Huge ids are renumbered, not used as table sizes.
        let far = try Clustering.scores(clusters: [900_000_000, 900_000_000, 5, 5], labels: [7_000_000, 7_000_000, 3, 3])
        #expect(far.accuracy == 1)
    }
}
