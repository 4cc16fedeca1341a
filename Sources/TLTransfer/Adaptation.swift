#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLData
import TLEngine
import TLNN

/// Domain-adversarial network (Ganin et al. 2016): a feature extractor `net[0:at]`, the label
/// predictor `net[at:]`, and a domain classifier behind a gradient reversal layer. Training the
/// domain classifier to tell source from target while the reversed gradient trains the features
/// to confuse it makes the features domain-invariant.
public final class AdversarialNet: Layer {
    public let features: Sequential
    public let classifier: Sequential
    public let reversal: GradientReversal
    public let discriminator: any Layer
    /// The reversal's factor `train` uses when its own `lambda=` is not given.
    public let lambda: LambdaSetting

    public convenience init(_ net: Sequential, discriminator: any Layer, at: Int, lambda: LambdaSetting = .standard) throws {
        guard at >= 1, at < net.count else {
            throw TrainingError(description: "at must split the model between 1 and \(net.count - 1), got \(at)")
        }
        self.init(features: try net.view(0..<at), classifier: try net.view(at..<net.count), discriminator: discriminator, lambda: lambda)
    }

    private init(features: Sequential, classifier: Sequential, discriminator: any Layer, lambda: LambdaSetting) {
        (self.features, self.classifier, self.discriminator, self.lambda) = (features, classifier, discriminator, lambda)
        reversal = GradientReversal(lambda: lambda.value(progress: 0))
    }

    public func forward(_ x: Tensor) throws -> Tensor { try classifier.forward(features.forward(x)) }

    /// The domain classifier's logits for extracted features (the gradient to them is reversed).
    public func domainLogits(_ h: Tensor) throws -> Tensor { try discriminator.forward(reversal.forward(h)) }

    public var children: [(name: String, layer: any Layer)] {
        [("features", features), ("classifier", classifier), ("discriminator", discriminator)]
    }
    public func copy() -> any Layer { clonedNet() }

    /// A deep copy, features and classifier copied together so that they stay one network.
    func clonedNet() -> AdversarialNet {
        let (f, c) = AdversarialNet.copied(features, classifier)
        let copy = AdversarialNet(features: f, classifier: c, discriminator: discriminator.copy(), lambda: lambda)
        copy.reversal.lambda = reversal.lambda
        return copy
    }

    /// A deep copy of a split network, features and classifier copied together so that they stay
    /// one network.
    static func copied(_ features: Sequential, _ classifier: Sequential) -> (Sequential, Sequential) {
        let whole = (features.entries + classifier.entries).map { ($0.name, $0.layer.copy()) }
        return (Sequential(entries: Array(whole[..<features.count])), Sequential(entries: Array(whole[features.count...])))
    }

    /// The parts of a network split at `at` with a domain classifier on its features.
    static func domainParts(features: Sequential, classifier: Sequential, discriminator: any Layer, inputShape: [Int]?,
                            discriminatorHelp: String) -> [MethodPart] {
        let featureShape = Model(features, inputShape: inputShape).outputShapes().last ?? nil
        return [
            MethodPart("features", "the feature extractor net[0:at], sharing its weights", .model(Model(features, inputShape: inputShape))),
            MethodPart("classifier", "the label predictor net[at:], sharing its weights", .model(Model(classifier, inputShape: featureShape))),
            MethodPart("discriminator", discriminatorHelp, .model(Model(discriminator, inputShape: featureShape))),
        ]
    }
    public var summary: String { "Adversarial(features \(features.count) layers, classifier \(classifier.count), domain classifier)" }

    /// The decay of the weight average that an adversarial run (DANN, DSN, SDT, PixelDA) keeps
    /// unless `ema=` says otherwise (about the last 20 steps). The adversary makes training a
    /// game whose iterates circle: at a constant SGD rate DANN's last step moved by ±0.1 in target
    /// accuracy from run to run (mnist → mnistm, `Benchmarks/seeds/adaptation.tl`: −0.11 against
    /// source only on one seed of five), where the average gained on every seed under SGD, SGD
    /// on DANN's schedule and Adam alike; DSN at its default α went from 0.67 to 0.74 with SGD
    /// (`Benchmarks/seeds/dsn.tl`), SDT from 0.79 to 0.82 and PixelDA from 0.74 to 0.77
    /// (`sdt.tl`, `pixelda.tl`; README).
    public static let defaultEMA: Float = 0.95
}

