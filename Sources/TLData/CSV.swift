import TLEngine
import TLNN

/// Comma-separated values with a header row: the column named `label` holds class ids (integers
/// 0..k−1) or class names; every other column is a numeric feature.
public enum CSV {
    /// Reads a CSV file. Without a column named `label` the data is unlabelled, unless the
    /// column was asked for explicitly (`required`).
    public static func load(_ path: String, label: String? = "label", required: Bool = false) throws -> Dataset {
        let bytes = try FileIO.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw FileError(path, "is not UTF-8 text") }
        return try parse(text, path: path, label: label, required: required)
    }

    /// Splits one line into fields, honouring double quotes ("a,b" and "" inside quotes).
    static func fields(_ line: Substring, path: String, line number: Int) throws -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if quoted {
                if c == "\"" {
                    let next = line.index(after: i)
                    if next < line.endIndex, line[next] == "\"" { field.append("\""); i = next } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
            i = line.index(after: i)
        }
        guard !quoted else { throw FileError(path, "line \(number): a quoted field is not closed") }
        fields.append(field)
        return fields.map { $0.trimmingSpaces }
    }

    public static func parse(_ text: String, path: String, label: String? = "label", required: Bool = false) throws -> Dataset {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.allSatisfy({ $0 == " " }) { lines.removeLast() }
        guard let headerLine = lines.first else { throw FileError(path, "is empty; a CSV file needs a header row") }
        let header = try fields(headerLine, path: path, line: 1)
        let labelColumn = label.flatMap { header.firstIndex(of: $0) }
        if let label, labelColumn == nil, required {
            throw FileError(path, "has no column named '\(label)' (columns: \(header.prefix(8).joined(separator: ", "))\(header.count > 8 ? ", …" : "")); pass label= to name the label column")
        }
        let featureColumns = header.indices.filter { $0 != labelColumn }
        guard !featureColumns.isEmpty else { throw FileError(path, "has no feature columns besides the label") }
        var values: [Float] = []
        var rawLabels: [String] = []
        var rows = 0
        for (k, line) in lines.enumerated().dropFirst() {
            if line.allSatisfy({ $0 == " " }) { continue }
            let cells = try fields(line, path: path, line: k + 1)
            guard cells.count == header.count else {
                throw FileError(path, "line \(k + 1) has \(cells.count) fields, the header has \(header.count)")
            }
            for c in featureColumns {
                guard let v = Float(cells[c]), cells[c].allSatisfy({ !$0.isWhitespace }) else {
                    throw FileError(path, "line \(k + 1), column \(c + 1) ('\(header[c])'): '\(cells[c])' is not a number")
                }
                values.append(v)
            }
            if let labelColumn { rawLabels.append(cells[labelColumn]) }
            rows += 1
        }
        let x = try Tensor(shape: [rows, featureColumns.count], values: values)
        guard labelColumn != nil else {
            return try Dataset(name: path.fileName, x: x, y: nil, classes: [])
        }
        // Integer labels 0..k−1 keep their ids; anything else (names, negative or huge numbers)
        // becomes class names, sorted — numerically when they are all integers.
        let ints = rawLabels.compactMap { Int($0) }
        if ints.count == rawLabels.count, let top = ints.max(), ints.allSatisfy({ $0 >= 0 }), top < Dataset.maxClasses {
            return try Dataset(name: path.fileName, x: x, y: ints, classes: (0...top).map(String.init))
        }
        let names = ints.count == rawLabels.count
            ? Array(Set(ints)).sorted().map(String.init) : Array(Set(rawLabels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return try Dataset(name: path.fileName, x: x, y: rawLabels.map { index[$0] ?? 0 }, classes: names)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }

    /// The last path component without its extension.
    var fileName: String {
        let base = split(separator: "/").last.map(String.init) ?? self
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }
}
