/// A plain-text table with a header row and columns padded to their widest cell.
public struct Table: Sendable {
    /// 12345 → "12,345": thousands grouped, as tables and progress lines show counts.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    public enum Alignment: Sendable { case left, right }

    public var headers: [String]
    public var rows: [[String]]
    public var alignments: [Alignment]

    public init(headers: [String], rows: [[String]], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.rows = rows
        self.alignments = alignments ?? headers.map { _ in .left }
    }

    /// The table as lines of text. With `width`, a last column that would run past it wraps by
    /// words onto continuation lines under itself (never narrower than 20 characters).
    public func render(indent: String = "", width: Int? = nil) -> String {
        let columns = headers.count
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.prefix(columns).enumerated() { widths[i] = Swift.max(widths[i], cell.count) }
        }
        let lastStart = indent.count + widths.dropLast().reduce(0) { $0 + $1 + 2 }
        if let width, columns > 0, lastStart + widths[columns - 1] > width {
            widths[columns - 1] = Swift.max(20, width - lastStart)
        }
        func wrapped(_ cell: String, _ limit: Int) -> [String] {
            var lines: [String] = [], line = ""
            for word in cell.split(separator: " ") {
                if !line.isEmpty && line.count + 1 + word.count > limit {
                    lines.append(line)
                    line = ""
                }
                line += (line.isEmpty ? "" : " ") + word
            }
            return lines + [line]
        }
        func line(_ cells: [String]) -> String {
            let last = columns > 0 && columns - 1 < cells.count ? cells[columns - 1] : ""
            let tail = wrapped(last, widths[columns - 1])
            let padded = (0..<columns).map { i -> String in
                let cell = i == columns - 1 ? tail[0] : (i < cells.count ? cells[i] : "")
                let gap = String(repeating: " ", count: Swift.max(0, widths[i] - cell.count))
                return alignments[i] == .right ? gap + cell : (i == columns - 1 ? cell : cell + gap)
            }
            var text = indent + padded.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            let continuation = String(repeating: " ", count: lastStart)
            return ([text] + tail.dropFirst().map { continuation + $0 }).joined(separator: "\n")
        }
        let rule = indent + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")
        return ([line(headers), rule] + rows.map(line)).joined(separator: "\n")
    }
}

extension Table {
    /// The table as HTML, for notebooks: a header row, then the rows, numbers aligned right.
    public func html() -> String {
        func cells(_ row: [String], _ tag: String) -> String {
            row.enumerated().map { i, cell in
                let align = i < alignments.count && alignments[i] == .right ? " style=\"text-align: right\"" : " style=\"text-align: left\""
                return "<\(tag)\(align)>\(HTML.escape(cell))</\(tag)>"
            }.joined()
        }
        return "<table>\n<thead><tr>" + cells(headers, "th") + "</tr></thead>\n<tbody>\n"
            + rows.map { "<tr>" + cells($0, "td") + "</tr>\n" }.joined() + "</tbody>\n</table>"
    }
}

/// Text and tables in order: what a model, a report or a history shows, as plain text for the
/// terminal and as HTML for notebooks.
public enum Block: Sendable {
    case text(String)
    case table(Table)
}

extension Array where Element == Block {
    /// The blocks as the terminal shows them, one after the other.
    public var text: String {
        map { block in
            switch block {
            case .text(let t): t
            case .table(let t): t.render()
            }
        }.joined(separator: "\n")
    }

    /// The blocks as HTML: text as preformatted lines, tables as tables.
    public var html: String {
        map { block in
            switch block {
            case .text(let t): t.isEmpty ? "" : "<pre>" + HTML.escape(t) + "</pre>"
            case .table(let t): t.html()
            }
        }.joined(separator: "\n")
    }
}

/// Escaping for HTML tables and SVG figures.
public enum HTML {
    /// `s` with &, <, > and quotes escaped.
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
