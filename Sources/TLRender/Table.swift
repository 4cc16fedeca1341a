/// A plain-text table with a header row and columns padded to their widest cell.
public struct Table {
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

    public enum Alignment { case left, right }

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
