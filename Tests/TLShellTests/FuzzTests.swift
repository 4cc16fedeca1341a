#if canImport(Glibc)
import Glibc
#endif
import Testing
import TLEngine
@testable import TLLang
@testable import TLShell

/// Seeded program generators: random token streams, mutations of the language tests and the
/// lecture scripts, deep nesting, huge numbers and unicode. Every input must end in a value or a
/// clear error — a trap would end this test process — and within a time bound.
struct ProgramFuzzer {
    var generator: RandomGenerator

    init(seed: UInt64) { generator = RandomGenerator(seed: seed) }

    static let vocabulary: [String] = {
        let words = ["if", "else", "for", "in", "while", "def", "return", "break", "continue", "and", "or", "not",
                     "true", "false", "none", "x", "y", "d", "net", "f", "_", "é", "λ"]
        let symbols = ["(", ")", "[", "]", "{", "}", ",", ".", ":", ";", "=", "==", "!=", "<", "<=", ">", ">=", "+", "-",
                       "*", "/", "**", "@", "%", "#", "\n", " ", "\t", "\"", "'"]
        let numbers = ["0", "1", "-1", "2", "0.5", "1e308", "1e-320", "99999999999999999999", "1e999", "3.", ".5", "0x10",
                       "1_000", "nan", "inf"]
        let strings = ["\"\"", "\"a\"", "\"é😀\"", "\"\\n\"", "\"\\u{0}\"", "\"mnistm\"", "\"adam\"", "\"mmd\""]
        let commands = [":help", ":help dann", ":vars", ":reset", ":seed 3", ":time 1 + 1", ":quit", ":nope"]
        let builtins = BuiltinTable.names.filter { !fileAccess.contains($0) }
        return words + symbols + numbers + strings + commands + builtins
    }()

    /// Builtins and commands that touch files; the fuzzer leaves them out.
    static let fileAccess: Set<String> = ["save", "load"]

    mutating func pick<T>(_ items: [T]) -> T { items[generator.nextInt(below: items.count)] }

    mutating func tokens(_ count: Int) -> String {
        (0..<count).map { _ in pick(Self.vocabulary) }.joined(separator: generator.nextInt(below: 3) == 0 ? "" : " ")
    }

    /// A random edit of `text`: delete, duplicate or swap a range, insert a token or a character.
    mutating func mutate(_ text: String) -> String {
        var chars = Array(text)
        for _ in 0..<(1 + generator.nextInt(below: 4)) {
            guard !chars.isEmpty else { chars = Array(tokens(3)); continue }
            let a = generator.nextInt(below: chars.count), length = 1 + generator.nextInt(below: Swift.min(40, chars.count - a))
            switch generator.nextInt(below: 6) {
            case 0: chars.removeSubrange(a..<(a + length))
            case 1: chars.insert(contentsOf: chars[a..<(a + length)], at: a)
            case 2:
                let b = generator.nextInt(below: chars.count)
                chars.swapAt(a, b)
            case 3: chars.insert(contentsOf: Array(" " + pick(Self.vocabulary) + " "), at: a)
            case 4: chars[a] = pick(Array("()[]{}\"',.:;=#\n0123456789éλ😀\u{7F}\u{0}"))
            default: chars.insert(contentsOf: Array(String(repeating: pick(["(", "[", "-", "not "]), count: 1 + generator.nextInt(below: 50))), at: a)
            }
        }
        return String(chars)
    }

    /// Deeply nested or very long constructs.
    mutating func extreme() -> String {
        let k = [10, 99, 100, 101, 500, 5_000][generator.nextInt(below: 6)]
        switch generator.nextInt(below: 9) {
        case 0: return String(repeating: "(", count: k) + "1" + String(repeating: ")", count: k)
        case 1: return String(repeating: "[", count: k) + String(repeating: "]", count: k)
        case 2: return String(repeating: "-", count: k) + "1"
        case 3: return String(repeating: "not ", count: k) + "true"
        case 4: return String(repeating: "if true { ", count: k) + "1" + String(repeating: " }", count: k)
        case 5: return String(repeating: "9", count: k)
        case 6: return "x = " + String(repeating: "1 + ", count: k) + "1"
        case 7: return "\"" + String(repeating: "😀", count: k) + "\""
        default: return String(repeating: "a", count: k * 10) + " = 1"
        }
    }

