import Foundation
import Testing
@testable import TLKernel

/// `tl --kernel` driven as Jupyter drives it, through jupyter_client (kernel_client.py beside this
/// file: kernel info, results, printed text, errors, figures as SVG, images as PNG, completion,
/// inspection, is_complete, the training display, interrupts by signal and by message with
/// bindings kept, a forged message dropped, shutdown). scripts/setup --tests installs
/// python3-jupyter-client.
@Suite struct KernelTests {
    /// The `tl` executable built beside this test bundle.
    static var executable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/tl"
    }

    static let directory: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        return parts.joined(separator: "/")
    }()

    /// A Python 3 that has jupyter_client.
    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { path in
        guard access(path, X_OK) == 0 else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["-c", "import jupyter_client"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test func theMessagingProtocolThroughJupyterClient() throws {
        let python = try #require(KernelTests.python, "no python3 with jupyter_client: scripts/setup --tests installs python3-jupyter-client")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [KernelTests.directory + "/kernel_client.py"]
        p.environment = ProcessInfo.processInfo.environment.merging(["TL_BINARY": KernelTests.executable, "TL_THREADS": "2"]) { _, new in new }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let lines = output.split(separator: "\n").map(String.init)
        for line in lines where line.hasPrefix("FAIL") { Issue.record("\(line)") }
        #expect(lines.filter { $0.hasPrefix("PASS") }.count == 41, "\(output)")
        #expect(p.terminationStatus == 0)
    }

    @Test func kernelSpecInstallsAndUninstalls() throws {
        let prefix = NSTemporaryDirectory() + "tl-kernelspec-\(getpid())"
        let dir = try KernelSpec.install(prefix: prefix, executable: "/opt/tl/bin/tl")
        #expect(dir == prefix + "/share/jupyter/kernels/tl")
        let data = try #require(FileManager.default.contents(atPath: dir + "/kernel.json"))
        let spec = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(spec["argv"] as? [String] == ["/opt/tl/bin/tl", "--kernel", "{connection_file}"])
        #expect(spec["language"] as? String == "tl")
        try KernelSpec.uninstall(prefix: prefix)
        #expect(!FileManager.default.fileExists(atPath: dir))
        #expect(throws: KernelError.self) { try KernelSpec.uninstall(prefix: prefix) }
    }
}
