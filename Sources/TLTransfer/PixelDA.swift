import TLData
import TLEngine
import TLNN

/// Pixel-level domain adaptation (PixelDA, Bousmalis et al. 2017): adapt the images rather than
/// the features. A generator maps a source image and a noise channel to an image in the target's
/// style; a discriminator learns to tell generated images from real target images while the
/// generator learns to fool it; the task classifier learns the source labels on generated (and
/// source) images, so that it reads target-style images; a content-similarity loss keeps the
/// generated image's foreground — the pixels that carry the digit — as the source had it.
public final class PixelDANet: Layer, Generating {
    public let generator: any Layer
    public let discriminator: any Layer
    public let classifier: any Layer
    /// The weights of the generator's adversarial loss, the task loss and the content loss.
    public let adversarialWeight: Float, taskWeight: Float, contentWeight: Float
    /// Seeds the noise channel of `generate` (training draws its own from the train call's seed).
    var noiseSeed: UInt64 = 0x9D_A0

    public static let defaultAdversarial: Float = 0.1, defaultTask: Float = 1, defaultContent: Float = 1

    public init(generator: any Layer, discriminator: any Layer, classifier: any Layer, adversarial: Float = defaultAdversarial,
                task: Float = defaultTask, content: Float = defaultContent) throws {
        for (name, w) in [("adversarial", adversarial), ("task", task), ("content", content)] {
            guard w.isFinite, w >= 0 else { throw TrainingError(description: "the \(name) weight must be a number ≥ 0") }
        }
        guard generator !== discriminator, generator !== classifier, discriminator !== classifier else {
            throw TrainingError(description: "the generator, the discriminator and the classifier must be different models")
        }
        (self.generator, self.discriminator, self.classifier) = (generator, discriminator, classifier)
        (adversarialWeight, taskWeight, contentWeight) = (adversarial, task, content)
    }

    /// The task classifier: what `evaluate` measures on the target.
    public func forward(_ x: Tensor) throws -> Tensor { try classifier.forward(x) }

    public var children: [(name: String, layer: any Layer)] {
        [("generator", generator), ("discriminator", discriminator), ("classifier", classifier)]
    }

    public func copy() -> any Layer { cloned() }

    func cloned() -> PixelDANet {
        let copy = (try? PixelDANet(generator: generator.copy(), discriminator: discriminator.copy(), classifier: classifier.copy(),
                                    adversarial: adversarialWeight, task: taskWeight, content: contentWeight)) ?? self
        copy.noiseSeed = noiseSeed
        return copy
    }

    public var summary: String { "PixelDA(generator, discriminator, classifier)" }

    /// The generator's input: the images with one more channel of uniform noise in [−1, 1].
    static func withNoise(_ x: Tensor, using g: inout RandomGenerator) throws -> Tensor {
        guard x.rank == 4 else {
            throw TrainingError(description: "PixelDA works on images (N×C×H×W); these samples are \(Shape.describe(Array(x.shape.dropFirst())))")
        }
        let noise = try Tensor.rand([x.shape[0], 1, x.shape[2], x.shape[3]], low: -1, high: 1, using: &g)
        return try Tensor.concat([x, noise], axis: 1)
    }

    /// Source images restyled by the generator (evaluation mode, the same noise each call).
    public func generate(_ x: Tensor) throws -> Tensor {
        var g = RandomGenerator(seed: noiseSeed)
        return try GradMode.withoutGrad {
            setTraining(false)
            return try restyle(x, using: &g)
        }
    }

    /// The generated image: the source plus the generator's change to it, so that the generator
    /// starts from the identity and learns what to repaint (end it with tanh() to bound the change).
    func restyle(_ x: Tensor, using g: inout RandomGenerator) throws -> Tensor {
        try x + generator.forward(try PixelDANet.withNoise(x, using: &g))
    }

    /// A clear error, naming the part, when the parts do not fit samples of `shape`.
    public func check(sampleShape shape: [Int]) throws {
        guard shape.count == 3 else {
            throw TrainingError(description: "PixelDA works on images (C×H×W); these samples are \(Shape.describe(shape))")
        }
        let probe = try Tensor.zeros([1] + shape)
        setTraining(false)
        try GradMode.withoutGrad {
            var g = RandomGenerator(seed: 1)
            let fake: Tensor
            do { fake = try generator.forward(try PixelDANet.withNoise(probe, using: &g)) } catch {
                throw TrainingError(description: "the generator does not take an image with a noise channel (\(Shape.describe([shape[0] + 1] + Array(shape.dropFirst())))): \(error); its first layer should take \(shape[0] + 1) channels")
            }
            guard fake.shape == probe.shape else {
                throw TrainingError(description: "the generator gives \(Shape.describe(Array(fake.shape.dropFirst()))) per sample; it must give an image of the input's shape (\(Shape.describe(shape))) — pad its convolutions (pad=k/2)")
            }
            let d: Tensor
            do { d = try discriminator.forward(probe) } catch {
                throw TrainingError(description: "the discriminator does not take the images (\(Shape.describe(shape))): \(error)")
            }
            try AdversarialNet.checkTwoLogits(d, of: "discriminator", meaning: "logits (generated, real target)")
        }
    }
}

