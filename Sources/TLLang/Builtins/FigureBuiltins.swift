import TLData
import TLEngine
import TLRender
import TLTransfer

/// Figures and the projections that feed them.
enum FigureBuiltins {
    static let all: [Builtin] = [
        Builtin("plot", [.required("values", .any, "a history, a list of numbers, a 1-D tensor, or a record of named lists"),
                         .optional("title", .string, .string(""), keyword: true, "a title above the figure"),
                         .optional("xlabel", .string, .none, keyword: true, "the x axis's label"),
                         .optional("ylabel", .string, .none, keyword: true, "the y axis's label")],
                group: "looking at things",
                help: "A line figure: a history's loss and accuracy per epoch (and validation and domain accuracy when recorded; plot(h.lambda) draws any other figure it recorded), a list of numbers against their index, or one line per field of a record. Drawn in the terminal; save(fig, \"f.svg\") writes SVG.",
                example: "plot({sgd: [0.9, 0.5, 0.3], adam: [0.7, 0.3, 0.2]}, title=\"loss\")") { args in
            var figure: Figure
            switch args.value("values") {
            case .history(let h):
                guard !h.epochs.isEmpty else { throw args.error("the history has no epochs yet", at: "values") }
                let x = h.epochs.map { Double($0.epoch) }
                let names = HistoryTable.plotted.filter(h.names.contains)
                figure = Figure(xLabel: "epoch", series: (names.isEmpty ? h.names : names).map { name in
                    Figure.Series(name: name, x: x, y: h.series(name).map { $0 ?? .nan }, mark: .line)
                })
            case .record(let r):
                figure = Figure(series: try r.fields.map { field in
                    let y = try numbers(field.value, args: args, parameter: "values", part: "field '\(field.key)'")
                    return Figure.Series(name: field.key, x: y.indices.map(Double.init), y: y, mark: .line)
                })
            case let v:
                let y = try numbers(v, args: args, parameter: "values")
                figure = Figure(series: [Figure.Series(name: "", x: y.indices.map(Double.init), y: y, mark: .line)])
            }
            figure.title = try args.string("title")
            if !args.isNone("xlabel") { figure.xLabel = try args.string("xlabel") }
            if !args.isNone("ylabel") { figure.yLabel = try args.string("ylabel") }
            return .figure(figure)
        },
        Builtin("scatter", [.required("points", .tensor, "N×2: one row per point"),
                            .optional("color", .any, .none, keyword: true, "a group per point: class ids (a list or tensor), or a dataset whose labels colour the points"),
                            .optional("names", .list, .none, keyword: true, "the legend's name of each group, in id order"),
                            .optional("title", .string, .string(""), keyword: true, "a title above the figure")],
                group: "looking at things",
                help: "A scatter figure of 2-D points, coloured by group with a legend: the lecture's picture of features by class, or of source and target apart before adaptation and mixed after. Drawn in the terminal; save(fig, \"f.svg\") writes SVG.",
                example: "d = digits(60); scatter(pca(d, k=2), color=d, title=\"digits by class\")") { args in
            let points = try args.tensor("points")
            guard points.rank == 2, points.shape[1] == 2 else {
                throw args.error("'points' must be N×2 (one row per point), got \(Shape.describe(points.shape)); pca(x, k=2) or tsne(x) makes them", at: "points")
            }
            // The coordinates as numbers, a group per point, then the figure's points.
            try Memory.reserve(points.shape[0] * 48, for: "scatter")
            let n = points.shape[0], v = points.scalars
            var groups = [Int](repeating: 0, count: n)
            var names: [String] = [""]
            switch args.value("color") {
            case .none: break
            case .dataset(let d):
                guard d.count == n else { throw args.error("'color' has \(d.count) samples for \(n) points", at: "color") }
                if let y = d.y { groups = y; names = d.classes } else { names = [d.domain.isEmpty ? d.name : d.domain] }
            case let c:
                let ids = try numbers(c, args: args, parameter: "color")
                guard ids.count == n else { throw args.error("'color' has \(ids.count) values for \(n) points", at: "color") }
                guard ids.allSatisfy({ $0 >= 0 && $0 < 1000 && $0 == $0.rounded() }) else {
                    throw args.error("'color' must hold group ids: whole numbers 0…999", at: "color")
                }
                groups = ids.map { Int($0) }
                names = (0...(groups.max() ?? 0)).map(String.init)
            }
            if !args.isNone("names") {
                let given = try args.list("names").map { v -> String in
                    if case .string(let s) = v { return s }
                    return v.plain
                }
                guard given.count > (groups.max() ?? 0) else {
                    throw args.error("'names' has \(given.count) names but the group ids go up to \(groups.max() ?? 0)", at: "names")
                }
                names = given
            }
            let present = Array(Set(groups)).sorted()
            let series = present.map { g in
                let members = (0..<n).filter { groups[$0] == g }
                return Figure.Series(name: g < names.count ? names[g] : String(g), x: members.map { Double(v[$0 * 2]) },
                                     y: members.map { Double(v[$0 * 2 + 1]) }, mark: .points)
            }
            return .figure(Figure(title: try args.string("title"), series: series))
        },
        Builtin("pca", [.required("x", .any, "N samples: a tensor (N×… ) or a dataset"),
                        .optional("k", .integer, .number(2), keyword: true, "how many components")],
                group: "looking at things",
                help: "The samples projected on their first k principal components (N×k), signs fixed so the result never depends on chance.",
                example: "pca(digits(50).x, k=2).shape") { args in
            .tensor(try Projection.pca(try samples(args), k: try args.int("k")))
        },
        Builtin("tsne", [.required("x", .any, "N samples: a tensor (N×…) or a dataset"),
                         .optional("perplexity", .number, .number(30), keyword: true, "the effective number of neighbours each point keeps close"),
                         .optional("iterations", .integer, .number(1000), keyword: true, "gradient steps"),
                         .optional("dims", .integer, .number(2), keyword: true, "1, 2 or 3 output dimensions")],
                group: "looking at things",
                help: "Exact t-SNE: a map (N×dims) where samples close in x stay close. Starts from PCA, so the same data gives the same picture. Costs N² per step: at most 10000 samples, and a few seconds for 1000.",
                example: "tsne(digits(40).x, perplexity=5, iterations=100).shape") { args in
            let interpreter = args.interpreter
            let progress = interpreter.progress
            defer { if progress != nil { interpreter.progressEnded?() } }
            let start = Clock.seconds()
            let map = try Projection.tsne(try samples(args), dims: try args.int("dims"), perplexity: try args.number("perplexity"),
                                          iterations: try args.int("iterations")) { done, total in
                guard let progress, done % 10 == 0 || done == total else { return }
                progress(TrainingProgress(epoch: 1, epochs: 1, batch: done, batches: total, figures: [],
                                          samplesPerSecond: .nan, elapsed: Clock.seconds() - start))
            }
            return .tensor(map)
        },
    ]

    /// The samples of a projection: a dataset's x or a tensor.
    static func samples(_ args: Arguments) throws -> Tensor {
        if case .dataset(let d) = args.value("x") { return d.x }
        return try Conversion.tensor(from: args.value("x"))
    }

    /// Numbers from a list or a tensor given as `parameter` (`part`: which part of it, as "field 'x'").
    static func numbers(_ v: Value, args: Arguments, parameter: String, part: String? = nil) throws -> [Double] {
        // The numbers, then the figure's points made of them.
        if case .tensor(let t) = v { try Memory.reserve(t.count * 28, for: args.builtin.name) }
        if case .list(let items) = v { try Memory.reserve(items.count * 24, for: args.builtin.name) }
        switch v {
        case .tensor(let t): return t.scalars.map(Double.init)
        case .list(let items):
            return try items.map { item in
                switch item {
                case .number(let x): return x
                case .bool(let b): return b ? 1 : 0
                case .tensor(let t) where t.count == 1: return Double(t.scalars[0])
                default: throw args.error(for: parameter, expected: "a number", got: item, saying: part.map { "an element of \($0)" } ?? "an element")
                }
            }
        default: throw args.error(for: parameter, expected: "a list of numbers or a tensor", got: v, saying: part)
        }
    }
}
