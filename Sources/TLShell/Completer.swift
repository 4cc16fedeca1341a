#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLLang

/// Tab completion, as a pure function of the text before the cursor and the session's names.
///
/// The word being completed is the run of characters after the last break character; every
/// candidate starts with that word, so readline can replace it.
public struct Completer {
    /// Characters that end a word. `.`, `/`, `:` and `~` are not among them: `net.sh`,
    /// `data/mn` and `:he` complete as one word.
    public static let breakCharacters = " \t\n\"'()[]{},;=+-*%@<>!"

    let session: Session

    public init(session: Session) { self.session = session }

    /// Inside a string only the quote ends a word, so paths may hold `-` and spaces.
    public static let stringBreakCharacters = "\""

    /// The characters that end the word before the cursor, given the text before it.
    public static func breakCharacters(for prefix: String) -> String {
        insideString(prefix) ? stringBreakCharacters : breakCharacters
    }

    /// The word before the cursor.
    public static func word(in prefix: String) -> String {
        let breaks = breakCharacters(for: prefix)
        return String(prefix.reversed().prefix { !breaks.contains($0) }.reversed())
    }

    /// Candidates for the word at the end of `prefix` (the line up to the cursor).
    public func complete(_ prefix: String) -> [String] {
        let word = Completer.word(in: prefix)
        let before = String(prefix.dropLast(word.count))
        let trimmedLine = prefix.drop { $0 == " " }

        // Shell commands, and their arguments.
        if trimmedLine.hasPrefix(":") {
            let parts = trimmedLine.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 1 {
                return Session.commands.map { ":" + $0.name }.filter { $0.hasPrefix(word) }
            }
            switch parts[0] {
            case ":help": return Array(Set(Topic.all.map(\.name) + BuiltinTable.names + Session.commands.map(\.name) + KeywordHelp.all.flatMap(\.names))).filter { $0.hasPrefix(word) }.sorted()
            case ":load", ":step": return Completer.paths(word, extensions: ["tl"])
            default: return []
            }
        }
        // File paths inside a string.
        if Completer.insideString(before) { return Completer.paths(word) }

        // Properties after a dot: `net.sh` → `net.shape`.
        if let dot = word.lastIndex(of: ".") {
            let base = String(word[..<dot]), partial = String(word[word.index(after: dot)...])
            guard let value = resolve(base) else { return [] }
            return Interpreter.propertyNames(of: value).filter { $0.hasPrefix(partial) }.sorted().map { base + "." + $0 }
        }
        guard word.isEmpty || word.first.map({ $0.isLetter || $0 == "_" }) == true else { return [] }

        // Keyword parameters of the call the cursor is in come first.
        var candidates: [String] = []
        if let callee = Completer.enclosingCall(before), let parameters = parameterNames(of: callee) {
            candidates += parameters.map { $0 + "=" }.filter { $0.hasPrefix(word) }
        }
        let names = Set(session.interpreter.visibleNames + Array(Lexer.keywords)).filter { $0.hasPrefix(word) && $0 != "_" }
        candidates += names.sorted()
        return candidates
    }

    /// The value of `a` or `a.b.c`, without calling anything.
    private func resolve(_ path: String) -> Value? {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, var value = session.interpreter.globals[first] ?? BuiltinTable.byName[first].map({ .builtin($0) })
        else { return nil }
        for name in parts.dropFirst() {
            guard case .record(let r) = value, let next = r[name] else { return nil }
            value = next
        }
        return value
    }

    private func parameterNames(of callee: String) -> [String]? {
        if let b = BuiltinTable.byName[callee] { return b.parameters.filter { !$0.variadic }.map(\.name) }
        if case .function(let f)? = session.interpreter.globals[callee] { return f.parameters.map(\.name) }
        return nil
    }

    /// The name before the innermost `(` still open in `text`, if any.
    static func enclosingCall(_ text: String) -> String? {
        var depth = 0
        var inString = false
        var index = text.endIndex
        while index > text.startIndex {
            index = text.index(before: index)
            let c = text[index]
            if c == "\"" { inString.toggle() }
            if inString { continue }
            if c == ")" || c == "]" { depth += 1 } else if c == "(" || c == "[" {
                if depth == 0 {
                    guard c == "(" else { return nil }
                    let name = text[..<index].reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                    return name.isEmpty ? nil : String(name.reversed())
                }
                depth -= 1
            }
        }
        return nil
    }

    /// Whether `text` ends inside a string literal.
    static func insideString(_ text: String) -> Bool {
        var inside = false
        var escaped = false
        for c in text {
            if escaped { escaped = false; continue }
            if c == "\\" && inside { escaped = true; continue }
            if c == "\"" { inside.toggle() }
            if c == "#" && !inside { return false }
        }
        return inside
    }

    /// Files and directories starting with `partial`; directories end in `/`.
    static func paths(_ partial: String, extensions: [String]? = nil) -> [String] {
        let expanded = partial.hasPrefix("~/") ? (getenv("HOME").map { String(cString: $0) } ?? "~") + partial.dropFirst() : partial
        let directory: String, stem: String, shownDirectory: String
        if let slash = partial.lastIndex(of: "/") {
            shownDirectory = String(partial[...slash])
            stem = String(partial[partial.index(after: slash)...])
            let e = expanded.lastIndex(of: "/").map { String(expanded[...$0]) } ?? "./"
            directory = e
        } else {
            (directory, stem, shownDirectory) = ("./", partial, "")
        }
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var results: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != ".", name != "..", name.hasPrefix(stem), !(stem.isEmpty && name.hasPrefix(".")) else { continue }
            var info = stat()
            let isDirectory = stat(directory + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            if !isDirectory, let extensions, !extensions.contains(where: { name.hasSuffix("." + $0) }) { continue }
            results.append(shownDirectory + name + (isDirectory ? "/" : ""))
        }
        return results.sorted()
    }
}
