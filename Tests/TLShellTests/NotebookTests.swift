#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import TLShell
import TLEngine

/// Typed lines for the interactive loop.
final class ScriptedReader: LineReader {
    var lines: [String]
    init(_ lines: [String]) { self.lines = lines }
    func readLine(prompt: String) -> LineInput { lines.isEmpty ? .end : .line(lines.removeFirst()) }
    func addHistory(_ entry: String) {}
}

/// Checks a notebook against the rules of nbformat 4.5's schema that tl's output touches (cells with
/// ids, outputs by type), and, where Python's nbformat is installed (scripts/setup --tests installs it), against the
/// schema itself.
func validateNotebook(_ path: String) throws -> [[String: Any]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let parsed = try JSONSerialization.jsonObject(with: data)
    let root = try #require(parsed as? [String: Any])
    #expect(root["nbformat"] as? Int == 4 && root["nbformat_minor"] as? Int == 5)
    #expect(root["metadata"] is [String: Any])
    let cells = try #require(root["cells"] as? [[String: Any]])
    var ids = Set<String>()
    for cell in cells {
        let id = try #require(cell["id"] as? String)
        #expect(id.range(of: "^[a-zA-Z0-9-_]{1,64}$", options: .regularExpression) != nil && ids.insert(id).inserted)
        #expect(cell["metadata"] is [String: Any] && cell["source"] is [String])
        switch cell["cell_type"] as? String {
        case "markdown": #expect(cell["outputs"] == nil)
        case "code":
            #expect(cell.keys.contains("execution_count"))
            for output in try #require(cell["outputs"] as? [[String: Any]]) {
                switch output["output_type"] as? String {
                case "stream": #expect(output["name"] as? String == "stdout" && output["text"] is [String])
                case "execute_result": #expect(output["data"] is [String: Any] && output["execution_count"] is Int && output["metadata"] is [String: Any])
                case "display_data": #expect(output["data"] is [String: Any] && output["metadata"] is [String: Any])
                case "error": #expect(output["ename"] is String && output["evalue"] is String && output["traceback"] is [String])
                default: Issue.record("unknown output type in \(output)")
                }
            }
        default: Issue.record("unknown cell type in \(cell)")
        }
    }
    if let python = nbformatPython {
        let r = try Process.run(python, ["-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], 4))", path])
        #expect(r == 0, "nbformat.validate rejected \(path)")
    }
    return cells
}

/// A Python that can import nbformat, if there is one.
let nbformatPython: String? = {
    for python in ["/usr/bin/python3", "/usr/local/bin/python3"] where access(python, X_OK) == 0 {
        if (try? Process.run(python, ["-c", "import nbformat"])) == 0 { return python }
    }
    return nil
}()

/// A Python that can import nbclient (runs notebooks through a kernel), if there is one.
let nbclientPython: String? = {
    for python in ["/usr/bin/python3", "/usr/local/bin/python3"] where access(python, X_OK) == 0 {
        if (try? Process.run(python, ["-c", "import nbclient, nbformat"])) == 0 { return python }
    }
    return nil
}()

extension Process {
    /// Runs a program quietly and returns its exit status.
    static func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
}

