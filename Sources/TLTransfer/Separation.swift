import TLData
import TLEngine
import TLNN

/// Domain Separation Networks (Bousmalis et al. 2016): a shared encoder E_c for both domains, a
/// private encoder per domain (E_p^s, E_p^t), one decoder D reconstructing each image from the
/// sum of its shared and private codes, the label classifier G on the shared code and a domain
/// classifier behind a gradient reversal on it. The reconstruction makes the two codes describe
/// the image together; the *difference* loss keeps them apart (the private code takes what is
/// particular to a domain: textures, colours); the *similarity* loss makes the shared codes of
/// the two domains indistinguishable, so what G reads carries over.
public final class SeparationNet: Layer {
    public let shared: any Layer
    public let privateSource: any Layer
    public let privateTarget: any Layer
    public let decoder: any Layer
    public let classifier: any Layer
    public let discriminator: any Layer
    public let reversal: GradientReversal
    /// α, β, γ: the weights of the reconstruction, difference and similarity losses.
    public let reconstructionWeight: Float, differenceWeight: Float, similarityWeight: Float

    /// β and γ as in the published MNIST → MNIST-M setting (0.075, 0.25). Its α, 0.01 for images
    /// in [−1, 1] (0.04 for tl's [0, 1]), over a few epochs leaves the decoder untrained. With
    /// train's defaults, α = 0.04, 0.3, 1 gave 0.728 ± 0.011, 0.740 ± 0.027, 0.720 ± 0.017
    /// (Benchmarks/seeds/dsn.tl, 3 seeds, the weights averaged over the last steps; keeping the
    /// last step's, 0.627, 0.667, 0.652; an earlier sweep, before the decoder started flat,
    /// 0.655, 0.672, 0.668). With Adam no α was steady (the reversal inverts the domains there).
    public static let defaultReconstruction: Float = 0.3, defaultDifference: Float = 0.075, defaultSimilarity: Float = 0.25

    public init(shared: any Layer, privateSource: any Layer, privateTarget: any Layer, decoder: any Layer, classifier: any Layer,
                discriminator: any Layer, reconstruction: Float = defaultReconstruction, difference: Float = defaultDifference,
                similarity: Float = defaultSimilarity) throws {
        for (name, w) in [("reconstruction", reconstruction), ("difference", difference), ("similarity", similarity)] {
            guard w.isFinite, w >= 0 else { throw TrainingError(description: "the \(name) weight must be a number ≥ 0") }
        }
        guard privateSource !== privateTarget, shared !== privateSource, shared !== privateTarget else {
            throw TrainingError(description: "the shared and the two private encoders must be different models (each its own weights)")
        }
        (self.shared, self.privateSource, self.privateTarget) = (shared, privateSource, privateTarget)
        (self.decoder, self.classifier, self.discriminator) = (decoder, classifier, discriminator)
        (reconstructionWeight, differenceWeight, similarityWeight) = (reconstruction, difference, similarity)
        reversal = GradientReversal(lambda: 1)
    }

    /// Sets the weights of the decoder's last weight layer (linear, or a convolution ending a
    /// decoder back up to images) to zero, as dsn() does: reconstructions then start as a flat
    /// image and what the decoder learns shows at once, instead of under the random initial
    /// weights' noise, which SGD at a few epochs does not clear (each pixel's weights get 1/k of
    /// the error's gradient). Returns whether there was such a layer to set.
    @discardableResult
    public func startDecoderFlat() -> Bool {
        func last(_ layer: any Layer) -> Parameter? {
            if let linear = layer as? Linear { return linear.weight }
            if let conv = layer as? Conv2d { return conv.weight }
            for (_, child) in layer.children.reversed() { if let found = last(child) { return found } }
            return nil
        }
        guard let weight = last(decoder) else { return false }
        weight.assign(Tensor.full(validated: weight.value.shape, 0))
        return true
    }

    public func forward(_ x: Tensor) throws -> Tensor { try classifier.forward(shared.forward(x)) }

    public var children: [(name: String, layer: any Layer)] {
        [("shared", shared), ("private_source", privateSource), ("private_target", privateTarget), ("decoder", decoder),
         ("classifier", classifier), ("discriminator", discriminator)]
    }

