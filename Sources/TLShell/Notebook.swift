import TLEngine
import TLLang
import TLNN
import TLRender

/// What running a cell produced, in order.
public enum NotebookOutput {
    /// Printed text.
    case stream(String)
    /// A statement's shown value, as text, and as HTML where it has tables (a model).
    case result(String, html: String?)
    /// Text with tables (`show` of a report or a history).
    case blocks([Block])
    case figure(Figure)
    case images(Tensor, labels: [String])
    /// An error, formatted as the terminal shows it.
    case error(String)
}

/// One cell of a session or script with its outputs.
public struct NotebookCell {
    public var kind: Cell.Kind
    public var source: String
    /// nil: not run (a Markdown cell, or code after an error).
    public var executionCount: Int?
    public var outputs: [NotebookOutput] = []

    public init(kind: Cell.Kind, source: String, executionCount: Int?, outputs: [NotebookOutput] = []) {
        (self.kind, self.source, self.executionCount, self.outputs) = (kind, source, executionCount, outputs)
    }
}

/// Collects cells and their outputs while a session runs: what `:save` and `--notebook` write.
public final class NotebookRecorder {
    public private(set) var cells: [NotebookCell] = []
    private var executed = 0

    public init() {}

    /// Starts a code cell; outputs go to it until the next one starts.
    func begin(code: String) {
        executed += 1
        cells.append(NotebookCell(kind: .code, source: code, executionCount: executed))
    }

    func markdown(_ text: String) { cells.append(NotebookCell(kind: .markdown, source: text, executionCount: nil)) }

    func unrun(code: String) { cells.append(NotebookCell(kind: .code, source: code, executionCount: nil)) }

    /// `cells` with every code cell that failed turned into a Markdown cell quoting its code and
    /// error: a saved session then runs from top to bottom, and still shows what went wrong.
    static func runnable(_ cells: [NotebookCell]) -> [NotebookCell] {
        cells.map { c in
            guard c.kind == .code, let error = c.outputs.lazy.compactMap({ o -> String? in
                if case .error(let text) = o { return text }
                return nil
            }).first else { return c }
            let text = "This cell failed when the session ran; it is kept as text, not run:\n\n```tl\n\(c.source)\n```\n\n```\n\(error)\n```"
            return NotebookCell(kind: .markdown, source: text, executionCount: nil)
        }
    }

    /// The most printed text a cell keeps for the notebook: a loop that prints millions of lines
    /// shows them all in the terminal, but the session does not hold them all for `:save`.
    static let streamLimit = 1 << 20
    static let streamElided = "\n[… printed text past 1 MiB is not kept in the notebook]\n"

    func record(_ output: NotebookOutput) {
        guard !cells.isEmpty, cells[cells.count - 1].kind == .code else { return }
        let last = cells.count - 1
        guard case .stream(let more) = output else {
            cells[last].outputs.append(output)
            return
        }
        // Consecutive printed text is one stream, as Jupyter shows it, appended in place.
        var text = ""
        if case .stream(let previous)? = cells[last].outputs.last {
            text = previous
            cells[last].outputs.removeLast()
        }
        Self.append(more, to: &text)
        cells[last].outputs.append(.stream(text))
    }

    /// Appends printed text up to `streamLimit`, then a note that the rest was not kept.
    static func append(_ more: String, to text: inout String) {
        guard !text.hasSuffix(streamElided) else { return }
        let room = streamLimit - text.utf8.count
        if more.utf8.count <= room {
            text += more
        } else {
            text += String(decoding: more.utf8.prefix(Swift.max(0, room)), as: UTF8.self) + streamElided
        }
    }
}

