#if canImport(Glibc)
import Foundation
import Glibc
#endif
import Testing
@testable import TLData
@testable import TLEngine
@testable import TLNN

let fixtures: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)
    return parts.joined(separator: "/") + "/Fixtures"
}()

func expectError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error mentioning '\(fragment)'", sourceLocation: sourceLocation)
    } catch {
        #expect("\(error)".contains(fragment), "\(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct LoaderTests {
    @Test func csvWithNumericAndNamedLabels() throws {
        let d = try CSV.parse("a,label,b\n1,0,2\n3,1,4.5\n\n", path: "t.csv")
        #expect(d.x == (try Tensor(shape: [2, 2], values: [1, 2, 3, 4.5])))
        #expect(d.y == [0, 1] && d.classes == ["0", "1"])
        let named = try CSV.parse("x,kind\n0.5,\"cat, big\"\n1,dog\n2,\"cat, big\"\r\n", path: "t.csv", label: "kind")
        #expect(named.classes == ["cat, big", "dog"] && named.y == [0, 1, 0])
        let unlabelled = try CSV.parse("f1,f2\n1,2\n", path: "t.csv")
        #expect(!unlabelled.isLabelled && unlabelled.x.shape == [1, 2])
    }

    @Test func malformedCSVNamesLineAndColumn() {
        expectError("line 3, column 2 ('b'): 'x' is not a number") { _ = try CSV.parse("a,b,label\n1,2,0\n3,x,1\n", path: "t.csv") }
        expectError("line 2 has 2 fields, the header has 3") { _ = try CSV.parse("a,b,label\n1,2\n", path: "t.csv") }
        expectError("no column named 'kind'") { _ = try CSV.parse("a,b,c\n1,2,3\n", path: "t.csv", label: "kind", required: true) }
        // A label column named with other capitals, and a column of names read as features without
        // label=, each say what to pass.
        expectError("has no column named 'Kind' (columns: a, kind); did you mean label=\"kind\"?") {
            _ = try CSV.parse("a,kind\n1,cat\n", path: "t.csv", label: "Kind", required: true)
        }
        expectError("'setosa' is not a number; if 'species' holds the classes, load(…, label=\"species\")") {
            _ = try CSV.parse("a,species\n1,setosa\n", path: "t.csv")
        }
        expectError("is empty") { _ = try CSV.parse("", path: "t.csv") }
        expectError("not closed") { _ = try CSV.parse("a,label\n\"1,0\n", path: "t.csv") }
    }

    @Test func mnistDirectoryPlainAndGzipped() throws {
        guard case .dataset(let d) = try DataFiles.load(fixtures + "/mnist-mini") else {
            Issue.record("a directory of IDX files is a dataset")
            return
        }
        #expect(d.x.shape == [10, 1, 28, 28])
        #expect(d.y == [5, 0, 4, 1, 9, 2, 7, 2, 1, 0])
        #expect(d.x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(d.x.scalars.suffix(784).allSatisfy { $0 == 1 }, "the gzipped test images are white")
        guard case .tensor(let labels) = try DataFiles.load(fixtures + "/mnist-mini/t10k-labels-idx1-ubyte.gz") else {
            Issue.record("one IDX file is a tensor")
            return
        }
        #expect(labels.scalars == [7, 2, 1, 0])
    }

    @Test func malformedIDX() throws {
        expectError("wrong magic") { _ = try IDX.decode([1, 2, 3, 4, 5], path: "f") }
        expectError("truncated") { _ = try IDX.decode([0, 0, 8, 2, 0, 0, 0, 3], path: "f") }
        expectError("too large") { _ = try IDX.decode([0, 0, 8, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1], path: "f") }
        expectError("need 6 bytes") { _ = try IDX.decode([0, 0, 8, 1, 0, 0, 0, 6, 1, 2], path: "f") }
        expectError("unknown") { _ = try IDX.decode([0, 0, 0x42, 1, 0, 0, 0, 1, 1], path: "f") }
        let good = try FileIO.read(fixtures + "/mnist-mini/train-labels-idx1-ubyte")
        for cut in 0..<good.count { #expect(throws: FileError.self) { _ = try IDX.decode(Array(good[0..<cut]), path: "f") } }
        expectError("has no train-images") { _ = try IDX.loadDirectory("/tmp") }
    }

    /// A folder that is neither an image folder nor MNIST's files: the error names both readings
    /// and what the folder does hold (data files to load one by one, images without class folders).
    @Test func aFolderOfOtherFilesSaysWhatToLoad() throws {
        let dir = "/tmp/tl-not-a-data-folder-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/a.csv", contents: Data("x,label\n1,0\n".utf8))
        expectError("one sub-folder per class, or as MNIST's four files") { _ = try DataFiles.load(dir) }
        expectError("it holds a.csv — load one of them") { _ = try DataFiles.load(dir) }
        FileManager.default.createFile(atPath: dir + "/b.png", contents: Data([0x89, 0x50, 0x4E, 0x47]))
        expectError("holds 1 image (b.png) but no class folders") { _ = try DataFiles.load(dir) }
    }

    @Test func datasetsRoundTripThroughNPZ() throws {
        let d = try Digits.generate(count: 12, style: .usps, seed: 2)
        let path = "/tmp/tl-data-\(getpid()).npz"
        defer { unlink(path) }
        try DataFiles.save(d, to: path)
        guard case .dataset(let back) = try DataFiles.load(path) else {
            Issue.record("an NPZ with x and y loads as a dataset")
            return
        }
        #expect(back.x == d.x && back.y == d.y)
        #expect(try DataFormat.detect(path) == .npz)
    }

    @Test func formatsAreDetectedFromMagicBytes() throws {
        let path = "/tmp/tl-detect-\(getpid())"
        defer { unlink(path) }
        try NPY.write(Tensor([1, 2]), to: path)
        #expect(try DataFormat.detect(path) == .npy)
        try Safetensors.write([("w", Tensor([1]), .float32)], to: path)
        #expect(try DataFormat.detect(path) == .safetensors)
        try FileIO.writeAtomically(Array("a,label\n1,0\n".utf8), to: path)
        #expect(try DataFormat.detect(path) == .csv)
    }
}
