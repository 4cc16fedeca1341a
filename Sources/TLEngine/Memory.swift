#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The memory budget: no single tensor larger than this is allocated; asking for one is an error
/// before anything is allocated. By default half of physical memory; `TL_MEMORY_BUDGET` (bytes,
/// or with a K, M or G suffix) sets it, and so does `Memory.setBudget`.
public enum Memory {
    private static let budget = Atomic<Int>(initialBudget())

    /// A budget for the calling thread only (tests and bounded runs); nil: the global one.
    private static let threadBudget = ThreadScoped<Int>()

    public static var budgetBytes: Int { threadBudget.current ?? budget.load(ordering: .relaxed) }

    public static func setBudget(bytes: Int) { budget.store(Swift.max(1 << 20, bytes), ordering: .relaxed) }

    /// Runs `body` with a budget of `bytes` on this thread.
    public static func withBudget<T>(bytes: Int, _ body: () throws -> T) rethrows -> T {
        try threadBudget.with(Swift.max(1 << 20, bytes), body)
    }

    /// Half of the machine's physical memory, unless the environment says otherwise.
    static func initialBudget() -> Int {
        if let text = getenv("TL_MEMORY_BUDGET").map({ String(cString: $0) }), let bytes = parse(text) { return Swift.max(1 << 20, bytes) }
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return 4 << 30 }
        let (total, overflow) = Int(pages).multipliedReportingOverflow(by: Int(size))
        return overflow ? Int.max / 2 : total / 2
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

    /// `1.5 GiB`, `512 MiB`.
    public static func describe(_ bytes: Int) -> String {
        let b = Double(bytes)
        if bytes >= 1 << 30 { return "\((b / Double(1 << 30) * 10).rounded() / 10) GiB" }
        if bytes >= 1 << 20 { return "\(Int((b / Double(1 << 20)).rounded())) MiB" }
        return "\(bytes) bytes"
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
