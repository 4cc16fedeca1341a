import TLData
import TLEngine
import TLNN
import TLTransfer

/// The lecture's model constructions and unsupervised tools.
enum MethodBuiltins {
    /// The sequential network of `m`, given as `parameter` (`part`: which part of it).
    static func sequentialNetwork(_ m: Model, _ args: Arguments, _ parameter: String, part: String? = nil) throws -> Sequential {
        guard let s = m.network as? Sequential else {
            throw args.error(for: parameter, expected: "a sequential model (layers applied in order)", got: .model(m), saying: part)
        }
        return s
    }

    /// The samples of a dataset, or a tensor of them, given as `parameter`.
    static func samples(_ args: Arguments, _ parameter: String) throws -> Tensor {
        switch args.value(parameter) {
        case .dataset(let d): return d.x
        case .tensor(let t): return t
        case let v: throw args.error(for: parameter, expected: "a dataset or a tensor", got: v)
        }
    }

    static let all: [Builtin] = [
        Builtin("attach", [.required("net", .model, "a sequential classifier"),
                           .required("discriminator", .model, "the domain classifier: features in, 2 logits out (source, target)"),
                           .required("at", .integer, keyword: true, "net[0:at] is the feature extractor, net[at:] the label predictor"),
                           .optional("lambda", .any, .string("schedule"), keyword: true, "the gradient reversal's factor train uses: a number, or \"schedule\" for DANN's schedule up to 0.3 (train's lambda= and lambda_max= override it)")],
                group: "models",
                help: "A domain-adversarial model (DANN): the discriminator sits behind a gradient reversal layer on net[0:at]'s features. train(adv, src, target=unlabel(tgt)) trains labels on the source and makes the features fool the discriminator. Shares net's weights.",
                example: "net = cnn(); adv = attach(net, mlp([512, 100, 2]), at=7)") { args in
            let net = try args.model("net")
            let s = try sequentialNetwork(net, args, "net")
            let adversarial = try TrainingBuiltins.methodCall(args) {
                try AdversarialNet(s, discriminator: try args.model("discriminator").network, at: try args.int("at"), lambda: try TrainingBuiltins.lambda(args) ?? .standard)
            }
            if let input = net.inputShape {
                // Refused here, naming the domain classifier, rather than in the middle of train.
                try TrainingBuiltins.methodCall(args, at: "discriminator") {
                    try AdversarialNet.checkDiscriminator(features: adversarial.features, discriminator: adversarial.discriminator, inputShape: input)
                }
            }
            return .model(Model(adversarial, inputShape: net.inputShape))
        },
        Builtin("sdt", [.required("net", .model, "a sequential classifier, best trained on the source first (the soft labels are its predictions)"),
                        .required("discriminator", .model, "the domain classifier: features in, 2 logits out (source, target)"),
                        .required("at", .integer, keyword: true, "net[0:at] is the feature extractor, net[at:] the label predictor"),
                        .optional("confusion", .number, .number(Double(DomainConfusionNet.defaultConfusion)), keyword: true, "λ, the weight of the domain confusion loss on the features"),
                        .optional("soft", .number, .number(Double(DomainConfusionNet.defaultSoft)), keyword: true, "ν, the weight of the soft-label loss on target_labels="),
                        .optional("temperature", .number, .number(Double(DomainConfusionNet.defaultTemperature)), keyword: true, "T, the softmax temperature of the soft labels")],
                group: "models",
                help: "Simultaneous deep transfer (SDT, Tzeng et al. 2015): the domain classifier learns to tell source from target, and the features learn to make its prediction uniform (domain confusion, not a reversed gradient). train(s, src, target=unlabel(tgt), target_labels=few) also matches the predictions on a few labelled target samples to the source's mean prediction for their class (soft labels at temperature T). Shares net's weights.",
                example: "s = sdt(cnn(), mlp([512, 100, 2]), at=7)") { args in
            let net = try args.model("net")
            let s = try sequentialNetwork(net, args, "net")
            let confusion = try TrainingBuiltins.methodCall(args) {
                try DomainConfusionNet(s, discriminator: try args.model("discriminator").network, at: try args.int("at"),
                                       confusion: try args.float("confusion"), soft: try args.float("soft"), temperature: try args.float("temperature"))
            }
            if let input = net.inputShape {
                try TrainingBuiltins.methodCall(args, at: "discriminator") {
                    try AdversarialNet.checkDiscriminator(features: confusion.features, discriminator: confusion.discriminator, inputShape: input)
                }
            }
            return .model(Model(confusion, inputShape: net.inputShape))
        },
        Builtin("dsn", [.required("shared", .model, "the shared encoder E_c: an image → a code"),
                        .required("private", .model, "the private encoder: the source's; the target's is a copy of it with fresh weights (the same code shape as shared)"),
                        .required("decoder", .model, "a code → the image's values (any shape with as many per sample)"),
                        .required("classifier", .model, "the label classifier G on the shared code"),
                        .required("discriminator", .model, "the domain classifier on the shared code: 2 logits (source, target)"),
                        .optional("reconstruction", .number, .number(Double(SeparationNet.defaultReconstruction)), keyword: true, "α, the weight of the scale-invariant reconstruction loss"),
                        .optional("difference", .number, .number(Double(SeparationNet.defaultDifference)), keyword: true, "β, the weight of the difference loss between shared and private codes"),
                        .optional("similarity", .number, .number(Double(SeparationNet.defaultSimilarity)), keyword: true, "γ, the weight of the domain classifier's loss through the gradient reversal")],
                group: "models",
                help: "Domain Separation Networks (Bousmalis et al. 2016): a shared encoder for both domains, a private encoder per domain, a decoder reconstructing each image from shared + private codes, the classifier on the shared code and a domain classifier behind a gradient reversal on it. train(d, src, target=unlabel(tgt)) (lambda= as for attach()). reconstruct(d, x, code=\"shared\") shows what each code holds. Shares the given models' weights; the weights of the decoder's last weight layer (linear, or a convolution) start at zero, so reconstructions start flat rather than as noise.",
                example: "d = dsn(mlp([2352, 32]), mlp([2352, 32]), mlp([32, 2352]), mlp([32, 10]), mlp([32, 16, 2]))") { args in
            let shared = try args.model("shared"), source = try args.model("private")
            let target = source.network.copy()
            target.reset(using: &GlobalRandom.generator)
            let net = try TrainingBuiltins.methodCall(args) {
                try SeparationNet(shared: shared.network, privateSource: source.network, privateTarget: target,
                                  decoder: try args.model("decoder").network, classifier: try args.model("classifier").network,
                                  discriminator: try args.model("discriminator").network, reconstruction: try args.float("reconstruction"),
                                  difference: try args.float("difference"), similarity: try args.float("similarity"))
            }
            if let input = shared.inputShape { try TrainingBuiltins.methodCall(args) { try net.check(sampleShape: input) } }
            net.startDecoderFlat()
            return .model(Model(net, inputShape: shared.inputShape))
        },
        Builtin("reconstruct", [.required("model", .model, "a dsn() model (or an autoencoder)"),
                                .required("x", .any, "images: a dataset or a tensor of samples"),
                                .optional("code", .string, .none, keyword: true, "dsn: both (the default), shared or private — what the decoder is given"),
                                .optional("domain", .string, .none, keyword: true, "dsn: whose private encoder, source or target (the default)")],
                group: "models",
                help: "The model's reconstructions of x, shaped as x: for a dsn() model from the shared code, the private code or their sum, as the paper's figure shows them; for an autoencoder, decoder(encoder(x)).",
                example: "ae = autoencoder([2352, 16]); show(reconstruct(ae, digits(4)))") { args in
            let model = try args.model("model")
            let x = try samples(args, "x")
            guard let method = model.method as? any Reconstructing else {
                throw args.error(for: "model", expected: "a model that reconstructs its input (dsn(), autoencoder())", got: .model(model))
            }
            func choice(_ name: String, among options: [String], what: String) throws -> String? {
                if args.isNone(name) { return nil }
                guard !options.isEmpty else { throw args.error("this \(model.method.kind) has one \(what); leave \(name)= out", at: name) }
                let given = try args.string(name)
                guard options.contains(given) else {
                    throw args.error(for: name, expected: options.dropLast().joined(separator: ", ") + " or " + (options.last ?? ""), got: args.value(name))
                }
                return given
            }
            let code = try choice("code", among: method.reconstructionCodes, what: "code")
            let domain = try choice("domain", among: method.reconstructionDomains, what: "decoder input")
            return .tensor(try TrainingBuiltins.methodCall(args) { try method.reconstruct(x, code: code, domain: domain) })
        },
        Builtin("pixelda", [.required("generator", .model, "an image plus one noise channel (C+1 channels) → a change to the image, of its shape (end it with tanh()): the generated image is the source plus it"),
                            .required("discriminator", .model, "an image → 2 logits (generated, real target)"),
                            .required("classifier", .model, "the task classifier (what evaluate measures)"),
                            .optional("adversarial", .number, .number(Double(PixelDANet.defaultAdversarial)), keyword: true, "the weight of the generator's adversarial loss"),
                            .optional("task", .number, .number(Double(PixelDANet.defaultTask)), keyword: true, "the weight of the classifier's loss on generated and source images"),
                            .optional("content", .number, .number(Double(PixelDANet.defaultContent)), keyword: true, "the weight of the content loss on the source's foreground")],
                group: "models",
                help: "Pixel-level domain adaptation (PixelDA, Bousmalis et al. 2017): a generator restyles source images as target images, a discriminator tells them from real target images, and the classifier learns the source labels on the restyled images. train(p, src, target=unlabel(tgt)); generate(p, x) shows the restyled images; evaluate(p, test) measures the classifier. Shares the given models' weights.",
                example: "p = pixelda(sequential(conv(4, 8, 3, pad=1), relu(), conv(8, 3, 3, pad=1), tanh()), sequential(flatten(), linear(2352, 2)), cnn())") { args in
            let generator = try args.model("generator")
            let net = try TrainingBuiltins.methodCall(args) {
                try PixelDANet(generator: generator.network, discriminator: try args.model("discriminator").network,
                               classifier: try args.model("classifier").network, adversarial: try args.float("adversarial"),
                               task: try args.float("task"), content: try args.float("content"))
            }
            // An image shape, when a part knows one (an mlp classifier knows only the flattened size).
            let input = try [args.model("classifier").inputShape, args.model("discriminator").inputShape].compactMap { $0 }.first { $0.count == 3 }
            if let input { try TrainingBuiltins.methodCall(args) { try net.check(sampleShape: input) } }
            return .model(Model(net, inputShape: input))
        },
        Builtin("generate", [.required("model", .model, "a pixelda() model"),
                             .required("x", .any, "source images: a dataset or a tensor N×C×H×W")],
                group: "models",
                help: "A pixelda() model's generator applied to source images: the images restyled as the target's (the same noise each call).",
                example: "p = pixelda(sequential(conv(4, 8, 3, pad=1), relu(), conv(8, 3, 3, pad=1), tanh()), sequential(flatten(), linear(2352, 2)), cnn()); generate(p, digits(2)).shape") { args in
            let model = try args.model("model")
            guard let p = model.method as? any Generating else {
                throw args.error(for: "model", expected: "a model that generates images (pixelda())", got: .model(model))
            }
            let x = try samples(args, "x")
            return .tensor(try TrainingBuiltins.methodCall(args) { try p.generate(x) })
        },
        Builtin("embedder", [.required("f", .model, "maps an image to an embedding"),
                             .optional("g", .model, .none, keyword: true, "maps a class's attribute (or word) vector into f's space; the identity by default"),
                             .optional("margin", .number, .number(0.1), keyword: true, "the hinge's margin"),
                             .optional("normalize", .bool, .bool(true), keyword: true, "compare f(x), batch-normalised, and g(a) by their cosine; false: the raw dot product f(x)·g(a)")],
                group: "models",
                help: "Zero-shot learning by attribute embedding: train(zs, seen) learns f(x)·g(attributes of its class) above every other seen class by the margin; evaluate(zs, unseen) picks the most compatible class present in the data. attributes= (on train and evaluate) may give word vectors instead; by default the dataset's own attributes.",
                example: "zs = embedder(sequential(flatten(), linear(2352, 12)))") { args in
            let f = try args.model("f")
            let g = args.isNone("g") ? nil : try args.model("g").network
            return .model(Model(try Embedder(f: f.network, g: g, margin: try args.float("margin"), normalized: try args.bool("normalize")), inputShape: f.inputShape))
        },
        Builtin("attribute_classifier", [.required("f", .model, "one output (a logit) per attribute")],
                group: "models",
                help: "Zero-shot learning by predicting attributes (DAP): train(ac, seen) teaches f each attribute of each image's class (binary cross-entropy); evaluate(ac, unseen) picks the class present whose attribute row is most likely under f's predictions.",
                example: "ac = attribute_classifier(mlp([2352, 32, 12]))") { args in
            let f = try args.model("f")
            return .model(Model(AttributeClassifier(f: f.network), inputShape: f.inputShape))
        },
        Builtin("conse", [.required("classifier", .model, "a classifier of the seen classes"),
                          .required("word_vectors", .tensor, "one semantic vector per class (classes × d)"),
                          .optional("top", .integer, .number(10), keyword: true, "how many of the most probable seen classes to combine"),
                          .optional("csls", .integer, .number(Double(ConSE.defaultCSLS)), keyword: true,
                                    "hubness correction: each similarity less the mean cosine of each side to its k nearest word vectors (CSLS); 0: the plain cosine")],
                group: "models",
                help: "ConSE zero-shot model: an image's embedding is the probability-weighted mean of the word vectors of its top seen classes; evaluate(cz, unseen) picks the unseen class with the most similar word vector. Similarity is the cosine about the table's mean, corrected for hubs (word vectors near many others, which would take every image) unless csls=0.",
                example: "cz = conse(mlp([2352, 20]), animals(20).word_vectors, top=5)") { args in
            let classifier = try args.model("classifier")
            let vectors = try args.tensor("word_vectors")
            let rows = vectors.shape.first ?? 0
            if args.isGiven("csls"), try args.int("csls") >= rows, rows > 0 {
                throw args.error(for: "csls", expected: "fewer neighbours than the table's other \(rows - 1) classes (a few correct for hubs; 0: the plain cosine)",
                                 got: .number(Double(try args.int("csls"))))
            }
            let net = try ConSE(classifier: classifier.network, wordVectors: vectors, top: try args.int("top"),
                                seen: Array(0..<(vectors.shape.first ?? 0)), csls: try args.int("csls"))
            return .model(Model(net, inputShape: classifier.inputShape))
        },
        Builtin("multitask", [.required("trunk", .model, "the shared layers"),
                              .required("heads", .list, "one model per task, each applied to the trunk's output")],
                group: "models",
                help: "Multitask learning: a shared trunk with one head per task. train takes a list of datasets (one per head) and adds their losses; evaluate takes the same list and gives a report per head.",
                example: "mt = multitask(mlp([2352, 64]), [linear(64, 10), linear(64, 2)])") { args in
            let trunk = try args.model("trunk")
            let heads = try args.list("heads").map { v -> any Layer in
                guard case .model(let m) = v else { throw args.error(for: "heads", expected: "a model", got: v, saying: "a head") }
                return m.network
            }
            return .model(Model(try MultitaskNet(trunk: trunk.network, heads: heads), inputShape: trunk.inputShape))
        },
        Builtin("progressive", [.required("columns", .list, "trained models of one layer layout (mlps of one depth, or cnn()s); they are frozen"),
                                .required("new", .model, "a new column with the same layer layout")],
                group: "models",
                help: "A progressive network: the earlier columns are frozen, and every weight layer of the new column after its first also receives their previous-layer activations through lateral adapters (linear for a linear layer, a convolution of the same kernel for a convolution).",
                example: "old = mlp([2352, 32, 10]); p = progressive([old], mlp([2352, 32, 10]))") { args in
            let columns = try args.list("columns").map { v -> Sequential in
                guard case .model(let m) = v else { throw args.error(for: "columns", expected: "a model", got: v, saying: "a column") }
                return try sequentialNetwork(m, args, "columns", part: "a column")
            }
            let new = try args.model("new")
            let newColumn = try sequentialNetwork(new, args, "new")
            let net = try TrainingBuiltins.methodCall(args, at: "new") {
                try ProgressiveNet(columns: columns, new: newColumn, using: &GlobalRandom.generator)
            }
            return .model(Model(net, inputShape: new.inputShape))
        },
        Builtin("autoencoder", [.required("sizes", .any, "encoder widths, input first: [2352, 128, 32] (the decoder mirrors them), or an encoder model"),
                                .optional("decoder", .any, .none, "with an encoder model: the decoder model, whose outputs have as many values as a sample"),
                                .optional("act", .string, .string("relu"), keyword: true, "relu, tanh or sigmoid between layers (with sizes)")],
                group: "models",
                help: "An autoencoder: encoder through sizes, decoder back, or the encoder and decoder models given (a convolutional encoder, say), trained by train to reconstruct its input (no labels needed). .encoder and .decoder are views sharing its weights.",
                example: "ae = autoencoder([2352, 64, 16]); ae.encoder; autoencoder(sequential(conv(3, 8, 5), relu(), maxpool(2), flatten(), linear(1152, 32)), mlp([32, 2352]))") { args in
            guard case .model(let encoder) = args.value("sizes") else {
                if case .model = args.value("decoder") {
                    throw args.error(for: "sizes", expected: "an encoder model when a decoder model is given", got: args.value("sizes"))
                }
                guard case .none = args.value("decoder") else {
                    throw args.error(for: "decoder", expected: "a model, after an encoder model (with sizes the decoder mirrors the encoder)", got: args.value("decoder"))
                }
                let sizes = try args.integers("sizes")
                let autoencoder = try TrainingBuiltins.methodCall(args) {
                    try Autoencoder.make(sizes: sizes, activation: try args.choice("act", of: Activation.Kind.self), using: &GlobalRandom.generator)
                }
                return .model(Model(method: autoencoder, inputShape: [sizes[0]]))
            }
            guard case .model(let decoder) = args.value("decoder") else {
                throw args.error(for: "decoder", expected: "the decoder model after the encoder model (autoencoder(encoder, decoder))", got: args.value("decoder"))
            }
            if args.isGiven("act") {
                throw args.error("act= sets the activation of an autoencoder built from sizes; the encoder and decoder given have their own layers", at: "act")
            }
            // The two are spliced in as sequential() does: the autoencoder shares their weights,
            // so training it trains the encoder a user goes on to probe or fine-tune.
            let layers = try sequentialNetwork(encoder, args, "sizes", part: "the encoder").entries.map(\.layer)
                + sequentialNetwork(decoder, args, "decoder").entries.map(\.layer)
            let autoencoder = try TrainingBuiltins.methodCall(args) {
                try Autoencoder(Sequential(layers), split: encoder.layers.count)
            }
            let model = Model(method: autoencoder, inputShape: encoder.inputShape)
            // Where the encoder knows its input, a decoder that cannot give it back is named now.
            if let input = encoder.inputShape?.reduce(1, *), let output = (model.outputShapes().last ?? nil)?.reduce(1, *), output != input {
                throw args.error("the decoder gives \(output) values per sample; it must give back the \(input) of an input sample", at: "decoder")
            }
            return .model(model)
        },
        Builtin("linear_probe", [.required("features", .any, "one row of features per sample, or a model whose outputs are the features (an encoder)"),
                                 .required("labels", .any, "class ids 0..k−1, one per row, or a labelled dataset (with a model: its samples and labels)"),
                                 .optional("epochs", .integer, .number(100), keyword: true, "passes of Adam over the rows")],
                group: "training",
                help: "Trains a linear classifier (softmax regression) on fixed features: how much the features alone tell about the classes. Given features, returns the probe (evaluate it on other features with dataset(x, y)); given a model and a dataset, probes the model's outputs and returns the frozen model with the probe on top (evaluate it on other samples directly).",
                example: "probe = linear_probe(randn(20, 4), tensor(range(20)) % 2); linear_probe(mlp([2352, 16]), digits(40))") { args in
            let epochs = try args.int("epochs")
            let labelled = try TrainingBuiltins.labelledDataset(args, "labels")
            let y = try labelled.map { Tensor(($0.y ?? []).map(Float.init)) } ?? Conversion.tensor(from: args.value("labels"))
            guard case .model(let encoder) = args.value("features") else {
                let x = try Conversion.tensor(from: args.value("features"))
                let probe = try TrainingBuiltins.methodCall(args) { try Classifier.linearProbe(features: x, labels: y, epochs: epochs, using: &GlobalRandom.generator) }
                return .model(Model(method: probe, inputShape: [x.shape[1]]))  // linearProbe checked x is N×d
            }
            // A model: its outputs on the dataset's samples are the features; the result is a
            // frozen copy of it with the probe on top, so it classifies samples as they come.
            guard let data = labelled else {
                throw args.error(for: "labels", expected: "a labelled dataset when features is a model (its samples go through the model)", got: args.value("labels"))
            }
            let frozen = encoder.network.copy()
            frozen.setFrozen(true)
            var features = try encoder.notingOneSample(data.x, range: args.range) { try Trainer.outputs(frozen, data.x) }
            if features.rank > 2 { features = try features.reshaped([features.shape[0], -1]) }
            let probe = try TrainingBuiltins.methodCall(args) { try Classifier.linearProbe(features: features, labels: y, epochs: epochs, using: &GlobalRandom.generator) }
            func layers(_ l: any Layer) -> [any Layer] { (l as? Sequential)?.entries.map(\.layer) ?? [l] }
            let chained = Sequential(layers(frozen) + [Flatten()] + layers(probe.network))
            return .model(Model(chained, inputShape: encoder.inputShape ?? data.sampleShape))
        },
        Builtin("score", [.required("model", .model, "a classifier"), .required("data", .any, "unlabelled (or labelled) target data, a dataset or a tensor")],
                group: "training",
                help: "Label-free scores for choosing a model (an epoch, a λ) without target labels: mean prediction entropy (lower is more confident), information maximisation (higher is confident and diverse) and soft neighbourhood density (higher is better).",
                example: "score(mlp([2352, 10]), unlabel(digits(50, style=\"mnistm\")))") { args in
            let model = try args.model("model")
            let x: Tensor
            if case .dataset(let d) = args.value("data") { x = d.x } else { x = try Conversion.tensor(from: args.value("data")) }
            let s = try Selection.scores(model.network, x)
            // At fp32's precision, as the outputs they come from (0.08272771, not 0.0827277084303719).
            return .record(Record([("entropy", .number(Double(Float(s.entropy)))), ("im", .number(Double(Float(s.informationMaximization)))),
                                   ("snd", .number(Double(Float(s.softNeighbourhoodDensity))))]))
        },
        Builtin("domain_distance", [.required("a", .any, "samples of one domain: a dataset or an N×… tensor of features"),
                                    .required("b", .any, "samples of the other domain, with the same number of features")],
                group: "training",
                help: "The proxy A-distance 2(1 − 2ε), ε the held-out error of a linear classifier telling the two domains apart: 0 when they cannot be told apart, 2 when they always can.",
                example: "domain_distance(digits(100), digits(100, style=\"svhn\"))") { args in
            func samples(_ v: Value) throws -> Tensor {
                if case .dataset(let d) = v { return d.x }
                return try Conversion.tensor(from: v)
            }
            return .number(try Selection.proxyADistance(samples(args.value("a")), samples(args.value("b")), using: &GlobalRandom.generator))
        },
        Builtin("kmeans", [.required("x", .tensor, "one row per sample"), .required("k", .integer, "the number of clusters")],
                group: "training", help: "k-means clustering (k-means++ seeding, Lloyd's iterations): the cluster id of every row.",
                example: "kmeans(tensor([[0, 0], [0, 1], [9, 9], [9, 8]]), 2)") { args in
            let x = try args.tensor("x"), k = try args.int("k")
            let ids = try TrainingBuiltins.methodCall(args) { try Clustering.kmeans(x, k: k, using: &GlobalRandom.generator) }
            return .tensor(Tensor(ids.map(Float.init)))
        },
        Builtin("cluster_score", [.required("ids", .tensor, "cluster ids"), .required("labels", .any, "true class ids, or a labelled dataset (its labels)")],
                group: "training",
                help: "How well clusters match classes: normalised mutual information, adjusted Rand index, and the accuracy of the best one-to-one matching of clusters to classes.",
                example: "cluster_score(tensor([1, 1, 0, 0]), tensor([0, 0, 1, 1]))") { args in
            func ints(_ t: Tensor) -> [Int] { t.scalars.map { $0.isFinite && $0 >= 0 && $0 < 1e6 ? Int($0) : -1 } }
            let labels = try TrainingBuiltins.labelledDataset(args, "labels")?.y ?? ints(try Conversion.tensor(from: args.value("labels")))
            let s = try Clustering.scores(clusters: ints(try args.tensor("ids")), labels: labels)
            return .record(Record([("nmi", .number(Double(Float(s.nmi)))), ("ari", .number(Double(Float(s.ari)))),
                                   ("accuracy", .number(Double(Float(s.accuracy))))]))
        },
    ]
}
