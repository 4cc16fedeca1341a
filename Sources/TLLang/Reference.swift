/// Reference pages generated from the tables the language itself uses: the builtins with their
/// parameters and examples, and the properties of each type (docs/language.md holds them; a test
/// fails when they drift).
public enum LanguageReference {
    /// One row per builtin: name, signature, summary (the README's list).
    public static var builtinList: String {
        var lines = ["| builtin | signature | what it does |", "|---|---|---|"]
        for b in BuiltinTable.all {
            lines.append("| `\(b.name)` | `\(b.signature)` | \(cell(b.summary)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Every builtin by group: signature, help, a parameter table and the example.
    public static var builtins: String {
        var out: [String] = []
        for group in BuiltinTable.groups {
            out.append("### \(group.prefix(1).uppercased() + group.dropFirst())\n")
            for b in BuiltinTable.all where b.group == group {
                out.append("#### `\(b.name)`\n")
                out.append("```\n\(b.signature)\n```\n")
                out.append(b.help + "\n")
                if !b.parameters.isEmpty {
                    var table = ["| parameter | type | default | meaning |", "|---|---|---|---|"]
                    for p in b.parameters {
                        let name = p.name + (p.variadic ? "…" : "")
                        let type = p.type == .any ? "any" : p.type.name + (p.optional ? " or none" : "")
                        let dflt = p.defaultText.map { "`\($0)`" } ?? (p.variadic ? "" : "required")
                        let keyword = p.keywordOnly ? " (keyword only)" : ""
                        table.append("| `\(name)` | \(type) | \(cell(dflt)) | \(cell(p.help))\(keyword) |")
                    }
                    out.append(table.joined(separator: "\n") + "\n")
                }
                out.append("```\n\(b.example)\n```\n")
            }
        }
        return out.joined(separator: "\n").trimmingTrailingNewlines
    }

    /// The readable properties of each type, a table per type.
    public static var properties: String {
        let types: [(String, [Properties.Entry])] = [
            ("tensor", Properties.tensor), ("dataset", Properties.dataset), ("model", Properties.model),
            ("history", Properties.history), ("report", Properties.report), ("function", Properties.function),
        ]
        return types.map { name, entries in
            (["| \(name) | |", "|---|---|"] + entries.map { "| `.\($0.name)` | \(cell($0.help)) |" }).joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// A Markdown table cell: pipes escaped, line breaks as spaces.
    public static func cell(_ text: String) -> String {
        text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
            .split(separator: "\n").joined(separator: " ")
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while s.last == "\n" { s = s.dropLast() }
        return String(s)
    }
}
