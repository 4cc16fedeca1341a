import TLData
import TLEngine
import TLNN
import TLRender
import TLTransfer

/// Datasets: generated domains, files, and the operations between them.
enum DataBuiltins {
    /// A generator seed: the given one, or the next draw of the global generator (so seed() governs).
    static func seed(_ args: Arguments) throws -> UInt64 {
        if args.isNone("seed") { return GlobalRandom.generator.next() }
        return UInt64(bitPattern: Int64(try args.int("seed")))
    }

    /// How many images `show` draws by default: at most 16, and no more rows than fit the
    /// terminal's height (each row is half the image's height in lines, and a line of labels).
    static func imagesThatFit(_ v: Value, width: Int, height: Int?) -> Int {
        let shape: [Int]
        switch v {
        case .dataset(let d): shape = d.sampleShape
        case .tensor(let t) where t.rank == 4: shape = Array(t.shape.dropFirst())
        default: return 16
        }
        guard let height, shape.count == 3 else { return 16 }
        let (h, w) = (shape[1], shape[2])
        let perRow = ImageText.imagesPerRow(width: width, imageWidth: w)
        let rows = Swift.max(1, (height - 4) / ((h + 1) / 2 + 1))
        return Swift.min(16, perRow * rows)
    }

    /// Class ids from a class id, a name, or a list of them.
    static func classIDs(_ v: Value, classes: [String], args: Arguments, parameter: String) throws -> [Int] {
        let items: [Value]
        if case .list(let list) = v { items = list } else { items = [v] }
        return try items.map { item in
            switch item {
            case .number(let x):
                guard let i = Int(exactly: x), classes.indices.contains(i) else {
                    throw args.error(for: parameter, expected: "class ids 0…\(classes.count - 1) or names", got: item, saying: "a class")
                }
                return i
            case .string(let name):
                guard let i = classes.firstIndex(of: name) else {
                    throw args.error("'\(parameter)': there is no class '\(name)'\(didYouMean(name, among: classes))", at: parameter)
                }
                return i
            default:
                throw args.error(for: parameter, expected: "class ids or names", got: item, saying: "a class")
            }
        }
    }

    static let dataset = BuiltinParameter.required("ds", .dataset, "a dataset")

    /// `size=` of images: none, n (n×n) or [height, width], each side 1 … 65 536.
    static func imageSize(_ args: Arguments) throws -> (height: Int, width: Int)? {
        switch args.value("size") {
        case .none: return nil
        case .number(let n) where n >= 1 && n == n.rounded() && n <= 65536: return (Int(n), Int(n))
        case .list(let l) where l.count == 2:
            let sides = try args.integers("size")
            guard sides.allSatisfy({ $0 >= 1 && $0 <= 65536 }) else {
                throw args.error(for: "size", expected: "a positive size or [height, width]", got: args.value("size"))
            }
            return (sides[0], sides[1])
        case let other: throw args.error(for: "size", expected: "a positive size or [height, width]", got: other)
        }
    }

