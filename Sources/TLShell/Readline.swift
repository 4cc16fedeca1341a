#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CReadline
import TLEngine

/// Ctrl-C handling shared by every mode: SIGINT only sets the cancellation flag. Installed
/// without SA_RESTART, so a blocking read at the prompt returns with EINTR and the prompt can
/// clear its line; a running evaluation notices the flag at its next safe point.
///
/// SIGTERM and SIGHUP (a closed terminal) are handled the same way, and note the request to end
/// (`Termination`): the running statement stops at its next safe point, a file being written is
/// finished, and the shell exits with 128 + the signal, its history file whole.
public enum InterruptHandler {
    public static func install() {
        Cancellation.reset()  // initialise the flag before any signal can touch it
        _ = Termination.requested
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Cancellation.request() }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        var ending = sigaction()
        ending.__sigaction_handler.sa_handler = { signal in Termination.request(signal) }
        sigemptyset(&ending.sa_mask)
        ending.sa_flags = 0
        sigaction(SIGTERM, &ending, nil)
        sigaction(SIGHUP, &ending, nil)
        // A parent may have started tl with these signals blocked (test runners, some IDEs).
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }
}

/// State the C callbacks of readline read: they are C function pointers and capture nothing.
private enum ReadlineState {
    nonisolated(unsafe) static var line: String?
    nonisolated(unsafe) static var finished = false
    nonisolated(unsafe) static var completer: Completer?
    nonisolated(unsafe) static var candidates: [String] = []
    nonisolated(unsafe) static var candidateIndex = 0
    /// The two sets of word-break characters, kept alive for readline.
    nonisolated(unsafe) static var breaks: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var stringBreaks: UnsafeMutablePointer<CChar>?
}

/// GNU readline in callback mode: editing, history with Ctrl-R search, Tab completion, and
/// Ctrl-C that clears the line instead of killing the process.
public final class ReadlineLineReader: LineReader {
    private let history: HistoryFile?

    /// `~/.tl_history`, or `$TL_HISTORY` when set.
    public static var defaultHistoryPath: String? { HistoryFile.defaultPath }

    /// A reader whose history lives at `historyPath` (none: this session only).
    public init(session: Session, historyPath: String?) {
        history = historyPath.map { HistoryFile(path: $0, warn: session.console.err) }
        ReadlineState.completer = Completer(session: session)
        tl_rl_set_readline_name("tl")
        tl_rl_set_catch_signals(0)
        tl_rl_set_word_break_characters(Completer.breakCharacters)
        ReadlineState.breaks = strdup(Completer.breakCharacters)
        ReadlineState.stringBreaks = strdup(Completer.stringBreakCharacters)
        tl_rl_set_word_break_hook {
            let buffer = tl_rl_line_buffer().map { String(cString: $0) } ?? ""
            let prefix = String(decoding: Array(buffer.utf8.prefix(Int(tl_rl_point()))), as: UTF8.self)
            return Completer.insideString(prefix) ? ReadlineState.stringBreaks : ReadlineState.breaks
        }
        tl_rl_set_completion_function { text, start, end in
            tl_rl_set_attempted_completion_over(1)  // never fall back to file names by itself
            let buffer = tl_rl_line_buffer().map { String(cString: $0) } ?? ""
            let prefix = String(decoding: Array(buffer.utf8.prefix(Int(end))), as: UTF8.self)
            let candidates = ReadlineState.completer?.complete(prefix) ?? []
            ReadlineState.candidates = candidates
            // No space after `name=`, `dir/` or `obj.`: the user goes on typing.
            if let only = candidates.first, candidates.count == 1, let last = only.last, "=/.".contains(last) {
                tl_rl_set_completion_append_character(0)
            }
            guard !candidates.isEmpty, let text else { return nil }
            return rl_completion_matches(text) { _, state in
                if state == 0 { ReadlineState.candidateIndex = 0 }
                guard ReadlineState.candidateIndex < ReadlineState.candidates.count else { return nil }
                defer { ReadlineState.candidateIndex += 1 }
                return strdup(ReadlineState.candidates[ReadlineState.candidateIndex])
            }
        }
        using_history()
        for entry in history?.load() ?? [] { add_history(entry) }
    }

    public func readLine(prompt: String) -> LineInput {
        ReadlineState.line = nil
        ReadlineState.finished = false
        Cancellation.reset()
        rl_callback_handler_install(prompt) { pointer in
            if let pointer {
                ReadlineState.line = String(cString: pointer)
                free(pointer)
            }
            ReadlineState.finished = true
            // Remove the handler before anything prints, or readline redraws the prompt first.
            rl_callback_handler_remove()
        }
        while !ReadlineState.finished {
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            // A signal that arrives just before poll does not interrupt it: look at the flags a few
            // times a second as well.
            let ready = poll(&descriptor, 1, 200)
            if ready <= 0 {
                guard ready == 0 || errno == EINTR else { rl_callback_handler_remove(); return .end }
                if Termination.requested != nil {
                    rl_free_line_state()
                    rl_callback_sigcleanup()
                    rl_callback_handler_remove()
                    return .end
                }
                if Cancellation.isRequested {
                    Cancellation.reset()
                    rl_free_line_state()
                    rl_callback_sigcleanup()
                    rl_replace_line("", 0)
                    rl_crlf()
                    rl_callback_handler_remove()
                    return .interrupted
                }
                continue
            }
            if descriptor.revents & Int16(POLLIN | POLLHUP) != 0 { rl_callback_read_char() }
            if descriptor.revents & Int16(POLLERR | POLLNVAL) != 0 { rl_callback_handler_remove(); return .end }
        }
        guard let line = ReadlineState.line else { return .end }
        return .line(line)
    }

    public func addHistory(_ entry: String) {
        add_history(entry)
        history?.append(entry)
    }
}