extension AdversarialNet {
    /// A clear error when the domain classifier cannot take the features of `net[0:at]`, or
    /// does not give the 2 domain logits (source, target) for each sample.
    public static func checkDiscriminator(features: Sequential, discriminator: any Layer, inputShape: [Int]) throws {
        let h: Tensor
        do {
            h = try GradMode.withoutGrad { try features.forward(try Tensor.zeros([1] + inputShape)) }
        } catch {
            return  // the input does not fit the features: checkFits says so in the user's words
        }
        let featureShape = Shape.describe(Array(h.shape.dropFirst()))
        discriminator.setTraining(false)
        let out: Tensor
        do {
            out = try GradMode.withoutGrad { try discriminator.forward(h) }
        } catch {
            throw TrainingError(description: "the domain classifier does not take the features net[0:at] gives (\(featureShape) per sample): \(error); its first layer should take \(h.count) values")
        }
        try checkTwoLogits(out, of: "domain classifier", meaning: "domain logits (source, target)")
    }

    /// A clear error when a domain classifier or discriminator does not give 2 logits a sample.
    static func checkTwoLogits(_ out: Tensor, of part: String, meaning: String) throws {
        guard out.rank == 2, out.shape[1] == 2 else {
            throw TrainingError(description: "the \(part) gives \(Shape.describe(Array(out.shape.dropFirst()))) values per sample; it must give 2 \(meaning) — end it with a layer of 2 outputs")
        }
    }
}

extension AdversarialNet: TrainingMethod {
    public var network: any Layer { self }
    public var kind: String { "domain-adversarial network" }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        AdversarialNet.domainParts(features: features, classifier: classifier, discriminator: discriminator, inputShape: inputShape,
                                   discriminatorHelp: "the domain classifier (behind the gradient reversal)")
    }

    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.align, .at, .attributes, .targetLabels], for: kind)
        guard let target = request.target else { throw TrainingError(description: "an attach()ed model trains with target= (unlabelled target data)") }
        let source = try request.single()
        try Trainer.checkClassifier(self, for: source)
        try AdversarialNet.checkDiscriminator(features: features, discriminator: discriminator, inputShape: source.sampleShape)
        return try Trainer.fitAdversarial(self, source: source, target: target, lambda: request.lambda ?? lambda,
                                          options: request.options, using: &generator, reporter: request.reporter)
    }

    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation {
        try Classifier(self).evaluate(request)
    }

    public func predict(_ request: PredictionRequest) throws -> [Int] { try Trainer.predict(self, request.x) }

    public func clone() -> any TrainingMethod { clonedNet() }

    public var settings: [(name: String, value: String)] {
        [("λ", lambda.description + " (train's lambda= overrides it)"),
         Self.weightsKept]
    }

    /// The setting line of a method that averages its weights by default (DANN, DSN, SDT, PixelDA).
    static var weightsKept: (name: String, value: String) {
        ("weights kept", "by default their average over about the last \(Int((1 / (1 - defaultEMA)).rounded())) steps of training (train's ema=\(Report.format(Double(defaultEMA))); ema=0 keeps the last step's)")
    }
}

/// How the gradient reversal's λ is set during training.
public enum LambdaSetting: Sendable {
    case constant(Float)
    /// λ_p = max · (2/(1 + e^(−10p)) − 1) with p the training progress 0 → 1 (Ganin et al., max 1).
    case schedule(max: Float)

    /// The schedule's default ceiling. The paper's 1 suits its long runs with a decaying learning
    /// rate; over a few epochs at a constant SGD rate it let the reversed gradient destroy the
    /// features on 3 of 5 seeds (mnist → mnistm, `Benchmarks/seeds/adaptation.tl`), where 0.3 gained
    /// on every seed with SGD, SGD on DANN's rate schedule and Adam alike.
    public static let defaultMax: Float = 0.3

