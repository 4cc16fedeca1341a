#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TLNN

/// The kernelspec that lets Jupyter start tl: `kernels/tl/kernel.json` in a Jupyter data
/// directory, found by `jupyter kernelspec list`.
public enum KernelSpec {
    public static let name = "tl"

    /// Where the spec goes: PREFIX/share/jupyter/kernels/tl, or the user's Jupyter data directory
    /// ($JUPYTER_DATA_DIR, else ~/.local/share/jupyter).
    public static func directory(prefix: String?) throws -> String {
        if let prefix { return prefix + "/share/jupyter/kernels/" + name }
        if let data = ProcessInfo.processInfo.environment["JUPYTER_DATA_DIR"], !data.isEmpty { return data + "/kernels/" + name }
        guard let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty else {
            throw KernelError(description: "HOME is not set: give --prefix")
        }
        return home + "/.local/share/jupyter/kernels/" + name
    }

    /// The spec's JSON: Jupyter starts `executable --kernel CONNECTION_FILE` and interrupts it
    /// with SIGINT (an interrupt_request on the control channel works too).
    public static func json(executable: String) -> String {
        let object: JSONObject = ["argv": [executable, "--kernel", "{connection_file}"], "display_name": "tl", "language": "tl",
                                  "interrupt_mode": "signal", "metadata": JSONObject()]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// This program's absolute path.
    public static var executable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Writes the spec; returns its directory.
    @discardableResult
    public static func install(prefix: String?, executable: String = KernelSpec.executable) throws -> String {
        let dir = try directory(prefix: prefix)
        try FileIO.makeDirectories(dir)
        try FileIO.writeAtomically(Array(json(executable: executable).utf8), to: dir + "/kernel.json")
        return dir
    }

    /// Removes the spec; returns the directory removed.
    @discardableResult
    public static func uninstall(prefix: String?) throws -> String {
        let dir = try directory(prefix: prefix)
        guard FileManager.default.fileExists(atPath: dir + "/kernel.json") else {
            throw KernelError(description: "no tl kernel is installed in \(dir)")
        }
        try FileManager.default.removeItem(atPath: dir)
        return dir
    }
}
