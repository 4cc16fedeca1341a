import TLEngine
import TLNN

// Each composite kind written as a PyTorch module with its state_dict names, whose forward is
// what m(x) computes in tl; the parts training alone uses (a discriminator, a decoder, a
// generator) are there as attributes, so that the weights load with strict=True.

extension PyTorchWriter {
    /// `Class(name=module, …)` for the named children of a composite.
    mutating func composite(_ className: String, _ source: String, _ parts: [(String, any Layer)], path: String,
                            extra: [String] = []) throws -> String {
        use(className, source)
        let arguments = try parts.map { "\($0.0)=" + (try module($0.1, path: PyTorchWriter.join(path, $0.0))) }
        return call(className, arguments + extra)
    }
}

extension AdversarialNet: PyTorchModule {
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        _ = try writer.module(reversal, path: path)  // defines GradientReversal
        return try writer.composite("DomainAdversarialNet", PyTorchComposites.adversarial,
                                    [("features", features), ("classifier", classifier), ("discriminator", discriminator)],
                                    path: path, extra: ["lambda_=\(PyTorchWriter.literal(reversal.lambda))"])
    }
}

extension DomainConfusionNet: PyTorchModule {
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        try writer.composite("DomainConfusionNet", PyTorchComposites.confusion,
                             [("features", features), ("classifier", classifier), ("discriminator", discriminator)], path: path)
    }
}

extension MultitaskNet: PyTorchModule {
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        writer.use("Multitask", PyTorchComposites.multitask)
        let trunkCode = try writer.module(trunk, path: PyTorchWriter.join(path, "trunk"))
        let headCodes = try heads.enumerated().map { try writer.module($0.element, path: PyTorchWriter.join(path, "heads.\($0.offset)")) }
        return writer.call("Multitask", ["trunk=" + trunkCode, "heads=[" + PyTorchWriter.block(headCodes) + "]"])
    }
}

extension ProgressiveNet: PyTorchModule {
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        writer.use("Progressive", PyTorchComposites.progressive)
        let columnCodes = try columns.enumerated().map { try writer.module($0.element, path: PyTorchWriter.join(path, "columns.\($0.offset)")) }
        let columnCode = try writer.module(column, path: PyTorchWriter.join(path, "column"))
        var adapterItems: [String] = []
        for (i, list) in adapters.sorted(by: { $0.key < $1.key }) {
            let codes = try list.enumerated().map { try writer.module($0.element, path: PyTorchWriter.join(path, "adapters.\(i).\($0.offset)")) }
            adapterItems.append("\(i): [" + PyTorchWriter.block(codes) + "]")
        }
        return writer.call("Progressive", ["columns=[" + PyTorchWriter.block(columnCodes) + "]", "column=" + columnCode,
                                           "adapters={" + PyTorchWriter.block(adapterItems) + "}"])
    }
}

extension SeparationNet: PyTorchModule {
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        try writer.composite("SeparationNet", PyTorchComposites.separation, children.map { ($0.name, $0.layer) }, path: path)
    }
}

extension PixelDANet: PyTorchModule {
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        try writer.composite("PixelDANet", PyTorchComposites.pixelDA, children.map { ($0.name, $0.layer) }, path: path)
    }
}

extension Embedder: PyTorchModule {
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        try writer.composite("Embedder", PyTorchComposites.embedder, children.map { ($0.name, $0.layer) }, path: path,
                             extra: ["normalized=\(normalized ? "True" : "False")"])
    }
}

extension AttributeClassifier: PyTorchModule {
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        try writer.composite("AttributeClassifier", PyTorchComposites.attributeClassifier, [("f", f)], path: path)
    }
}

extension ConSE: PyTorchModule {
    /// The word vectors become a buffer, written to the weights file with the rest.
    public func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String {
        writer.addState(PyTorchWriter.join(path, "word_vectors"), wordVectors)
        return try writer.composite("ConSE", PyTorchComposites.conse, [("classifier", classifier)], path: path,
                                    extra: ["word_vectors=torch.zeros(\(wordVectors.shape[0]), \(wordVectors.shape[1]))",
                                            "top=\(top)", "seen=[" + seen.map(String.init).joined(separator: ", ") + "]"])
    }
}

/// The Python classes of the composite kinds.
enum PyTorchComposites {
    static let adversarial = """
        class DomainAdversarialNet(nn.Module):
            \"\"\"DANN (Ganin et al. 2016): features, the label predictor, and a domain classifier behind a
            gradient reversal layer. forward gives the class logits; domain_logits(features(x)) the
            domain classifier's, with the gradient to the features reversed.\"\"\"

            def __init__(self, features, classifier, discriminator, lambda_=1.0):
                super().__init__()
                self.features = features
                self.classifier = classifier
                self.discriminator = discriminator
                self.reversal = GradientReversal(lambda_)

            def forward(self, x):
                return self.classifier(self.features(x))

            def domain_logits(self, h):
                return self.discriminator(self.reversal(h))
        """

