#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import Foundation
import Testing
@testable import TLEngine

/// `tl` run as a process with pipes: what a script, a pipeline or CI sees.
struct Run {
    let status: Int32
    let out: String
    let err: String

    /// Runs tl with `arguments` and `input` on standard input; a run longer than `timeout`
    /// seconds is killed (and its status shows the signal, as a shell's does: 128 + signal).
    /// `executable` runs another program the same way (a test's helper).
    init(_ arguments: [String], input: String = "", timeout: Double = 600,
         executable: String = TerminalSession.executable, environment extra: [String] = []) throws {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXError(errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in inPipe + outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        // The kernels and thread count the test process runs (OPENBLAS_CORETYPE and TL_THREADS,
        // from scripts/test) hold here too: a run compared with the test process's or the Jupyter
        // kernel's gives the same bits, and a figure a test checks is the one measured.
        let kernels = ["OPENBLAS_CORETYPE", "TL_THREADS"].filter { name in !extra.contains { $0.hasPrefix(name + "=") } }.compactMap { name in
            ProcessInfo.processInfo.environment[name].map { "\(name)=\($0)" }
        }
        let environment = ["HOME=/tmp", "TL_HISTORY=/dev/null", "PATH=/usr/bin:/bin"] + kernels + extra
        let env: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + env).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, env)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard spawned == 0 else { throw POSIXError(spawned) }
        let finished = Mutex(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [pid] in
            finished.withLock { if !$0 { kill(pid, SIGKILL) } }
        }
        _ = input.utf8CString.withUnsafeBufferPointer { write(inPipe[1], $0.baseAddress, $0.count - 1) }
        close(inPipe[1])
        func drain(_ fd: Int32) -> String {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                bytes += buffer[0..<n]
            }
            close(fd)
            return String(decoding: bytes, as: UTF8.self)
        }
        out = drain(outPipe[0])
        err = drain(errPipe[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        finished.withLock { $0 = true }
        let signal = status & 0x7F
        self.status = signal != 0 ? 128 + signal : (status >> 8) & 0xFF
    }
}

func writeScript(_ name: String, _ text: String) -> String {
    let path = "/tmp/tl-cli-\(getpid())-\(name).tl"
    let f = fopen(path, "w")
    fputs(text, f)
    fclose(f)
    return path
}

@Suite struct CommandLineTests {
    @Test func pipedStatementsPrintOnlyTheirOutput() throws {
        let r = try Run([], input: "print(1+1)\n")
        #expect(r.out == "2\n" && r.err.isEmpty && r.status == 0)
        let shown = try Run([], input: "x = 3\nx * 2\n")
        #expect(shown.out == "6\n")
    }

    @Test func exitStatusesFollowTheContract() throws {
        let ok = writeScript("ok", "print(\"hi\")\n")
        #expect(try Run([ok]).status == 0)
        let runtime = writeScript("runtime", "print(\"before\")\nzeros(2) + ones(3)\nprint(\"never\")\n")
        let r = try Run([runtime])
        #expect(r.status == 1)
        #expect(r.out == "before\n")
        #expect(r.err.hasPrefix("\(runtime):2:1: error: shape mismatch in add"))
        let syntax = writeScript("syntax", "print(\"never\")\nx = = 2\n")
        let s = try Run([syntax])
        #expect(s.status == 2 && s.out.isEmpty)
        #expect(s.err.hasPrefix("\(syntax):2:5: error: expected an expression, found '='"))
        #expect(try Run(["--no-such-flag"]).status == 2)
        #expect(try Run(["/nonexistent/script.tl"]).status == 2)
        #expect(try Run(["--check"]).status == 2)
    }

