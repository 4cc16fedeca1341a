import TLData
import TLEngine
import TLNN

/// Attribute (or word-vector) embedding for zero-shot learning: f maps an image to an embedding,
/// g maps a class's attribute vector into the same space, and the class of an image is the one
/// whose g(attributes) scores highest against f(image). Trained with the hinge
/// max(0, margin − f(x)·g(y) + max over m ≠ y of f(x)·g(m)) over the seen classes.
public final class Embedder: Layer {
    public let f: any Layer
    /// nil: the identity (f's output must have as many values as a class has attributes).
    public let g: (any Layer)?
    public let margin: Float
    /// Whether f(x) and g(a) are scaled to unit length before their dot product (a cosine).
    public let normalized: Bool
    /// Batch normalisation of f(x) before the cosine (with `normalized`, when f's width is known).
    public let standardizer: BatchNorm?

    /// `width`: how many values f gives per image, for the batch normalisation of f(x) that
    /// comes with `normalized` (nil: the last linear layer's outputs, if f has one).
    public convenience init(f: any Layer, g: (any Layer)?, margin: Float, normalized: Bool = true, width: Int? = nil) throws {
        guard margin >= 0, margin.isFinite else { throw TrainingError(description: "the margin must be a number ≥ 0") }
        let standardizer = try (normalized ? (width ?? Embedder.lastWidth(of: f)) : nil).map { try BatchNorm($0) }
        self.init(validated: f, g: g, margin: margin, normalized: normalized, standardizer: standardizer)
    }

    private init(validated f: any Layer, g: (any Layer)?, margin: Float, normalized: Bool, standardizer: BatchNorm?) {
        (self.f, self.g, self.margin, self.normalized, self.standardizer) = (f, g, margin, normalized, standardizer)
    }

    /// The outputs of the last linear layer in `layer` (depth first, last child first).
    static func lastWidth(of layer: any Layer) -> Int? {
        if let linear = layer as? Linear { return linear.outputFeatures }
        for (_, child) in layer.children.reversed() {
            if let width = lastWidth(of: child) { return width }
        }
        return nil
    }

    /// Image embeddings; forward alone is f.
    public func forward(_ x: Tensor) throws -> Tensor { try f.forward(x) }

    /// Compatibility of each image with each given class: f(x)·g(aᶜ) as an N×C tensor; when
    /// `normalized`, the cosine between f(x) batch-normalised and g(aᶜ).
    ///
    /// Raw image features share a large common component (images are positive, so are ReLU
    /// outputs): every f(x) points nearly the same way, all classes score alike, and the hinge
    /// settles at the margin with f(x)·g(y) = f(x)·g(m) for all m — one class for every unseen
    /// image. Centred and scaled per dimension, f(x) differ by direction, and cosines cannot be
    /// raised by scale alone (animals, MLP f, SGD: seen accuracy 0.33 → 0.69 in 4 epochs,
    /// unseen 0.26 → 0.60).
    public func scores(_ x: Tensor, classTable: Tensor) throws -> Tensor {
        var e = try f.forward(x)
        if let standardizer {
            guard e.rank == 2, e.shape[1] == standardizer.features else {
                throw TrainingError(description: "f gives \(Shape.describe(Array(e.shape.dropFirst()))) values per image, not the \(standardizer.features) of its last linear layer, so f(x) cannot be batch-normalised; end f with that layer, or build the embedder with normalize=false")
            }
            e = try standardizer.forward(e)
        }
        var c: Tensor
        do {
            c = try g.map { try $0.forward(classTable) } ?? classTable
        } catch let e where !(e is Interrupted) {
            let width = classTable.shape.last ?? 0
            throw TrainingError(description: "g does not take the class table's \(width) values per class (\(e)); pass attributes= the table g was built for (word vectors: attributes=ds.word_vectors), or give g a first layer taking \(width)")
        }
        guard e.rank == 2, c.rank == 2, e.shape[1] == c.shape[1] else {
            throw TrainingError(description: "image embeddings (\(Shape.describe(e.shape))) and class embeddings (\(Shape.describe(c.shape))) must have the same width; give g= to map attributes into f's space")
        }
        if normalized { (e, c) = (try e.unitRows(), try c.unitRows()) }
        return try Tensor.matmul2D(e, c, transposeB: true)
    }

