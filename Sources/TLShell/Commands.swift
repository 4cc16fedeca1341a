import TLEngine
import TLLang
import TLRender

/// A shell command (`:help`), declared once: its usage line, help text and implementation.
struct ShellCommand: Sendable {
    let name: String
    let usage: String
    let help: String
    let run: @Sendable (Session, String, SourceRange) throws -> Void
}

extension Session {
    static let commands: [ShellCommand] = [
        ShellCommand(name: "help", usage: ":help [name]", help: "List builtins, commands, lecture topics and keywords, or explain one.") { s, arg, r in
            try s.help(arg, range: r)
        },
        ShellCommand(name: "vars", usage: ":vars", help: "The names bound so far: type, value and memory.") { s, _, _ in
            s.listVariables()
        },
        ShellCommand(name: "load", usage: ":load FILE.tl", help: "Run a script here, keeping its bindings.") { s, arg, r in
            guard !arg.isEmpty else { throw LangError.runtime(":load needs a file name", at: r) }
            guard let text = s.readScript(arg) else { throw LangError.runtime("cannot load \(arg)", at: r) }
            let outcome = s.run(Source(name: arg, text: text))
            if outcome == .quit { throw QuitRequest() }
        },
        ShellCommand(name: "time", usage: ":time STATEMENT", help: "Run a statement and report how long it took.") { s, arg, r in
            guard !arg.isEmpty else { throw LangError.runtime(":time needs a statement to run", at: r) }
            let start = Clock.seconds()
            let outcome = s.run(Source(name: "[\(s.cellNumber - 1)]", text: arg))
            let seconds = Clock.seconds() - start
            if outcome == .ok { s.say("time: \(DispatchTimer.describe(seconds))\n", dimmed: true) }
        },
        ShellCommand(name: "save", usage: ":save FILE.ipynb | FILE.md | FILE.tl",
                     help: "Write the session so far (the cells as typed, with their outputs) as a notebook, Markdown or a script.") { s, arg, r in
            guard !arg.isEmpty else { throw LangError.runtime(":save needs a file name ending in .ipynb, .md or .tl", at: r) }
            // The session so far: every cell before the one holding this command. A cell that
            // failed is kept as text with its error, so that the file runs.
            let cells = Array(s.recorder.cells.dropLast())
            let saved = NotebookRecorder.runnable(cells)
            do {
                try NotebookWriter.write(saved, to: arg)
            } catch {
                throw LangError.runtime("\(error)", at: r)
            }
            let failed = cells.count - saved.filter { $0.kind == .code }.count - cells.filter { $0.kind == .markdown }.count
            let note = failed == 0 ? "" : failed == 1 ? " (1 failed: kept as text with its error, not as code)"
                : " (\(failed) failed: kept as text with their errors, not as code)"
            s.say("saved \(cells.filter { $0.kind == .code }.count) cells to \(arg)\(note)\n")
        },
        ShellCommand(name: "reset", usage: ":reset", help: "Forget every binding.") { s, _, _ in
            s.interpreter.reset()
            s.say("every binding is forgotten\n")
        },
        ShellCommand(name: "seed", usage: ":seed N", help: "Seed every random draw, as seed(N) does.") { s, arg, r in
            guard let n = Int64(arg) else { throw LangError.runtime(":seed needs an integer, got '\(arg)'", at: r) }
            GlobalRandom.seed(UInt64(bitPattern: n))
        },
        ShellCommand(name: "step", usage: ":step [FILE.tl]", help: "Step through a script cell by cell; without a file, resume the last walk.") { s, arg, r in
            try s.stepCommand(arg, range: r)
        },
        ShellCommand(name: "quit", usage: ":quit", help: "Leave tl (Ctrl-D does the same).") { _, _, _ in
            throw QuitRequest()
        },
    ]

    func runCommand(_ name: String, _ argument: String, range: SourceRange) throws {
        guard let command = Session.commands.first(where: { $0.name == name }) else {
            let hint = didYouMean(name, among: Session.commands.map(\.name), prefix: ":")
            throw LangError.runtime("unknown command ':\(name)'\(hint.isEmpty ? "; :help lists the commands" : hint)", at: range)
        }
        try command.run(self, argument, range)
    }

    // MARK: :help

    func help(_ topic: String, range: SourceRange) throws {
        let name = topic.hasPrefix(":") ? String(topic.dropFirst()) : topic
        if name.isEmpty {
            say(overview())
            return
        }
        if let topic = Topic.named(name) ?? (BuiltinTable.byName[name] == nil ? Topic.find(name) : nil) {
            var page = (topic.name == name ? "" : "(the topic '\(topic.name)')\n\n") + topic.page
            if let b = BuiltinTable.byName[name] { page += "\nthe builtin " + name + ":\n\n" + Session.helpText(for: b) }
            say(page)
            return
        }
        if let b = BuiltinTable.byName[name] {
            say(Session.helpText(for: b))
            return
        }
        if let c = Session.commands.first(where: { $0.name == name }) {
            say("\(c.usage)\n\n  \(c.help)\n")
            return
        }
        if let k = KeywordHelp.named(name) {
            say(k.page)
            return
        }
        let known = Topic.all.map(\.name) + BuiltinTable.names + Session.commands.map(\.name) + KeywordHelp.all.flatMap(\.names)
        throw LangError.runtime("no help for '\(topic)'\(didYouMean(name, among: known)); :help lists everything", at: range)
    }