    /// Every way found of building a large value, in a `tl` process under a 64 MiB budget: each
    /// ends its script with an error naming the operation and the budget, never by a signal.
    @Test(arguments: [
        ("s = \"ab\"; for i in range(40) { s = s + s }", "'+' needs"),
        ("s = \"ab\"; for i in range(40) { t = s; s = s + s }", "'+' needs"),
        ("xs = [1]; for i in range(40) { xs = xs + xs }", "'+' needs"),
        ("xs = []; i = 0; while true { xs = xs + [i]; i = i + 1 }", "'+' needs"),
        ("x = range(10000000)", "range needs"),
        ("s = \"ab\"; for i in range(24) { s = s + s }; t = s[1:len(s)]; u = s[2:len(s)]", "indexing needs"),
        ("xs = range(1000000); ys = []; for i in range(100) { ys = ys + [xs[1:len(xs)]] }", "indexing needs"),
        ("s = \"ab\"; for i in range(23) { s = s + s }; print(s, s, s, s)", "print needs"),
        ("keep = []; for i in range(1000) { keep = keep + [randn(1000, 1000)] }", "randn needs"),
        ("a = randn(2000, 2000); keep = []; for i in range(100) { keep = keep + [-a] }", "'-' needs"),
        ("a = randn(2000, 2000); keep = []; for i in range(100) { keep = keep + [a @ a] }", "matmul needs"),
        ("v = randn(100, 1000); for i in range(40) { v = concat([v, v]) }", "concat needs"),
        ("d = digits(500); for i in range(40) { d = merge(d, d) }", "concat needs"),
        ("d = digits(2000); keep = []; for i in range(100) { keep = keep + [transform(d, noise=0.1)] }", "memory budget"),
        ("x = randn(4000000, 2); f = scatter(x)", "scatter needs"),
        ("a = randn(3000, 3000); save(a, \"/tmp/tl-budget-test.npy\")", "cannot be written"),
        ("net = mlp([2352, 4096, 10]); d = digits(2000); train(net, d, batch=1000)", "memory budget"),
    ])
    func everyWayOfGrowingAValueStopsAtTheBudget(_ program: String, _ message: String) throws {
        let r = try Run([], input: program + "\nprint(\"not reached\")\n", timeout: 120, environment: ["TL_MEMORY_BUDGET=64M"])
        #expect(r.status == 1, "\(program): status \(r.status)\n\(r.err.prefix(400))")
        #expect(r.err.contains(message) && r.err.contains("memory budget of 64 MiB"), "\(program):\n\(r.err.prefix(400))")
        #expect(!r.out.contains("not reached"))
    }

    @Test func oneLineOfCode() throws {
        let r = try Run(["-e", "x = 2; x ** 10"])
        #expect(r.out == "1024\n" && r.status == 0)
        #expect(try Run(["-e", "undefined_thing"]).status == 1)
    }

    @Test func checkReportsEveryErrorWithoutRunning() throws {
        let path = writeScript("check", "print(\"side effect\")\ny = 1 +* 2\nprint(epochz)\nepochs = 3\ndef f(a) { return a + b }\n")
        let r = try Run(["--check", path])
        #expect(r.out.isEmpty, "nothing runs")
        #expect(r.status == 2)
        #expect(r.err.contains("\(path):2:8: error: expected an expression"))
        #expect(r.err.contains("\(path):3:7: error: name 'epochz' is not defined (did you mean 'epochs'?)"))
        #expect(r.err.contains("\(path):5:23: error: name 'b' is not defined\n"))
        let clean = writeScript("clean", "x = 1\ndef g() { return x }\nprint(g())\n")
        #expect(try Run(["--check", clean]).status == 0)
        // A name bound inside `:time` is bound; one used there unbound is reported.
        let timed = writeScript("timed", "x = 1\n:time y = x + 1\nprint(y)\n")
        #expect(try Run(["--check", timed]).status == 0)
        let wrong = writeScript("timed-wrong", ":time z = w + 1\n")
        let w = try Run(["--check", wrong])
        #expect(w.status == 1 && w.err.contains("name 'w' is not defined"))
        // A comprehension's variable is bound inside its brackets, and only there.
        let comprehension = writeScript("comprehension", "squares = [k * k for k in range(3) if k > 0]\nprint(squares, k)\n")
        let c = try Run(["--check", comprehension])
        #expect(c.status == 1 && c.err.contains("\(comprehension):2:16: error: name 'k' is not defined"))
        #expect(!c.err.contains(":1:"), "nothing inside the brackets is reported")
    }

    @Test func interactiveAfterAScriptKeepsItsBindings() throws {
        let path = writeScript("then", "base = 40\n")
        let r = try Run(["-i", path], input: "base + 2\n")
        #expect(r.out.contains("42"))
    }