    public var children: [(name: String, layer: any Layer)] {
        [("f", f)] + (g.map { [("g", $0)] } ?? []) + (standardizer.map { [("standardizer", $0 as any Layer)] } ?? [])
    }
    public func copy() -> any Layer { cloned() }
    func cloned() -> Embedder {
        Embedder(validated: f.copy(), g: g?.copy(), margin: margin, normalized: normalized, standardizer: standardizer?.copy() as? BatchNorm)
    }
    public var summary: String { "Embedder(margin \(margin)\(normalized ? ", cosine" : ""))" }
}

/// ConSE (Norouzi et al. 2014): a classifier of the seen classes embeds an image as the convex
/// combination of the word vectors of its top-T seen classes, weighted by their probabilities;
/// the prediction is the class (among those asked about) whose word vector is most similar.
public final class ConSE: Layer {
    public let classifier: any Layer
    public let wordVectors: Tensor
    public let top: Int
    /// The classes the classifier was trained on (indices into the word-vector table).
    public let seen: [Int]
    /// Hubness correction: with k > 0 a class is scored by CSLS over its k nearest word vectors
    /// in the table (`scores`); 0 gives the plain cosine.
    public let csls: Int

    /// The neighbourhood of the hubness correction by default: the 2 nearest other classes.
    public static let defaultCSLS = 2

    public convenience init(classifier: any Layer, wordVectors: Tensor, top: Int, seen: [Int], csls: Int = ConSE.defaultCSLS) throws {
        guard wordVectors.rank == 2 else { throw TrainingError(description: "word vectors must be a classes × d table") }
        guard top >= 1 else { throw TrainingError(description: "top must be at least 1") }
        guard !seen.isEmpty, seen.allSatisfy({ $0 >= 0 && $0 < wordVectors.shape[0] }) else {
            throw TrainingError(description: "seen classes must be ids of the word-vector table")
        }
        guard csls >= 0 else { throw TrainingError(description: "csls must be a number of neighbours ≥ 0 (0: the plain cosine)") }
        // A table of fewer classes than the default neighbourhood uses all its other rows.
        self.init(validated: classifier, wordVectors: wordVectors, top: top, seen: seen, csls: Swift.min(csls, wordVectors.shape[0] - 1))
    }

    /// The mean word vector of the table, about which cosines are taken.
    let centre: Tensor
    /// The table's rows about `centre`, at unit length: the neighbourhood of the hubness correction.
    let vocabulary: Tensor

    private init(validated classifier: any Layer, wordVectors: Tensor, top: Int, seen: [Int], csls: Int) {
        (self.classifier, self.wordVectors, self.top, self.seen, self.csls) = (classifier, wordVectors, top, seen, csls)
        // A rank-2 table (checked by the public initialiser) always has a mean along its rows.
        centre = (try? wordVectors.mean(axis: 0, keepDims: true)) ?? wordVectors
        vocabulary = (try? (wordVectors - centre).unitRows()) ?? wordVectors
    }

