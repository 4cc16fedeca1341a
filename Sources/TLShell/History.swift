#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The history file: one entry per line, newlines and backslashes escaped, so multi-line
/// entries survive a restart. Each entry is appended with one `write` to a file opened with
/// O_APPEND, so two shells writing at once interleave whole entries and lose none.
final class HistoryFile {
    let path: String
    /// Entries kept when the file is compacted at start-up.
    let limit: Int
    private var warned = false
    private let warn: (String) -> Void

    init(path: String, limit: Int = 5000, warn: @escaping (String) -> Void) {
        (self.path, self.limit, self.warn) = (path, limit, warn)
    }

    /// `~/.tl_history`, or `$TL_HISTORY` when set.
    static var defaultPath: String? {
        if let p = getenv("TL_HISTORY") { return String(cString: p) }
        guard let home = getenv("HOME") else { return nil }
        return String(cString: home) + "/.tl_history"
    }

    static func escape(_ entry: String) -> String {
        var out = ""
        for c in entry {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(c)
            }
        }
        return out
    }

    static func unescape(_ line: Substring) -> String {
        var out = ""
        var escaped = false
        for c in line {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "r": out.append("\r")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// The stored entries, oldest first (empty when there is no file yet).
    func load() -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > 16 << 20 { break }  // a history file this large is not ours to read whole
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var entries = text.split(separator: "\n").map(HistoryFile.unescape)
        if entries.count > limit {
            entries = Array(entries.suffix(limit))
            compact(entries)
        }
        return entries
    }

    /// Rewrites the file with only the newest entries (atomically, through a temporary file).
    private func compact(_ entries: [String]) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let text = entries.map { HistoryFile.escape($0) + "\n" }.joined()
        let ok = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) == $0.count - 1 }
        close(fd)
        if ok { rename(temporary, path) } else { unlink(temporary) }
    }

    /// Appends one entry; a failure (full disk, no permission) warns once and never stops the shell.
    func append(_ entry: String) {
        let line = HistoryFile.escape(entry) + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        var ok = fd >= 0
        if fd >= 0 {
            ok = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) == $0.count - 1 }
            close(fd)
        }
        if !ok && !warned {
            warned = true
            warn("warning: cannot write the history file \(path): \(String(cString: strerror(errno))); history is kept for this session only\n")
        }
    }
}
