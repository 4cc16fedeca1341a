#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

/// A file that could not be read or written, or whose contents are malformed.
public struct FileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// Whole-file reads and atomic writes with errors that name the file.
public enum FileIO {
    /// The largest file read into memory at once.
    public static let maxReadBytes = 1 << 34

    /// Reads a regular file.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(path, "cannot read: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileError(path, (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory, not a file" : "is not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= maxReadBytes else { throw FileError(path, "is \(size) bytes, more than tl reads at once") }
        try checkBudget(size, path: path, "is")
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < size {
                try Cancellation.check("after reading \(Memory.describe(done)) of \(Memory.describe(size))")
                let n = Glibc.read(fd, buffer.baseAddress! + done, Swift.min(size - done, 1 << 26))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw FileError(path, "read failed after \(done) of \(size) bytes") }
                done += n
            }
        }
        return bytes
    }

    /// Refuses, before anything is allocated, to hold more bytes than the memory budget.
    public static func checkBudget(_ bytes: Int, path: String, _ what: String) throws {
        do { try Memory.reserve(bytes, for: "load") } catch let e as MemoryError { throw overBudget(e, path: path, what) }
    }

    /// "`what` 20 MiB, more than the memory budget of 16 MiB (TL_MEMORY_BUDGET sets it)".
    static func overBudget(_ e: MemoryError, path: String, _ what: String) -> FileError {
        FileError(path, "\(what) \(Memory.describe(e.asked)), \(e.reason) (TL_MEMORY_BUDGET sets it)")
    }

    /// The number of values a file's `shape` declares, checked before anything is allocated:
    /// `what` ("shape 3×4", "entry 'w' has shape 3×4") is too large, or over the memory budget.
    public static func elementCount(_ shape: [Int], path: String, _ what: String) throws -> Int {
        do {
            return try Shape.count(shape, op: "load")
        } catch TensorError.overBudget(_, let elements) {
            let e = MemoryError(op: "load", asked: elements * MemoryLayout<Float>.stride, held: nil, budget: Memory.budgetBytes)
            throw overBudget(e, path: path, "\(what) loads as fp32 into")
        } catch let e as MemoryError {
            throw overBudget(e, path: path, "\(what) loads as fp32 into")
        } catch {
            throw FileError(path, "\(what) is too large to load")
        }
    }

    /// Checks, before a file's bytes are built in memory, that the memory budget can hold them.
    public static func reserve(_ bytes: Int, writing path: String) throws {
        do { try Memory.reserve(bytes, for: "save") } catch let e as MemoryError {
            throw FileError(path, "cannot be written: its \(Memory.describe(bytes)) are built in memory first, \(e.reason) (TL_MEMORY_BUDGET sets it)")
        }
    }

    /// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it into
    /// place, so that `path` holds either its old contents or the new ones, never a part.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path, "cannot write: \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            var done = 0
            try bytes.withUnsafeBytes { buffer in
                while done < bytes.count {
                    let n = write(fd, buffer.baseAddress! + done, bytes.count - done)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw FileError(path, "write failed: \(String(cString: strerror(errno)))") }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw FileError(path, "cannot flush to disk: \(String(cString: strerror(errno)))") }
        }
        guard rename(temporary, path) == 0 else {
            throw FileError(path, "cannot replace: \(String(cString: strerror(errno)))")
        }
        ok = true
    }

    /// Creates a directory and any missing parents (mkdir -p).
    public static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            try makeDirectory(prefix)
            prefix += "/"
        }
    }

    /// Creates a directory if it is not there yet.
    public static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) == 0 || errno == EEXIST {
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw FileError(path, "exists and is not a directory") }
            return
        }
        throw FileError(path, "cannot create the directory: \(String(cString: strerror(errno)))")
    }
}

/// Little-endian reads from a byte array with bounds checks that throw.
struct ByteReader {
    let bytes: [UInt8]
    let path: String
    var offset = 0

    init(_ bytes: [UInt8], path: String, offset: Int = 0) {
        (self.bytes, self.path, self.offset) = (bytes, path, offset)
    }

    func require(_ n: Int, at position: Int, _ what: String) throws {
        guard n >= 0, position >= 0, position <= bytes.count, n <= bytes.count - position else {
            throw FileError(path, "truncated: \(what) needs \(n) bytes at offset \(position), the file has \(bytes.count)")
        }
    }

    func integer<T: FixedWidthInteger>(_: T.Type, at position: Int, _ what: String) throws -> T {
        try require(MemoryLayout<T>.size, at: position, what)
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(bytes[position + i]) << (8 * i) }
        return v
    }

    mutating func next<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        let v = try integer(type, at: offset, what)
        offset += MemoryLayout<T>.size
        return v
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ v: T) {
        for i in 0..<MemoryLayout<T>.size { append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
}