    public func copy() -> any Layer { cloned() }

    func cloned() -> SeparationNet {
        // The initialiser's checks hold for copies of a valid network.
        (try? SeparationNet(shared: shared.copy(), privateSource: privateSource.copy(), privateTarget: privateTarget.copy(),
                            decoder: decoder.copy(), classifier: classifier.copy(), discriminator: discriminator.copy(),
                            reconstruction: reconstructionWeight, difference: differenceWeight, similarity: similarityWeight)) ?? self
    }

    public var summary: String { "DomainSeparation(shared, 2 private encoders, decoder, classifier, domain classifier)" }

    /// Reconstructions of `x` from its shared code, its private code (`source`: which private
    /// encoder), or both — the paper's figure of what each code holds.
    public func reconstruct(_ x: Tensor, from code: Code, source: Bool) throws -> Tensor {
        try GradMode.withoutGrad {
            setTraining(false)
            let p = source ? privateSource : privateTarget
            let h: Tensor = switch code {
            case .shared: try shared.forward(x)
            case .private: try p.forward(x)
            case .both: try shared.forward(x) + p.forward(x)
            }
            let out = try decoder.forward(h)
            return out.count == x.count ? try out.reshaped(x.shape) : out
        }
    }

    public enum Code: String, CaseIterable, Sendable { case both, shared, `private` }

    /// A clear error, naming the part, when the parts do not fit one another on samples of `shape`.
    public func check(sampleShape shape: [Int]) throws {
        let probe = try Tensor.zeros([1] + shape)
        setTraining(false)
        try GradMode.withoutGrad {
            func run(_ layer: any Layer, _ x: Tensor, _ part: String, _ takes: String) throws -> Tensor {
                do { return try layer.forward(x) } catch {
                    throw TrainingError(description: "the \(part) does not take \(takes) (\(Shape.describe(Array(x.shape.dropFirst()))) per sample): \(error)")
                }
            }
            let hc = try run(shared, probe, "shared encoder", "the images")
            let hs = try run(privateSource, probe, "source's private encoder", "the images")
            let ht = try run(privateTarget, probe, "target's private encoder", "the images")
            guard hs.shape == hc.shape, ht.shape == hc.shape else {
                throw TrainingError(description: "the private codes (\(Shape.describe(Array(hs.shape.dropFirst())))) must have the shared code's shape (\(Shape.describe(Array(hc.shape.dropFirst())))): the decoder takes their sum")
            }
            let image = try run(decoder, hc, "decoder", "the codes")
            guard image.count == probe.count else {
                throw TrainingError(description: "the decoder gives \(image.count) values per sample; it must give back the \(probe.count) of an input sample\(shape.count > 1 ? " (\(Shape.describe(shape)))" : "")")
            }
            _ = try run(classifier, hc, "classifier", "the shared code")
            let d = try run(discriminator, hc, "domain classifier", "the shared code")
            try AdversarialNet.checkTwoLogits(d, of: "domain classifier", meaning: "domain logits (source, target)")
        }
    }
}

