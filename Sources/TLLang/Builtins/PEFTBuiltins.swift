import TLEngine
import TLNN
import TLTransfer

/// Parameter-efficient fine-tuning: LoRA, adapters, merging.
enum PEFTBuiltins {
    static let layers = BuiltinParameter.optional(
        "layers", .any, .none, keyword: true,
        "the layers to wrap, by state_dict name (\"7\", \"fc\", \"layer4.1.conv2\"), a name or a list; every linear and convolution layer by default")

    /// The names given to `layers=`, or nil for every eligible layer.
    static func names(_ args: Arguments) throws -> [String]? {
        switch args.value("layers") {
        case .none: return nil
        case .string(let s): return [s]
        case .list(let items):
            guard !items.isEmpty else { throw args.error(for: "layers", expected: "a layer name or a non-empty list of names", got: .list([])) }
            return try items.map { v in
                guard case .string(let s) = v else {
                    throw args.error(for: "layers", expected: "a layer name (a string)", got: v, saying: "an element")
                }
                return s
            }
        case let v: throw args.error(for: "layers", expected: "a layer name or a list of names", got: v)
        }
    }

    /// A copy of the model with `wrap` around the chosen layers, everything else frozen.
    /// `exceptLast`: by default, every eligible layer but the last (an adapter after the output
    /// layer would only reshape the logits).
    static func wrapped(_ args: Arguments, accepts: (any Layer) -> Bool, what: String, exceptLast: Bool = false,
                        _ wrap: (any Layer) throws -> any Layer) throws -> Value {
        let model = try args.model("m").clone()
        let sites = PEFT.sites(of: model.network)
        let given = try names(args)
        var chosen: [PEFT.Site]
        do {
            chosen = try PEFT.choose(sites, names: given, accepts: accepts, what: what, op: args.builtin.name)
        } catch TensorError.invalidArgument(_, let detail) {
            throw args.error(detail, at: "layers")
        }
        if given == nil, exceptLast, chosen.count > 1 { chosen.removeLast() }
        try PEFT.wrap(model.network, chosen, with: wrap)
        return .model(model)
    }

    /// `merge(m)`: a copy with the LoRA updates folded in.
    static func merged(_ m: Model, _ args: Arguments) throws -> Model {
        let model = m.clone()
        guard try PEFT.merge(model.network) > 0 else { throw args.error("the model has no LoRA layers to merge (lora() makes them)", at: "a") }
        return model
    }

    static let all: [Builtin] = [
        Builtin("lora", [ModelBuiltins.model,
                         .optional("rank", .integer, .number(4), keyword: true, "the rank r of each update"),
                         .optional("alpha", .number, .none, keyword: true, "the update's factor is alpha/rank; alpha = rank (a factor of 1) by default"),
                         layers],
                group: "models",
                help: "LoRA: a copy of the model with a low-rank update W + (alpha/r)·B·A beside the weights of linear and convolution layers, A drawn at random and B zero, so it starts as the model; every other weight is frozen. After Hu et al. (2021). Unfreeze a new head to train it too; merge() folds the updates into plain weights. See :help peft.",
                example: "m = lora(cnn(), rank=2, layers=[\"7\", \"9\"]); params(m, trainable=true)") { args in
            let rank = try ModelBuiltins.positive(args, "rank")[0]
            let alpha = args.isNone("alpha") ? Float(rank) : try args.float("alpha")
            guard alpha > 0, alpha.isFinite else { throw args.error(for: "alpha", expected: "a positive number", got: args.value("alpha")) }
            var full = 0, count = 0
            let model = try wrapped(args, accepts: LoRA.wraps, what: "linear and convolution layers") { layer in
                let lora = try LoRA(layer, rank: rank, alpha: alpha, using: &GlobalRandom.generator)
                // B·A is out × fan-in: a rank at or above the smaller of the two is no longer low.
                let fanIn = lora.a.value.count / rank, out = lora.b.value.count / rank
                count += 1
                if rank >= min(fanIn, out) { full += 1 }
                return lora
            }
            if full > 0 {
                args.interpreter.output("note: rank \(rank) reaches the outputs or inputs of \(full == count ? (count == 1 ? "the wrapped layer" : "every wrapped layer") : "\(full) of the \(count) wrapped layers"): there the update is full-rank, with more values than the layer's own weights\n")
            }
            return model
        },
        Builtin("adapter", [ModelBuiltins.model,
                            .optional("size", .integer, .number(8), keyword: true, "the bottleneck's width"),
                            layers],
                group: "models",
                help: "Adapters: a copy of the model with a bottleneck h + up(relu(down(h))) after linear and convolution layers (1×1 convolutions on feature maps), up starting at zero so it starts as the model; every other weight is frozen. After Houlsby et al. (2019). By default after every such layer but the last (the output). See :help peft.",
                example: "m = adapter(cnn(), size=4); params(m, trainable=true)") { args in
            let size = try ModelBuiltins.positive(args, "size")[0]
            return try wrapped(args, accepts: Adapter.follows, what: "linear and convolution layers", exceptLast: true) { layer in
                try Adapter(after: layer, size: size, using: &GlobalRandom.generator)
            }
        },
    ]
}
