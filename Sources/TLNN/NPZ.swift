import CZlib
import TLEngine

/// NumPy's `.npz`: a zip archive of `.npy` members. Reads stored and deflated members (from
/// `savez` and `savez_compressed`, including their ZIP64 fields); writes stored members.
public enum NPZ {
    public static func read(_ path: String) throws -> [(name: String, tensor: Tensor)] {
        try decode(FileIO.read(path), path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> [(name: String, tensor: Tensor)] {
        try ZipArchive.members(bytes, path: path).map { name, data in
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            return (key, try NPY.decode(data, path: "\(path)[\(name)]"))
        }
    }

    public static func encode(_ arrays: [(name: String, tensor: Tensor)]) throws -> [UInt8] {
        try ZipArchive.storing(arrays.map { ($0.name + ".npy", NPY.encode($0.tensor)) })
    }

    public static func write(_ arrays: [(name: String, tensor: Tensor)], to path: String) throws {
        // Each member's bytes, then the archive holding them: twice the data at the peak.
        try FileIO.reserve(arrays.reduce(0) { $0 + 2 * ($1.tensor.count * 4 + 256) }, writing: path)
        do {
            try FileIO.writeAtomically(encode(arrays), to: path)
        } catch let e as ZipArchive.TooLarge {
            throw FileError(path, e.description)
        }
    }
}

/// The parts of the zip format that NPZ files use.
enum ZipArchive {
    struct TooLarge: Error, CustomStringConvertible {
        var description: String { "the archive would exceed 4 GiB, which tl's NPZ writer does not support" }
    }

    /// Every member's name and uncompressed bytes, in central-directory order.
    static func members(_ bytes: [UInt8], path: String) throws -> [(String, [UInt8])] {
        let r = ByteReader(bytes, path: path)
        // The end-of-central-directory record sits within the last 22 + 65535 bytes.
        guard bytes.count >= 22 else { throw FileError(path, "not a zip/NPZ file (too short)") }
        var eocd = -1
        var i = bytes.count - 22
        while i >= Swift.max(0, bytes.count - 22 - 65_535) {
            if bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 5 && bytes[i + 3] == 6 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw FileError(path, "not a zip/NPZ file (no end-of-archive record)") }
        var entries = Int(try r.integer(UInt16.self, at: eocd + 10, "the entry count"))
        var directory = Int(try r.integer(UInt32.self, at: eocd + 16, "the directory offset"))
        if entries == 0xFFFF || directory == 0xFFFF_FFFF {
            // ZIP64: the locator before the record points at the 64-bit record.
            let locator = eocd - 20
            guard locator >= 0, try r.integer(UInt32.self, at: locator, "the ZIP64 locator") == 0x0706_4B50 else {
                throw FileError(path, "malformed ZIP64 archive")
            }
            let record = Int(clamping: try r.integer(UInt64.self, at: locator + 8, "the ZIP64 record offset"))
            guard try r.integer(UInt32.self, at: record, "the ZIP64 record") == 0x0606_4B50 else {
                throw FileError(path, "malformed ZIP64 archive")
            }
            entries = Int(clamping: try r.integer(UInt64.self, at: record + 32, "the entry count"))
            directory = Int(clamping: try r.integer(UInt64.self, at: record + 48, "the directory offset"))
        }
        guard entries <= bytes.count / 46 else { throw FileError(path, "the archive claims \(entries) members, more than fit in it") }

        var result: [(String, [UInt8])] = []
        var at = directory
        for _ in 0..<entries {
            guard try r.integer(UInt32.self, at: at, "a directory entry") == 0x0201_4B50 else {
                throw FileError(path, "corrupt zip directory at offset \(at)")
            }
            let method = try r.integer(UInt16.self, at: at + 10, "the compression method")
            let crc = try r.integer(UInt32.self, at: at + 16, "the checksum")
            var compressed = Int(try r.integer(UInt32.self, at: at + 20, "the compressed size"))
            var size = Int(try r.integer(UInt32.self, at: at + 24, "the size"))
            let nameLength = Int(try r.integer(UInt16.self, at: at + 28, "the name length"))
            let extraLength = Int(try r.integer(UInt16.self, at: at + 30, "the extra length"))
            let commentLength = Int(try r.integer(UInt16.self, at: at + 32, "the comment length"))
            var local = Int(try r.integer(UInt32.self, at: at + 42, "the member offset"))
            try r.require(nameLength + extraLength, at: at + 46, "a member name")
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extra field: 64-bit values for whichever fields hold 0xFFFFFFFF, in this order.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try r.integer(UInt16.self, at: extra, "an extra field")
                let length = Int(try r.integer(UInt16.self, at: extra + 2, "an extra field"))
                if id == 1 {
                    var field = extra + 4
                    func next() throws -> Int {
                        defer { field += 8 }
                        return Int(clamping: try r.integer(UInt64.self, at: field, "a ZIP64 field"))
                    }
                    if size == 0xFFFF_FFFF { size = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if local == 0xFFFF_FFFF { local = try next() }
                }
                extra += 4 + length
            }
            at = extraEnd + commentLength

            guard try r.integer(UInt32.self, at: local, "a member header") == 0x0403_4B50 else {
                throw FileError(path, "corrupt member header for \(name)")
            }
            let localName = Int(try r.integer(UInt16.self, at: local + 26, "a member header"))
            let localExtra = Int(try r.integer(UInt16.self, at: local + 28, "a member header"))
            let start = local + 30 + localName + localExtra
            try r.require(compressed, at: start, "member \(name)")
            let raw = Array(bytes[start..<(start + compressed)])
            let data: [UInt8]
            switch method {
            case 0:
                guard compressed == size else { throw FileError(path, "member \(name) has inconsistent sizes") }
                data = raw
            case 8:
                data = try inflate(raw, size: size, path: path, name: name)
            default:
                throw FileError(path, "member \(name) uses zip compression method \(method); only stored and deflate are read")
            }
            guard checksum(data) == crc else { throw FileError(path, "member \(name) is corrupt (checksum mismatch)") }
            result.append((name, data))
        }
        return result
    }

    /// Raw DEFLATE decompression to exactly `size` bytes.
    static func inflate(_ input: [UInt8], size: Int, path: String, name: String) throws -> [UInt8] {
        // DEFLATE expands at most about 1032:1; a larger claim is a corrupt or hostile header.
        guard size <= input.count * 1032 + 64, size <= FileIO.maxReadBytes else {
            throw FileError(path, "member \(name) claims \(size) bytes from \(input.count) compressed")
        }
        try FileIO.checkBudget(size, path: path, "member \(name) unpacks to")
        var output = [UInt8](repeating: 0, count: Swift.max(size, 1))
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FileError(path, "cannot start decompression")
        }
        defer { inflateEnd(&stream) }
        var mutableInput = input
        var status: Int32 = Z_OK
        var done = 0
        // In steps of 16 MiB of output, so that Ctrl-C is noticed during a large member.
        while status == Z_OK {
            try Cancellation.check("after unpacking \(Memory.describe(done)) of \(name)")
            let step = Swift.min(size - done, 1 << 24)
            status = mutableInput.withUnsafeMutableBufferPointer { inp in
                output.withUnsafeMutableBufferPointer { out in
                    stream.next_in = inp.baseAddress! + Int(stream.total_in)
                    stream.avail_in = uInt(Swift.min(inp.count - Int(stream.total_in), Int(UInt32.max)))
                    stream.next_out = out.baseAddress! + done
                    stream.avail_out = uInt(step)
                    return CZlib.inflate(&stream, step == size - done ? Z_FINISH : Z_NO_FLUSH)
                }
            }
            let produced = Int(stream.total_out) - done
            done = Int(stream.total_out)
            if status == Z_OK, produced == 0 { break }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw FileError(path, "member \(name) is corrupt (decompression failed)")
        }
        if size == 0 { output = [] }
        return output
    }

    static func checksum(_ data: [UInt8]) -> UInt32 {
        data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    /// A zip archive of stored (uncompressed) members.
    static func storing(_ members: [(String, [UInt8])]) throws -> [UInt8] {
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for (name, data) in members {
            let nameBytes = Array(name.utf8)
            guard out.count + data.count < 0xFFFF_FFFF, data.count < 0xFFFF_FFFF else { throw TooLarge() }
            let crc = checksum(data)
            let offset = UInt32(out.count)
            // Local header: version 2.0, no flags, stored, fixed DOS time (1980-01-01) for reproducible files.
            out.appendLittleEndian(UInt32(0x0403_4B50))
            for v: UInt16 in [20, 0, 0, 0, 0x21] { out.appendLittleEndian(v) }
            out.appendLittleEndian(crc)
            out.appendLittleEndian(UInt32(data.count))
            out.appendLittleEndian(UInt32(data.count))
            out.appendLittleEndian(UInt16(nameBytes.count))
            out.appendLittleEndian(UInt16(0))
            out += nameBytes
            out += data
            directory.appendLittleEndian(UInt32(0x0201_4B50))
            for v: UInt16 in [20, 20, 0, 0, 0, 0x21] { directory.appendLittleEndian(v) }
            directory.appendLittleEndian(crc)
            directory.appendLittleEndian(UInt32(data.count))
            directory.appendLittleEndian(UInt32(data.count))
            directory.appendLittleEndian(UInt16(nameBytes.count))
            for v: UInt16 in [0, 0, 0, 0] { directory.appendLittleEndian(v) }  // extra, comment, disk, attributes
            directory.appendLittleEndian(UInt32(0o100644) << 16)  // external attributes: a regular file
            directory.appendLittleEndian(offset)
            directory += nameBytes
        }
        guard members.count < 0xFFFF, out.count + directory.count < 0xFFFF_FFFF else { throw TooLarge() }
        let directoryOffset = UInt32(out.count)
        out += directory
        out.appendLittleEndian(UInt32(0x0605_4B50))
        out.appendLittleEndian(UInt16(0))
        out.appendLittleEndian(UInt16(0))
        out.appendLittleEndian(UInt16(members.count))
        out.appendLittleEndian(UInt16(members.count))
        out.appendLittleEndian(UInt32(directory.count))
        out.appendLittleEndian(directoryOffset)
        out.appendLittleEndian(UInt16(0))
        return out
    }
}
