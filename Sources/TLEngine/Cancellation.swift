import Synchronization

/// A process-wide request to stop the current computation (set by Ctrl-C), and an optional
/// per-thread deadline with the same effect (for bounded runs such as the fuzzer's).
///
/// Long loops (the interpreter's statements, training batches) poll it and stop at the next
/// safe point; setting it is async-signal-safe, so a SIGINT handler may call `request()`.
public enum Cancellation {
    private static let flag = Atomic<Bool>(false)

    /// The calling thread's deadline (monotonic seconds), nil when there is none.
    private static let deadline = ThreadScoped<Double>()

    public static var isRequested: Bool {
        if flag.load(ordering: .relaxed) { return true }
        guard let limit = deadline.current else { return false }
        return Clock.seconds() > limit
    }

    public static func request() { flag.store(true, ordering: .relaxed) }
    public static func reset() { flag.store(false, ordering: .relaxed) }

    /// Throws `Interrupted` when a stop was requested: the check long loops make between steps.
    /// `place` says where it stopped: "at iteration 12".
    public static func check(_ place: @autoclosure () -> String) throws {
        if isRequested { throw Interrupted(place: place()) }
    }

    /// Runs `body` on this thread as if Ctrl-C were pressed `seconds` from now.
    public static func withDeadline<T>(seconds: Double, _ body: () throws -> T) rethrows -> T {
        try deadline.with(Clock.seconds() + seconds, body)
    }
}

/// A computation stopped by Ctrl-C (or a deadline) at a safe point; nothing was left half-done.
public struct Interrupted: Error, CustomStringConvertible {
    public let place: String
    public init(place: String) { self.place = place }
    public var description: String { "stopped by Ctrl-C \(place)" }
}

/// A request to end the process (SIGTERM, SIGHUP), noted by a signal handler: the running
/// computation stops at its next safe point, as for Ctrl-C, and the shell then exits with
/// 128 + the signal's number, having finished whatever file it was writing.
public enum Termination {
    private static let signal = Atomic<Int32>(0)

    /// The signal that asked the process to end, if one did.
    public static var requested: Int32? {
        let s = signal.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// Async-signal-safe: two atomic stores.
    public static func request(_ signal: Int32) {
        Self.signal.store(signal, ordering: .relaxed)
        Cancellation.request()
    }

    /// The exit status for a requested end (128 + signal), or nil.
    public static var exitStatus: Int32? { requested.map { 128 + $0 } }
}

