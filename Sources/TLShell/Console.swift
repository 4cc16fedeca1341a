import TLRender
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the shell writes: standard output for results, standard error for errors.
public struct Console: Sendable {
    /// Writes text to standard output as it comes (no buffering surprises in pipes).
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    /// Whether standard error is a terminal (for colour).
    public var colour: Bool

    public static let standard = Console(
        out: { writeAll(1, $0) }, err: { writeAll(2, $0) },
        colour: isatty(2) != 0 && getenv("NO_COLOR") == nil)

    /// Writes all of `text` to a file descriptor, retrying after signals and short writes.
    static func writeAll(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        let total = bytes.count
        var done = 0
        while done < total {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, total - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            done += n
        }
    }

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void, colour: Bool = false) {
        (self.out, self.err, self.colour) = (out, err, colour)
    }

    /// `text` in bold red where colour is on.
    func red(_ text: String) -> String { colour ? "\u{1B}[1;31m\(text)\u{1B}[0m" : text }
    /// `text` dimmed where colour is on.
    func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }
}

/// Terminal facts and raw key reads.
public enum Terminal {
    static var stdinIsTerminal: Bool { isatty(0) != 0 }
    static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// Columns of the terminal on standard output, or 100.
    static var width: Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 100
    }

    /// The terminal's lines when standard output is one; nil otherwise.
    static var height: Int? {
        var size = winsize()
        if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 4 { return Int(size.ws_row) }
        return nil
    }

    /// One key from standard input without waiting for Enter (raw mode on a terminal; a line
    /// elsewhere, whose first character counts). nil at the end of input.
    static func readKey() -> Character? {
        guard stdinIsTerminal else {
            guard let line = Swift.readLine() else { return nil }
            return line.first ?? "\n"
        }
        var saved = termios()
        tcgetattr(0, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(0, TCSANOW, &raw)
        defer { tcsetattr(0, TCSANOW, &saved) }
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n == 1 { break }
            if n < 0 && errno == EINTR { return "q" }
            return nil
        }
        if byte == 4 { return nil }  // Ctrl-D
        if byte == 13 || byte == 10 { return "\n" }
        return Character(Unicode.Scalar(byte))
    }
}

extension Terminal {
    /// 24-bit colour where the terminal says it has it (COLORTERM), the 256-colour palette where
    /// TERM names it (xterm-256color, tmux-256color, …), greys on other terminals, characters
    /// elsewhere.
    static var imageMode: ImageText.Mode {
        guard isatty(1) != 0 else { return .plain }
        return imageMode(colorterm: getenv("COLORTERM").map { String(cString: $0) } ?? "",
                         term: getenv("TERM").map { String(cString: $0) } ?? "")
    }

    static func imageMode(colorterm: String, term: String) -> ImageText.Mode {
        if colorterm.contains("truecolor") || colorterm.contains("24bit") { return .trueColour }
        if term.contains("256col") { return .palette }
        return term == "dumb" ? .plain : .grey
    }

    /// Whether the shell talks to a person: standard input is a terminal.
    public static var isInteractive: Bool { stdinIsTerminal }
}
