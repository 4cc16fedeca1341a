import TLLang

/// A piece of a script shown and run as one step, or one notebook cell.
public struct Cell: Equatable {
    public enum Kind: Equatable { case code, markdown }
    public var kind: Kind
    /// Code as written, or the Markdown text without its leading `# `.
    public var text: String
    /// The 1-based line of the file where the cell's text starts.
    public var firstLine: Int
}

public enum Cells {
    /// Splits a script at `# %%` lines (the percent format of Jupytext and VS Code);
    /// `# %% [markdown]` starts a Markdown cell whose comment lines become its text. A file with
    /// no such line is split into its top-level statements.
    public static func split(_ text: String, name: String = "") -> [Cell] {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        let isMarker = { (line: String) in line.hasPrefix("# %%") || line == "#%%" || line.hasPrefix("#%% ") }
        guard lines.contains(where: isMarker) else { return statements(text, name: name) }

        var cells: [Cell] = []
        var kind = Cell.Kind.code
        var body: [String] = []
        var start = 1
        func flush() {
            var trimmed = body
            while let last = trimmed.last, last.allSatisfy({ $0 == " " || $0 == "\t" }) { trimmed.removeLast() }
            var leading = 0
            while leading < trimmed.count, trimmed[leading].allSatisfy({ $0 == " " || $0 == "\t" }) { leading += 1 }
            trimmed.removeFirst(leading)
            guard !trimmed.isEmpty else { return }
            if kind == .markdown {
                let markdown = trimmed.map { line -> String in
                    if line.hasPrefix("# ") { return String(line.dropFirst(2)) }
                    return line.hasPrefix("#") ? String(line.dropFirst()) : line
                }
                cells.append(Cell(kind: .markdown, text: markdown.joined(separator: "\n"), firstLine: start + leading))
            } else {
                cells.append(Cell(kind: .code, text: trimmed.joined(separator: "\n"), firstLine: start + leading))
            }
        }
        for (i, line) in lines.enumerated() {
            if isMarker(line) {
                flush()
                kind = line.contains("[markdown]") || line.contains("[md]") ? .markdown : .code
                body = []
                start = i + 2
            } else {
                body.append(line)
            }
        }
        flush()
        return cells
    }

    /// One cell per top-level statement (bodies included); the whole text when it does not parse.
    static func statements(_ text: String, name: String) -> [Cell] {
        let source = Source(name: name, text: text)
        let (_, spans, errors) = Parser.parseWithSpans(source)
        guard errors.isEmpty else { return [Cell(kind: .code, text: text, firstLine: 1)] }
        return spans.map { Cell(kind: .code, text: source.text($0), firstLine: $0.start.line) }
    }

    /// The cell as a source whose line numbers match the file it came from.
    static func source(of cell: Cell, name: String) -> Source {
        Source(name: name, text: String(repeating: "\n", count: Swift.max(0, cell.firstLine - 1)) + cell.text)
    }
}

/// A walk through a script's cells in step mode.
final class StepWalk {
    let path: String
    let cells: [Cell]
    var next = 0
    var last: Int?

    init(path: String, cells: [Cell]) {
        (self.path, self.cells) = (path, cells)
    }
}

extension Session {
    /// How a step-through walk ended.
    public enum WalkEnd: Equatable { case finished, quit, shell }

    /// Starts stepping through a script (`tl --step FILE`).
    public func step(_ path: String) -> WalkEnd {
        guard let text = readScript(path) else { return .quit }
        return walk(StepWalk(path: path, cells: Cells.split(text, name: path)))
    }

    func stepCommand(_ argument: String, range: SourceRange) throws {
        let walkToRun: StepWalk
        if argument.isEmpty {
            guard let pending = pendingWalk else {
                throw LangError.runtime(":step needs a script, or an unfinished walk to resume", at: range)
            }
            walkToRun = pending
        } else {
            guard let text = readScript(argument) else { throw LangError.runtime("cannot step through \(argument)", at: range) }
            walkToRun = StepWalk(path: argument, cells: Cells.split(text, name: argument))
        }
        pendingWalk = nil
        _ = walk(walkToRun)  // `q` ends the walk, not the shell
    }

    /// Shows each cell, waits for a key, runs it. Enter runs, `s` skips, `r` runs the last one
    /// again, `c` runs the rest, `i` drops into the shell (`:step` resumes), `q` quits.
    func walk(_ w: StepWalk) -> WalkEnd {
        var runRest = false
        while w.next < w.cells.count {
            let index = w.next
            let cell = w.cells[index]
            if cell.kind == .markdown {
                console.out("\n" + cell.text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                    .map { "  " + $0 }.joined(separator: "\n") + "\n")
                w.next += 1
                continue
            }
            let codeCount = w.cells.filter { $0.kind == .code }.count
            let number = w.cells[...index].filter { $0.kind == .code }.count
            console.out("\n" + console.dim("── step \(number)/\(codeCount) · \(w.path):\(cell.firstLine) ──") + "\n")
            console.out(cell.text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { "  " + $0 }.joined(separator: "\n") + "\n")
            if !runRest {
                console.out(console.dim("[Enter] run  [s] skip  [r] run the last again  [c] run the rest  [i] shell  [q] quit") + "\n")
                guard let key = readKey() else { return .quit }
                switch key {
                case "\n", " ":
                    break
                case "s":
                    w.next += 1
                    continue
                case "r":
                    if let last = w.last { execute(w.cells[last], of: w) } else { console.out("nothing has run yet\n") }
                    continue
                case "c":
                    runRest = true
                case "i":
                    pendingWalk = w
                    console.out("bindings so far are kept; :step resumes at step \(number)\n")
                    return .shell
                case "q":
                    return .quit
                default:
                    console.out("unknown key '\(key)'\n")
                    continue
                }
            }
            if execute(cell, of: w) == .quit { return .quit }
            w.last = index
            w.next += 1
        }
        console.out(console.dim("── end of \(w.path) ──") + "\n")
        return .finished
    }

    @discardableResult
    private func execute(_ cell: Cell, of w: StepWalk) -> Outcome {
        recorder.begin(code: cell.text)
        return run(Cells.source(of: cell, name: w.path))
    }
}
