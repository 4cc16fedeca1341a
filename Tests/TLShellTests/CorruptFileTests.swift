#if canImport(Glibc)
import Glibc
#endif
import Testing
import TLEngine
@testable import TLNN
import TLLang
@testable import TLShell

/// The corrupt-file corpus: every format `load` reads, truncated, oversized, lying about its
/// sizes, with the wrong element type, empty, or a directory where a file was expected. Each goes
/// through `load` in a session under a 16 MiB memory budget and must end in an error naming the
/// file and the problem — the budget shows that nothing large was allocated first — after which
/// the session still has what was bound before.
@Suite(.serialized) struct CorruptFileTests {
    /// A case: file name in the corpus directory, contents (nil: a directory), what the error says.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]?
        let problem: String
        var testDescription: String { name }
    }

    static let directory = "/tmp/tl-corrupt-\(getpid())"
    static let budget = 16 << 20

    static func npy(_ header: String, data: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
        var out = NPY.magic + [1, 0]
        out.appendLittleEndian(UInt16(header.utf8.count))
        return out + Array(header.utf8) + data
    }

    static func safetensors(_ header: String, data: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLittleEndian(UInt64(header.utf8.count))
        return out + Array(header.utf8) + data
    }

    static func idx(type: UInt8, dims: [UInt32], data: [UInt8]) -> [UInt8] {
        [0, 0, type, UInt8(dims.count)] + dims.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * $0)) } } + data
    }

    /// An NPZ whose first central-directory entry claims `size` uncompressed bytes.
    static func lyingArchive(size: UInt32) throws -> [UInt8] {
        var bytes = try FileIO.read(packageRoot + "/Tests/Fixtures/compressed.npz")
        guard let entry = (0..<(bytes.count - 4)).first(where: { bytes[$0..<($0 + 4)] == [0x50, 0x4B, 0x01, 0x02] }) else {
            throw FileError("compressed.npz", "has no central directory")
        }
        for k in 0..<4 { bytes[entry + 24 + k] = UInt8(truncatingIfNeeded: size >> (8 * k)) }
        return bytes
    }

    static let cases: [Case] = {
        let goodNPY = NPY.encode(Tensor((0..<64).map(Float.init)))
        let goodNPZ = (try? NPZ.encode([("x", Tensor((0..<64).map(Float.init)))])) ?? []
        let goodIDX = idx(type: 0x08, dims: [6], data: [1, 2, 3, 4, 5, 6])
        let labels = { (y: [Float]) in (try? NPZ.encode([("x", Tensor([1, 1, 1, 1])), ("y", Tensor(y))])) ?? [] }
        let st = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        var petabyteHeader: [UInt8] = []
        petabyteHeader.appendLittleEndian(UInt64(1) << 50)
        return [
            Case(name: "empty.npy", bytes: [], problem: "truncated"),
            Case(name: "cut.npy", bytes: Array(goodNPY.dropLast(5)), problem: "truncated"),
            Case(name: "header-only.npy", bytes: Array(goodNPY.prefix(12)), problem: "truncated"),
            Case(name: "text.npy", bytes: Array("this is not numpy data".utf8), problem: "wrong magic"),
            Case(name: "huge.npy", bytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"), problem: "too large"),
            Case(name: "overflow.npy", bytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"), problem: "too large"),
            Case(name: "petabytes.npy", bytes: npy("{'descr': '<f8', 'fortran_order': False, 'shape': (140737488355328,), }"), problem: "too large"),
            Case(name: "claims-more.npy", bytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }"), problem: "truncated"),
            Case(name: "complex.npy", bytes: npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"), problem: "not supported"),
            Case(name: "objects.npy", bytes: npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"), problem: "not supported"),
            Case(name: "negative.npy", bytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }"), problem: "malformed"),
            Case(name: "empty.npz", bytes: [], problem: "not a zip"),
            Case(name: "cut.npz", bytes: Array(goodNPZ.dropLast(30)), problem: "not a zip"),
            Case(name: "text.npz", bytes: Array(String(repeating: "not a zip archive ", count: 4).utf8), problem: "not a zip"),
            Case(name: "bomb.npz", bytes: try? lyingArchive(size: 0xFFFF_FF00), problem: "claims"),
            Case(name: "inf-labels.npz", bytes: labels([0, .infinity]), problem: "'y' must hold one class id"),
            Case(name: "huge-labels.npz", bytes: labels([0, 1e12]), problem: "'y' must hold one class id"),
            Case(name: "empty.safetensors", bytes: [], problem: "truncated"),
            Case(name: "petabytes.safetensors", bytes: petabyteHeader + Array("{}".utf8), problem: "header claims"),
            Case(name: "outside.safetensors", bytes: safetensors(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#), problem: "claims bytes"),
            Case(name: "backwards.safetensors", bytes: safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#), problem: "claims bytes"),
            Case(name: "overflow.safetensors", bytes: safetensors(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#), problem: "too large"),
            Case(name: "complex.safetensors", bytes: safetensors(#"{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), problem: "dtype C64"),
            Case(name: "not-json.safetensors", bytes: safetensors("{\"w\": [1, 2"), problem: "not valid JSON"),
            Case(name: "cut.safetensors", bytes: Array(safetensors(st).dropLast(2)), problem: "claims bytes"),
            Case(name: "empty-ubyte", bytes: [], problem: "wrong magic"),
            Case(name: "cut-ubyte", bytes: Array(goodIDX.dropLast(2)), problem: "truncated"),
            Case(name: "huge-ubyte", bytes: idx(type: 0x08, dims: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], data: [1]), problem: "too large"),
            Case(name: "kind-ubyte", bytes: idx(type: 0x42, dims: [1], data: [1]), problem: "unknown"),
            Case(name: "corrupt-ubyte.gz", bytes: [0x1F, 0x8B, 8, 0] + Array(repeating: 0xAB, count: 40), problem: "corrupt or truncated gzip"),
            Case(name: "empty.csv", bytes: [], problem: "is empty"),
            Case(name: "words.csv", bytes: Array("a,label\n1,0\nseven,1\n".utf8), problem: "'seven' is not a number"),
            Case(name: "ragged.csv", bytes: Array("a,b,label\n1,2,0\n1,2\n".utf8), problem: "line 3 has 2 fields"),
            Case(name: "quote.csv", bytes: Array("a,label\n\"1,0\n".utf8), problem: "not closed"),
            Case(name: "binary.csv", bytes: [0xFF, 0xFE, 0x00, 0x41, 0x80, 0x0A], problem: "UTF-8"),
            Case(name: "directory.npy", bytes: nil, problem: "is a directory, not a file"),
            Case(name: "not-mnist", bytes: nil, problem: "has no train-images"),
            Case(name: "truncated-big.npy", bytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }"), problem: "truncated"),
        ]
    }()

    /// Writes a corpus file (nil: a directory) for `body`, and removes it afterwards (the suite
    /// is serialized, so the directory is removed too).
    static func withFile(_ name: String, _ bytes: [UInt8]?, _ body: (String) throws -> Void) throws {
        _ = mkdir(directory, 0o755)
        let path = directory + "/" + name
        if let bytes { try FileIO.writeAtomically(bytes, to: path) } else { _ = mkdir(path, 0o755) }
        defer {
            _ = bytes == nil ? rmdir(path) : unlink(path)
            rmdir(directory)
        }
        try body(path)
    }

    /// Loads `path` in a session holding a binding; the error must name the file and `problem`.
    func expectRefused(_ path: String, _ problem: String, budget: Int = budget,
                       sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let capture = Capture()
        let session = Session(console: capture.console)
        #expect(session.run(Source(name: "t", text: "kept = 7")) == .ok)
        let outcome = Memory.withBudget(bytes: budget) { session.run(Source(name: "t", text: "d = load(\"\(path)\")")) }
        #expect(outcome == .runtimeError, "\(path) was accepted", sourceLocation: sourceLocation)
        #expect(capture.err.contains(path) && capture.err.contains(problem),
                "the error names \(path) and '\(problem)': \(capture.err)", sourceLocation: sourceLocation)
        #expect(session.run(Source(name: "t", text: "print(kept)")) == .ok)
        #expect(capture.out.hasSuffix("7\n"), "the session goes on", sourceLocation: sourceLocation)
    }

    @Test(arguments: cases)
    func corruptFilesAreRefusedByName(_ c: Case) throws {
        #expect(c.name != "bomb.npz" || c.bytes != nil, "the archive fixture is there")
        try Self.withFile(c.name, c.bytes) { expectRefused($0, c.problem) }
    }

    /// Files that are fine but larger than the budget — raw, gzipped, or bytes that become four
    /// times as large as fp32 — are refused before their data is read or converted.
    @Test func filesBeyondTheBudgetAreRefusedBeforeReading() throws {
        try Self.withFile("big.npy", NPY.encode(Tensor.zeros([5 << 20]))) {
            expectRefused($0, "is 20 MiB, more than the memory budget of 16 MiB")
        }
        let bytes = Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (\(5 << 20),), }", data: Array(repeating: 1, count: 5 << 20))
        try Self.withFile("bytes.npy", bytes) { expectRefused($0, "loads as fp32 into 20 MiB, more than the memory budget") }
        // 20 MiB of zeros gzip to about 20 KiB: the limit holds while decompressing.
        try Self.withFile("big-ubyte", Self.idx(type: 0x08, dims: [20 << 20], data: Array(repeating: 0, count: 20 << 20))) { path in
            let gzip = try Run(["-c", "gzip -f '\(path)'"], executable: "/bin/sh")
            defer { unlink(path + ".gz") }
            try #require(gzip.status == 0, "gzip is there: \(gzip.err)")
            expectRefused(path + ".gz", "decompresses to more than 16 MiB")
            // Within the budget the same file loads.
            let capture = Capture()
            let session = Session(console: capture.console)
            #expect(session.run(Source(name: "t", text: "print(load(\"\(path).gz\").shape)")) == .ok)
            #expect(capture.out == "[20971520]\n", "\(capture.err)")
        }
    }

    @Test func devicesAndMissingFilesAreRefused() {
        expectRefused("/dev/null", "not a regular file")
        expectRefused(Self.directory + "/missing.npy", "cannot open")
    }

    /// A CSV label column of huge integers (found by the fuzzer: the class list was sized by the
    /// largest id) is read as class names instead.
    @Test func hugeIntegerLabelsBecomeClassNames() throws {
        try Self.withFile("ids.csv", Array("a,label\n1,4000000000000001\n2,7\n3,7\n".utf8)) { path in
            let capture = Capture()
            let session = Session(console: capture.console)
            #expect(session.run(Source(name: "t", text: "d = load(\"\(path)\"); print(d.classes, d.y)")) == .ok, "\(capture.err)")
            #expect(capture.out == "[\"7\", \"4000000000000001\"] [1, 0, 0]\n", "\(capture.err)")
        }
    }
}
