#if canImport(Glibc)
import Glibc
import CMalloc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The memory budget: the most the session may hold at once, over every value together
/// (tensors, lists, strings, records, datasets, figures), released as values die.
///
/// What is held is the process's heap in use, as the C library counts it (`mallinfo2`): every
/// value the shell keeps lives there. Building a value is checked before it is allocated where
/// its size is known in advance (`reserve`: new tensors, lists, strings); every tensor's storage
/// is also counted as it is allocated, and an allocation that finds the budget passed is noted,
/// so that the statement making it ends in an error at its next check (`checkOverflow`) instead
/// of the process running out of memory. By default the budget is half of physical memory;
/// `TL_MEMORY_BUDGET` (bytes, or with a K, M or G suffix) sets it, and so does `setBudget`.
/// Inside `withBudget` (tests running side by side in one process) only the tensors that scope
/// allocates count.
public enum Memory {
    /// Whose memory a budget counts.
    final class Account: Sendable {
        let budget: Atomic<Int>
        /// Counts only its own tensors (a `withBudget` scope), not the process's heap.
        let scoped: Bool
        let tensorBytes = Atomic<Int>(0)
        /// The largest tensor allocation that found the budget passed since the last check, and
        /// what was held then.
        let overAsked = Atomic<Int>(0)
        let overHeld = Atomic<Int>(0)

        /// The heap in use besides tensors at the last look, and when that was (seconds).
        let otherBytes = Atomic<Int>(0)
        let sampledAt = Atomic<Int>(-1_000_000)

        init(budget: Int, scoped: Bool) {
            self.budget = Atomic(budget)
            self.scoped = scoped
        }

        /// What is held: live tensors, counted exactly, and the rest of the heap, looked at
        /// again when `fresh` or when the last look is more than 10 ms old. (A look walks
        /// malloc's free lists: 0.2 µs on a young heap, 20 µs with 20 000 small tensors alive.)
        func held(fresh: Bool) -> Int {
            let tensors = tensorBytes.load(ordering: .relaxed)
            guard !scoped else { return tensors }
            let now = Int(Clock.seconds() * 1000)
            if fresh || now - sampledAt.load(ordering: .relaxed) >= 10 {
                otherBytes.store(Swift.max(0, Memory.heapInUse() - tensors), ordering: .relaxed)
                sampledAt.store(now, ordering: .relaxed)
            }
            return tensors + otherBytes.load(ordering: .relaxed)
        }
    }

    /// The smallest budget: the shell itself holds a few MiB before any value is made.
    static let minimum = 1 << 20

    private static let global = Account(budget: initialBudget(), scoped: false)

    /// A budget for the calling thread only (tests and bounded runs); nil: the global one.
    private static let threadAccount = ThreadScoped<Account>()

    static var account: Account { threadAccount.current ?? global }

    public static var budgetBytes: Int { account.budget.load(ordering: .relaxed) }

    /// What the session holds now, in bytes (the heap in use; inside `withBudget`, its tensors).
    public static var heldBytes: Int { account.held(fresh: true) }

    /// Bytes held by live tensors (every tensor of the process, or of a `withBudget` scope).
    public static var tensorBytes: Int { account.tensorBytes.load(ordering: .relaxed) }

    public static func setBudget(bytes: Int) { global.budget.store(Swift.max(minimum, bytes), ordering: .relaxed) }

    /// Runs `body` with a budget of `bytes` on this thread, counting only the tensors it makes.
    public static func withBudget<T>(bytes: Int, _ body: () throws -> T) rethrows -> T {
        try threadAccount.with(Account(budget: Swift.max(minimum, bytes), scoped: true), body)
    }

