import TLLang

/// What front ends other than the terminal ask of a session (the Jupyter kernel's complete,
/// inspect and is_complete): the shell's own completer, help and parser, by cursor position.
extension Session {
    /// Completions of the word before `cursor` (a count of Unicode scalars into `code`, as the
    /// Jupyter protocol counts): the candidates and where the word they replace starts.
    public func completions(_ code: String, cursor: Int) -> (matches: [String], start: Int) {
        let scalars = Array(code.unicodeScalars)
        let end = Swift.max(0, Swift.min(cursor, scalars.count))
        var prefix = String(String.UnicodeScalarView(scalars[..<end]))
        // Complete within the current line, as readline does.
        if let newline = prefix.lastIndex(of: "\n") { prefix = String(prefix[prefix.index(after: newline)...]) }
        let word = Completer.word(in: prefix)
        return (Completer(session: self).complete(prefix), end - word.unicodeScalars.count)
    }

    /// The help for the name at or before `cursor`: a builtin's signature and help, a lecture
    /// topic's page, a shell command's usage, or a bound value as the prompt would show it.
    public func inspection(_ code: String, cursor: Int) -> String? {
        let scalars = Array(code.unicodeScalars)
        let end = Swift.max(0, Swift.min(cursor, scalars.count))
        func isNamePart(_ s: Unicode.Scalar) -> Bool { s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "_" || s == ":" }
        var start = end, stop = end
        while start > 0, isNamePart(scalars[start - 1]) { start -= 1 }
        while stop < scalars.count, isNamePart(scalars[stop]) { stop += 1 }
        // The cursor right after `name(` asks about the call being typed.
        if start == end, stop == end, end > 0, scalars[end - 1] == "(" {
            stop = end - 1
            start = stop
            while start > 0, isNamePart(scalars[start - 1]) { start -= 1 }
        }
        let name = String(String.UnicodeScalarView(scalars[start..<stop]))
        guard !name.isEmpty else { return nil }
        let bare = name.hasPrefix(":") ? String(name.dropFirst()) : name
        if let b = BuiltinTable.byName[bare] { return Session.helpText(for: b) }
        if let topic = Topic.find(bare) { return topic.page }
        if let c = Session.commands.first(where: { $0.name == bare }) { return "\(c.usage)\n\n  \(c.help)\n" }
        if let value = interpreter.globals[name] { return "\(name): \(value.typeName)\n\n" + value.display(width: 100) }
        return nil
    }

    /// Whether `code` is a whole cell: "complete", "incomplete" (an open bracket, block or
    /// string: a console front end reads another line) or "invalid".
    public func completeness(_ code: String) -> String {
        let (_, errors) = Parser.parse(Source(name: "[?]", text: code))
        if errors.isEmpty { return "complete" }
        return errors.allSatisfy({ $0.kind == .incomplete }) ? "incomplete" : "invalid"
    }
}