    static let confusion = """
        class DomainConfusionNet(nn.Module):
            \"\"\"Simultaneous deep transfer (Tzeng et al. 2015): features, the label predictor and a domain
            classifier, trained by domain confusion and soft labels. forward gives the class logits.\"\"\"

            def __init__(self, features, classifier, discriminator):
                super().__init__()
                self.features = features
                self.classifier = classifier
                self.discriminator = discriminator

            def forward(self, x):
                return self.classifier(self.features(x))
        """

    static let multitask = """
        class Multitask(nn.Module):
            \"\"\"A shared trunk and one head per task; forward(x, head=k) runs head k (the first by default).\"\"\"

            def __init__(self, trunk, heads):
                super().__init__()
                self.trunk = trunk
                self.heads = nn.ModuleList(heads)

            def forward(self, x, head=0):
                return self.heads[head](self.trunk(x))
        """

    static let progressive = """
        class Progressive(nn.Module):
            \"\"\"A progressive network (Rusu et al. 2016): frozen earlier columns, a new column, and lateral
            adapters: adapters[i][j] takes column j's input to layer i into the new column's layer i (a
            linear layer or a convolution, as layer i is).\"\"\"

            def __init__(self, columns, column, adapters):
                super().__init__()
                self.columns = nn.ModuleList(columns)
                self.column = column
                self.adapters = nn.ModuleDict({str(i): nn.ModuleList(a) for i, a in adapters.items()})

            def forward(self, x):
                previous = []
                for c in self.columns:
                    h, inputs = x, []
                    for layer in c:
                        inputs.append(h)
                        h = layer(h)
                    previous.append(inputs)
                h = x
                for i, layer in enumerate(self.column):
                    out = layer(h)
                    if str(i) in self.adapters:
                        for j, adapter in enumerate(self.adapters[str(i)]):
                            lateral = previous[j][i]
                            if isinstance(adapter, nn.Linear):
                                lateral = lateral.reshape(-1, adapter.in_features)
                            out = out + adapter(lateral)
                    h = out
                return h
        """

    static let separation = """
        class SeparationNet(nn.Module):
            \"\"\"Domain Separation Networks (Bousmalis et al. 2016): a shared encoder, private encoders per
            domain, a shared decoder, the classifier and a domain classifier. forward gives
            classifier(shared(x)).\"\"\"

            def __init__(self, shared, private_source, private_target, decoder, classifier, discriminator):
                super().__init__()
                self.shared = shared
                self.private_source = private_source
                self.private_target = private_target
                self.decoder = decoder
                self.classifier = classifier
                self.discriminator = discriminator

            def forward(self, x):
                return self.classifier(self.shared(x))
        """

    static let pixelDA = """
        class PixelDANet(nn.Module):
            \"\"\"PixelDA (Bousmalis et al. 2017): a generator restyling source images (an image with a noise
            channel in, the change to the image out), a discriminator and the task classifier.
            forward classifies.\"\"\"

            def __init__(self, generator, discriminator, classifier):
                super().__init__()
                self.generator = generator
                self.discriminator = discriminator
                self.classifier = classifier

            def forward(self, x):
                return self.classifier(x)
        """

    static let embedder = """
        class Embedder(nn.Module):
            \"\"\"A zero-shot embedding: f maps images, g maps class attributes (or word vectors) into the
            same space. forward gives f(x); scores(x, table) the compatibility of each image with each
            class: the cosine of batch-normalised f(x) and g(a) when normalized.\"\"\"

            def __init__(self, f, g=None, standardizer=None, normalized=True):
                super().__init__()
                self.f = f
                self.g = g
                self.standardizer = standardizer
                self.normalized = normalized

            def forward(self, x):
                return self.f(x)

            def scores(self, x, table):
                e = self.f(x)
                if self.standardizer is not None:
                    e = self.standardizer(e)
                c = table if self.g is None else self.g(table)
                if self.normalized:
                    e = e / (e.pow(2).sum(1, keepdim=True) + 1e-12).sqrt()
                    c = c / (c.pow(2).sum(1, keepdim=True) + 1e-12).sqrt()
                return e @ c.T
        """

    static let attributeClassifier = """
        class AttributeClassifier(nn.Module):
            \"\"\"Direct attribute prediction (Lampert et al. 2009): f gives one logit per attribute.\"\"\"

            def __init__(self, f):
                super().__init__()
                self.f = f

            def forward(self, x):
                return self.f(x)
        """

    static let conse = """
        class ConSE(nn.Module):
            \"\"\"ConSE (Norouzi et al. 2014): an image's embedding is the probability-weighted mean of the
            word vectors of its top seen classes.\"\"\"

            def __init__(self, classifier, word_vectors, top, seen):
                super().__init__()
                self.classifier = classifier
                self.register_buffer("word_vectors", word_vectors)
                self.top = top
                self.seen = seen

            def forward(self, x):
                p = torch.softmax(self.classifier(x), dim=1)[:, self.seen]
                weights, order = p.topk(min(self.top, len(self.seen)), dim=1)
                weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-12)
                vectors = self.word_vectors[torch.tensor(self.seen, device=x.device)[order]]
                return (weights.unsqueeze(2) * vectors).sum(1)
        """
}