    /// The semantic embedding of each image: Σ_t p(ŷ_t|x) s(ŷ_t) / Σ_t p(ŷ_t|x) over the top-T seen classes.
    public func forward(_ x: Tensor) throws -> Tensor {
        let probabilities = try classifier.forward(x).softmax(axis: 1).scalars
        let classes = probabilities.count / Swift.max(1, x.shape.first ?? 1)
        guard seen.allSatisfy({ $0 < classes }) else {
            throw TrainingError(description: "the classifier has \(classes) outputs but seen classes go up to \(seen.max() ?? 0)")
        }
        let d = wordVectors.shape[1], v = wordVectors.scalars
        let n = x.shape.first ?? 0
        var out = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let ranked = seen.sorted { probabilities[i * classes + $0] > probabilities[i * classes + $1] }.prefix(top)
            let z = ranked.reduce(Float(0)) { $0 + probabilities[i * classes + $1] }
            for c in ranked {
                let w = probabilities[i * classes + c] / Swift.max(z, 1e-12)
                for j in 0..<d { out[i * d + j] += w * v[c * d + j] }
            }
        }
        return try Tensor(shape: [n, d], values: out)
    }

    /// How each image's semantic embedding matches each class vector, N×C: their cosine, both
    /// taken about the mean of the word-vector table; with `csls` k > 0, cross-domain similarity
    /// local scaling (Conneau et al. 2018), 2·cos(e, v) − r(e) − r(v), where r is a vector's mean
    /// cosine to its k nearest rows of the table (itself left out).
    ///
    /// The correction is against hubs (Dinu et al. 2015): a class vector close to many others
    /// is the nearest neighbour of embeddings that belong elsewhere. Among the animals' name
    /// vectors "goat", "sheep" and "cow" are such hubs: with the plain cosine, ConSE sent most
    /// unseen images to whichever of them was among the unseen classes. Over 15 draws of the
    /// unseen classes (seeds 1–15, f an MLP or the CNN, top 3, SGD) the accuracy moved from 0.353
    /// to 0.394 (MLP) and 0.398 to 0.443 (CNN), no draw losing more than 0.007; with k = 3 one
    /// draw fell from 0.23 to 0.07, so the neighbourhood stays small.
    public func scores(_ x: Tensor, classTable: Tensor) throws -> Tensor {
        let e = try forward(x)
        guard classTable.rank == 2, classTable.shape[1] == e.shape[1] else {
            throw TrainingError(description: "the class vectors (\(Shape.describe(classTable.shape))) must have the word vectors' width \(e.shape[1])")
        }
        // Cosines about the mean word vector of the whole table: a component every class shares
        // adds the same to every cosine and drowns the differences between classes.
        let en = try (e - centre).unitRows()
        let tn = try (classTable - centre).unitRows()
        let cosines = try Tensor.matmul2D(en, tn, transposeB: true)
        guard csls > 0 else { return cosines }
        let rImages = try meanNearest(en), rClasses = try meanNearest(tn)
        return try cosines * 2 - rImages.reshaped([rImages.shape[0], 1]) - rClasses.reshaped([1, rClasses.shape[0]])
    }

    /// For each row (unit length), its mean cosine to its `csls` nearest rows of the vocabulary,
    /// leaving out a row identical to it (a class's own vector).
    private func meanNearest(_ rows: Tensor) throws -> Tensor {
        let similarity = try Tensor.matmul2D(rows, vocabulary, transposeB: true)
        let v = vocabulary.shape[0], values = similarity.scalars
        let means = stride(from: 0, to: values.count, by: Swift.max(v, 1)).map { start -> Float in
            let others = values[start..<start + v].filter { $0 < 1 - 1e-5 }.sorted(by: >).prefix(csls)
            return others.isEmpty ? 0 : others.reduce(0, +) / Float(others.count)
        }
        return try Tensor(shape: [means.count], values: means)
    }

    public var children: [(name: String, layer: any Layer)] { [("classifier", classifier)] }
    public func copy() -> any Layer { cloned() }
    func cloned() -> ConSE { ConSE(validated: classifier.copy(), wordVectors: wordVectors, top: top, seen: seen, csls: csls) }
    public var summary: String { "ConSE(top \(top), \(seen.count) seen classes\(csls > 0 ? ", CSLS k=\(csls)" : ""))" }
}

/// The attribute-classifier route (direct attribute prediction, Lampert et al. 2009): f predicts
/// each attribute of an image (one logit each); an image goes to the class whose attribute row is
/// most likely under those predictions, Σₘ aₘ log σ(oₘ) + (1 − aₘ) log(1 − σ(oₘ)).
public final class AttributeClassifier: Layer {
    public let f: any Layer

    public init(f: any Layer) { self.f = f }

    /// The attribute logits.
    public func forward(_ x: Tensor) throws -> Tensor { try f.forward(x) }

    /// The log-likelihood of each class's attributes for each image, N×C.
    public func scores(_ x: Tensor, classTable: Tensor) throws -> Tensor {
        try Self.scores(logits: try f.forward(x), classTable: classTable)
    }

