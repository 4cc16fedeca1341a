import TLEngine
import TLNN

/// Comma-separated values with a header row: the column named `label` holds class ids (integers
/// 0..k−1) or class names; every other column is a numeric feature.
public enum CSV {
    /// Reads a CSV file. Without a column named `label` the data is unlabelled, unless the
    /// column was asked for explicitly (`required`).
    public static func load(_ path: String, label: String? = "label", required: Bool = false) throws -> Dataset {
        let bytes = try FileIO.read(path)
        guard String(validating: bytes, as: UTF8.self) != nil else { throw FileError(path, "is not UTF-8 text") }
        return try parse(bytes: bytes, path: path, label: label, required: required)
    }

    public static func parse(_ text: String, path: String, label: String? = "label", required: Bool = false) throws -> Dataset {
        try parse(bytes: Array(text.utf8), path: path, label: label, required: required)
    }

    /// The lines of a text: byte ranges without their `\n` or `\r\n`; trailing blank lines dropped.
    static func lines(_ bytes: [UInt8]) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            lines.append(start..<(i > start && bytes[i - 1] == 0x0D ? i - 1 : i))
            start = i + 1
        }
        lines.append(start..<bytes.count)
        while let last = lines.last, isBlank(bytes[last]) { lines.removeLast() }
        return lines
    }

    static func isBlank(_ line: ArraySlice<UInt8>) -> Bool { line.allSatisfy { $0 == 0x20 } }

    /// Splits one line into fields, honouring double quotes ("a,b" and "" inside quotes); spaces
    /// and tabs around a field are dropped.
    static func fields(_ line: ArraySlice<UInt8>, path: String, line number: Int) throws -> [String] {
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var i = line.startIndex
        func finish() {
            var lo = field.startIndex, hi = field.endIndex
            while lo < hi, field[lo] == 0x20 || field[lo] == 0x09 { lo += 1 }
            while hi > lo, field[hi - 1] == 0x20 || field[hi - 1] == 0x09 { hi -= 1 }
            fields.append(String(decoding: field[lo..<hi], as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        while i < line.endIndex {
            let c = line[i]
            if quoted {
                if c == 0x22 {
                    if i + 1 < line.endIndex, line[i + 1] == 0x22 { field.append(0x22); i += 1 } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == 0x22 {
                quoted = true
            } else if c == 0x2C {
                finish()
            } else {
                field.append(c)
            }
            i += 1
        }
        guard !quoted else { throw FileError(path, "line \(number): a quoted field is not closed") }
        finish()
        return fields
    }

    static func parse(bytes: [UInt8], path: String, label: String?, required: Bool) throws -> Dataset {
        let lines = Self.lines(bytes)
        guard let headerLine = lines.first else {
            throw FileError(path, "is empty; a CSV file needs a header row")
        }
        let header = try fields(bytes[headerLine], path: path, line: 1)
        let labelColumn = label.flatMap { header.firstIndex(of: $0) }
        if let label, labelColumn == nil, required {
            let close = header.first { $0.lowercased() == label.lowercased() }
            throw FileError(path, "has no column named '\(label)' (columns: \(header.prefix(8).joined(separator: ", "))\(header.count > 8 ? ", …" : ""))"
                            + (close.map { "; did you mean label=\"\($0)\"?" } ?? ""))
        }
        let featureColumns = header.indices.filter { $0 != labelColumn }
        guard !featureColumns.isEmpty else { throw FileError(path, "has no feature columns besides the label") }
        var values: [Float] = []
        var rawLabels: [String] = []
        var rows = 0
        values.reserveCapacity((lines.count - 1) * featureColumns.count)
        for (k, range) in lines.enumerated().dropFirst() {
            let line = bytes[range]
            if isBlank(line) { continue }
            if k % 4096 == 0 { try Cancellation.check("at line \(k + 1) of \(lines.count)") }
            let cells = try fields(line, path: path, line: k + 1)
            guard cells.count == header.count else {
                throw FileError(path, "line \(k + 1) has \(cells.count) fields, the header has \(header.count)")
            }
            for c in featureColumns {
                guard let v = Float(cells[c]), cells[c].utf8.allSatisfy({ $0 > 0x20 }) else {
                    // Without a label column, a column of names is most likely the classes.
                    let hint = labelColumn == nil && !cells[c].isEmpty && Float(cells[c]) == nil
                        ? "; if '\(header[c])' holds the classes, load(…, label=\"\(header[c])\")" : ""
                    throw FileError(path, "line \(k + 1), column \(c + 1) ('\(header[c])'): '\(cells[c])' is not a number\(hint)")
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
        if ints.count == rawLabels.count {
            if let top = ints.max(), ints.allSatisfy({ $0 >= 0 }), top < Dataset.maxClasses {
                return try Dataset(name: path.fileName, x: x, y: ints, classes: (0...top).map(String.init))
            }
            let ids = Array(Set(ints)).sorted()
            let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            return try Dataset(name: path.fileName, x: x, y: ints.map { index[$0] ?? 0 }, classes: ids.map(String.init))
        }
        let names = Array(Set(rawLabels)).sorted()
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
