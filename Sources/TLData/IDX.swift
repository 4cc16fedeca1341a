#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import Foundation
import TLEngine
import TLNN

/// The IDX format of the MNIST files: a magic number giving the element type and rank, big-endian
/// dimensions, then the data. Gzipped files (`.gz`) are read too.
public enum IDX {
    public static func read(_ path: String) throws -> Tensor {
        try decode(file: FileIO.read(path), path: path)
    }

    /// The bytes of an IDX file as read from disk: gzipped or not.
    public static func decode(file bytes: [UInt8], path: String) throws -> Tensor {
        let plain = bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B ? try gunzip(bytes, path: path) : bytes
        return try decode(plain, path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> Tensor {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw FileError(path, "not an IDX file (wrong magic bytes)") }
        let type: (size: Int, read: (Int) -> Float)
        func be<T: FixedWidthInteger>(_: T.Type, _ at: Int) -> T {
            var v: T = 0
            for k in 0..<MemoryLayout<T>.size { v = v << 8 | T(bytes[at + k]) }
            return v
        }
        switch bytes[2] {
        case 0x08: type = (1, { Float(bytes[$0]) })
        case 0x09: type = (1, { Float(Int8(bitPattern: bytes[$0])) })
        case 0x0B: type = (2, { Float(Int16(bitPattern: be(UInt16.self, $0))) })
        case 0x0C: type = (4, { Float(Int32(bitPattern: be(UInt32.self, $0))) })
        case 0x0D: type = (4, { Float(bitPattern: be(UInt32.self, $0)) })
        case 0x0E: type = (8, { Float(Double(bitPattern: be(UInt64.self, $0))) })
        default: throw FileError(path, "IDX element type 0x\(String(bytes[2], radix: 16)) is unknown")
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else { throw FileError(path, "truncated: the IDX header needs \(4 + 4 * rank) bytes") }
        let shape = (0..<rank).map { Int(be(UInt32.self, 4 + 4 * $0)) }
        let count = try FileIO.elementCount(shape, path: path, "IDX dimensions \(Shape.describe(shape))")
        let start = 4 + 4 * rank
        guard bytes.count - start >= count * type.size else {
            throw FileError(path, "truncated: dimensions \(Shape.describe(shape)) need \(count * type.size) bytes of data, the file has \(bytes.count - start)")
        }
        let values = (0..<count).map { type.read(start + $0 * type.size) }
        return try Tensor(shape: shape, values: values)
    }

    /// Decompresses a gzip file, up to what is left of the memory budget.
    static func gunzip(_ input: [UInt8], path: String) throws -> [UInt8] {
        let limit = Swift.min(Swift.max(0, Memory.budgetBytes - Memory.heldBytes), FileIO.maxReadBytes)
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FileError(path, "cannot start decompression")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var source = input
        var status: Int32 = Z_OK
        var stopped = false
        source.withUnsafeMutableBufferPointer { inp in
            stream.next_in = inp.baseAddress
            stream.avail_in = uInt(inp.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                output += chunk[0..<produced]
                // Ctrl-C is looked at every 16 MiB of output.
                if output.count % (1 << 24) < produced, Cancellation.isRequested { stopped = true }
            } while status == Z_OK && output.count <= limit && !stopped
        }
        if stopped { try Cancellation.check("after decompressing \(Memory.describe(output.count))") }
        if status == Z_OK, output.count > limit {
            throw FileError(path, "decompresses to more than \(Memory.describe(limit)), what is left of the memory budget of \(Memory.describe(Memory.budgetBytes)) (TL_MEMORY_BUDGET sets it)")
        }
        guard status == Z_STREAM_END else { throw FileError(path, "is a corrupt or truncated gzip file") }
        return output
    }

    /// Why a folder given to `load` is not one: it is read as an image folder (a sub-folder of
    /// images per class) or as MNIST's four files; the files it does hold say what to do instead.
    static func notADataFolder(_ directory: String, missing stem: String) -> String {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        let data = files.filter { name in [".csv", ".npy", ".npz", ".safetensors"].contains { name.lowercased().hasSuffix($0) } }
        let images = files.filter { name in [".png", ".jpg", ".jpeg"].contains { name.lowercased().hasSuffix($0) } }
        let kinds = "a folder is read as images in one sub-folder per class, or as MNIST's four files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)"
        func some(_ names: [String]) -> String { names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "") }
        if !images.isEmpty {
            return "holds \(images.count) image\(images.count == 1 ? "" : "s") (\(some(images))) but no class folders: \(kinds); put each class's images in a folder named after it, or load one image"
        }
        if !data.isEmpty { return "has no \(stem): \(kinds); it holds \(some(data)) — load one of them" }
        return "has no \(stem): \(kinds)"
    }

    /// MNIST's four files in a directory (plain or gzipped), training set then test set, as one
    /// dataset of 1×28×28 images in [0, 1].
    public static func loadDirectory(_ directory: String) throws -> Dataset {
        func find(_ stem: String) throws -> String {
            for name in [stem, stem + ".gz", stem.replacingDash(), stem.replacingDash() + ".gz"] {
                let p = directory + "/" + name
                if access(p, R_OK) == 0 { return p }
            }
            throw FileError(directory, notADataFolder(directory, missing: stem))
        }
        var parts: [Dataset] = []
        for prefix in ["train", "t10k"] {
            let images = try read(find("\(prefix)-images-idx3-ubyte"))
            let labels = try read(find("\(prefix)-labels-idx1-ubyte"))
            guard images.rank == 3, labels.rank == 1, images.shape[0] == labels.shape[0] else {
                throw FileError(directory, "\(prefix) images \(Shape.describe(images.shape)) and labels \(Shape.describe(labels.shape)) do not match")
            }
            let x = try (images.reshaped([images.shape[0], 1, images.shape[1], images.shape[2]]) / 255).detached()
            guard let y = Dataset.classIDs(labels.scalars), y.allSatisfy({ (0..<10).contains($0) }) else { throw FileError(directory, "\(prefix) labels must be digits 0–9") }
            parts.append(try Dataset(name: "mnist", domain: "file", x: x, y: y, classes: (0..<10).map(String.init)))
        }
        return try Dataset.merge(parts[0], parts[1])
    }
}

extension String {
    /// `train-images-idx3-ubyte` → `train-images.idx3-ubyte` (the other common spelling).
    func replacingDash() -> String {
        guard let r = self.range(of: "-idx") else { return self }
        return self[..<r.lowerBound] + "." + self[self.index(after: r.lowerBound)...]
    }
}
