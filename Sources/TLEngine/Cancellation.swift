import Synchronization

/// A process-wide request to stop the current computation (set by Ctrl-C).
///
/// Long loops (the interpreter's statements, training batches) poll it and stop at the next
/// safe point; setting it is async-signal-safe, so a SIGINT handler may call `request()`.
public enum Cancellation {
    private static let flag = Atomic<Bool>(false)

    public static var isRequested: Bool { flag.load(ordering: .relaxed) }
    public static func request() { flag.store(true, ordering: .relaxed) }
    public static func reset() { flag.store(false, ordering: .relaxed) }
}