    static func scores(logits: Tensor, classTable: Tensor) throws -> Tensor {
        try check(logits: logits.shape, table: classTable)
        // log σ(o) = −softplus(−o), log(1 − σ(o)) = −softplus(o).
        let softplusOfMinus = try (-logits).relu() + ((-logits.abs()).exp() + 1).log()
        let logYes = -softplusOfMinus, logNo = try -(softplusOfMinus + logits)
        let table = try probabilities(classTable)
        return try Tensor.matmul2D(logYes, table, transposeB: true) + Tensor.matmul2D(logNo, 1 - table, transposeB: true)
    }

    static func check(logits: [Int], table: Tensor) throws {
        guard logits.count == 2, table.rank == 2, logits[1] == table.shape[1] else {
            throw TrainingError(description: "an attribute classifier needs one output per attribute: f gives \(Shape.describe(Array(logits.dropFirst()))) per image, the class table has \(table.shape.last ?? 0) attributes")
        }
    }

    /// The class table as probabilities: binary attributes as they are, continuous ones clamped to [0, 1].
    static func probabilities(_ table: Tensor) throws -> Tensor {
        guard table.scalars.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw TrainingError(description: "an attribute classifier needs attributes between 0 and 1 (word vectors go to embedder() or conse())")
        }
        return table
    }

    public var children: [(name: String, layer: any Layer)] { [("f", f)] }
    public func copy() -> any Layer { AttributeClassifier(f: f.copy()) }
    public var summary: String { "AttributeClassifier" }
}

extension Trainer {
    /// Trains an attribute classifier: binary cross-entropy between f's logits and the attributes
    /// of each image's class (so the classes it sees only teach attributes, which unseen classes share).
    public static func fitAttributeClassifier(_ model: AttributeClassifier, _ data: Dataset, classTable: Tensor,
                                              options: TrainingOptions, using generator: inout RandomGenerator,
                                              reporter: TrainingReporter? = nil) throws -> History {
        guard data.y != nil else { throw TrainingError(description: "training an attribute classifier needs labels") }
        guard classTable.rank == 2, classTable.shape[0] == data.classes.count else {
            throw TrainingError(description: "the class table must have one row per class (\(data.classes.count)), got \(Shape.describe(classTable.shape))")
        }
        let table = try AttributeClassifier.probabilities(classTable)
        let seen = Array(Set(data.y ?? [])).sorted()
        let position = Dictionary(uniqueKeysWithValues: seen.enumerated().map { ($1, $0) })
        let seenTable = try table.indexSelect(seen)
        return try loop(model, count: data.count, options: options, using: &generator, reporter: reporter,
                        epochBatches: { g in AnySequence(try Batches(data, size: options.batchSize, shuffle: options.shuffle, using: &g)) },
                        validation: try zeroShotValidation(model, options.validation, classTable: classTable, trainedOn: data)) { batch in
            let labels = batch.y ?? []
            let logits = try model.forward(batch.x)
            try AttributeClassifier.check(logits: logits.shape, table: table)
            let targets = try table.indexSelect(labels)
            let loss = try Loss.binaryCrossEntropy(logits: logits, targets: targets)
            // Accuracy here: the most likely seen class is the right one.
            let predicted = try AttributeClassifier.scores(logits: logits.detached(), classTable: seenTable).argmaxRows()
            let correct = zip(predicted, labels).filter { $0 == position[$1] }.count
            return Step(loss: loss, samples: labels.count,
                        figures: [.mean("loss", Double(try loss.item())), .share("seen_accuracy", correct, of: labels.count)])
        }
    }

