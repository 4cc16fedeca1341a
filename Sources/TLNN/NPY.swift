import TLEngine

/// NumPy's `.npy` format: magic, version, a Python-literal header dict, then the raw data.
/// Reads float64/32/16, int64/32/16/8, uint8 and bool, either byte order, C or Fortran order;
/// writes float32 (version 1.0, C order).
public enum NPY {
    public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    public static func read(_ path: String) throws -> Tensor { try decode(FileIO.read(path), path: path) }

    public static func decode(_ bytes: [UInt8], path: String) throws -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw FileError(path, bytes.count < 10 ? "truncated: too short for an NPY header" : "not an NPY file (wrong magic bytes)")
        }
        let reader = ByteReader(bytes, path: path)
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(try reader.integer(UInt16.self, at: 8, "the header length"))
            headerStart = 10
        case 2, 3:
            headerLength = Int(try reader.integer(UInt32.self, at: 8, "the header length"))
            headerStart = 12
        default:
            throw FileError(path, "NPY version \(major).\(bytes[7]) is not supported")
        }
        try reader.require(headerLength, at: headerStart, "the header")
        guard let text = String(validating: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self) else {
            throw FileError(path, "the NPY header is not text")
        }
        let header = try HeaderDict(text, path: path)
        let (type, bigEndian) = try elementType(header.descr, path: path)
        let count = try FileIO.elementCount(header.shape, path: path, "shape \(Shape.describe(header.shape))")
        let dataStart = headerStart + headerLength
        let (needed, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow, needed <= bytes.count - dataStart else {
            throw FileError(path, "truncated: shape \(header.shape) of \(header.descr) needs \(needed) bytes of data, the file has \(bytes.count - dataStart)")
        }
        let values = type.decode(bytes, offset: dataStart, count: count, bigEndian: bigEndian)
        if header.fortranOrder && header.shape.count > 1 {
            // Column-major data is the row-major data of the reversed shape, transposed.
            let reversed = try Tensor(shape: header.shape.reversed(), values: values)
            return try reversed.permuted(Array((0..<header.shape.count).reversed())).detached()
        }
        return try Tensor(shape: header.shape, values: values)
    }

    static func elementType(_ descr: String, path: String) throws -> (ElementType, Bool) {
        let codes: [String: ElementType] = [
            "f8": .float64, "f4": .float32, "f2": .float16, "i8": .int64, "i4": .int32, "i2": .int16,
            "i1": .int8, "u1": .uint8, "b1": .bool,
        ]
        guard let order = descr.first, "<>|=".contains(order), let type = codes[String(descr.dropFirst())] else {
            throw FileError(path, "NPY dtype '\(descr)' is not supported (float, int, uint8 and bool arrays are)")
        }
        return (type, order == ">")
    }

    /// The bytes of a float32 C-order `.npy` file.
    public static func encode(_ t: Tensor) -> [UInt8] {
        let dims = t.shape.map(String.init)
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(\(dims.joined(separator: ", ")))"
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
        // Pad so the data starts on a 64-byte boundary, ending the header with a newline.
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var out = magic + [1, 0]
        out.appendLittleEndian(UInt16(header.count))
        out += header
        out.appendElements(of: t, as: .float32)
        return out
    }

    public static func write(_ t: Tensor, to path: String) throws {
        try FileIO.reserve(t.count * 4 + 128, writing: path)
        try FileIO.writeAtomically(encode(t), to: path)
    }
}

/// The header of an NPY file: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
struct HeaderDict {
    var descr = ""
    var fortranOrder = false
    var shape: [Int] = []

    init(_ text: String, path: String) throws {
        var s = Substring(text)
        func skipSpace() { s = s.drop { $0 == " " || $0 == "\n" || $0 == "\t" } }
        func expect(_ c: Character) throws {
            skipSpace()
            guard s.first == c else { throw FileError(path, "malformed NPY header near '\(s.prefix(20))'") }
            s = s.dropFirst()
        }
        func quoted() throws -> String {
            skipSpace()
            guard let q = s.first, q == "'" || q == "\"" else { throw FileError(path, "malformed NPY header: expected a string") }
            s = s.dropFirst()
            guard let end = s.firstIndex(of: q) else { throw FileError(path, "malformed NPY header: unterminated string") }
            defer { s = s[s.index(after: end)...] }
            return String(s[..<end])
        }
        var seen: Set<String> = []
        try expect("{")
        while true {
            skipSpace()
            if s.first == "}" { break }
            let key = try quoted()
            try expect(":")
            skipSpace()
            switch key {
            case "descr":
                descr = try quoted()
            case "fortran_order":
                if s.hasPrefix("True") { fortranOrder = true; s = s.dropFirst(4) } else if s.hasPrefix("False") {
                    s = s.dropFirst(5)
                } else { throw FileError(path, "malformed NPY header: fortran_order must be True or False") }
            case "shape":
                try expect("(")
                while true {
                    skipSpace()
                    if s.first == ")" { s = s.dropFirst(); break }
                    let digits = s.prefix { $0.isASCII && $0.isNumber }
                    guard !digits.isEmpty, digits.count <= 18, let d = Int(digits) else {
                        throw FileError(path, "malformed NPY header: bad dimension in shape")
                    }
                    shape.append(d)
                    s = s.dropFirst(digits.count)
                    skipSpace()
                    if s.first == "," { s = s.dropFirst() }
                }
            default:
                throw FileError(path, "malformed NPY header: unknown key '\(key)'")
            }
            seen.insert(key)
            skipSpace()
            if s.first == "," { s = s.dropFirst() }
        }
        guard seen.isSuperset(of: ["descr", "fortran_order", "shape"]) else {
            throw FileError(path, "malformed NPY header: needs descr, fortran_order and shape")
        }
    }
}
