#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
@testable import TLLang
@testable import TLShell

/// Output written to a console, kept for assertions.
final class Capture: Sendable {
    private let state = Mutex<(out: String, err: String)>(("", ""))
    var out: String { state.withLock { $0.out } }
    var err: String { state.withLock { $0.err } }

    var console: Console {
        Console(out: { s in self.state.withLock { $0.out += s } }, err: { s in self.state.withLock { $0.err += s } })
    }
}

/// The package's root directory, found from this file's path.
let packageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Every `.tl` file under a directory, sorted, as paths relative to it.
func scripts(under directory: String, prefix: String = "") -> [String] {
    guard let dir = opendir(directory) else { return [] }
    defer { closedir(dir) }
    var found: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard !name.hasPrefix(".") else { continue }
        if Int32(entry.pointee.d_type) == Int32(DT_DIR) {
            found += scripts(under: directory + "/" + name, prefix: prefix + name + "/")
        } else if name.hasSuffix(".tl") {
            found.append(prefix + name)
        }
    }
    return found.sorted()
}

/// Language tests: scripts with inline expectations, run through the shell's own entry point.
///
/// `# expect: TEXT` lines, in order, are the expected standard output lines;
/// `# error: LINE:COL: MESSAGE` lines, in order, the first lines of the expected errors.
@Suite struct ScriptTests {
    static let directory = packageRoot + "/Tests/Scripts"

    @Test(arguments: scripts(under: directory))
    func script(_ name: String) throws {
        let path = Self.directory + "/" + name
        let text = try #require(String(validating: try readBytes(path), as: UTF8.self))
        var expectedOut: [String] = [], expectedErrors: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let r = line.range(of: "# expect: ") { expectedOut.append(String(line[r.upperBound...])) }
            if let r = line.range(of: "# expect-empty-line") { _ = r; expectedOut.append("") }
            if let r = line.range(of: "# error: ") { expectedErrors.append(String(line[r.upperBound...])) }
        }
        let capture = Capture()
        let session = Session(console: capture.console)
        let status = session.runFile(path)
        let outLines = capture.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(outLines == expectedOut, "standard output of \(name)")
        // The first line of each error, without the file name.
        let errorLines = capture.err.split(separator: "\n").filter { $0.hasPrefix(path + ":") }
            .map { String($0.dropFirst(path.count + 1)).replacingOccurrences(of: " error: ", with: " ") }
        #expect(errorLines == expectedErrors, "errors of \(name)")
        #expect(expectedErrors.isEmpty ? status == 0 : status != 0, "exit status \(status) of \(name)")
    }
}

func readBytes(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "rb") else { throw POSIXError(errno) }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n == 0 { break }
        bytes += buffer[0..<n]
    }
    return bytes
}

struct POSIXError: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
}