/// Writers of recorded cells: Jupyter notebooks (nbformat 4.5), Markdown, and plain scripts.
public enum NotebookWriter {
    /// About the most memory writing `cells` takes: the document is built as a tree, then as text,
    /// then as bytes (three copies), figures as SVG (about 100 bytes a point), images as PNG.
    static func estimatedBytes(_ cells: [NotebookCell]) -> Int {
        let text = cells.reduce(0) { sum, c in
            sum + c.source.utf8.count + c.outputs.reduce(0) { sum, o in
                switch o {
                case .stream(let t), .error(let t): return sum + t.utf8.count
                case .result(let t, let html): return sum + t.utf8.count + (html?.utf8.count ?? 0)
                case .blocks(let blocks): return sum + blocks.count * 4096
                case .figure(let f): return sum + f.series.reduce(4096) { $0 + 100 * $1.x.count }
                case .images(let images, _): return sum + images.count * 4
                }
            }
        }
        return 3 * text
    }

    /// The notebook as JSON text, keys sorted and indented as Jupyter writes them.
    public static func ipynb(_ cells: [NotebookCell]) -> String {
        let json: JSON = .object([
            ("cells", .array(cells.enumerated().map { cell($0.element, index: $0.offset) })),
            ("metadata", .object([
                ("kernelspec", .object([("display_name", .string("tl")), ("language", .string("tl")), ("name", .string("tl"))])),
                ("language_info", .object([("file_extension", .string(".tl")), ("mimetype", .string("text/x-tl")), ("name", .string("tl"))])),
            ])),
            ("nbformat", .number(4)),
            ("nbformat_minor", .number(5)),
        ])
        return json.render(indent: 0) + "\n"
    }

    static func cell(_ c: NotebookCell, index: Int) -> JSON {
        let id = JSON.string("cell-\(index + 1)")
        switch c.kind {
        case .markdown:
            return .object([("cell_type", .string("markdown")), ("id", id), ("metadata", .object([])), ("source", lines(c.source))])
        case .code:
            return .object([
                ("cell_type", .string("code")),
                ("execution_count", c.executionCount.map { .number(Double($0)) } ?? .null),
                ("id", id), ("metadata", .object([])),
                ("outputs", .array(c.outputs.map { output($0, count: c.executionCount) })),
                ("source", lines(c.source)),
            ])
        }
    }

    static func output(_ o: NotebookOutput, count: Int?) -> JSON {
        switch o {
        case .stream(let text):
            return .object([("name", .string("stdout")), ("output_type", .string("stream")), ("text", lines(text))])
        case .result(let text, let html):
            return .object([("data", .object((html.map { [("text/html", lines($0))] } ?? []) + [("text/plain", lines(text))])),
                            ("execution_count", count.map { .number(Double($0)) } ?? .null),
                            ("metadata", .object([])), ("output_type", .string("execute_result"))])
        case .blocks(let blocks):
            return .object([("data", .object([("text/html", lines(blocks.html)), ("text/plain", lines(blocks.text))])),
                            ("metadata", .object([])), ("output_type", .string("display_data"))])
        case .figure(let f):
            return .object([("data", .object([("image/svg+xml", lines(FigureSVG.render(f))), ("text/plain", lines(f.summary))])),
                            ("metadata", .object([])), ("output_type", .string("display_data"))])
        case .images(let images, let labels):
            var data: [(String, JSON)] = []
            if let png = ImageText.png(images) { data.append(("image/png", .string(Base64.encode(png)))) }
            let caption = labels.isEmpty ? "\(images.shape.first ?? 0) images" : labels.joined(separator: " ")
            data.append(("text/plain", lines(caption)))
            return .object([("data", .object(data)), ("metadata", .object([])), ("output_type", .string("display_data"))])
        case .error(let text):
            let first = text.split(separator: "\n").first.map(String.init) ?? text
            let message = first.range(of: "error: ").map { String(first[$0.upperBound...]) } ?? first
            return .object([("ename", .string("Error")), ("evalue", .string(message)), ("output_type", .string("error")),
                            ("traceback", .array(text.split(separator: "\n", omittingEmptySubsequences: false).map { .string(String($0)) }))])
        }
    }

    /// Jupyter's multi-line text: a list of lines, each but the last ending in a newline.
    static func lines(_ text: String) -> JSON {
        var parts: [JSON] = []
        var current = ""
        for ch in text {
            current.append(ch)
            if ch == "\n" { parts.append(.string(current)); current = "" }
        }
        if !current.isEmpty { parts.append(.string(current)) }
        return .array(parts)
    }

