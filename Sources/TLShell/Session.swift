import Foundation
import TLEngine
import TLLang
import TLNN
import TLRender

/// Thrown by `:quit` to end the session from inside a running cell or script.
struct QuitRequest: Error {}

/// One tl session: the interpreter with its bindings, the numbered cells typed so far, and the
/// way results and errors are shown.
public final class Session {
    public let interpreter = Interpreter()
    public let console: Console
    /// The number the next cell at the prompt gets.
    public internal(set) var cellNumber = 1
    /// Cells of a step-through walk left when the user dropped into the shell (`:step` resumes).
    var pendingWalk: StepWalk?
    /// Reads keys for step mode.
    var readKey: () -> Character? = Terminal.readKey
    /// The cells run so far with their outputs (for `:save` and `--notebook`).
    public let recorder = NotebookRecorder()
    /// Set while `--notebook` runs a script: figures and images are sized for the page, not the terminal.
    var writingNotebook = false
    /// Where a statement's shown value goes instead of the console (the Jupyter kernel's
    /// execute_result); the terminal's text when nil.
    public var resultHandler: ((Value) -> Void)?

    public enum Outcome: Equatable { case ok, syntaxError, runtimeError, interrupted, quit }

    public init(console: Console = .standard) {
        self.console = console
        interpreter.output = { [console, recorder] in
            console.out($0)
            recorder.record(.stream($0))
        }
        // Figures and images go to the notebook as SVG and PNG, to the terminal as text.
        interpreter.display = { [unowned self] item in
            switch item {
            case .figure(let f):
                self.console.out(FigureText.render(f, width: Terminal.width, colour: Terminal.imageMode != .plain) + "\n")
                self.recorder.record(.figure(f))
            case .images(let images, let labels):
                self.console.out(ImageText.render(images, labels: labels, mode: self.interpreter.imageMode, width: self.interpreter.width) + "\n")
                self.recorder.record(.images(images, labels: labels))
            case .blocks(let blocks):
                self.console.out(blocks.text + "\n")
                self.recorder.record(.blocks(blocks))
            }
            return true
        }
        interpreter.imageMode = Terminal.imageMode
        interpreter.width = Terminal.width
        if Terminal.stderrIsTerminal {
            // The bar is redrawn in place on standard error, at most ten times a second.
            var lastDraw = 0.0
            interpreter.progress = { [console] p in
                let now = Clock.seconds()
                guard now - lastDraw > 0.1 || p.batch == p.batches else { return }
                lastDraw = now
                let line = ProgressBar.line(epoch: p.epoch, epochs: p.epochs, batch: p.batch, batches: p.batches,
                                            samplesPerSecond: p.samplesPerSecond, figures: p.figures,
                                            elapsed: p.elapsed, width: Terminal.width - 1)
                console.err("\r\u{1B}[K" + line)
            }
            interpreter.progressEnded = { [console] in console.err("\r\u{1B}[K") }
        }
        interpreter.commandHandler = { [unowned self] name, argument, range in
            try self.runCommand(name, argument, range: range)
        }
    }

    // MARK: Running code

    /// Parses and runs `source`, showing values and reporting errors.
    @discardableResult
    public func run(_ source: Source) -> Outcome {
        let (statements, errors) = Parser.parse(source)
        guard errors.isEmpty else {
            report(errors, in: source)
            return .syntaxError
        }
        Cancellation.reset()
        // The terminal may have been resized since the last cell.
        interpreter.width = Terminal.width
        interpreter.height = writingNotebook ? nil : Terminal.height
        do {
            try interpreter.run(statements, in: source) { value in self.show(value) }
            return .ok
        } catch let e as LangError {
            report([e], in: source)
            return e.kind == .interrupted ? .interrupted : .runtimeError
        } catch is QuitRequest {
            return .quit
        } catch {
            report([LangError.runtime(String(describing: error))], in: source)
            return .runtimeError
        }
    }

