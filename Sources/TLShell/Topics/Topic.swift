/// A lecture topic for `:help NAME`: the idea in a few lines, its formula, a runnable example.
/// One file per topic in this folder; `Topic.all` lists them in the lecture's order.
struct Topic: Sendable {
    let name: String
    let title: String
    let text: String
    let formula: String
    let example: String

    static let all: [Topic] = [
        whenToFinetune, finetune, conservative, layerTransfer, multitask, progressive,
        dann, mmd, coral, zeroShot, conse, selfTaught,
    ]

    static func named(_ name: String) -> Topic? { all.first { $0.name == name } }

    /// The help page: title, text, formula and example.
    var page: String {
        var out = title + "\n\n" + text + "\n"
        if !formula.isEmpty { out += "\nformula:\n" + formula.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n" }
        out += "\nexample (runs as is):\n" + example.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
        return out
    }
}