    /// The cells as Markdown: Markdown cells as they are, code in ```tl fences, text outputs in
    /// plain fences, figures and images as files in `assets` (name → bytes) linked from the text.
    public static func markdown(_ cells: [NotebookCell], assetDirectory: String) -> (text: String, assets: [(name: String, bytes: [UInt8])]) {
        var parts: [String] = []
        var assets: [(name: String, bytes: [UInt8])] = []
        for (index, c) in cells.enumerated() {
            switch c.kind {
            case .markdown:
                parts.append(c.source)
            case .code:
                parts.append("```tl\n" + c.source + "\n```")
                for o in c.outputs {
                    switch o {
                    case .stream(let text), .result(let text, _), .error(let text):
                        var body = text
                        while body.hasSuffix("\n") { body.removeLast() }
                        if !body.isEmpty { parts.append("```\n" + body + "\n```") }
                    case .blocks(let blocks):
                        parts.append("```\n" + blocks.text + "\n```")
                    case .figure(let f):
                        let name = "cell\(index + 1)-\(assets.count + 1).svg"
                        assets.append((name, Array(FigureSVG.render(f).utf8)))
                        parts.append("![\(f.title.isEmpty ? "figure" : f.title)](\(assetDirectory)/\(name))")
                    case .images(let images, let labels):
                        guard let png = ImageText.png(images) else { continue }
                        let name = "cell\(index + 1)-\(assets.count + 1).png"
                        assets.append((name, png))
                        parts.append("![\(labels.joined(separator: " "))](\(assetDirectory)/\(name))")
                    }
                }
            }
        }
        return (parts.joined(separator: "\n\n") + "\n", assets)
    }

    /// The cells as a script in the percent format (`# %%` code cells, `# %% [markdown]` text).
    public static func script(_ cells: [NotebookCell]) -> String {
        cells.map { c in
            switch c.kind {
            case .code: return "# %%\n" + c.source
            case .markdown: return "# %% [markdown]\n" + c.source.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n")
            }
        }.joined(separator: "\n") + "\n"
    }

    /// Writes `cells` to `path` in the format its extension names (.ipynb, .md, .tl); a Markdown
    /// file's figures go to a `NAME_files` directory beside it. Every file is written atomically.
    public static func write(_ cells: [NotebookCell], to path: String) throws {
        try FileIO.reserve(estimatedBytes(cells), writing: path)
        let lower = path.lowercased()
        if lower.hasSuffix(".ipynb") {
            try FileIO.writeAtomically(Array(ipynb(cells).utf8), to: path)
        } else if lower.hasSuffix(".md") {
            let stem = String(path.dropLast(3))
            let directory = stem + "_files"
            let base = directory.split(separator: "/").last.map(String.init) ?? directory
            let (text, assets) = markdown(cells, assetDirectory: base)
            if !assets.isEmpty { try FileIO.makeDirectory(directory) }
            for asset in assets { try FileIO.writeAtomically(asset.bytes, to: directory + "/" + asset.name) }
            try FileIO.writeAtomically(Array(text.utf8), to: path)
        } else if lower.hasSuffix(".tl") {
            try FileIO.writeAtomically(Array(script(cells).utf8), to: path)
        } else {
            throw NotebookError(description: "a session is saved as .ipynb, .md or .tl, not '\(path)'")
        }
    }
}

struct NotebookError: Error, CustomStringConvertible {
    let description: String
}

/// A JSON value written with keys in the order given (tl sorts them as Jupyter does).
indirect enum JSON {
    case null
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    func render(indent: Int) -> String {
        let pad = String(repeating: " ", count: indent), inner = String(repeating: " ", count: indent + 1)
        switch self {
        case .null: return "null"
        case .number(let x): return x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : "\(x)"
        case .string(let s): return JSON.quote(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { inner + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n" + pad + "]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            return "{\n" + fields.map { inner + JSON.quote($0.0) + ": " + $0.1.render(indent: indent + 1) }.joined(separator: ",\n") + "\n" + pad + "}"
        }
    }

    static func quote(_ s: String) -> String { Safetensors.jsonString(s) }
}