    /// Trains an embedder on the seen classes of `data` with the margin hinge.
    public static func fitEmbedder(_ model: Embedder, _ data: Dataset, classTable: Tensor, options: TrainingOptions,
                                   using generator: inout RandomGenerator, reporter: TrainingReporter? = nil) throws -> History {
        guard let y = data.y else { throw TrainingError(description: "training an embedder needs labels") }
        guard classTable.rank == 2, classTable.shape[0] == data.classes.count else {
            throw TrainingError(description: "the class table must have one row per class (\(data.classes.count)), got \(Shape.describe(classTable.shape))")
        }
        let seen = Array(Set(y)).sorted()
        guard seen.count >= 2 else { throw TrainingError(description: "an embedder trains on at least two seen classes") }
        let position = Dictionary(uniqueKeysWithValues: seen.enumerated().map { ($1, $0) })
        let seenTable = try classTable.indexSelect(seen)
        return try loop(model, count: data.count, options: options, using: &generator, reporter: reporter,
                        epochBatches: { g in AnySequence(try Batches(data, size: options.batchSize, shuffle: options.shuffle, using: &g)) },
                        validation: try zeroShotValidation(model, options.validation, classTable: classTable, trainedOn: data)) { batch in
            let labels = (batch.y ?? []).map { position[$0] ?? 0 }
            let scores = try model.scores(batch.x, classTable: seenTable)
            let loss = try Loss.marginRanking(scores: scores, labels: labels, margin: model.margin)
            let correct = try Trainer.correct(scores, labels)
            return Step(loss: loss, samples: labels.count,
                        figures: [.mean("loss", Double(try loss.item())), .share("seen_accuracy", correct, of: labels.count)])
        }
    }

    /// What `validate=` measures for a zero-shot model after each epoch: its accuracy among the
    /// classes present in the validation data, against the class table it trains with (the seen
    /// classes of a held-out share, or unseen classes to watch them while the seen ones are learnt).
    static func zeroShotValidation(_ model: any ZeroShotModel, _ validation: Dataset?, classTable: Tensor,
                                   trainedOn data: Dataset) throws -> (() throws -> [(String, Double)])? {
        guard let validation else { return nil }
        guard validation.isLabelled else { throw TrainingError(description: "validate= needs labelled data; this dataset is unlabelled") }
        guard validation.classes == data.classes else {
            throw TrainingError(description: "the validation data's classes (\(validation.classes.count)) are not the training data's (\(data.classes.count)): a zero-shot model is validated against the class table it trains with")
        }
        try checkValidationShape(validation, data)
        return { [("val_accuracy", try evaluateZeroShot(model, validation, classTable: classTable).accuracy)] }
    }

    /// Zero-shot evaluation: each sample goes to the most compatible class among those present in
    /// `data` (the model's scores against the class table's rows).
    static func evaluateZeroShot(_ model: any ZeroShotModel, _ data: Dataset, classTable: Tensor) throws -> Report {
        guard let y = data.y else { throw TrainingError(description: "evaluation needs labels") }
        let k = data.classes.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        let predicted = try predictZeroShot(model, data.x, classTable: classTable, candidates: Array(Set(y)).sorted())
        for (p, t) in zip(predicted, y) {
            guard p < k else { throw TrainingError(description: "the class table has more rows than the data has classes (\(k))") }
            confusion[t][p] += 1
        }
        return Report(classes: data.classes, confusion: confusion, loss: .nan,
                      source: data.domain.isEmpty ? data.name : "\(data.name)/\(data.domain)")
    }

    /// The class of each sample: the row of the class table, among `candidates` (every row when
    /// nil), that the model scores highest.
    static func predictZeroShot(_ model: any ZeroShotModel, _ x: Tensor, classTable: Tensor, candidates: [Int]?) throws -> [Int] {
        guard classTable.rank == 2 else { throw TrainingError(description: "the class table must be classes × attributes, got \(Shape.describe(classTable.shape))") }
        let rows = candidates ?? Array(0..<classTable.shape[0])
        guard rows.allSatisfy({ $0 < classTable.shape[0] }) else {
            throw TrainingError(description: "the class table has \(classTable.shape[0]) rows, fewer than the data's classes")
        }
        let table = try classTable.indexSelect(rows)
        var out: [Int] = []
        try inBatches(model.network, x) { _, batch in
            out += try model.scores(batch, classTable: table).argmaxRows().map { rows[$0] }
        }
        return out
    }
}

/// A zero-shot model: it scores samples against the rows of a class table (attributes or word
/// vectors), so it can name classes it never saw; evaluate and predict choose the best row.
public protocol ZeroShotModel: TrainingMethod {
    func scores(_ x: Tensor, classTable: Tensor) throws -> Tensor
    /// The class table when none is given: the data's attributes (ConSE: its word vectors).
    func defaultClassTable(for data: Dataset?) throws -> Tensor
}

