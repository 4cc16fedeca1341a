/// A lecture topic for `:help NAME`: the idea in a few lines, its formula, a runnable example.
/// One file per topic in this folder; `Topic.all` lists them in the lecture's order.
struct Topic: Sendable {
    let name: String
    let title: String
    let text: String
    let formula: String
    let example: String

    static let all: [Topic] = [
        whenToFinetune, finetune, conservative, peft, layerTransfer, multitask, progressive,
        dann, sdt, dsn, pixelda, mmd, coral, zeroShot, conse, selfTaught,
    ]

    static func named(_ name: String) -> Topic? { all.first { $0.name == name } }

    /// Other names a user may look a topic up by: the lecture's and the literature's words.
    static let aliases: [String: String] = [
        "finetuning": "finetune", "transfer": "finetune", "pretraining": "finetune",
        "l2sp": "conservative", "lwf": "conservative", "consistency": "conservative",
        "layers": "layer-transfer", "layertransfer": "layer-transfer", "yosinski": "layer-transfer",
        "multitasklearning": "multitask", "progressivenetworks": "progressive", "progressivenets": "progressive",
        "domainadversarial": "dann", "adversarial": "dann", "grl": "dann", "gradientreversal": "dann", "attach": "dann",
        "domainadaptation": "dann",
        "pixellevel": "pixelda", "pixelleveldomainadaptation": "pixelda", "gan": "pixelda", "generator": "pixelda",
        "domainseparation": "dsn", "domainseparationnetworks": "dsn", "separation": "dsn", "bousmalis": "dsn",
        "simultaneousdeeptransfer": "sdt", "domainconfusion": "sdt", "confusion": "sdt", "softlabels": "sdt", "tzeng": "sdt",
        "mkmmd": "mmd", "dan": "mmd", "ddc": "mmd", "cmd": "mmd", "discrepancy": "mmd", "align": "mmd",
        "deepcoral": "coral",
        "zeroshotlearning": "zero-shot", "zsl": "zero-shot", "attributes": "zero-shot", "embedder": "zero-shot",
        "attributeclassifier": "zero-shot",
        "selftaughtlearning": "self-taught", "selftaughtclustering": "self-taught", "autoencoder": "self-taught",
        "clustering": "self-taught",
        "whentofinetune": "when-to-finetune",
        "adapters": "peft", "lowrank": "peft", "parameterefficient": "peft",
        "parameterefficientfinetuning": "peft", "houlsby": "peft",
    ]

    /// The topic a query names, ignoring case, spaces, hyphens and underscores, by name or alias:
    /// `DANN`, `fine-tuning`, `MK-MMD`.
    static func find(_ query: String) -> Topic? {
        let key = normalised(query)
        if let topic = all.first(where: { normalised($0.name) == key }) { return topic }
        return aliases[key].flatMap(named)
    }

    static func normalised(_ s: String) -> String { String(s.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " }) }

    /// The help page: title, text, formula and example.
    var page: String {
        var out = title + "\n\n" + text + "\n"
        if !formula.isEmpty { out += "\nformula:\n" + indented(formula) + "\n" }
        out += "\nexample (runs as is):\n" + indented(example) + "\n"
        return out
    }
}
