import TLLang

/// The generated sections of README.md and docs/language.md: `tl --reference NAME` prints one,
/// scripts/generate-docs writes each between `<!-- NAME:start -->` and `<!-- NAME:end -->` in its
/// file, and a test fails when a file's section differs from what the code says.
public enum Reference {
    public struct Section: Sendable {
        public let name: String
        /// The file, relative to the repository's root, that holds it.
        public let file: String
        public let text: @Sendable () -> String
    }

    public static let sections: [Section] = [
        Section(name: "builtin-list", file: "README.md") { LanguageReference.builtinList },
        Section(name: "builtins", file: "docs/language.md") { LanguageReference.builtins },
        Section(name: "properties", file: "docs/language.md") { LanguageReference.properties },
        Section(name: "commands", file: "docs/language.md") { commands },
        Section(name: "topics", file: "docs/language.md") { topics },
    ]

    public static func section(named name: String) -> Section? { sections.first { $0.name == name } }

    /// The shell commands: usage and what each does.
    static var commands: String {
        (["| command | what it does |", "|---|---|"]
            + Session.commands.map { "| `\($0.usage)` | \(LanguageReference.cell($0.help)) |" }).joined(separator: "\n")
    }

    /// The lecture topics of `:help`, in the lecture's order.
    static var topics: String {
        (["| topic | |", "|---|---|"] + Topic.all.map { "| `\($0.name)` | \(LanguageReference.cell($0.title)) |" })
            .joined(separator: "\n")
    }
}
