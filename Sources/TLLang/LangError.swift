/// An error a user can cause, with where it happened: a value, thrown and shown, never a trap.
public struct LangError: Error, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The text cannot be parsed (exit status 2 for a script).
        case syntax
        /// Parsing stopped at the end of the input: at the prompt, read another line.
        case incomplete
        /// Evaluation failed (exit status 1 for a script).
        case runtime
        /// Ctrl-C stopped the evaluation.
        case interrupted
    }

    public var kind: Kind
    public var message: String
    public var range: SourceRange?
    /// The source the range refers to (set where the error is reported).
    public var sourceName: String?
    public var sourceLine: String?
    /// Extra lines: a hint, or where a function was called from.
    public var notes: [String]

    public init(_ kind: Kind, _ message: String, at range: SourceRange? = nil, notes: [String] = []) {
        (self.kind, self.message, self.range, self.notes) = (kind, message, range, notes)
    }

    public static func runtime(_ message: String, at range: SourceRange? = nil) -> LangError {
        LangError(.runtime, message, at: range)
    }

    /// Attaches the source, so the error can show its line and caret.
    public func located(in source: Source) -> LangError {
        guard sourceName == nil else { return self }
        var e = self
        e.sourceName = source.name
        if let range { e.sourceLine = source.line(range.start.line) }
        return e
    }

    /// `file:line:col: error: message`, the source line and a caret under the column.
    public var formatted: String { formatted(position: true) }

    /// The error as shown; without `position` the `file:line:col:` prefix is left out.
    public func formatted(position: Bool) -> String {
        var head = ""
        if position, let sourceName { head += sourceName + ":" }
        if position, let range { head += "\(range.start.line):\(range.start.column):" }
        var out = (head.isEmpty ? "" : head + " ") + (kind == .interrupted ? "interrupted: " : "error: ") + message
        if let line = sourceLine, let range, !line.trimmingCharacters(in: " \t").isEmpty {
            let caretColumn = line.unicodeScalars.prefix(range.start.column - 1)
                .map { $0 == "\t" ? "\t" : " " }.joined()
            let sameLine = range.end.line == range.start.line
            let width = sameLine ? Swift.max(1, Swift.min(range.end.column - range.start.column, 60)) : 1
            out += "\n    " + line + "\n    " + caretColumn + "^" + String(repeating: "~", count: width - 1)
        }
        for note in notes { out += "\n" + note }
        return out
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// Names close to `name` among `candidates`, closest first: the one "did you mean" rule of the
/// language and the shell (names, parameters, options, properties, commands, help topics).
/// Close means an edit distance of at most 1 for names up to 4 letters and 2 beyond, ignoring
/// case (`DANN` → `dann`); failing that, the candidates that start with the name (`epo` → `epochs`).
public func suggestions(for name: String, among candidates: [String]) -> [String] {
    let limit = name.count <= 4 ? 1 : 2
    let scored = candidates.compactMap { c -> (String, Int)? in
        guard c != name, c != "_" else { return nil }
        let d = editDistance(name.lowercased(), c.lowercased())
        // A suggestion that changes every character of the name is noise.
        return d <= limit && d < name.count ? (c, d) : nil
    }
    if !scored.isEmpty { return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0) }
    guard name.count >= 2 else { return [] }
    return candidates.filter { $0 != name && $0.lowercased().hasPrefix(name.lowercased()) }.sorted { ($0.count, $0) < ($1.count, $1) }
}

/// The names other libraries give to tl's parameters (PyTorch, Keras, scikit-learn), so that
/// `learning_rate=` suggests `lr`.
let parameterSynonyms: [String: [String]] = [
    "lr": ["learning_rate", "lr_rate", "rate", "eta", "step_size"],
    "batch": ["batch_size", "bs", "minibatch", "mini_batch"],
    "epochs": ["num_epochs", "n_epochs", "max_epochs", "n_epoch", "iterations"],
    "optimizer": ["optim", "opt", "solver"],
    "weight_decay": ["wd", "l2", "decay", "l2_reg"],
    "validate": ["validation", "validation_data", "val", "valid", "val_data", "eval"],
    "quiet": ["verbose", "silent", "progress"],
    "target": ["target_data", "unlabelled", "unlabeled", "tgt"],
    "classes": ["num_classes", "n_classes", "nclasses", "out"],
    "k": ["kernel_size", "n_components", "n_clusters", "num_clusters"],
    "pad": ["padding"],
    "in": ["in_features", "in_channels"],
    "out": ["out_features", "out_channels"],
    "axis": ["dim"],
    "keepdims": ["keepdim", "keep_dims"],
    "seed": ["random_state"],
]

/// A parameter's suggestion: a close spelling, else the tl name of another library's word.
func didYouMeanParameter(_ name: String, among parameters: [String]) -> String {
    let close = didYouMean(name, among: parameters)
    if !close.isEmpty { return close }
    let key = name.lowercased()
    guard let tl = parameterSynonyms.first(where: { $0.value.contains(key) && parameters.contains($0.key) })?.key else { return "" }
    return " (tl calls it '\(tl)')"
}

/// The error for a name that is not bound: with the shell's command where a Python habit
/// reaches for a function (`help`, `exit`), else the nearest name.
public func undefinedName(_ name: String, among candidates: [String]) -> String {
    let commands = ["help": "type :help, or :help NAME for one builtin", "exit": "type :quit, or Ctrl-D",
                    "quit": "type :quit, or Ctrl-D", "vars": "type :vars", "dir": "type :vars"]
    return "name '\(name)' is not defined" + (commands[name].map { " (\($0))" } ?? didYouMean(name, among: candidates))
}

/// " (did you mean 'epochs'?)" or ""; `prefix` goes before the suggestion (":" for commands).
public func didYouMean(_ name: String, among candidates: [String], prefix: String = "") -> String {
    guard let best = suggestions(for: name, among: candidates).first else { return "" }
    return " (did you mean '\(prefix)\(best)'?)"
}

/// Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbours
/// as one edit (optimal string alignment): `hepl` is one edit from `help`.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var before = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                current[j] = Swift.min(current[j], before[j - 2] + 1)
            }
        }
        (before, previous, current) = (previous, current, before)
    }
    return previous[b.count]
}