    func overview() -> String {
        var out = "tl \(Version.string): a shell for transfer-learning experiments.\n"
        out += "Type an expression to see its value; a statement ending in ';' shows nothing.\n\n"
        for group in BuiltinTable.groups {
            let names = BuiltinTable.all.filter { $0.group == group }.map(\.name)
            out += "\(group):\n" + wrap(names.joined(separator: "  "), indent: "  ") + "\n"
        }
        out += "\nshell commands:\n"
        for c in Session.commands {
            out += "  " + c.usage.padding(to: 18) + c.help + "\n"
        }
        out += "\nthe lecture, a topic each (idea, formula, runnable example):\n"
        out += wrap(Topic.all.map(\.name).joined(separator: "  "), indent: "  ") + "\n"
        out += "\nthe language (docs/language.md has all of it):\n"
        out += wrap(KeywordHelp.all.map { $0.names.joined(separator: "/") }.joined(separator: "  "), indent: "  ") + "\n"
        out += "\n:help NAME explains a topic, a builtin, a command or a keyword, with an example.\n"
        return out
    }

    /// Signature, text, parameters and example of a builtin: generated from its declaration.
    static func helpText(for b: Builtin) -> String {
        var out = b.signature + "\n\n" + wrap(b.help, indent: "  ") + "\n"
        if !b.parameters.isEmpty {
            let rows = b.parameters.map { p in
                [p.name + (p.variadic ? "..." : ""), p.type == .any ? "" : p.type.name, p.defaultText.map { "= \($0)" } ?? (p.variadic ? "" : "required"), p.help]
            }
            out += "\nparameters:\n" + Table(headers: ["name", "type", "default", "description"], rows: rows).render(indent: "  ", width: 90) + "\n"
        }
        out += "\nexample:\n  " + b.example + "\n"
        return out
    }

    // MARK: :vars

    func listVariables() {
        let names = interpreter.globals.keys.sorted()
        guard !names.isEmpty else {
            say("no names are bound yet\n")
            return
        }
        let rows = names.map { name -> [String] in
            let v = interpreter.globals[name] ?? .none
            var summary = v.shown.replacingNewlines()
            if summary.count > 50 { summary = String(summary.prefix(47)) + "..." }
            return [name, v.typeName, summary, Session.memory(of: v)]
        }
        say(Table(headers: ["name", "type", "value", "memory"], rows: rows,
                          alignments: [.left, .left, .left, .right]).render() + "\n")
        say("the session holds \(Memory.describe(Memory.heldBytes)) of its memory budget of \(Memory.describe(Memory.budgetBytes))\n",
            dimmed: true)
    }

    /// About the bytes a value holds (tensors, list items, characters, a model's weights), as
    /// text; values that share storage are counted in each.
    static func memory(of v: Value) -> String {
        func bytes(_ v: Value, depth: Int) -> Int {
            guard depth < 64 else { return 0 }
            switch v {
            case .tensor(let t): return t.count * 4
            case .string(let s): return s.utf8.count > 15 ? s.utf8.count : 0
            case .list(let items): return items.count * MemoryLayout<Value>.stride + items.reduce(0) { $0 + bytes($1, depth: depth + 1) }
            case .record(let r): return r.fields.reduce(0) { $0 + bytes($1.value, depth: depth + 1) }
            case .dataset(let d): return d.x.count * 4 + (d.y?.count ?? 0) * 8 + (d.attributes?.count ?? 0) * 4 + (d.wordVectors?.count ?? 0) * 4
            case .model(let m): return m.network.parameterCount * 4
            default: return 0
            }
        }
        let n = bytes(v, depth: 0)
        if n == 0 { return "" }
        if n < 1024 { return "\(n) B" }
        if n < 1 << 20 { return String(format1: Double(n) / 1024) + " KiB" }
        return String(format1: Double(n) / Double(1 << 20)) + " MiB"
    }
}

/// Each line of `text` indented by two spaces, as it stands (a formula, an example): no wrapping.
func indented(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
}

/// Wraps text at 90 columns with an indent.
func wrap(_ text: String, indent: String, width: Int = 90) -> String {
    var lines: [String] = []
    for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var line = indent
        for word in paragraph.split(separator: " ") {
            if line.count + word.count + 1 > width && line != indent {
                lines.append(line)
                line = indent
            }
            line += (line == indent ? "" : " ") + word
        }
        lines.append(line)
    }
    return lines.joined(separator: "\n")
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
    func replacingNewlines() -> String { split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ") }
    init(format1 x: Double) {
        let r = (x * 10).rounded() / 10
        self = r == r.rounded() ? String(Int(r)) : String(r)
    }
}

/// Monotonic time for `:time`.
enum DispatchTimer {
    static func describe(_ seconds: Double) -> String {
        if seconds < 1e-3 { return String(format1: seconds * 1e6) + " µs" }
        if seconds < 1 { return String(format1: seconds * 1e3) + " ms" }
        return String(format1: seconds) + " s"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