    /// The default: DANN's schedule up to `defaultMax`.
    public static let standard = LambdaSetting.schedule(max: defaultMax)

    /// `0.3 · (2/(1 + e^(−10p)) − 1), p the progress 0 → 1` or the constant.
    public var description: String {
        switch self {
        case .constant(let l): "\(Report.format(Double(l))), constant"
        case .schedule(let m): "DANN's schedule up to \(Report.format(Double(m))): λ = \(Report.format(Double(m)))·(2/(1 + e^(−10p)) − 1), p the progress 0 → 1"
        }
    }

    public func value(progress p: Double) -> Float {
        switch self {
        case .constant(let l): l
        case .schedule(let m): m * Float(2 / (1 + Glibc.exp(-10 * p)) - 1)
        }
    }
}

/// The discrepancies between source and target features that alignment minimises.
public enum Alignment: String, CaseIterable, Sendable {
    case mmd, mkmmd, coral, cmd

    /// The weight `train` gives the term when align_weight= is not said. Linear MMD and CMD grow with
    /// the features' scale and pull hard. mnist → mnistm, 5 seeds each (README), aligned at the flatten
    /// (at=7): from scratch with SGD, linear MMD at weight 1 ended 0.13 below source only and at 0.1
    /// 0.06 above it (Adam 0.72 → 0.80; fine-tuning a source-trained CNN with Adam 0.62 → 0.70); CMD
    /// was best at 0.1 from scratch with SGD (0.82 against 0.64 at 1) but lost at 0.1 when fine-tuning
    /// (0.62 against 0.70 at 1), and 0.3 was within 0.05 of the best in all three (0.77, 0.79, 0.71).
    /// MK-MMD's kernels are bounded and CORAL is divided by 4d²: 1 suits them.
    public var defaultWeight: Float {
        switch self {
        case .mmd: 0.1
        case .cmd: 0.3
        case .mkmmd, .coral: 1
        }
    }

    /// The fraction of the widest range seen so far below which CMD's interval does not shrink.
    public static let cmdRangeFloor: Float = 0.25

    /// The discrepancy between source features `s` and target features `t`. `widest` carries the
    /// widest range of features CMD has seen over the run (it is 0 at the start).
    func loss(_ s: Tensor, _ t: Tensor, widest: inout Float) throws -> Tensor {
        let fs = s.reshapedRows(s.count / Swift.max(1, s.shape.first ?? 1))
        let ft = t.reshapedRows(t.count / Swift.max(1, t.shape.first ?? 1))
        switch self {
        case .mmd: return try Discrepancy.linearMMD(fs, ft)
        case .mkmmd: return try Discrepancy.multiKernelMMD(fs, ft)
        case .coral: return try Discrepancy.coral(fs, ft)
        case .cmd:
            // CMD assumes features bounded in [a, b]; ReLU features are not, so the interval is the
            // batch's observed range (detached): the moments then compare shapes, not scales. The
            // k-th term divides by the range to the k-th power, so as the features shrink its pull
            // grows as 1/range: from scratch on svhn → mnist that ran away, every feature pulled to
            // zero before the labels were learnt (accuracy 0.10 on every seed). The interval
            // therefore stays at least a quarter of the widest range seen in the run.
            let pooled = try Tensor.concat([fs.detached(), ft.detached()], axis: 0).scalars
            let low = pooled.min() ?? 0, high = pooled.max() ?? 1
            widest = Swift.max(widest, high - low)
            // Only the interval's length enters CMD: [0, length].
            return try Discrepancy.cmd(fs, ft, low: 0, high: Swift.max(high - low, Self.cmdRangeFloor * widest, 1e-6))
        }
    }
}

