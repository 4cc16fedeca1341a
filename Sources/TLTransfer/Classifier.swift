import TLData
import TLEngine
import TLNN

/// The plain classifier: any network whose outputs are class scores, trained by cross-entropy
/// (fine-tuning, conservative training, layer transfer, progressive columns, linear probes), or
/// with `align=` by cross-entropy plus a discrepancy between its source and target features
/// (DDC, DAN, Deep CORAL, CMD).
public final class Classifier: TrainingMethod {
    public let network: any Layer

    public init(_ network: any Layer) { self.network = network }

    public var kind: String { "classifier" }
    public func parts(inputShape: [Int]?) -> [MethodPart] { [] }

    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.lambda, .attributes, .targetLabels], for: kind)
        let data = try request.single()
        try Trainer.checkClassifier(network, for: data)
        guard let alignment = request.alignment else {
            if request.target != nil { throw TrainingError(description: "target= \(FitOption.target.usedBy); give align= (mmd, mkmmd, coral or cmd) and at=, or attach() a domain classifier") }
            try request.refuse([.at], for: kind)
            return try Trainer.fit(network, data, options: request.options, using: &generator, reporter: request.reporter)
        }
        guard let target = request.target else { throw TrainingError(description: "align= needs target= (unlabelled target data)") }
        guard let net = network as? Sequential else { throw TrainingError(description: "align= trains a sequential model") }
        guard let at = request.at ?? Trainer.alignmentLayer(net) else {
            throw TrainingError(description: "align= needs at= for this model (no linear layer after its first whose input could be aligned): the features of net[0:at] are compared")
        }
        return try Trainer.fitAligned(net, at: at, source: data, target: target, alignment: alignment, weight: request.alignWeight ?? alignment.defaultWeight,
                                      options: request.options, using: &generator, reporter: request.reporter)
    }

    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation {
        if request.classTable != nil { throw RefusedOption(option: .attributes, description: "attributes= \(FitOption.attributes.usedBy); this model is a \(kind)") }
        let data = try request.single()
        try Trainer.checkFits(network, sampleShape: data.sampleShape)
        return .report(try Trainer.evaluate(network, data))
    }

    public func predict(_ request: PredictionRequest) throws -> [Int] { try Trainer.predict(network, request.x) }

    public func clone() -> any TrainingMethod { Classifier(network.copy()) }
}

extension Classifier {
    /// A linear probe: softmax regression trained on fixed features (Adam, lr 0.01, batches of 256),
    /// to measure how much the features alone tell about the classes.
    public static func linearProbe(features x: Tensor, labels y: Tensor, epochs: Int,
                                   using generator: inout RandomGenerator) throws -> Classifier {
        guard x.rank == 2, y.rank == 1, y.count == x.shape[0], let labels = Dataset.classIDs(y.scalars) else {
            throw TrainingError(description: "features must be N×d and labels N class ids 0..k−1 (k at most \(Dataset.maxClasses))")
        }
        let k = (labels.max() ?? 0) + 1
        let data = try Dataset(name: "features", x: x, y: labels, classes: (0..<k).map(String.init))
        let probe = Sequential([try Linear(x.shape[1], k, using: &generator)])
        var options = TrainingOptions()
        options.epochs = epochs
        options.optimizer = .adam
        options.learningRate = 0.01
        options.batchSize = 256
        _ = try Trainer.fit(probe, data, options: options, using: &generator)
        return Classifier(probe)
    }
}

/// An autoencoder (self-taught learning): an encoder and a decoder mirroring it, trained to
/// reconstruct its (flattened) input; no labels needed. `network[0..<split]` is the encoder.
public final class Autoencoder: TrainingMethod {
    public let sequential: Sequential
    public let split: Int

    public convenience init(_ sequential: Sequential, split: Int) throws {
        guard split >= 1, split < sequential.count else {
            throw TrainingError(description: "an autoencoder splits into an encoder and a decoder (split 1…\(sequential.count - 1), got \(split))")
        }
        self.init(validated: sequential, split: split)
    }

    private init(validated sequential: Sequential, split: Int) { (self.sequential, self.split) = (sequential, split) }

    /// The encoder through `sizes` (input first), then a decoder back; `activation` between layers.
    public static func make(sizes: [Int], activation: Activation.Kind, using generator: inout RandomGenerator) throws -> Autoencoder {
        guard sizes.count >= 2 else { throw TrainingError(description: "sizes needs at least an input and a code size") }
        let encoder = try Models.mlp(sizes, activation: activation, last: .he, using: &generator)
        var layers = encoder.layers + [Activation(activation)]
        let back = Array(sizes.reversed())
        for i in 0..<(back.count - 1) {
            let last = i == back.count - 2
            layers.append(try Linear(back[i], back[i + 1], initialisation: last ? .output : .he, using: &generator))
            if !last { layers.append(Activation(activation)) }
        }
        return try Autoencoder(Sequential(layers), split: encoder.count + 1)
    }

    public var network: any Layer { sequential }
    public var kind: String { "autoencoder" }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        guard let encoder = try? sequential.view(0..<split), let decoder = try? sequential.view(split..<sequential.count) else { return [] }
        let whole = Model(sequential, inputShape: inputShape)
        return [
            MethodPart("encoder", "the encoder, a view sharing its weights", .model(Model(encoder, inputShape: inputShape))),
            MethodPart("decoder", "the decoder, a view sharing its weights",
                       .model(Model(decoder, inputShape: whole.inputShape(ofLayersFrom: split)))),
        ]
    }

    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.target, .align, .at, .lambda, .attributes, .targetLabels], for: kind)
        return try Trainer.fitReconstruction(sequential, try request.single(), options: request.options, using: &generator,
                                             reporter: request.reporter)
    }

    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation {
        throw TrainingError(description: "an autoencoder has no classes to evaluate: its reconstruction error is in its training history (h.reconstruction); classify its codes with features(ae, data, at=k) and linear_probe")
    }

    public func predict(_ request: PredictionRequest) throws -> [Int] {
        throw TrainingError(description: "an autoencoder has no classes to predict; ae(x) reconstructs x, ae.encoder(x) gives its code")
    }

    public func clone() -> any TrainingMethod {
        // The copy has the same layers, so the split that held holds again.
        Autoencoder(validated: sequential.copied(), split: split)
    }
}

extension Autoencoder: Reconstructing {
    public var reconstructionCodes: [String] { [] }
    public var reconstructionDomains: [String] { [] }

    public func reconstruct(_ x: Tensor, code: String?, domain: String?) throws -> Tensor {
        let out = try GradMode.withoutGrad {
            sequential.setTraining(false)
            return try sequential.forward(x)
        }
        return out.count == x.count ? try out.reshaped(x.shape) : out
    }
}
