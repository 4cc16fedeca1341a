#if canImport(Glibc)
import Glibc
#endif
import Testing
import TLNN

/// `tl` running on a pseudo-terminal, so readline is engaged as a person would see it.
final class TerminalSession {
    let master: Int32
    let pid: pid_t
    private(set) var transcript = ""

    /// The `tl` executable built beside this test bundle.
    static var executable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/tl"
    }

    /// `environment`: variables added to (or replacing) the defaults, as "NAME=value".
    init(arguments: [String] = [], history: String, environment extra: [String] = [], rows: UInt16 = 40, columns: UInt16 = 120) throws {
        // posix_openpt, unlockpt and ptsname, as Linux implements them (Swift's Glibc module
        // hides the first three): the ioctls are TIOCSPTLCK and TIOCGPTN.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0, number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw POSIXError(errno)
        }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        let slave = "/dev/pts/\(number)"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // After setsid, the first terminal the child opens becomes its controlling terminal.
        posix_spawn_file_actions_addopen(&actions, 0, slave, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        posix_spawn_file_actions_addclose(&actions, master)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session, no blocked signals, default dispositions: as a login shell starts a program.
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, 0x80 | 0x04 | 0x08)  // SETSID | SETSIGDEF | SETSIGMASK

        let argv: [UnsafeMutablePointer<CChar>?] = ([Self.executable] + arguments).map { strdup($0) } + [nil]
        let defaults = ["TERM=xterm", "NO_COLOR=1", "HOME=/tmp", "TL_HISTORY=\(history)", "INPUTRC=/dev/null", "PATH=/usr/bin:/bin"]
        let names = Set(extra.map { $0.split(separator: "=").first.map(String.init) ?? $0 })
        let environment = defaults.filter { !names.contains($0.split(separator: "=").first.map(String.init) ?? $0) }
            + extra.filter { !$0.hasSuffix("=") }
        let env: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + env).forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, Self.executable, &actions, &attributes, argv, env)
        guard status == 0 else { throw POSIXError(status) }
        pid = child
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(master)
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
    }

    /// Reads until the transcript (since `from`) contains `text`; false after `timeout` seconds.
    @discardableResult
    func expect(_ text: String, after from: String.Index? = nil, timeout: Double = 15) -> Bool {
        let deadline = now() + timeout
        while true {
            let start = from ?? transcript.startIndex
            if transcript[start...].contains(text) { return true }
            let left = deadline - now()
            guard left > 0 else { return false }
            var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(Swift.min(left, 1) * 1000)) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(master, &buffer, buffer.count)
            guard n > 0 else { return transcript[start...].contains(text) }
            transcript += String(decoding: buffer[0..<n], as: UTF8.self)
        }
    }

    /// The end of the transcript so far, for expectations about what comes next.
    var mark: String.Index { transcript.endIndex }

    /// Waits for the process to exit; its status, or nil after `timeout` seconds.
    func exitStatus(timeout: Double = 10) -> Int32? {
        let deadline = now() + timeout
        while now() < deadline {
            _ = expect("\u{0}", timeout: 0.05)  // drain output so the child never blocks on a full terminal
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xFF }
        }
        return nil
    }

    private func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

func temporaryHistory(_ name: String) -> String {
    let path = "/tmp/tl-pty-\(getpid())-\(name)"
    unlink(path)
    return path
}

