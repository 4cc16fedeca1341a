import Testing
@testable import TLEngine
@testable import TLNN

/// Corrupt, truncated and hostile files end in a `FileError` naming the problem, never a trap or
/// a huge allocation.
@Suite struct MalformedFileTests {
    func safetensors(header: String, data: [UInt8] = []) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLittleEndian(UInt64(header.utf8.count))
        return out + Array(header.utf8) + data
    }

    func expectFileError(_ contains: String, _ body: () throws -> Void,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected an error mentioning '\(contains)'", sourceLocation: sourceLocation)
        } catch let e as FileError {
            #expect(e.description.contains(contains), "\(e)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func hostileSafetensors() throws {
        let good = try FileIO.read(Fixtures.path("model.safetensors"))
        expectFileError("truncated") { _ = try Safetensors.decode([1, 2, 3], path: "f") }
        expectFileError("header claims") {
            var petabytes: [UInt8] = []
            petabytes.appendLittleEndian(UInt64(1) << 50)
            _ = try Safetensors.decode(petabytes + [0x7B, 0x7D], path: "f")
        }
        expectFileError("not valid JSON") { _ = try Safetensors.decode(safetensors(header: "{oops"), path: "f") }
        expectFileError("not a JSON object") { _ = try Safetensors.decode(safetensors(header: "[1]"), path: "f") }
        expectFileError("claims bytes") {
            _ = try Safetensors.decode(safetensors(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#), path: "f")
        }
        expectFileError("too large") {
            let h = #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#
            _ = try Safetensors.decode(safetensors(header: h, data: [0, 0, 0, 0]), path: "f")
        }
        expectFileError("expected") {
            _ = try Safetensors.decode(safetensors(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), path: "f")
        }
        expectFileError("dtype C64") {
            _ = try Safetensors.decode(safetensors(header: #"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), path: "f")
        }
        expectFileError("not an integer") {
            _ = try Safetensors.decode(safetensors(header: #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), path: "f")
        }
        expectFileError("lacks") { _ = try Safetensors.decode(safetensors(header: #"{"a":{"dtype":"F32"}}"#), path: "f") }
        // Every truncation of a good file fails cleanly.
        for cut in stride(from: 0, to: good.count - 1, by: 97) {
            #expect(throws: FileError.self) { _ = try Safetensors.decode(Array(good[0..<cut]), path: "f") }
        }
    }

    @Test func hostileNumpyFiles() throws {
        let good = try FileIO.read(Fixtures.path("f4.npy"))
        expectFileError("wrong magic") { _ = try NPY.decode(Array("hello world, not numpy".utf8), path: "f") }
        expectFileError("truncated") { _ = try NPY.decode(Array(good[0..<8]), path: "f") }
        expectFileError("truncated") { _ = try NPY.decode(Array(good[0..<(good.count - 1)]), path: "f") }
        func npy(_ header: String) -> [UInt8] {
            var out = NPY.magic + [1, 0]
            out.appendLittleEndian(UInt16(header.utf8.count))
            return out + Array(header.utf8) + [0, 0, 0, 0]
        }
        expectFileError("too large") {
            _ = try NPY.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"), path: "f")
        }
        expectFileError("not supported") { _ = try NPY.decode(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"), path: "f") }
        expectFileError("malformed") { _ = try NPY.decode(npy("{'descr': '<f4', 'shape': (1,), }"), path: "f") }
        expectFileError("malformed") { _ = try NPY.decode(npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }"), path: "f") }
        expectFileError("malformed") { _ = try NPY.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), path: "f") }
        expectFileError("version") { _ = try NPY.decode(NPY.magic + [9, 0, 0, 0], path: "f") }
        // Found by libFuzzer: an empty array with an axis longer than any tensor, in Fortran
        // order (the reversed shape was refused with an engine error, not a file error).
        expectFileError("too large") {
            _ = try NPY.decode(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (0, 3, 6666666666, 4), }"), path: "f")
        }
        let empty = try NPY.decode(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (0, 3, 66666666, 4), }"), path: "f")
        #expect(empty.shape == [0, 3, 66666666, 4] && empty.count == 0)
        for cut in 0..<good.count {
            #expect(throws: FileError.self) { _ = try NPY.decode(Array(good[0..<cut]), path: "f") }
        }
    }

    @Test func hostileZipArchives() throws {
        for name in ["stored.npz", "compressed.npz"] {
            let good = try FileIO.read(Fixtures.path(name))
            for cut in stride(from: 0, to: good.count, by: 7) {
                #expect(throws: FileError.self) { _ = try NPZ.decode(Array(good[0..<cut]), path: "f") }
            }
            // Flipping a byte of member data is caught by the checksum or the decoder.
            var flipped = good
            flipped[120] ^= 0xFF
            #expect(throws: FileError.self) { _ = try NPZ.decode(flipped, path: "f") }
        }
        expectFileError("not a zip") { _ = try NPZ.decode(Array(repeating: 0, count: 100), path: "f") }
    }

    @Test func missingFilesAndDirectories() {
        expectFileError("cannot open") { _ = try FileIO.read("/nonexistent/tl/file.npy") }
        expectFileError("is a directory") { _ = try FileIO.read("/tmp") }
        expectFileError("cannot write") { try FileIO.writeAtomically([1], to: "/nonexistent/tl/out.npy") }
    }
}