@Suite struct NotebookTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "tl-notebook-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    let script = """
        # %% [markdown]
        # # A title
        # Some *text*.
        # %%
        print("hello")
        1 + 1
        # %%
        d = digits(8, seed=1)
        show(d, n=4)
        plot([1, 4, 9], title="squares")
        # %%
        undefined_name
        # %%
        print("never")

        """

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aScriptBecomesAValidNotebookWithEveryOutput() throws {
        let path = try write("lesson.tl", script)
        let session = Session(console: Capture().console)
        let status = session.writeNotebook(script: path, to: directory + "/lesson.ipynb")
        #expect(status == 1, "the script stops at its runtime error")
        let cells = try validateNotebook(directory + "/lesson.ipynb")
        #expect(cells.map { $0["cell_type"] as? String } == ["markdown", "code", "code", "code", "code"])
        #expect((cells[0]["source"] as? [String]) == ["# A title\n", "Some *text*."])
        func outputs(_ i: Int) -> [[String: Any]] { cells[i]["outputs"] as? [[String: Any]] ?? [] }
        #expect(outputs(1).map { $0["output_type"] as? String } == ["stream", "execute_result"])
        #expect(outputs(1)[0]["text"] as? [String] == ["hello\n"])
        #expect(((outputs(1)[1]["data"] as? [String: Any])?["text/plain"] as? [String]) == ["2"])
        // The images as PNG, the figure as SVG.
        let images = try #require(outputs(2).first?["data"] as? [String: Any])
        let encoded = try #require(images["image/png"] as? String)
        let png = try #require(Data(base64Encoded: encoded))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let figure = try #require(outputs(2).last?["data"] as? [String: Any])
        let svg = (figure["image/svg+xml"] as? [String] ?? []).joined()
        #expect(svg.hasPrefix("<svg") && svg.contains("squares"))
        #expect(svg.hasSuffix("</svg>\n"))
        // The error, then a cell that did not run.
        #expect(outputs(3).first?["output_type"] as? String == "error")
        #expect((outputs(3).first?["evalue"] as? String)?.contains("undefined_name") == true)
        #expect(cells[4]["execution_count"] is NSNull && outputs(4).isEmpty)
    }

    @Test func markdownKeepsFiguresBesideIt() throws {
        let path = try write("md.tl", script)
        let session = Session(console: Capture().console)
        _ = session.writeNotebook(script: path, to: directory + "/md.md")
        let text = try String(contentsOfFile: directory + "/md.md", encoding: .utf8)
        #expect(text.hasPrefix("# A title\nSome *text*.\n\n```tl\nprint(\"hello\")\n1 + 1\n```\n\n```\nhello\n```\n\n```\n2\n```"))
        #expect(text.contains("![squares](md_files/cell3-2.svg)"))
        #expect(FileManager.default.fileExists(atPath: directory + "/md_files/cell3-2.svg"))
        #expect(FileManager.default.fileExists(atPath: directory + "/md_files/cell3-1.png"))
    }

    @Test func saveWritesTheSessionSoFar() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        let out = directory + "/session.ipynb"
        _ = session.interact(reader: ScriptedReader(["x = 2", "x * 21", "print(\"hi\")", ":save " + out, ":save " + directory + "/again.tl"]), banner: false)
        #expect(capture.out.contains("saved 3 cells to \(out)"))
        let cells = try validateNotebook(out)
        #expect(cells.count == 3)
        #expect((cells[1]["outputs"] as? [[String: Any]])?.first?["output_type"] as? String == "execute_result")
        let script = try String(contentsOfFile: directory + "/again.tl", encoding: .utf8)
        #expect(script.hasPrefix("# %%\nx = 2\n# %%\nx * 21\n# %%\nprint(\"hi\")\n# %%\n:save "))
    }

    /// A cell keeps at most 1 MiB of printed text for the notebook, with a note; saving a
    /// session whose outputs would pass the memory budget is an error, and no file appears.
    @Test func printedTextIsBoundedAndSavingChecksTheBudget() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        let out = directory + "/too-big.ipynb"
        let line = "s = \"\"; for i in range(2000) { s = s + \"0123456789\" }; for i in range(100) { print(s) }"
        _ = Memory.withBudget(bytes: 8 << 20) {
            session.interact(reader: ScriptedReader([line, line, line, ":save " + out]), banner: false)
        }
        #expect(capture.out.utf8.count > 3 * 100 * 20_000, "the terminal gets every line")
        let recorded = session.recorder.cells.compactMap { c -> String? in
            if case .stream(let text)? = c.outputs.first { return text }
            return nil
        }
        #expect(recorded.count == 3 && recorded.allSatisfy { $0.utf8.count < (1 << 20) + 100 && $0.hasSuffix(NotebookRecorder.streamElided) })
        #expect(capture.err.contains("too-big.ipynb: cannot be written: its 9 MiB are built in memory first, more than the memory budget of 8 MiB"), "\(capture.err)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func badTargetsAreClearErrors() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        _ = session.interact(reader: ScriptedReader([":save notes.docx", ":save /nonexistent-dir/x.ipynb"]), banner: false)
        #expect(capture.err.contains("a session is saved as .ipynb, .md or .tl, not 'notes.docx'"))
        #expect(capture.err.contains("/nonexistent-dir/x.ipynb: cannot write"))
    }
}