extension Trainer {
    /// Pairs each source batch of an epoch with a target batch (the target cycles if smaller).
    static func pairedBatches(_ source: Dataset, _ target: Dataset, options: TrainingOptions,
                              using g: inout RandomGenerator) throws -> AnySequence<(source: (x: Tensor, y: [Int]?), target: Tensor)> {
        let s = try Batches(source, size: options.batchSize, shuffle: options.shuffle, using: &g)
        let t = try Batches(target, size: options.batchSize, shuffle: options.shuffle, using: &g)
        guard t.count > 0 else { throw TrainingError(description: "the target data has no samples") }
        // Drawn as they are used, one pair in memory at a time (the epoch's batches gathered up
        // front were a second copy of both datasets); a shorter target starts over.
        typealias Pair = (source: (x: Tensor, y: [Int]?), target: Tensor)
        return AnySequence { () -> AnyIterator<Pair> in
            let sourceBatches = s.makeIterator()
            let targetBatches = cycled(t)
            return AnyIterator { () -> Pair? in
                guard let batch = sourceBatches.next() else { return nil }
                return targetBatches.next().map { (batch, $0.x) }
            }
        }
    }

    /// The batches without end: when they run out they start over (in the same order).
    static func cycled(_ batches: Batches) -> AnyIterator<(x: Tensor, y: [Int]?)> {
        var current = batches.makeIterator()
        return AnyIterator {
            if let next = current.next() { return next }
            current = batches.makeIterator()
            return current.next()
        }
    }

    /// Domain-adversarial training: label loss on source batches, domain loss on source and target
    /// batches through the gradient reversal, λ set each step. The history records the domain
    /// classifier's accuracy, which falls toward 0.5 as the features stop giving the domain away.
    public static func fitAdversarial(_ net: AdversarialNet, source: Dataset, target: Dataset, lambda: LambdaSetting,
                                      options: TrainingOptions, using generator: inout RandomGenerator,
                                      reporter: TrainingReporter? = nil) throws -> History {
        let separateDomains = net.features.couplesSamples
        return try reversalLoop(net, reversal: net.reversal, source: source, target: target, lambda: lambda, options: options,
                                using: &generator, reporter: reporter) { pair in
            let labels = pair.source.y ?? []
            let ns = pair.source.x.shape[0], nt = pair.target.shape[0]
            let (h, hs) = try domainFeatures(net.features, pair.source.x, pair.target, separately: separateDomains)
            let logits = try net.classifier.forward(hs)
            let classification = try Loss.crossEntropy(logits, labels)
            let domains = Array(repeating: 0, count: ns) + Array(repeating: 1, count: nt)
            let domainLogits = try net.domainLogits(h)
            let domainLoss = try Loss.crossEntropy(domainLogits, domains)
            let domainCorrect = try correct(domainLogits, domains)
            let figures = try Trainer.classification(loss: classification, logits: logits, labels: labels, accuracy: "source_accuracy") + [
                .mean("domain_loss", Double(try domainLoss.item())), .share("domain_accuracy", domainCorrect, of: domains.count),
                .current("lambda", Double(net.reversal.lambda)),
            ]
            return Step(loss: try classification + domainLoss, samples: labels.count, figures: figures)
        }
    }

    /// The checks and loop every method with a gradient reversal shares (DANN, DSN): labelled
    /// source and target of the same sample shape, source batches paired with target batches, λ
    /// set before each step from `lambda` and the progress, the weights averaged over the last
    /// steps unless `ema=` says otherwise, and the warnings of a failed adversarial run.
    static func reversalLoop(_ model: any Layer, reversal: GradientReversal, source: Dataset, target: Dataset, lambda: LambdaSetting,
                             options: TrainingOptions, using generator: inout RandomGenerator, reporter: TrainingReporter?,
                             objective: @escaping ((source: (x: Tensor, y: [Int]?), target: Tensor)) throws -> Step) throws -> History {
        try checkDomains(source: source, target: target)
        let options = options.averaging(byDefault: AdversarialNet.defaultEMA)
        let batchesPerEpoch = (source.count + options.batchSize - 1) / options.batchSize
        let totalSteps = Double(Swift.max(1, options.epochs * batchesPerEpoch))
        var step = 0
        var history = try loop(model, count: source.count, options: options, using: &generator, reporter: reporter,
                               epochBatches: { g in try pairedBatches(source, target, options: options, using: &g) }) { pair in
            reversal.lambda = lambda.value(progress: Double(step) / totalSteps)
            step += 1
            return try objective(pair)
        }
        history.warnings += adversarialWarnings(history, lambda: lambda, classes: source.classes.count,
                                                steps: history.epochs.count * batchesPerEpoch)
        return history
    }