    /// A program that builds values until they are large: doubling strings and lists, lists
    /// that collect tensors, recursion that doubles what it returns, tensors concatenated with
    /// themselves, datasets merged with themselves, long ranges, slices and loops over rows.
    mutating func growth() -> String {
        let start = pick(["\"ab\"", "[1, 2]", "[\"x\", [1, 2]]", "[zeros(10)]", "[{a: \"ab\"}]"])
        let doublings = pick([10, 20, 30, 40, 64])
        let program: String
        switch generator.nextInt(below: 9) {
        case 0: program = "v = \(start); for i in range(\(doublings)) { v = v + v }"
        case 1: program = "v = []; for i in range(\(pick([100, 1000, 3000]))) { v = v + [\(pick(["randn(100, 1000)", "range(1000)", "str(i)", "digits(20)"]))] }"
        case 2: program = "def g(k) { if k == 0 { return \(start) } ; h = g(k - 1); return h + h }; v = g(\(doublings))"
        case 3: program = "v = []; for i in range(\(pick([50, 500]))) { v = v + [randn(1000, 100 * (i % 7 + 1))] }"
        case 4: program = "s = \"abc\"; for i in range(\(doublings)) { s = s + s; t = s[1:len(s) - 1] }"
        case 5: program = "v = randn(100, 1000); for i in range(\(doublings)) { v = concat([v, v]) }"
        case 6: program = "x = range(\(pick([1_000_000, 5_000_000, 10_000_000, 20_000_000])))"
        case 7: program = "a = randn(\(pick([2000, 20000])), 500); w = []; for r in a { w = w + [r * 2] }"
        default: program = "d = digits(500); for i in range(\(doublings)) { d = merge(d, d) }"
        }
        return program + pick(["", "\nprint(len(v))", "\nstr(v)", "\nv", "\n:vars"])
    }

    /// Removes what reaches files, so a mutated script cannot write outside the test.
    static func withoutFileAccess(_ text: String) -> String {
        text.replacing("save", with: "sav").replacing("load", with: "lod").replacing(":step", with: ":stp")
    }
}

@Suite(.serialized) struct FuzzTests {
    /// The texts mutations start from: the language tests and the lecture scripts.
    static let corpus: [String] = {
        let files = scripts(under: packageRoot + "/Tests/Scripts").map { packageRoot + "/Tests/Scripts/" + $0 }
            + scripts(under: packageRoot + "/scripts/lecture").map { packageRoot + "/scripts/lecture/" + $0 }
        return files.compactMap { try? String(validating: readBytes($0), as: UTF8.self) }
    }()

    /// Lexing, parsing and name resolution of many inputs: fast, so the most of them.
    @Test func theParserTakesAnythingWithoutTrapping() throws {
        var fuzzer = ProgramFuzzer(seed: 2026)
        var errors = 0
        for i in 0..<6_000 {
            let text: String
            switch i % 3 {
            case 0: text = fuzzer.tokens(1 + fuzzer.generator.nextInt(below: 40))
            case 1: text = fuzzer.mutate(fuzzer.pick(Self.corpus))
            default: text = fuzzer.extreme()
            }
            let source = Source(name: "fuzz", text: text)
            let (statements, found) = Parser.parse(source)
            errors += found.isEmpty ? 0 : 1
            for e in found { _ = e.formatted(position: true) }
            _ = NameResolver.undefinedNames(in: statements, source: source, predefined: [])
        }
        #expect(errors > 1_000, "most random inputs are not programs (\(errors) of 6000 had syntax errors)")
    }