    @Test func versionAndHelp() throws {
        let v = try Run(["--version"])
        #expect(v.status == 0 && v.out.hasPrefix("0."))
        // The second line describes OpenBLAS; on a CPU with AVX2 its generic SSE3 kernels
        // ("Prescott", what Debian's 0.3.21 falls back to on CPUs it does not know) are replaced.
        let blas = v.out.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
        #expect(blas.hasPrefix("OpenBLAS"))
        if BLASKernels.cpuFlags().isSuperset(of: ["avx2", "fma"]) {
            #expect(!blas.contains("Prescott"), "tl runs with OpenBLAS's generic kernels: \(blas)")
        }
        let h = try Run(["--help"])
        #expect(h.status == 0 && h.out.contains("--step") && h.out.contains("-e <code>"))
    }

    @Test func stepModeReadsKeysFromAPipe() throws {
        let path = writeScript("step", "# %%\nprint(\"first\")\n# %%\nprint(\"second\")\n# %%\nprint(\"third\")\n")
        let r = try Run(["--step", path], input: "\ns\nq\n")
        #expect(r.out.contains("first\n"))
        #expect(!r.out.contains("second\n") && !r.out.contains("third\n"))
        #expect(r.status == 0)
    }
}

/// The lecture scripts: every one resolves its names, and (in optimised test builds, where
/// training is fast) runs to the end without an error.
@Suite struct LectureScriptTests {
    static let directory = packageRoot + "/scripts/lecture"

    /// The lectures, and the benchmark workloads and seed sweeps, which no test runs (they take
    /// minutes): a builtin renamed under them fails here, not in `scripts/bench`.
    @Test(arguments: scripts(under: directory, prefix: "scripts/lecture/") + scripts(under: packageRoot + "/Benchmarks", prefix: "Benchmarks/"))
    func checks(_ path: String) throws {
        let r = try Run(["--check", packageRoot + "/" + path])
        #expect(r.status == 0, "\(path): \(r.err)")
    }

    @Test(arguments: scripts(under: packageRoot + "/examples"))
    func examplesRun(_ name: String) throws {
        let r = try Run([packageRoot + "/examples/" + name])
        #expect(r.status == 0, "\(name): \(r.err)")
    }

    #if !DEBUG
    /// The lectures run again through the Jupyter kernel: between them every kind of output the
    /// kernel sends (results, HTML tables, PNG images, SVG figures, printed lines, the training
    /// bar's updated display). Rerunning all seventeen made the lectures half of the suite's time;
    /// `TL_KERNEL_LECTURES=all scripts/test --filter LectureScriptTests` reruns every one.
    static let kernelLectures: Set = ["00-tour.tl", "08-dann.tl", "10-zero-shot.tl"]

    static func throughTheKernel(_ name: String) -> Bool {
        ProcessInfo.processInfo.environment["TL_KERNEL_LECTURES"] == "all" || kernelLectures.contains(name)
    }

    /// Each script runs to the end as `tl --notebook`, which writes a valid notebook of it.
    @Test(arguments: scripts(under: directory))
    func runs(_ name: String) throws {
        let notebook = "/tmp/tl-lecture-\(getpid())-" + name.replacing(".tl", with: ".ipynb")
        defer { unlink(notebook) }
        let r = try Run(["--notebook", notebook, Self.directory + "/" + name])
        #expect(r.status == 0, "\(name): \(r.err)")
        #expect(r.out.contains("0."), "\(name) reports what it measured")
        let cells = try validateNotebook(notebook)
        #expect(cells.contains { $0["cell_type"] as? String == "markdown" }, "\(name) explains itself")
        #expect(!cells.contains { cell in (cell["outputs"] as? [[String: Any]] ?? []).contains { $0["output_type"] as? String == "error" } })
        // The same notebook run through the Jupyter kernel, as nbconvert --execute runs it, gives
        // the same outputs (Tests/Interop/run_notebook.py).
        guard Self.throughTheKernel(name) else { return }
        let python = try #require(nbclientPython, "no python3 with nbclient: scripts/setup --tests installs python3-nbclient")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [packageRoot + "/Tests/Interop/run_notebook.py", notebook]
        p.environment = ProcessInfo.processInfo.environment.merging(["TL_BINARY": TerminalSession.executable]) { _, new in new }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(name) through the kernel: \(output)")
    }
    #endif
}