    /// The features of a source and a target batch, stacked (source first), and the source's alone.
    /// One pass over both batches (one product per layer, as PyTorch's DANN does), unless batch
    /// statistics would then mix the domains (`separately`).
    static func domainFeatures(_ features: any Layer, _ source: Tensor, _ target: Tensor, separately: Bool) throws -> (both: Tensor, source: Tensor) {
        if separately {
            let hs = try features.forward(source)
            return (try Tensor.concat([hs, try features.forward(target)], axis: 0), hs)
        }
        let h = try features.forward(Tensor.concat([source, target], axis: 0))
        return (h, try h.sliced(axis: 0, start: 0, end: source.shape[0]))
    }

    /// What the history says when adversarial training did not do its job: the reversal undoing
    /// what the features had learned of the labels, or a domain classifier never fooled. Not
    /// after a handful of steps (fewer than 50), as for the chance warning.
    static func adversarialWarnings(_ history: History, lambda: LambdaSetting, classes k: Int, steps: Int) -> [String] {
        guard ranLongEnough(history, steps: steps), history.epochs.count >= 2 else { return [] }
        if case .constant(let l) = lambda, l == 0 { return [] }  // no reversal: nothing to say about it
        let lower: String, higher: String
        switch lambda {
        case .schedule(let m):
            lower = "try lambda_max=\(Report.format(Double(m) / 3)) (it was \(Report.format(Double(m)))) or schedule=\"dann\""
            higher = "a larger lambda_max (it was \(Report.format(Double(m))))"
        case .constant(let l):
            lower = "try lambda=\(Report.format(Double(l) / 3)) (it was \(Report.format(Double(l))))"
            higher = "a larger lambda (it was \(Report.format(Double(l))))"
        }
        var warnings: [String] = []
        let source = history.epochs.compactMap { record in record["source_accuracy"].map { (record.epoch, $0) } }
        let domain = history.epochs.last?["domain_accuracy"].map { ", the domain classifier at \(Report.format($0))" } ?? ""
        if let last = source.last, atChance(last.1, classes: k) {
            warnings.append("the label predictor is still at chance on the source (accuracy \(Report.format(last.1)) for \(k) classes)\(domain): "
                + "the labels are not being learnt, and the reversed gradient may be why; \(lower), or train on the source alone first to see whether it learns there")
        } else if let best = source.max(by: { $0.1 < $1.1 }), let last = source.last, best.1 >= 0.5, last.1 < 0.8 * best.1 {
            warnings.append("source accuracy fell from \(Report.format(best.1)) (epoch \(best.0)) to \(Report.format(last.1)) (epoch \(last.0))\(domain): "
                + "the reversed gradient is undoing what the features learned; \(lower)")
        }
        let domainAccuracies = history.epochs.compactMap { $0["domain_accuracy"] }
        if let last = domainAccuracies.last, last < 0.3 {
            // Fooled means 0.5; far below it the features flip the domains rather than hide them.
            warnings.append("the domain classifier ends well below chance (accuracy \(Report.format(last))): the features do not hide the domain, they invert it — "
                + "the reversed gradient maximises a domain loss that has no ceiling, and it won; \(lower), or sdt(), whose confusion loss stops at ½–½")
        }
        if domainAccuracies.count == history.epochs.count, let least = domainAccuracies.min(), least >= 0.95 {
            warnings.append("the domain classifier told source from target at every epoch (accuracy \(Report.format(least)) or more): "
                + "the features were not made domain-invariant; try more epochs or \(higher)")
        }
        return warnings
    }