extension SeparationNet: TrainingMethod {
    public var network: any Layer { self }
    public var kind: String { "domain separation network" }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        let codeShape = Model(shared, inputShape: inputShape).outputShapes().last ?? nil
        return [
            MethodPart("shared", "the shared encoder E_c (images → the code both domains share)", .model(Model(shared, inputShape: inputShape))),
            MethodPart("private_source", "the source's private encoder E_p^s", .model(Model(privateSource, inputShape: inputShape))),
            MethodPart("private_target", "the target's private encoder E_p^t", .model(Model(privateTarget, inputShape: inputShape))),
            MethodPart("decoder", "the shared decoder D (a code → an image, flattened)", .model(Model(decoder, inputShape: codeShape))),
            MethodPart("classifier", "the label classifier G on the shared code", .model(Model(classifier, inputShape: codeShape))),
            MethodPart("discriminator", "the domain classifier on the shared code (behind the gradient reversal)", .model(Model(discriminator, inputShape: codeShape))),
        ]
    }

    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.align, .at, .attributes, .targetLabels], for: kind)
        guard let target = request.target else { throw TrainingError(description: "a dsn() model trains with target= (unlabelled target data)") }
        let source = try request.single()
        try check(sampleShape: source.sampleShape)
        try Trainer.checkClassifier(self, for: source)
        return try Trainer.fitSeparation(self, source: source, target: target, lambda: request.lambda ?? .standard,
                                         options: request.options, using: &generator, reporter: request.reporter)
    }

    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation { try Classifier(self).evaluate(request) }

    public func predict(_ request: PredictionRequest) throws -> [Int] { try Trainer.predict(self, request.x) }

    public func clone() -> any TrainingMethod { cloned() }

    public var settings: [(name: String, value: String)] {
        [("reconstruction α", Report.format(Double(reconstructionWeight))), ("difference β", Report.format(Double(differenceWeight))),
         ("similarity γ", Report.format(Double(similarityWeight))),
         ("λ", "the reversal's factor: train's lambda=, by default DANN's schedule up to \(Report.format(Double(LambdaSetting.defaultMax)))"),
         AdversarialNet.weightsKept]
    }
}

extension SeparationNet: Reconstructing {
    public var reconstructionCodes: [String] { Code.allCases.map(\.rawValue) }
    public var reconstructionDomains: [String] { ["target", "source"] }

    public func reconstruct(_ x: Tensor, code: String?, domain: String?) throws -> Tensor {
        try reconstruct(x, from: Code(rawValue: code ?? "both") ?? .both, source: domain == "source")
    }
}

extension Trainer {
    /// DSN's training: each step, cross-entropy of G on the source's shared codes; the
    /// scale-invariant reconstruction error of both batches from shared + private codes (α); the
    /// difference loss between each domain's shared and private codes (β); the domain
    /// classifier's cross-entropy on the shared codes through the reversal (γ, λ set each step).
    public static func fitSeparation(_ net: SeparationNet, source: Dataset, target: Dataset, lambda: LambdaSetting,
                                     options: TrainingOptions, using generator: inout RandomGenerator,
                                     reporter: TrainingReporter? = nil) throws -> History {
        let separately = net.shared.couplesSamples
        return try reversalLoop(net, reversal: net.reversal, source: source, target: target, lambda: lambda, options: options,
                                using: &generator, reporter: reporter) { pair in
            let labels = pair.source.y ?? []
            let xs = pair.source.x, xt = pair.target
            let (hc, hcs) = try domainFeatures(net.shared, xs, xt, separately: separately)
            let hct = try hc.sliced(axis: 0, start: xs.shape[0], end: hc.shape[0])
            let hps = try net.privateSource.forward(xs), hpt = try net.privateTarget.forward(xt)
            let logits = try net.classifier.forward(hcs)
            let classification = try Loss.crossEntropy(logits, labels)
            let reconstruction = try Loss.scaleInvariantMSE(net.decoder.forward(hcs + hps), xs)
                + Loss.scaleInvariantMSE(net.decoder.forward(hct + hpt), xt)
            let difference = try Loss.difference(hcs, hps) + Loss.difference(hct, hpt)
            let domains = Array(repeating: 0, count: xs.shape[0]) + Array(repeating: 1, count: xt.shape[0])
            let domainLogits = try net.discriminator.forward(net.reversal.forward(hc))
            let similarity = try Loss.crossEntropy(domainLogits, domains)
            let domainCorrect = try correct(domainLogits, domains)
            let loss = try classification + reconstruction * net.reconstructionWeight + difference * net.differenceWeight
                + similarity * net.similarityWeight
            let figures = try Trainer.classification(loss: classification, logits: logits, labels: labels, accuracy: "source_accuracy") + [
                .mean("reconstruction", Double(try reconstruction.item())), .mean("difference", Double(try difference.item())),
                .mean("domain_loss", Double(try similarity.item())), .share("domain_accuracy", domainCorrect, of: domains.count),
                .current("lambda", Double(net.reversal.lambda)),
            ]
            return Step(loss: loss, samples: labels.count, figures: figures)
        }
    }
}