/// The interactive shell through a real pseudo-terminal (readline engaged).
@Suite(.serialized) struct TerminalTests {
    @Test func typingShowsTheResult() throws {
        let tl = try TerminalSession(history: temporaryHistory("typing"))
        #expect(tl.expect("[1]> "))
        tl.send("1 + 2 * 3\r")
        #expect(tl.expect("7\r\n"))
        #expect(tl.expect("[2]> "))
        tl.send("zeros(2)\r")
        #expect(tl.expect("tensor 2 float32 [0, 0]"))
        #expect(tl.expect("[3]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    @Test func tabCompletesBuiltinsKeywordsAndProperties() throws {
        let tl = try TerminalSession(history: temporaryHistory("tab"))
        #expect(tl.expect("[1]> "))
        tl.send("sof\t")
        #expect(tl.expect("softmax"))
        tl.send("(tensor([1, 1]))\r")
        #expect(tl.expect("tensor 2 float32 [0.5, 0.5]"))
        var mark = tl.mark
        tl.send("sum(ones(2, 2), ax\t")
        #expect(tl.expect("axis=", after: mark))
        tl.send("0)\r")
        #expect(tl.expect("tensor 2 float32 [2, 2]", after: mark))
        #expect(tl.expect("[3]> "))
        tl.send("x = zeros(2, 3)\r")
        #expect(tl.expect("[4]> "))
        mark = tl.mark
        tl.send("x.sh\t\r")
        #expect(tl.expect("x.shape", after: mark))
        #expect(tl.expect("[2, 3]", after: mark))
        #expect(tl.expect("[5]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    @Test func unfinishedStatementsContinue() throws {
        let tl = try TerminalSession(history: temporaryHistory("continue"))
        #expect(tl.expect("[1]> "))
        tl.send("for k in range(2) {\r")
        #expect(tl.expect("...> "))
        tl.send("print(k * 10)\r")
        tl.send("}\r")
        #expect(tl.expect("0\r\n10\r\n"))
        #expect(tl.expect("[2]> "))
        // An open bracket typed (or pasted without bracketed paste) line by line continues too.
        tl.send("m = max([3,\r")
        #expect(tl.expect("...> "))
        tl.send("41,\r")
        tl.send("7])\r")
        #expect(tl.expect("[3]> "))
        let mark = tl.mark
        tl.send("m\r")
        #expect(tl.expect("41\r\n", after: mark))
        #expect(tl.expect("[4]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    @Test func historySurvivesARestartWithMultiLineEntries() throws {
        let history = temporaryHistory("history")
        do {
            let first = try TerminalSession(history: history)
            #expect(first.expect("[1]> "))
            first.send("def twice(a) {\r")
            #expect(first.expect("...> "))
            first.send("return a * 2\r}\r")
            #expect(first.expect("[2]> "))
            first.send("\u{04}")
            #expect(first.exitStatus() == 0)
        }
        let second = try TerminalSession(history: history)
        #expect(second.expect("[1]> "))
        second.send("\u{1B}[A")  // Up: the whole definition comes back as one entry
        #expect(second.expect("return a * 2"))
        second.send("\r")
        #expect(second.expect("[2]> "))
        second.send("twice(21)\r")
        #expect(second.expect("42\r\n"))
        #expect(second.expect("[3]> "))
        second.send("\u{04}")
        #expect(second.exitStatus() == 0)
    }

    @Test func ctrlCStopsALongLoopAndKeepsBindings() throws {
        let tl = try TerminalSession(history: temporaryHistory("interrupt"))
        #expect(tl.expect("[1]> "))
        tl.send("kept = 5\r")
        #expect(tl.expect("[2]> "))
        tl.send("n = 0; while true { n = n + 1 }\r")
        usleep(300_000)
        tl.send("\u{03}")
        #expect(tl.expect("stopped by Ctrl-C"))
        #expect(tl.expect("[3]> "))
        let mark = tl.mark
        tl.send("kept + 1\r")
        #expect(tl.expect("6\r\n", after: mark))
        #expect(tl.expect("[4]> "))
        tl.send("n > 0\r")
        #expect(tl.expect("true", after: mark))
        #expect(tl.expect("[5]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    /// Values that grow past the memory budget (a doubling string, tensors kept in a list,
    /// a whole lecture's worth of data) end their statement with an error; the process and
    /// every binding stay, and a large value shows elided.
    @Test func theMemoryBudgetKeepsTheSessionAndItsBindings() throws {
        let tl = try TerminalSession(history: temporaryHistory("budget"), environment: ["TL_MEMORY_BUDGET=128M"])
        #expect(tl.expect("[1]> "))
        tl.send("kept = 41; s = \"ab\"\r")
        #expect(tl.expect("[2]> "))
        tl.send("for i in range(40) { s = s + s }\r")
        #expect(tl.expect("error: '+' needs"))
        #expect(tl.expect("more than is left of the memory budget of 128 MiB"))
        #expect(tl.expect("[3]> "))
        tl.send("keep = []; for i in range(1000) { keep = keep + [randn(1000, 1000)] }\r")
        #expect(tl.expect("error: randn needs 4 MiB, more than is left of the memory budget of 128 MiB"))
        #expect(tl.expect("[4]> "))
        let mark = tl.mark
        tl.send("kept + 1\r")
        #expect(tl.expect("42\r\n", after: mark))
        #expect(tl.expect("[5]> "))
        tl.send("[len(keep) > 10, len(s) > 1000000]\r")
        #expect(tl.expect("[true, true]", after: mark))
        #expect(tl.expect("[6]> "))
        tl.send("keep = none; s = none; x = range(1000000); x\r")
        #expect(tl.expect("[0, 1, 2, 3, 4, 5, …, 999997, 999998, 999999] (1000000 items)", after: mark))
        #expect(tl.expect("[7]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    /// Ctrl-C or SIGTERM while `save` writes, over and over, a 64 MiB tensor: the file is the
    /// whole tensor and no temporary file is left beside it.
    @Test(arguments: [SIGINT, SIGTERM])
    func stoppingWhileSavingLeavesNoPartialFile(_ signal: Int32) throws {
        let directory = "/tmp/tl-save-stop-\(getpid())-\(signal)"
        mkdir(directory, 0o755)
        let path = directory + "/a.npy"
        let tl = try TerminalSession(history: temporaryHistory("save-stop-\(signal)"))
        #expect(tl.expect("[1]> "))
        tl.send("a = ones(4096, 4096); save(a, \"\(path)\")\r")
        #expect(tl.expect("[2]> "))
        tl.send("for i in range(100000) { save(a, \"\(path)\") }\r")
        usleep(700_000)
        kill(tl.pid, signal)
        if signal == SIGINT {
            #expect(tl.expect("stopped by Ctrl-C"))
            #expect(tl.expect("[3]> "))
            tl.send("\u{04}")
            #expect(tl.exitStatus() == 0)
        } else {
            #expect(tl.exitStatus(timeout: 10) == 128 + signal)
        }
        let saved = try NPY.read(path)
        #expect(saved.shape == [4096, 4096] && saved.scalars.allSatisfy { $0 == 1 })
        var entries: [String] = []
        if let dir = opendir(directory) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { entries.append(name) }
            }
            closedir(dir)
        }
        #expect(entries == ["a.npy"], "\(entries)")
        unlink(path)
        rmdir(directory)
    }