    /// Running inputs in sessions: every one ends in a value or an error, within the time bound.
    @Test func theEvaluatorTakesAnythingWithoutTrapping() throws {
        var fuzzer = ProgramFuzzer(seed: 11)
        var outcomes: [Session.Outcome: Int] = [:]
        var slowest = 0.0
        var session = Session(console: Capture().console)
        let short = Self.corpus.filter { $0.count < 2_000 }
        for i in 0..<1_500 {
            if i % 50 == 0 { session = Session(console: Capture().console) }
            let text: String
            switch i % 4 {
            case 0: text = fuzzer.tokens(1 + fuzzer.generator.nextInt(below: 25))
            case 1, 2: text = fuzzer.mutate(fuzzer.pick(short))
            default: text = fuzzer.extreme()
            }
            let start = Clock.seconds()
            let outcome = Memory.withBudget(bytes: 512 << 20) {
                Cancellation.withDeadline(seconds: 1) {
                    session.run(Source(name: "fuzz", text: ProgramFuzzer.withoutFileAccess(text)))
                }
            }
            Cancellation.reset()
            slowest = Swift.max(slowest, Clock.seconds() - start)
            outcomes[outcome, default: 0] += 1
        }
        #expect(slowest < 10, "every input stops within the bound (slowest \(slowest) s)")
        #expect((outcomes[.ok] ?? 0) > 50 && (outcomes[.runtimeError] ?? 0) > 50 && (outcomes[.syntaxError] ?? 0) > 50,
                "the inputs reach every stage: \(outcomes)")
    }

    /// The same through `tl` as a process (mutations of the language tests, which run quickly):
    /// exit 0, 1 or 2, never a signal, within the bound.
    @Test func theCommandTakesAnythingWithoutTrapping() throws {
        var fuzzer = ProgramFuzzer(seed: 5)
        let tests = scripts(under: packageRoot + "/Tests/Scripts").compactMap {
            try? String(validating: readBytes(packageRoot + "/Tests/Scripts/" + $0), as: UTF8.self)
        }
        for i in 0..<120 {
            let text = i % 2 == 0 ? fuzzer.mutate(fuzzer.pick(tests)) : fuzzer.extreme()
            let r = try Run([], input: ProgramFuzzer.withoutFileAccess(text), timeout: 60)
            #expect([0, 1, 2].contains(r.status), "input \(i) ended with status \(r.status): \(r.err.prefix(300))\n--- input:\n\(text.prefix(500))")
        }
    }

    /// Programs that build values past a small memory budget, in `tl` processes (the budget
    /// counts the whole process): each ends with an error or its output, never killed or
    /// aborted, and the budget is what stops most of them.
    @Test func growingValuesStopAtTheMemoryBudget() throws {
        var fuzzer = ProgramFuzzer(seed: 24)
        var stoppedByTheBudget = 0
        for i in 0..<30 {
            let text = fuzzer.growth()
            let r = try Run([], input: text + "\n", timeout: 120, environment: ["TL_MEMORY_BUDGET=96M"])
            #expect([0, 1].contains(r.status), "input \(i) ended with status \(r.status): \(r.err.prefix(300))\n--- input:\n\(text)")
            if r.err.contains("memory budget of 96 MiB") { stoppedByTheBudget += 1 }
            #expect(r.out.utf8.count < 200_000, "input \(i) printed \(r.out.utf8.count) bytes:\n\(text)")
        }
        #expect(stoppedByTheBudget >= 10, "\(stoppedByTheBudget) of 30 stopped by the budget")
    }

    /// What the fuzzer found, kept as regressions: long chains crashed the parser (prefix
    /// operators and powers recursed) or the evaluator (a sum of 3 000 terms overflowed the stack).
    @Test(arguments: [
        String(repeating: "-", count: 100_000) + "1",
        String(repeating: "not ", count: 100_000) + "true",
        "2" + String(repeating: " ** 2", count: 100_000),
        "x = " + String(repeating: "1 + ", count: 30_000) + "1",
        "f" + String(repeating: "(1)", count: 5_000),
        "x" + String(repeating: "[0]", count: 5_000),
        "x" + String(repeating: ".a", count: 5_000),
    ])
    func deepChainsAreSyntaxErrors(_ text: String) {
        let capture = Capture()
        let session = Session(console: capture.console)
        #expect(session.run(Source(name: "deep", text: text)) == .syntaxError)
        #expect(capture.err.contains("too deep") || capture.err.contains("in a row"))
    }

    @Test func chainsWithinTheLimitStillRun() {
        let capture = Capture()
        let session = Session(console: capture.console)
        let text = "x = " + String(repeating: "1 + ", count: 300) + "1\nprint(x, -(-(-1)), 2 ** -2 ** -1, not not true)"
        #expect(session.run(Source(name: "chain", text: text)) == .ok)
        #expect(capture.out == "301 -1 0.707106781186548 true\n")
    }
}