    /// Half of the machine's physical memory, unless the environment says otherwise.
    static func initialBudget() -> Int {
        if let text = getenv("TL_MEMORY_BUDGET").map({ String(cString: $0) }), let bytes = parse(text) { return Swift.max(minimum, bytes) }
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return 4 << 30 }
        let (total, overflow) = Int(pages).multipliedReportingOverflow(by: Int(size))
        return overflow ? Int.max / 2 : total / 2
    }

    /// The process's heap in use: small blocks in malloc's arenas and the large ones it maps.
    /// Its cost grows with malloc's free lists, so `Account.held` looks at it only now and then.
    static func heapInUse() -> Int {
        #if canImport(Glibc)
        let info = mallinfo2()
        return Int(info.uordblks) + Int(info.hblkhd)
        #else
        return global.tensorBytes.load(ordering: .relaxed)
        #endif
    }

    /// Checks, before a value of `bytes` is built by `op`, that the session can hold it.
    public static func reserve(_ bytes: Int, for op: String) throws {
        let a = account, budget = a.budget.load(ordering: .relaxed)
        guard bytes <= budget else { throw MemoryError(op: op, asked: bytes, held: nil, budget: budget) }
        // A large value, or one the estimate refuses, is checked against a fresh look at the heap.
        let large = bytes >= 16 << 20
        var held = a.held(fresh: large)
        if held > budget - bytes, !large { held = a.held(fresh: true) }
        guard held <= budget - bytes else { throw MemoryError(op: op, asked: bytes, held: held, budget: budget) }
    }

    /// Ends the computation of `op` with an error if a tensor allocated since the last check
    /// found the budget passed (the values being built are freed as the error unwinds).
    public static func checkOverflow(_ op: @autoclosure () -> String) throws {
        let a = account
        guard a.overAsked.load(ordering: .relaxed) > 0 else { return }
        let asked = a.overAsked.exchange(0, ordering: .relaxed)
        guard asked > 0 else { return }
        let held = a.overHeld.load(ordering: .relaxed)
        throw MemoryError(op: op(), asked: asked, held: held < 0 ? nil : held, budget: a.budget.load(ordering: .relaxed))
    }

    /// Notes a value that could not be built within the budget where no error can be thrown
    /// (a batch iterator): the next `checkOverflow` reports it.
    public static func noteOverflow(_ e: MemoryError) {
        let a = account
        a.overHeld.store(e.held ?? -1, ordering: .relaxed)
        a.overAsked.store(Swift.max(1, e.asked), ordering: .relaxed)
    }

    /// Forgets a noted overflow (after an error was reported some other way).
    public static func clearOverflow() { account.overAsked.store(0, ordering: .relaxed) }

    /// Counts a tensor allocation of `bytes` (before it is made) and notes it when it passes the budget.
    static func charge(_ bytes: Int) -> Account {
        let a = account
        a.tensorBytes.add(bytes, ordering: .relaxed)
        let held = a.held(fresh: false)
        if held > a.budget.load(ordering: .relaxed) {
            if bytes > a.overAsked.load(ordering: .relaxed) { a.overAsked.store(bytes, ordering: .relaxed) }
            a.overHeld.store(held - bytes, ordering: .relaxed)
        }
        return a
    }

    static func release(_ bytes: Int, from a: Account) {
        a.tensorBytes.subtract(bytes, ordering: .relaxed)
    }

    /// `"512M"`, `"4G"`, `"1048576"` → bytes.
    static func parse(_ text: String) -> Int? {
        let t = text.trimmingSpaces.uppercased()
        let scale: Int
        var digits = Substring(t)
        switch t.last {
        case "K": scale = 1 << 10; digits = digits.dropLast()
        case "M": scale = 1 << 20; digits = digits.dropLast()
        case "G": scale = 1 << 30; digits = digits.dropLast()
        default: scale = 1
        }
        guard let n = Int(digits), n > 0 else { return nil }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }

    /// `1.5 GiB`, `512 MiB`, `12 KiB`.
    public static func describe(_ bytes: Int) -> String {
        let b = Double(bytes)
        if bytes >= 1 << 30 { return "\((b / Double(1 << 30) * 10).rounded() / 10) GiB" }
        if bytes >= 1 << 20 { return "\(Int((b / Double(1 << 20)).rounded())) MiB" }
        if bytes >= 1 << 10 { return "\(Int((b / Double(1 << 10)).rounded())) KiB" }
        return "\(bytes) bytes"
    }
}

/// A value that would take the session past its memory budget: nothing of it is kept, and the
/// session's bindings are as they were.
public struct MemoryError: Error, CustomStringConvertible {
    /// What was building the value: `range`, `+`, `train`.
    public let op: String
    public let asked: Int
    /// What the session held already; nil when the value alone is larger than the budget.
    public let held: Int?
    public let budget: Int

    public init(op: String, asked: Int, held: Int?, budget: Int) {
        (self.op, self.asked, self.held, self.budget) = (op, asked, held, budget)
    }

    /// Why it cannot be held: `more than the memory budget of 64 MiB`.
    public var reason: String {
        guard let held else { return "more than the memory budget of \(Memory.describe(budget))" }
        return "more than is left of the memory budget of \(Memory.describe(budget)) (\(Memory.describe(held)) held already)"
    }

    public var description: String {
        let advice = held == nil ? "TL_MEMORY_BUDGET=8G (for example) raises it"
            : "rebind values you no longer need (x = none), or raise TL_MEMORY_BUDGET"
        return "\(op) needs \(Memory.describe(asked)), \(reason); \(advice)"
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