    @Test func bracketedPasteOfSeveralLinesRunsAsOneCell() throws {
        let tl = try TerminalSession(history: temporaryHistory("paste"))
        #expect(tl.expect("[1]> "))
        tl.send("\u{1B}[200~a = 20\nb = 22\na + b\u{1B}[201~")
        tl.send("\r")
        #expect(tl.expect("42\r\n"))
        #expect(tl.expect("[2]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    @Test func ctrlCDuringTrainingKeepsTheModelAndAPartialHistory() throws {
        let tl = try TerminalSession(history: temporaryHistory("train"))
        #expect(tl.expect("[1]> "))
        tl.send("net = mlp([2352, 32, 10]); data = digits(2000)\r")
        #expect(tl.expect("[2]> "))
        tl.send("h = train(net, data, epochs=1000, batch=16)\r")
        #expect(tl.expect("epoch 1/1000"), "the progress bar is drawn")
        tl.send("\u{03}")
        #expect(tl.expect("stopped by Ctrl-C in epoch"))
        // The bar is cleared first, so the message starts on a line of its own.
        let before = tl.transcript[..<(tl.transcript.range(of: "stopped by Ctrl-C in epoch")?.lowerBound ?? tl.transcript.endIndex)]
        #expect(before.hasSuffix("\r\u{1B}[K") || before.hasSuffix("\n"), "\(before.suffix(80).debugDescription)")
        #expect(tl.expect("[3]> "))
        let mark = tl.mark
        tl.send("h\r")
        #expect(tl.expect("history ", after: mark))
        #expect(tl.expect("[4]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    /// Ctrl-C during evaluation and during t-SNE: the computation stops at its next step, the
    /// prompt returns, and what was bound before is there.
    @Test(arguments: [
        "r = evaluate(big, many)",
        "m = tsne(many.x[0:3000], iterations=100000)",
    ])
    func ctrlCStopsLongComputations(_ line: String) throws {
        let tl = try TerminalSession(history: temporaryHistory("long"))
        #expect(tl.expect("[1]> "))
        tl.send("big = mlp([2352, 2048, 2048, 10]); many = digits(60000)\r")
        #expect(tl.expect("[2]> "))
        tl.send(line + "\r")
        usleep(1_500_000)
        tl.send("\u{03}")
        #expect(tl.expect("(): stopped by Ctrl-C at "))
        #expect(tl.expect("every binding made so far is kept"))
        #expect(tl.expect("[3]> "))
        let mark = tl.mark
        tl.send("len(many)\r")
        #expect(tl.expect("60000", after: mark))
        #expect(tl.expect("[4]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    /// Ctrl-C while `load` parses a large CSV: the load stops at a line, the name it was going to
    /// bind stays unbound, and earlier bindings are there. 69 MB, over 2 s of parsing: a 17 MB file
    /// once parsed within the half second before the Ctrl-C, and the test failed.
    @Test func ctrlCStopsALoad() throws {
        let path = "/tmp/tl-slow-load-\(getpid()).csv"
        var text = Array("a,b,c,d,e,f,g,h,label\n".utf8)
        let row = Array("0.125,1.5,2.25,-3.75,4.5,5.0625,6.5,7.25,".utf8)
        text.reserveCapacity(1_600_000 * (row.count + 2))
        for i in 0..<1_600_000 { text += row; text.append(UInt8(ascii: "0") + UInt8(i % 10)); text.append(0x0A) }
        try FileIO.writeAtomically(text, to: path)
        defer { unlink(path) }
        let tl = try TerminalSession(history: temporaryHistory("load"))
        #expect(tl.expect("[1]> "))
        tl.send("kept = 5\r")
        #expect(tl.expect("[2]> "))
        tl.send("d = load(\"\(path)\")\r")
        usleep(500_000)
        tl.send("\u{03}")
        #expect(tl.expect("load(): stopped by Ctrl-C "), "stopped inside load, at a line or while reading")
        #expect(tl.expect("[3]> "))
        let mark = tl.mark
        tl.send("kept + 1\r")
        #expect(tl.expect("6\r\n", after: mark))
        #expect(tl.expect("[4]> "))
        tl.send("d\r")
        #expect(tl.expect("name 'd' is not defined", after: mark))
        #expect(tl.expect("[5]> "))
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    /// On a 256-colour terminal (tmux's TERM, no COLORTERM), colour images are drawn in the
    /// palette's colour cube, not in greys: the domain shift must be visible.
    @Test func colourImagesKeepTheirColourIn256Colours() throws {
        let tl = try TerminalSession(history: temporaryHistory("colour"), environment: ["TERM=tmux-256color", "NO_COLOR="])
        #expect(tl.expect("[1]> "))
        let mark = tl.mark
        tl.send("show(digits(2, style=\"mnistm\"))\r")
        #expect(tl.expect("[2]> ", after: mark))
        let shown = tl.transcript[mark...]
        let cube = shown.matches(of: /38;5;(\d+)m/).compactMap { Int($0.output.1) }.filter { (16...231).contains($0) }
        #expect(cube.count > 50, "colour-cube cells drawn: \(cube.count)")
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    /// show(ds) fits the terminal: as many images a row as the width allows, no more rows than
    /// the height holds (16 digits at 140×45 took ~60 lines before).
    @Test func showFitsTheTerminalsHeight() throws {
        let tl = try TerminalSession(history: temporaryHistory("layout"), rows: 45, columns: 140)
        #expect(tl.expect("[1]> "))
        let mark = tl.mark
        tl.send("show(digits(64))\r")
        #expect(tl.expect("[2]> ", after: mark))
        let lines = tl.transcript[mark...].utf8.filter { $0 == 10 }.count  // "\r\n" is one Character: count bytes
        #expect(lines < 45, "\(lines) lines")
        #expect(lines >= 30, "two rows of four images (\(lines) lines)")
        tl.send("\u{04}")
        #expect(tl.exitStatus() == 0)
    }

    @Test func ctrlCAtThePromptClearsTheLine() throws {
        let tl = try TerminalSession(history: temporaryHistory("clear"))
        #expect(tl.expect("[1]> "))
        tl.send("this is not finished (")
        usleep(100_000)
        tl.send("\u{03}")
        usleep(100_000)
        let mark = tl.mark
        tl.send("40 + 2\r")
        #expect(tl.expect("42\r\n", after: mark))
        #expect(tl.expect("[2]> "))
        tl.send(":quit\r")
        #expect(tl.exitStatus() == 0)
    }

    /// SIGTERM and SIGHUP at the prompt and during training: the shell exits with 128 + the
    /// signal, the training stopped at its next batch, and the history file holds every entry
    /// typed before, whole.
    @Test(arguments: [SIGTERM, SIGHUP])
    func terminationSignalsEndTheShellCleanly(_ signal: Int32) throws {
        let history = temporaryHistory("term-\(signal)")
        do {
            let tl = try TerminalSession(history: history)
            #expect(tl.expect("[1]> "))
            tl.send("x = 41 + 1\r")
            #expect(tl.expect("[2]> "))
            kill(tl.pid, signal)
            #expect(tl.exitStatus() == 128 + signal, "at the prompt")
        }
        do {
            let tl = try TerminalSession(history: history)
            #expect(tl.expect("[1]> "))
            tl.send("net = mlp([2352, 32, 10]); data = digits(2000)\r")
            #expect(tl.expect("[2]> "))
            tl.send("h = train(net, data, epochs=1000, batch=16)\r")
            #expect(tl.expect("epoch 1/1000"), "the progress bar is drawn")
            kill(tl.pid, signal)
            #expect(tl.exitStatus(timeout: 5) == 128 + signal, "during training")
        }
        let text = String(decoding: try FileIO.read(history), as: UTF8.self)
        #expect(text.hasPrefix("x = 41 + 1\n"), "\(text.debugDescription)")
        #expect(text.contains("h = train(net, data, epochs=1000, batch=16)\n"), "\(text.debugDescription)")
    }
}