extension ZeroShotModel {
    public func defaultClassTable(for data: Dataset?) throws -> Tensor {
        guard let table = data?.attributes else {
            throw TrainingError(description: data == nil
                ? "give attributes= (a classes × attributes tensor, or word vectors) to choose among"
                : "this dataset has no attribute table; pass attributes= (a classes × attributes tensor, or word vectors)")
        }
        return table
    }

    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation {
        let data = try request.single()
        return .report(try Trainer.evaluateZeroShot(self, data, classTable: try request.classTable ?? defaultClassTable(for: data)))
    }

    public func predict(_ request: PredictionRequest) throws -> [Int] {
        let table = try request.classTable ?? defaultClassTable(for: request.data)
        return try Trainer.predictZeroShot(self, request.x, classTable: table, candidates: request.data?.y.map { Array(Set($0)).sorted() })
    }

    /// The class table for training: attributes= when given, else the data's.
    func trainingTable(_ request: FitRequest, _ data: Dataset) throws -> Tensor {
        try request.classTable ?? defaultClassTable(for: data)
    }
}

extension AttributeClassifier: ZeroShotModel {
    public var network: any Layer { self }
    public var kind: String { "attribute classifier" }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        [MethodPart("f", "the attribute predictor, one logit per attribute", .model(Model(f, inputShape: inputShape)))]
    }

    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.target, .align, .at, .lambda, .targetLabels], for: kind)
        let data = try request.single()
        return try Trainer.fitAttributeClassifier(self, data, classTable: try trainingTable(request, data), options: request.options,
                                                  using: &generator, reporter: request.reporter)
    }

    public func clone() -> any TrainingMethod { AttributeClassifier(f: f.copy()) }
}

extension Embedder: ZeroShotModel {
    public var network: any Layer { self }
    public var kind: String { "zero-shot embedder" }
    public var settings: [(name: String, value: String)] {
        [("margin", Report.format(Double(margin))),
         ("compatibility", !normalized ? "dot product f(x)·g(a) (normalize=false)"
            : standardizer == nil ? "cosine of f(x) and g(a) (f's width unknown: f(x) not batch-normalised)"
            : "cosine of f(x) batch-normalised and g(a)")]
    }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        [MethodPart("f", "maps an image to its embedding", .model(Model(f, inputShape: inputShape)))]
            + (g.map { [MethodPart("g", "maps a class's attributes into f's space", .model(Model($0)))] } ?? [])
    }

    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.target, .align, .at, .lambda, .targetLabels], for: kind)
        let data = try request.single()
        return try Trainer.fitEmbedder(self, data, classTable: try trainingTable(request, data), options: request.options,
                                       using: &generator, reporter: request.reporter)
    }

    public func clone() -> any TrainingMethod { cloned() }
}

extension ConSE: ZeroShotModel {
    public var network: any Layer { self }
    public var kind: String { "ConSE model" }
    public var settings: [(name: String, value: String)] {
        [("top", String(top)), ("word vectors", "\(wordVectors.shape[0]) classes × \(wordVectors.shape.last ?? 0)"),
         ("similarity", csls > 0 ? "CSLS over each vector's \(csls) nearest classes (csls=\(csls); 0: the cosine)" : "cosine about the table's mean (csls=0)")]
    }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        [MethodPart("classifier", "the classifier of the seen classes", .model(Model(classifier, inputShape: inputShape)))]
    }

    /// Its own word vectors.
    public func defaultClassTable(for data: Dataset?) throws -> Tensor { wordVectors }

    /// Trains the classifier of the seen classes, by cross-entropy.
    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.target, .align, .at, .lambda, .attributes, .targetLabels], for: kind)
        let data = try request.single()
        try Trainer.checkClassifier(classifier, for: data)
        // Validation measures what evaluate measures: ConSE's choice among the validation data's classes.
        return try Trainer.fit(classifier, data, options: request.options, using: &generator, reporter: request.reporter,
                               validation: try Trainer.zeroShotValidation(self, request.options.validation, classTable: wordVectors, trainedOn: data))
    }

    public func clone() -> any TrainingMethod { cloned() }
}