extension PixelDANet: TrainingMethod {
    public var network: any Layer { self }
    public var kind: String { "pixel-level adaptation network (PixelDA)" }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        let generatorInput = inputShape.map { $0.count == 3 ? [$0[0] + 1, $0[1], $0[2]] : $0 }
        return [
            MethodPart("generator", "the generator: a source image and a noise channel → a target-style image", .model(Model(generator, inputShape: generatorInput))),
            MethodPart("discriminator", "tells generated images (0) from real target images (1)", .model(Model(discriminator, inputShape: inputShape))),
            MethodPart("classifier", "the task classifier, trained on generated and source images", .model(Model(classifier, inputShape: inputShape))),
        ]
    }

    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.align, .at, .lambda, .attributes, .targetLabels], for: kind)
        guard let target = request.target else { throw TrainingError(description: "a pixelda() model trains with target= (unlabelled target images)") }
        let source = try request.single()
        try check(sampleShape: source.sampleShape)
        try Trainer.checkClassifier(self, for: source)
        return try Trainer.fitPixelDA(self, source: source, target: target, options: request.options, using: &generator,
                                      reporter: request.reporter)
    }

    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation { try Classifier(self).evaluate(request) }

    public func predict(_ request: PredictionRequest) throws -> [Int] { try Trainer.predict(self, request.x) }

    public func clone() -> any TrainingMethod { cloned() }

    public var settings: [(name: String, value: String)] {
        [("adversarial weight", Report.format(Double(adversarialWeight))), ("task weight", Report.format(Double(taskWeight))),
         ("content weight", Report.format(Double(contentWeight))), AdversarialNet.weightsKept]
    }
}

extension Trainer {
    /// PixelDA's training, each step: the discriminator's cross-entropy on real target images (1)
    /// and generated ones taken as constants (0); the generator's on its images labelled real,
    /// through the discriminator with its weights fixed; the classifier's cross-entropy on the
    /// generated and the source images (which reaches the generator too); the content loss.
    public static func fitPixelDA(_ net: PixelDANet, source: Dataset, target: Dataset, options: TrainingOptions,
                                  using generator: inout RandomGenerator, reporter: TrainingReporter? = nil) throws -> History {
        try checkDomains(source: source, target: target)
        var noise = RandomGenerator(seed: generator.next())
        let options = options.averaging(byDefault: AdversarialNet.defaultEMA)
        return try loop(net, count: source.count, options: options, using: &generator, reporter: reporter,
                        epochBatches: { g in try pairedBatches(source, target, options: options, using: &g) }) { pair in
            let labels = pair.source.y ?? []
            let xs = pair.source.x, xt = pair.target
            let fake = try net.restyle(xs, using: &noise)
            // The discriminator on real target images and on the generated ones as they are.
            let realLogits = try net.discriminator.forward(xt), fakeLogits = try net.discriminator.forward(fake.detached())
            let real = Array(repeating: 1, count: xt.shape[0]), generated = Array(repeating: 0, count: xs.shape[0])
            let discriminatorLoss = try Loss.crossEntropy(realLogits, real) + Loss.crossEntropy(fakeLogits, generated)
            let right = try correct(realLogits, real) + correct(fakeLogits, generated)
            // The generator learns to pass for real (the non-saturating form of the GAN loss).
            let fooling = try withFixedWeights(net.discriminator) { try net.discriminator.forward(fake) }
            let adversarial = try Loss.crossEntropy(fooling, Array(repeating: 1, count: xs.shape[0]))
            let logits = try net.classifier.forward(fake)
            let task = try Loss.crossEntropy(logits, labels) + Loss.crossEntropy(net.classifier.forward(xs), labels)
            let content = try Loss.foregroundMSE(fake, xs)
            let loss = try discriminatorLoss + adversarial * net.adversarialWeight + task * net.taskWeight + content * net.contentWeight
            let figures = try Trainer.classification(loss: task, logits: logits, labels: labels, accuracy: "generated_accuracy") + [
                .mean("discriminator_loss", Double(try discriminatorLoss.item())),
                .share("discriminator_accuracy", right, of: real.count + generated.count),
                .mean("generator_loss", Double(try adversarial.item())), .mean("content", Double(try content.item())),
            ]
            return Step(loss: loss, samples: labels.count, figures: figures)
        }
    }
}
