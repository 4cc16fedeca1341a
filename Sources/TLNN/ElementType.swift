import TLEngine

/// Element types found in weight and array files, converted to fp32 on reading.
public enum ElementType: String, CaseIterable, Sendable {
    case float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    public var size: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// Converts `count` little-endian (or, with `bigEndian`, big-endian) elements at `offset`.
    func decode(_ bytes: [UInt8], offset: Int, count: Int, bigEndian: Bool = false) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        guard count > 0 else { return out }
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + offset
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
                let v = (base + i * MemoryLayout<T>.size).loadUnaligned(as: T.self)
                return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
            }
            for i in 0..<count {
                switch self {
                case .float32: out[i] = Float(bitPattern: load(UInt32.self, i))
                case .float64: out[i] = Float(Double(bitPattern: load(UInt64.self, i)))
                case .float16: out[i] = Float(Float16(bitPattern: load(UInt16.self, i)))
                case .bfloat16: out[i] = Float(bitPattern: UInt32(load(UInt16.self, i)) << 16)
                case .int64: out[i] = Float(load(Int64.self, i))
                case .int32: out[i] = Float(load(Int32.self, i))
                case .int16: out[i] = Float(load(Int16.self, i))
                case .int8: out[i] = Float(Int8(bitPattern: base.load(fromByteOffset: i, as: UInt8.self)))
                case .uint8: out[i] = Float(base.load(fromByteOffset: i, as: UInt8.self))
                case .bool: out[i] = base.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0
                }
            }
        }
        return out
    }
}

extension Array where Element == UInt8 {
    /// Appends a tensor's elements as little-endian float32, or as int64 (rounded) when asked.
    mutating func appendElements(of t: Tensor, as type: StoredType) {
        t.withUnsafeBufferPointer { p in
            switch type {
            case .float32:
                reserveCapacity(count + p.count * 4)
                for v in p { appendLittleEndian(v.bitPattern) }
            case .int64:
                for v in p { appendLittleEndian(Int64(v.isFinite ? v.rounded() : 0)) }
            }
        }
    }
}
