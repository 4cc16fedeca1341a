/// What one read at the prompt gave.
public enum LineInput: Equatable {
    case line(String)
    /// Ctrl-C at the prompt: the line was cleared.
    case interrupted
    /// Ctrl-D on an empty line, or the end of the input.
    case end
}

/// The seam between the shell and the terminal: GNU readline on a terminal, plain reads elsewhere.
public protocol LineReader: AnyObject {
    func readLine(prompt: String) -> LineInput
    /// Remembers a complete entry (possibly several lines) for recall and for the history file.
    func addHistory(_ entry: String)
}

/// Reads lines from standard input without prompt, echo or editing.
public final class PlainLineReader: LineReader {
    public init() {}
    public func readLine(prompt: String) -> LineInput {
        guard let line = Swift.readLine(strippingNewline: true) else { return .end }
        return .line(line)
    }
    public func addHistory(_ entry: String) {}
}