    /// Writes a shell command's output, and records it in the cell (for `:save` and notebooks).
    func say(_ text: String, dimmed: Bool = false) {
        console.out(dimmed ? console.dim(text.hasSuffix("\n") ? String(text.dropLast()) : text) + "\n" : text)
        recorder.record(.stream(text))
    }

    func show(_ value: Value) {
        if case .figure(let f) = value, interpreter.display?(.figure(f)) == true { return }
        if let resultHandler {
            resultHandler(value)
            recorder.record(.result(value.display(width: 100), html: value.blocks?.html))
            return
        }
        console.out(value.display(width: Terminal.width, colour: Terminal.imageMode != .plain) + "\n")
        recorder.record(.result(value.display(width: 100), html: value.blocks?.html))
    }

    func report(_ errors: [LangError], in source: Source) {
        for e in errors {
            // A one-line cell typed at the prompt needs no position: the caret shows it.
            let typedLine = source.name.hasPrefix("[") && !source.text.contains("\n") && e.sourceName == source.name
            let text = e.formatted(position: !typedLine)
            console.err(colourise(text) + "\n")
            recorder.record(.error(text))
        }
    }

    private func colourise(_ text: String) -> String {
        guard console.colour, let r = text.range(of: "error:") else { return text }
        return text.replacingCharacters(in: r, with: console.red("error:"))
    }

    /// Exit status of a script run: 0, 1 for a runtime error, 2 for a syntax error.
    public static func status(_ outcome: Outcome) -> Int32 {
        switch outcome {
        case .ok, .quit: 0
        case .syntaxError: 2
        case .runtimeError: 1
        case .interrupted: 130
        }
    }

    /// Reads a script, reporting a missing or unreadable file.
    func readScript(_ path: String) -> String? {
        do {
            let bytes = try FileIO.read(path)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                console.err("\(path): error: the file is not UTF-8 text\n")
                return nil
            }
            return text
        } catch {
            console.err("\(error)\n")
            return nil
        }
    }

    /// Runs a script file; the exit status of `tl FILE`.
    public func runFile(_ path: String) -> Int32 {
        guard let text = readScript(path) else { return 2 }
        return Session.status(run(Source(name: path, text: text)))
    }

    /// Runs a script cell by cell (`# %%` cells, or its statements) and writes it with every
    /// cell's outputs to `output` (.ipynb, .md or .tl). After a runtime error the remaining cells
    /// are written without running; a syntax error anywhere runs nothing.
    public func writeNotebook(script path: String, to output: String) -> Int32 {
        guard let text = readScript(path) else { return 2 }
        writingNotebook = true
        defer { writingNotebook = false }
        let whole = Source(name: path, text: text)
        let (_, errors) = Parser.parse(whole)
        guard errors.isEmpty else {
            report(errors, in: whole)
            return 2
        }
        var outcome = Outcome.ok
        for cell in Cells.split(text, name: path) {
            switch cell.kind {
            case .markdown: recorder.markdown(cell.text)
            case .code where outcome != .ok: recorder.unrun(code: cell.text)
            case .code:
                recorder.begin(code: cell.text)
                outcome = run(Cells.source(of: cell, name: path))
            }
        }
        do {
            try NotebookWriter.write(recorder.cells, to: output)
        } catch {
            console.err("tl: \(error)\n")
            return 1
        }
        return outcome == .quit ? 0 : Session.status(outcome)
    }

    /// Parses a script and resolves its names without running it; reports every error.
    public func check(_ path: String) -> Int32 {
        guard let text = readScript(path) else { return 2 }
        let source = Source(name: path, text: text)
        let (statements, errors) = Parser.parse(source)
        let unresolved = NameResolver.undefinedNames(in: statements, source: source, predefined: Set(interpreter.globals.keys))
        let all = (errors + unresolved).sorted { ($0.range?.start.offset ?? 0) < ($1.range?.start.offset ?? 0) }
        report(all, in: source)
        if !errors.isEmpty { return 2 }
        return unresolved.isEmpty ? 0 : 1
    }
}