    /// Where `align=` compares features when `at=` is not given: the input of the model's last
    /// linear layer, the features its classifier reads (DDC's adaptation layer, the last of
    /// DAN's). Measured on mnist → mnistm from scratch with the DANN paper's network, 5 seeds,
    /// train's defaults (Benchmarks/seeds/adaptation.tl): linear MMD 0.81 there against 0.79 at
    /// the flatten, CMD 0.81 against 0.75, every seed gaining 0.04 or more on source only (0.72)
    /// where the flatten lost on one seed (MMD) or two (CMD). Nil when no linear layer follows
    /// the first layer.
    public static func alignmentLayer(_ net: Sequential) -> Int? {
        guard let last = net.layers.lastIndex(where: { $0 is Linear }), last >= 1 else { return nil }
        return last
    }

    /// Discrepancy-based adaptation: cross-entropy on the source plus `weight` times the chosen
    /// discrepancy between the source and target features of `net[0:at]` (DDC, DAN, Deep CORAL, CMD).
    /// The weight grows from 0 to `weight` over training as 2/(1 + e^(−10p)) − 1.
    public static func fitAligned(_ net: Sequential, at: Int, source: Dataset, target: Dataset, alignment: Alignment,
                                  weight: Float, options: TrainingOptions, using generator: inout RandomGenerator,
                                  reporter: TrainingReporter? = nil) throws -> History {
        try checkDomains(source: source, target: target)
        guard at >= 1, at < net.count else {
            throw TrainingError(description: "at must split the model between 1 and \(net.count - 1), got \(at)")
        }
        let features = try net.view(0..<at), head = try net.view(at..<net.count)
        let batchesPerEpoch = (source.count + options.batchSize - 1) / options.batchSize
        let totalSteps = Double(Swift.max(1, options.epochs * batchesPerEpoch))
        var step = 0
        var widest: Float = 0
        var history = try loop(net, count: source.count, options: options, using: &generator, reporter: reporter,
                               epochBatches: { g in try pairedBatches(source, target, options: options, using: &g) }) { pair in
            let labels = pair.source.y ?? []
            let hs = try features.forward(pair.source.x), ht = try features.forward(pair.target)
            let logits = try head.forward(hs)
            let classification = try Loss.crossEntropy(logits, labels)
            let discrepancy = try alignment.loss(hs, ht, widest: &widest)
            // The weight ramps up as DANN's λ does, so the features learn the labels before they
            // are pulled together (at full weight from the start, MK-MMD collapses them to zero).
            let ramp = LambdaSetting.schedule(max: 1).value(progress: Double(step) / totalSteps)
            step += 1
            let figures = try Trainer.classification(loss: classification, logits: logits, labels: labels, accuracy: "source_accuracy") + [
                .mean(alignment.rawValue, Double(try discrepancy.item())), .current("align_weight", Double(weight * ramp)),
            ]
            return Step(loss: try classification + discrepancy * (weight * ramp), samples: labels.count, figures: figures)
        }
        if let warning = collapseWarning(history, alignment: alignment, weight: weight, classes: source.classes.count,
                                         steps: history.epochs.count * batchesPerEpoch) {
            history.warnings.append(warning)
        }
        return history
    }

    /// A warning when aligned training ends with the label predictor at chance on the source:
    /// the discrepancy vanishes when every feature is zero, and a term that pulls hard can take
    /// the features there before the labels are learnt (CMD at weight 1 from scratch on svhn →
    /// mnist: accuracy 0.10 on every seed, as at 0.3 before its interval stopped shrinking). Not
    /// after a handful of steps (fewer than 50).
    static func collapseWarning(_ history: History, alignment: Alignment, weight: Float, classes k: Int, steps: Int) -> String? {
        guard weight > 0, ranLongEnough(history, steps: steps), let accuracy = history.epochs.last?["source_accuracy"],
              atChance(accuracy, classes: k) else { return nil }
        return "the label predictor is still at chance on the source (accuracy \(Report.format(accuracy)) for \(k) classes) with the \(alignment.rawValue) term at weight \(Report.format(Double(weight))): "
            + "the alignment may have pulled the features together by shrinking them to nothing, where any discrepancy vanishes; "
            + "try align_weight=\(Report.format(Double(weight) / 10)), or train on the source alone first and align afterwards"
    }
}
