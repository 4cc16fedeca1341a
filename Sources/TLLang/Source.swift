/// A position in a source text: 1-based line and column (in Unicode scalars), and offset.
public struct SourceLocation: Equatable, Comparable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        (self.line, self.column, self.offset) = (line, column, offset)
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool { a.offset < b.offset }
    public var description: String { "\(line):\(column)" }
}

/// The span of a token or syntax node, end exclusive.
public struct SourceRange: Equatable, Sendable {
    public var start: SourceLocation
    public var end: SourceLocation

    public init(_ start: SourceLocation, _ end: SourceLocation) {
        (self.start, self.end) = (start, end)
    }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(Swift.min(start, other.start), Swift.max(end, other.end))
    }
}

/// A named text that statements are parsed from: a script, a cell, a line typed at the prompt.
public struct Source: Sendable {
    /// What errors call it: a file path, or `[3]` for the third cell at the prompt.
    public let name: String
    public let text: String
    let scalars: [Unicode.Scalar]
    /// Where each line starts (scalar offsets), so that an error's line is found without a scan.
    let lineStarts: [Int]

    public init(name: String, text: String) {
        self.name = name
        self.text = text
        let scalars = Array(text.unicodeScalars)
        self.scalars = scalars
        lineStarts = [0] + scalars.indices.filter { scalars[$0] == "\n" }.map { $0 + 1 }
    }

    /// The text of a 1-based line, without its newline.
    public func line(_ number: Int) -> String {
        guard number >= 1, number <= lineStarts.count else { return "" }
        let start = lineStarts[number - 1]
        let end = number < lineStarts.count ? lineStarts[number] - 1 : scalars.count
        return String(String.UnicodeScalarView(scalars[start..<end]))
    }

    /// The text covered by `range`.
    public func text(_ range: SourceRange) -> String {
        let lo = Swift.max(0, Swift.min(range.start.offset, scalars.count))
        let hi = Swift.max(lo, Swift.min(range.end.offset, scalars.count))
        return String(String.UnicodeScalarView(scalars[lo..<hi]))
    }
}