    static let all: [Builtin] = [
        Builtin("digits", [.optional("n", .integer, .number(6000), "how many images"),
                           .optional("style", .string, .string("mnist"), keyword: true, "mnist, mnistm, usps or svhn"),
                           .optional("classes", .any, .none, keyword: true, "only these digits (a list), all ten by default"),
                           .optional("seed", .integer, .none, keyword: true, "a seed of its own; by default the next draw of seed()'s generator")],
                group: "data",
                help: "Generated handwritten-style digits, 3×28×28 in [0, 1], balanced over the classes. Styles are domains: \"mnist\" (light strokes on dark), \"mnistm\" (strokes blended into colour textures), \"usps\" (coarser, thicker, other slant, filling the frame), \"svhn\" (printed digits on coloured backgrounds with neighbours at the edges).",
                example: "digits(100, style=\"mnistm\")") { args in
            let n = try args.int("n")
            let style = try args.choice("style", of: DigitStyle.self)
            let classes = args.isNone("classes") ? nil : try classIDs(args.value("classes"), classes: Digits.classNames, args: args, parameter: "classes")
            return .dataset(try Digits.generate(count: n, style: style, classes: classes, seed: seed(args)))
        },
        Builtin("animals", [.optional("n", .integer, .number(4000), "how many images"),
                            .optional("classes", .any, .none, keyword: true, "only these classes (names or ids), all twenty by default"),
                            .optional("seed", .integer, .none, keyword: true, "a seed of its own; by default the next draw of seed()'s generator")],
                group: "data",
                help: "Generated zero-shot data: 20 animal classes, each a set of binary attributes (furry, striped, hooves, long neck, …); images are drawn from parts that show them. The dataset carries .attributes (classes × attributes), .attribute_names and .word_vectors (each class name embedded by the pretrained sentence model all-MiniLM-L6-v2: 20 × 384, unit rows).",
                example: "zoo = animals(200); zoo.attribute_names") { args in
            let classes = args.isNone("classes") ? nil : try classIDs(args.value("classes"), classes: Animals.classNames, args: args, parameter: "classes")
            return .dataset(try Animals.generate(count: try args.int("n"), classes: classes, seed: seed(args)))
        },
        Builtin("load", [.required("path", .string, "a file, a folder of class folders of images, or a directory holding MNIST's four IDX files"),
                         .optional("format", .string, .none, keyword: true, "csv, idx, npy, npz, safetensors, image or images; by default from the extension or the first bytes"),
                         .optional("label", .string, .string("label"), keyword: true, "the CSV column holding class ids or names; without one the data is unlabelled"),
                         .optional("into", .model, .none, keyword: true, "a model whose weights a safetensors file replaces (PyTorch state_dict names)"),
                         .optional("size", .any, .none, keyword: true, "images: resize each to size×size, or [height, width] (bilinear, half-pixel centres, as PyTorch's interpolate with align_corners=False); by default their own size, which must then be shared"),
                         .optional("channels", .integer, .number(3), keyword: true, "images: 3 (RGB) or 1 (grey), converting as needed"),
                         .optional("normalize", .string, .string("none"), keyword: true, "images: none (values in [0, 1]) or imagenet ((x − mean) / std with ImageNet's RGB statistics, for torchvision's pretrained weights)"),
                         .optional("skip_bad", .bool, .bool(false), keyword: true, "images: leave out files that are not readable images (counted in a note) instead of stopping at the first")],
                group: "data",
                help: "Reads data: CSV with a header (a dataset), IDX files or an MNIST directory (a dataset), NPY (a tensor), NPZ (a dataset when it holds x, else a record of tensors), safetensors (a record of tensors, or a model's weights with into=), a PNG or JPEG file (a channels×H×W tensor in [0, 1]), or a folder with one sub-folder of PNG and JPEG images per class (a dataset, classes named after the folders, as torchvision's ImageFolder).",
                example: "save(zeros(2, 3), \"/tmp/tl-example.npy\"); load(\"/tmp/tl-example.npy\")") { args in
            let format = args.isNone("format") ? nil : try args.choice("format", of: DataFormat.self)
            if case .model(let m) = args.value("into") {
                try m.network.loadWeights(from: try args.string("path"))
                return .model(m)
            }
            let label = try args.string("label")
            var images = ImageFiles.Options(channels: try args.int("channels"),
                                            normalisation: try args.choice("normalize", of: ImageFiles.Normalisation.self),
                                            skipUnreadable: try args.bool("skip_bad"))
            guard images.channels == 1 || images.channels == 3 else {
                throw args.error(for: "channels", expected: "1 (grey) or 3 (RGB)", got: .number(Double(images.channels)))
            }
            if images.normalisation == .imagenet, images.channels != 3 {
                throw args.error("normalize=\"imagenet\" is for RGB images (channels=3)", at: "normalize")
            }
            images.size = try imageSize(args)
            let path = try args.string("path")
            let detected = try format ?? DataFormat.detect(path)
            if detected != .image, detected != .images {
                // Image options on another format would be ignored silently: say so instead.
                for (name, given) in [("size", images.size != nil), ("channels", images.channels != 3),
                                      ("normalize", images.normalisation != .none), ("skip_bad", images.skipUnreadable)] where given {
                    throw args.error("\(name)= is for PNG and JPEG images and image folders; '\(path)' is read as \(detected.rawValue)", at: name)
                }
            }
            var skipped: [ImageFiles.Skipped] = []
            let loaded = try DataFiles.load(path, format: detected, label: label, labelRequired: label != "label",
                                            images: images) { skipped.append($0) }
            if let first = skipped.first {
                let what = skipped.count == 1 ? "1 file that is not a readable image" : "\(skipped.count) files that are not readable images"
                args.interpreter.output("note: skipped \(what) (first: \(first.path): \(first.reason))\n")
            }
            switch loaded {
            case .dataset(let d): return .dataset(d)
            case .tensor(let t): return .tensor(t)
            case .tensors(let named): return .record(Record(named.map { ($0.name, .tensor($0.tensor)) }))
            }
        },
        Builtin("dataset", [.required("x", .tensor, "the samples, one per row (or image) along the first axis"),
                            .optional("y", .tensor, .none, "class ids 0..k−1, one per sample"),
                            .optional("classes", .list, .none, keyword: true, "class names (by default \"0\", \"1\", …)"),
                            .optional("name", .string, .string("data"), keyword: true, "a name for summaries")],
                group: "data", help: "A dataset from tensors: samples x and, if given, labels y (class ids 0..k−1).",
                example: "dataset(tensor([[0, 1], [1, 0], [1, 1]]), tensor([0, 1, 1]))") { args in
            let x = try args.tensor("x")
            var labels: [Int]?
            if !args.isNone("y") {
                let y = try args.tensor("y")
                guard y.rank == 1, let ids = Dataset.classIDs(y.scalars) else {
                    throw args.error(for: "y", expected: "a vector of class ids 0..k−1 (k at most \(Dataset.maxClasses))", got: .tensor(y))
                }
                labels = ids
            }
            var classes = try args.isNone("classes") ? [] : args.list("classes").map { $0.plain }
            if classes.isEmpty, let labels { classes = (0...(labels.max() ?? 0)).map(String.init) }
            return .dataset(try Dataset(name: try args.string("name"), x: x, y: labels, classes: classes))
        },
        Builtin("save", [.required("value", .any, "a tensor, dataset, model, record of tensors, figure or history"),
                         .required("path", .string, "where to write; the extension picks the format")],
                group: "data",
                help: "Writes a value to a file: a tensor to .npy (or .npz), a dataset to .npz (x and y), a model's weights to .safetensors (PyTorch's names and layouts), a record of tensors to .npz or .safetensors, a figure to .svg, a history to .csv. The file appears whole or not at all.",
                example: "save(ones(3), \"/tmp/tl-ones.npy\")") { args in
            let path = try args.string("path")
            let lower = path.lowercased()
            /// Refuses an extension this value is not written as, naming those it is: a model saved
            /// as "net.pt" would be safetensors under a name that promises a pickle.
            func expect(_ extensions: [String], for what: String) throws {
                guard !extensions.contains(where: { lower.hasSuffix($0) }) else { return }
                throw args.error("writes \(what) as \(extensions.joined(separator: " or ")) only, not '\(path)'"
                                 + (lower.hasSuffix(".pt") || lower.hasSuffix(".pth") ? " (PyTorch reads .safetensors with safetensors.torch.load_file)" : ""),
                                 at: "path")
            }
            switch args.value("value") {
            case .tensor(let t) where lower.hasSuffix(".npz"): try NPZ.write([("x", t)], to: path)
            case .tensor(let t):
                try expect([".npy", ".npz"], for: "a tensor")
                try NPY.write(t, to: path)
            case .dataset(let d):
                try expect([".npz"], for: "a dataset")
                try DataFiles.save(d, to: path)
            case .model(let m):
                try expect([".safetensors"], for: "a model's weights")
                try m.network.saveWeights(to: path)
            case .figure(let f):
                guard lower.hasSuffix(".svg") else { throw args.error("a figure is saved as SVG: give a path ending in .svg", at: "path") }
                try FileIO.writeAtomically(Array(FigureSVG.render(f).utf8), to: path)
            case .history(let h):
                guard lower.hasSuffix(".csv") else { throw args.error("a history is saved as CSV: give a path ending in .csv", at: "path") }
                try FileIO.writeAtomically(Array(HistoryTable.csv(h).utf8), to: path)
            case .record(let r):
                let tensors = try r.fields.map { f -> (String, Tensor) in
                    guard case .tensor(let t) = f.value else { throw args.error("field '\(f.key)' is a \(f.value.typeName), not a tensor", at: "value") }
                    return (f.key, t)
                }
                try expect([".npz", ".safetensors"], for: "a record of tensors")
                if lower.hasSuffix(".safetensors") {
                    try Safetensors.write(tensors.map { ($0.0, $0.1, .float32) }, to: path)
                } else {
                    try NPZ.write(tensors, to: path)
                }
            case let v: throw args.error(for: "value", expected: "a tensor, dataset, model, record of tensors, figure or history", got: v)
            }
            return .none
        },
        Builtin("target_test", [dataset], group: "data",
                help: "The same data marked as the target domain's test set: evaluate on it adds a reminder that choosing a model, epoch or λ by its labels is cheating (score() chooses without them).",
                example: "tgt_test = target_test(digits(100, style=\"mnistm\"))") { args in
            var d = try args.dataset("ds")
            guard d.isLabelled else { throw args.error("target test data needs labels (it is for reporting accuracy)", at: "ds") }
            d.isTargetTest = true
            return .dataset(d)
        },
        Builtin("split", [dataset, .required("fraction", .number, "the share of samples in the first part, 0..1")], group: "data",
                help: "Shuffles and splits a dataset in two: [first, rest].", example: "a, b = split(digits(100), 0.8); len(a)") { args in
            let fraction = try args.number("fraction")
            guard fraction >= 0, fraction <= 1 else {
                throw args.error(for: "fraction", expected: "a share between 0 and 1 (0.8 for 80 %)", got: .number(fraction))
            }
            let (a, b) = try args.dataset("ds").split(fraction, using: &GlobalRandom.generator)
            return .list([.dataset(a), .dataset(b)])
        },
        Builtin("take", [dataset, .required("n", .integer, "how many samples"),
                         .optional("per_class", .bool, .bool(false), keyword: true, "take n of every class instead")],
                group: "data", help: "The first n samples, or the first n of every class (all of them, with a note, where there are fewer).",
                example: "take(digits(200), 5, per_class=true)") { args in
            let ds = try args.dataset("ds"), n = try args.int("n"), perClass = try args.bool("per_class")
            let taken = try ds.take(n, perClass: perClass)
            // Fewer samples than asked for: said, since the rest of a script may rely on n.
            if !perClass, taken.count < n {
                args.interpreter.output("note: take(): asked for \(n) samples, the dataset has \(ds.count): all of them\n")
            } else if perClass, ds.isLabelled {
                let short = ds.classCounts.enumerated().filter { $0.element > 0 && $0.element < n }
                if !short.isEmpty {
                    let named = short.prefix(3).map { "\(ds.classes[$0.offset]): \($0.element)" }.joined(separator: ", ")
                    args.interpreter.output("note: take(): asked for \(n) of every class; \(short.count) class\(short.count == 1 ? " has" : "es have") fewer (\(named)\(short.count > 3 ? ", …" : "")): all of theirs\n")
                }
            }
            return .dataset(taken)
        },
        Builtin("shuffle", [dataset], group: "data", help: "The samples in a random order.", example: "shuffle(digits(10))") { args in
            .dataset(try args.dataset("ds").shuffled(using: &GlobalRandom.generator))
        },
        Builtin("unlabel", [dataset], group: "data", help: "The same samples without labels: target data for adaptation.",
                example: "unlabel(digits(10, style=\"mnistm\"))") { args in
            .dataset(try args.dataset("ds").unlabelled())
        },
        Builtin("only", [dataset, .required("classes", .any, "class ids or names, one or a list")], group: "data",
                help: "Only the samples of the given classes.", example: "only(digits(100), [0, 1])") { args in
            let d = try args.dataset("ds")
            return .dataset(try d.filtered(classes: Set(try classIDs(args.value("classes"), classes: d.classes, args: args, parameter: "classes")), keep: true))
        },
        Builtin("without", [dataset, .required("classes", .any, "class ids or names, one or a list")], group: "data",
                help: "All samples but those of the given classes.", example: "without(animals(100), [\"zebra\", \"giraffe\"])") { args in
            let d = try args.dataset("ds")
            return .dataset(try d.filtered(classes: Set(try classIDs(args.value("classes"), classes: d.classes, args: args, parameter: "classes")), keep: false))
        },
        Builtin("merge", [.required("a", .any, "a dataset, or a model with LoRA layers"),
                          .optional("b", .dataset, .none, "a dataset with the same sample shape and classes as a")],
                group: "data",
                help: "The samples of two datasets, a's first; or, given one model, a copy with each LoRA update folded into its layer's weights (W + (alpha/r)·B·A), the same outputs from a plain model (adapters stay: they are not linear).",
                example: "merge(digits(10), digits(10, style=\"usps\")); merge(lora(mlp([4, 8, 2])))") { args in
            switch args.value("a") {
            case .model(let m):
                guard args.isNone("b") else { throw args.error("merges two datasets, or the LoRA layers of one model, not a model and a dataset", at: "b") }
                return .model(try PEFTBuiltins.merged(m, args))
            case .dataset(let a):
                guard !args.isNone("b") else { throw args.error("needs a second dataset to merge with the first", at: "a") }
                return .dataset(try Dataset.merge(a, try args.dataset("b")))
            case let v:
                throw args.error(for: "a", expected: "a dataset or a model", got: v)
            }
        },
        Builtin("transform", [dataset, .optional("size", .any, .none, keyword: true, "resize the images to size×size or [height, width] first (bilinear, half-pixel centres)"),
                              .optional("rotate", .number, .number(0), keyword: true, "degrees, counter-clockwise"),
                              .optional("noise", .number, .number(0), keyword: true, "standard deviation of added Gaussian noise"),
                              .optional("invert", .bool, .bool(false), keyword: true, "replace each value v by 1 − v")],
                group: "data", help: "A changed copy of a domain: resized, rotated, noisy or inverted images (values kept in [0, 1]).",
                example: "transform(digits(10), size=32, rotate=30, noise=0.1)") { args in
            .dataset(try args.dataset("ds").transformed(size: try imageSize(args), rotate: try args.float("rotate"), noise: try args.float("noise"),
                                                         invert: try args.bool("invert"), using: &GlobalRandom.generator))
        },
        Builtin("show", [.required("x", .any, "a dataset, images (N×C×H×W, C×H×W or H×W) or any value"),
                         .optional("n", .integer, .none, keyword: true, "at most this many images; by default as many as fit the terminal's width and height (at most 16)")],
                group: "looking at things",
                help: "Draws datasets and images in the terminal (24-bit colour where the terminal has it, the 256-colour palette or greys elsewhere, characters in files), as many a row as the width allows, with labels under them; other values are shown as at the prompt.",
                example: "show(digits(8))") { args in
            let interpreter = args.interpreter
            let n: Int
            if let given = try args.optionalInt("n") {
                guard given > 0 else { throw args.error(for: "n", expected: "positive", got: .number(Double(given))) }
                n = given
            } else {
                n = imagesThatFit(args.value("x"), width: interpreter.width, height: interpreter.height)
            }
            var images: Tensor?
            var labels: [String] = []
            switch args.value("x") {
            case .dataset(let d):
                guard d.x.rank == 4 else { interpreter.output(d.summary + "\n"); return .none }
                let part = try d.slice(0..<n)
                images = part.x
                labels = part.y.map { $0.map { d.classes[$0] } } ?? []
            case .tensor(let t) where t.rank == 4:
                images = try t.sliced(axis: 0, end: n)
            case .tensor(let t) where t.rank == 3 && (t.shape[0] == 1 || t.shape[0] == 3):
                images = try t.reshaped([1] + t.shape)
            case .tensor(let t) where t.rank == 2:
                images = try t.reshaped([1, 1] + t.shape)
            case .report(let r):
                if interpreter.display?(.blocks(r.detailBlocks)) != true { interpreter.output(r.details + "\n") }
                return .none
            case .history(let h):
                let blocks = HistoryTable.blocks(h)
                if interpreter.display?(.blocks(blocks)) != true { interpreter.output(blocks.text + "\n") }
                return .none
            case .figure(let f) where interpreter.display?(.figure(f)) == true:
                return .none
            case let v:
                interpreter.output(v.display(width: interpreter.width, colour: interpreter.imageMode != .plain) + "\n")
                return .none
            }
            if let images {
                guard images.shape[1] == 1 || images.shape[1] == 3 else {
                    throw args.error("images need 1 or 3 channels, got \(images.shape[1])", at: "x")
                }
                if interpreter.display?(.images(images, labels: labels)) != true {
                    interpreter.output(ImageText.render(images, labels: labels, mode: interpreter.imageMode, width: interpreter.width) + "\n")
                }
            }
            return .none
        },
    ]
}
