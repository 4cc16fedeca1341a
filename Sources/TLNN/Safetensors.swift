import Foundation
import TLEngine

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each
/// name to its dtype, shape and byte range, then the raw little-endian data.
///
/// Reading checks the header against the file before allocating anything: the header length,
/// each range inside the data, and each shape's size against its range.
public enum Safetensors {
    /// The format's own limit on the JSON header.
    public static let maxHeaderBytes = 100_000_000

    static let typeCodes: [String: ElementType] = [
        "F64": .float64, "F32": .float32, "F16": .float16, "BF16": .bfloat16, "I64": .int64,
        "I32": .int32, "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    /// Tensors of a file, in the order of their data, with the file's `__metadata__`.
    public static func read(_ path: String) throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        try decode(FileIO.read(path), path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws
        -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String])
    {
        let reader = ByteReader(bytes, path: path)
        let headerLength = try reader.integer(UInt64.self, at: 0, "the header length")
        guard headerLength <= UInt64(maxHeaderBytes), Int(headerLength) <= bytes.count - 8 else {
            throw FileError(path, "not a safetensors file or truncated: the header claims \(headerLength) bytes, the file has \(bytes.count)")
        }
        let dataStart = 8 + Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
        } catch {
            throw FileError(path, "the safetensors header is not valid JSON")
        }
        guard let header = json as? [String: Any] else {
            throw FileError(path, "the safetensors header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [(name: String, type: ElementType, shape: [Int], begin: Int, end: Int)] = []
        let dataLength = bytes.count - dataStart
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw FileError(path, "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let code = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any], let offsets = info["data_offsets"] as? [Any],
                  offsets.count == 2
            else { throw FileError(path, "entry '\(name)' lacks a dtype, shape or data_offsets") }
            guard let type = typeCodes[code] else {
                throw FileError(path, "entry '\(name)' has dtype \(code), which tl does not read")
            }
            let shape = try shapeValues.map { try exactInt($0, path: path, what: "a dimension of '\(name)'") }
            let begin = try exactInt(offsets[0], path: path, what: "an offset of '\(name)'")
            let end = try exactInt(offsets[1], path: path, what: "an offset of '\(name)'")
            let count = try FileIO.elementCount(shape, path: path, "entry '\(name)' of shape \(Shape.describe(shape))")
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw FileError(path, "entry '\(name)' claims bytes \(begin)..<\(end) but the data section has \(dataLength)")
            }
            guard end - begin == count * type.size else {
                throw FileError(path, "entry '\(name)' has \(end - begin) bytes for shape \(shape) of \(code) (\(count * type.size) expected)")
            }
            entries.append((name, type, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        let tensors = try entries.map { e in
            let values = e.type.decode(bytes, offset: dataStart + e.begin, count: Shape.product(e.shape))
            return (e.name, try Tensor(shape: e.shape, values: values))
        }
        return (tensors, metadata)
    }

    private static func exactInt(_ value: Any, path: String, what: String) throws -> Int {
        guard let n = value as? NSNumber, let i = Int(exactly: n.doubleValue) else { throw FileError(path, "\(what) is not an integer") }
        return i
    }

    /// The bytes of a safetensors file holding `tensors` in the given order.
    public static func encode(_ tensors: [(name: String, tensor: Tensor, type: StoredType)],
                              metadata: [String: String] = [:]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            parts.append("\"__metadata__\":{\(m.joined(separator: ","))}")
        }
        var offset = 0
        for (name, t, type) in tensors {
            let size = t.count * (type == .float32 ? 4 : 8)
            let shape = t.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(name)):{\"dtype\":\"\(type == .float32 ? "F32" : "I64")\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        out.appendLittleEndian(UInt64(header.count))
        out += header
        for (_, t, type) in tensors { out.appendElements(of: t, as: type) }
        return out
    }

    public static func write(_ tensors: [(name: String, tensor: Tensor, type: StoredType)],
                             metadata: [String: String] = [:], to path: String) throws {
        try FileIO.reserve(tensors.reduce(1024) { $0 + $1.tensor.count * ($1.type == .float32 ? 4 : 8) + 128 }, writing: path)
        try FileIO.writeAtomically(encode(tensors, metadata: metadata), to: path)
    }

    /// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
