#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TLLang
@testable import TLShell

@Suite struct BuiltinTableTests {
    @Test func everyBuiltinHasHelpAndAnExample() {
        for b in BuiltinTable.all {
            #expect(b.help.count > 10 && b.help.hasSuffix("."), "help of \(b.name)")
            #expect(!b.example.isEmpty, "example of \(b.name)")
            for p in b.parameters { #expect(!p.help.isEmpty, "help of \(b.name)'s parameter \(p.name)") }
        }
        #expect(Set(BuiltinTable.names).count == BuiltinTable.names.count, "builtin names are unique")
    }

    /// The parameter tables of `:help NAME` wrap their descriptions instead of running off an
    /// ordinary terminal.
    @Test func parameterTablesFitNinetyColumns() {
        for b in BuiltinTable.all where !b.parameters.isEmpty {
            let text = Session.helpText(for: b)
            guard let start = text.range(of: "\nparameters:\n"), let end = text.range(of: "\nexample:\n") else {
                Issue.record("\(b.name): no parameter table")
                continue
            }
            for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") {
                #expect(line.count <= 90, "\(b.name): \(line)")
            }
        }
    }

    @Test(arguments: BuiltinTable.all.map(\.name))
    func exampleRuns(_ name: String) throws {
        let b = try #require(BuiltinTable.byName[name])
        let capture = Capture()
        let session = Session(console: capture.console)
        #expect(session.run(Source(name: "example", text: b.example)) == .ok, "example of \(name): \(capture.err)")
    }

    /// Every lecture topic's example runs as printed, and its page has the idea and a formula.
    @Test(arguments: Topic.all.map(\.name))
    func topicExampleRuns(_ name: String) throws {
        let topic = try #require(Topic.named(name))
        let capture = Capture()
        let session = Session(console: capture.console)
        #expect(session.run(Source(name: "topic", text: topic.example)) == .ok, "example of \(name): \(capture.err)")
        #expect(topic.page.contains("example (runs as is):"))
        #expect(topic.text.split(separator: "\n").count >= 3, "a few lines of explanation")
    }

    /// Every keyword's page runs its example as printed, and `:help` finds it under each name.
    @Test(arguments: KeywordHelp.all.map(\.names))
    func keywordExampleRuns(_ names: [String]) throws {
        let keyword = try #require(KeywordHelp.named(names[0]))
        let capture = Capture()
        let session = Session(console: capture.console)
        #expect(session.run(Source(name: "keyword", text: keyword.example)) == .ok, "example of \(names): \(capture.err)")
        #expect(!capture.out.isEmpty, "the example shows something")
        for name in names {
            let help = Capture()
            #expect(Session(console: help.console).run(Source(name: "[1]", text: ":help \(name)")) == .ok)
            #expect(help.out == keyword.page, ":help \(name)")
        }
    }

    @Test func helpListsTheLectureTopics() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        #expect(session.run(Source(name: "[1]", text: ":help")) == .ok)
        for name in ["finetune", "conservative", "layer-transfer", "multitask", "progressive", "dann", "mmd", "coral",
                     "zero-shot", "conse", "self-taught", "when-to-finetune"] {
            #expect(capture.out.contains(name), "\(name) is listed")
            #expect(Topic.named(name) != nil)
        }
        #expect(session.run(Source(name: "[2]", text: ":help dann")) == .ok)
        #expect(capture.out.contains("λ_p = λ_max · (2 / (1 + e^(−10p)) − 1)"))
        #expect(capture.out.contains("When adaptation does not help"))
        // A topic that is also a builtin shows both.
        #expect(session.run(Source(name: "[3]", text: ":help conse")) == .ok)
        #expect(capture.out.contains("ConSE: convex combination") && capture.out.contains("conse(classifier, word_vectors"))
        #expect(session.run(Source(name: "[4]", text: ":help zero-sht")) == .runtimeError)
        #expect(capture.err.contains("did you mean 'zero-shot'?"))
        // The language's keywords are listed and found.
        #expect(capture.out.contains("for/in while if/else def/return"))
        #expect(session.run(Source(name: "[5]", text: ":help whle")) == .runtimeError)
        #expect(capture.err.contains("did you mean 'while'?"))
    }

    @Test func helpIsGeneratedFromTheDeclaration() {
        let capture = Capture()
        let session = Session(console: capture.console)
        session.run(Source(name: "[1]", text: ":help sum"))
        #expect(capture.out.hasPrefix("sum(x, *, axis=none, keepdims=false)\n"))
        #expect(capture.out.contains("keepdims"))
        #expect(capture.out.contains("example:\n  sum(tensor([[1, 2], [3, 4]]), axis=0)"))
        session.run(Source(name: "[2]", text: ":help"))
        #expect(capture.out.contains(":vars"))
        session.run(Source(name: "[3]", text: ":help summ"))
        #expect(capture.err.contains("no help for 'summ' (did you mean 'sum'?)"))
    }
}

@Suite struct CompletionTests {
    func session(_ code: String = "") -> Session {
        let s = Session(console: Capture().console)
        s.run(Source(name: "setup", text: code))
        return s
    }

    @Test func namesAndBuiltins() {
        let c = Completer(session: session("network = 1; netflix = 2"))
        #expect(c.complete("x = net") == ["netflix", "network"])
        #expect(c.complete("sof") == ["softmax"])
        #expect(c.complete("whi") == ["while"])
    }

    @Test func keywordParametersInsideACall() {
        let c = Completer(session: session("def probe(net, k=2) { return k }"))
        #expect(c.complete("sum(x, ke") == ["keepdims="])
        #expect(c.complete("sum(x, a").first == "axis=")
        #expect(c.complete("probe(1, ") .prefix(2) == ["net=", "k="])
        #expect(c.complete("sum(max(x, ax").first == "axis=")
    }

    @Test func propertiesAfterADot() {
        let c = Completer(session: session("x = zeros(2); cfg = {lr: 0.1, inner: {depth: 2}}"))
        #expect(c.complete("x.sh") == ["x.shape"])
        #expect(c.complete("print(x.") == ["x.T", "x.dtype", "x.grad", "x.rank", "x.shape", "x.size"])
        #expect(c.complete("cfg.") == ["cfg.inner", "cfg.lr"])
        #expect(c.complete("cfg.inner.d") == ["cfg.inner.depth"])
        #expect(c.complete("nothing.x") == [])
    }

    @Test func shellCommandsAndTheirArguments() {
        let c = Completer(session: session())
        #expect(c.complete(":he") == [":help"])
        #expect(c.complete(":help sof") == ["softmax"])
        #expect(c.complete(":help whi") == ["while"], "keywords too")
        #expect(c.complete(":") .contains(":vars"))
    }

    @Test func filePathsInsideStrings() throws {
        let dir = "/tmp/tl-completion-\(getpid())"
        mkdir(dir, 0o755)
        mkdir(dir + "/models", 0o755)
        fclose(fopen(dir + "/mnist.csv", "w"))
        let c = Completer(session: session())
        #expect(c.complete("load(\"\(dir)/mn") == ["\(dir)/mnist.csv"])
        #expect(c.complete("load(\"\(dir)/mo") == ["\(dir)/models/"])
        #expect(Completer.insideString("load(\"a") && !Completer.insideString("load(\"a\") + b"))
    }
}

@Suite struct HistoryTests {
    @Test func multiLineEntriesSurviveARestart() {
        let path = "/tmp/tl-history-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        let entries = ["x = 1", "for k in range(3) {\n    print(k)\n}", "path \\n literal", "tab\there"]
        let file = HistoryFile(path: path, warn: { _ in })
        for e in entries { file.append(e) }
        #expect(HistoryFile(path: path, warn: { _ in }).load() == entries)
    }

    @Test func twoWritersLoseNothing() {
        let path = "/tmp/tl-history-\(getpid())-both"
        defer { unlink(path) }
        let a = HistoryFile(path: path, warn: { _ in }), b = HistoryFile(path: path, warn: { _ in })
        for i in 0..<50 {
            a.append("a\(i)")
            b.append("b\(i)\nsecond line")
        }
        let loaded = HistoryFile(path: path, warn: { _ in }).load()
        #expect(loaded.count == 100)
        #expect(loaded.filter { $0.hasPrefix("b") }.allSatisfy { $0.hasSuffix("\nsecond line") })
    }

    @Test func compactsToItsLimitAndWarnsOnceWhenUnwritable() {
        let path = "/tmp/tl-history-\(getpid())-limit"
        defer { unlink(path) }
        let file = HistoryFile(path: path, limit: 10, warn: { _ in })
        for i in 0..<25 { file.append("e\(i)") }
        #expect(file.load() == (15..<25).map { "e\($0)" })
        #expect(HistoryFile(path: path, limit: 10, warn: { _ in }).load().count == 10)
        let warnings = Capture()
        let broken = HistoryFile(path: "/nonexistent/dir/history", warn: warnings.console.err)
        broken.append("x")
        broken.append("y")
        #expect(warnings.err.components(separatedBy: "warning:").count == 2)
        // A full disk: writes fail with ENOSPC.
        let full = Capture()
        let disk = HistoryFile(path: "/dev/full", warn: full.console.err)
        disk.append("z")
        #expect(full.err.contains("cannot write the history file /dev/full"))
    }
}

@Suite struct CellTests {
    @Test func percentCellsAndMarkdown() {
        let text = """
            seed(1)
            # %% [markdown]
            # # Fine-tuning
            # A few labels.
            # %%
            x = 1

            x + 1
            # %% second
            print(x)
            """
        let cells = Cells.split(text)
        #expect(cells == [
            Cell(kind: .code, text: "seed(1)", firstLine: 1),
            Cell(kind: .markdown, text: "# Fine-tuning\nA few labels.", firstLine: 3),
            Cell(kind: .code, text: "x = 1\n\nx + 1", firstLine: 6),
            Cell(kind: .code, text: "print(x)", firstLine: 10),
        ])
    }

    @Test func windowsLineEndings() {
        let cells = Cells.split("# %%\r\nx = 1\r\n# %% [markdown]\r\n# note\r\n# %%\r\nx\r\n")
        #expect(cells.map(\.text) == ["x = 1", "note", "x"])
        #expect(cells.map(\.firstLine) == [2, 4, 6])
    }

    @Test func withoutMarkersEachStatementIsACell() {
        let cells = Cells.split("x = 1\nfor k in range(2) {\n  print(k)\n}\n\nx")
        #expect(cells.map(\.text) == ["x = 1", "for k in range(2) {\n  print(k)\n}", "x"])
        #expect(cells.map(\.firstLine) == [1, 2, 6])
    }

    @Test func stepModeKeys() throws {
        let path = "/tmp/tl-step-\(getpid()).tl"
        let script = "a = 1\nprint(\"one\")\nprint(\"two\")\nprint(\"three\")\nprint(\"four\")\nprint(a)\n"
        let f = fopen(path, "w")
        fputs(script, f)
        fclose(f)
        defer { unlink(path) }
        // Enter runs a = 1 and "one"; s skips "two"; r runs "one" again; i drops to the shell.
        let capture = Capture()
        let session = Session(console: capture.console)
        var keys: [Character] = ["\n", "\n", "s", "r", "i"]
        session.readKey = { keys.isEmpty ? nil : keys.removeFirst() }
        #expect(session.step(path) == .shell)
        let printed = capture.out.split(separator: "\n").filter { ["one", "two", "three"].contains($0) }
        #expect(printed == ["one", "one"])
        // :step resumes where the walk stopped; c runs the rest.
        keys = ["c"]
        session.run(Source(name: "[1]", text: ":step"))
        #expect(capture.out.split(separator: "\n").filter { ["three", "four", "1"].contains($0) } == ["three", "four", "1"])
        #expect(capture.out.contains("── end of \(path) ──"))
        // q quits a walk.
        keys = ["q"]
        #expect(session.step(path) == .quit)
    }
}

@Suite struct CommandTests {
    @Test func varsTimeAndLoad() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        session.run(Source(name: "[1]", text: "w = zeros(256); label = \"x\""))
        session.run(Source(name: "[2]", text: ":vars"))
        #expect(capture.out.contains("w      tensor  tensor 256 float32"))
        #expect(capture.out.contains("1 KiB"))
        #expect(capture.out.contains("label  string  \"x\""))
        #expect(capture.out.contains("the session holds ") && capture.out.contains(" of its memory budget of "))
        session.run(Source(name: "[3]", text: ":time sum(ones(1000))"))
        #expect(capture.out.contains("tensor scalar float32 1000\ntime: "))
        let path = writeScript("loaded", "from_file = 41\n")
        session.run(Source(name: "[4]", text: ":load \(path)"))
        session.run(Source(name: "[5]", text: "from_file + 1"))
        #expect(capture.out.hasSuffix("42\n"))
        #expect(session.run(Source(name: "[6]", text: ":load /nonexistent.tl")) == .runtimeError)
        #expect(session.run(Source(name: "[7]", text: ":quit")) == .quit)
    }

    @Test func aFailedComprehensionLeavesItsVariableAsItWas() {
        let capture = Capture()
        let session = Session(console: capture.console)
        session.run(Source(name: "[1]", text: "s = 5"))
        #expect(session.run(Source(name: "[2]", text: "[10 / (s - 2) for s in range(4)]")) == .ok)
        #expect(session.run(Source(name: "[3]", text: "[s + missing for s in range(4)]")) == .runtimeError)
        session.run(Source(name: "[4]", text: "s"))
        #expect(capture.out.hasSuffix("5\n"), "the binding of before, not 0 or 3")
        // Inside a function, a global named like the variable is left alone too.
        session.run(Source(name: "[5]", text: "def f() { global s; return [s for s in [1, 2]] }\nf()\ns"))
        #expect(capture.out.hasSuffix("[1, 2]\n5\n"))
    }

    @Test func errorsAtThePromptShowTheLineAndCaretWithoutAPosition() {
        let capture = Capture()
        let session = Session(console: capture.console)
        session.run(Source(name: "[1]", text: "zeros(2) + ones(3)"))
        #expect(capture.err == """
            error: shape mismatch in add: shapes cannot be broadcast together (2 and 3)
                zeros(2) + ones(3)
                ^~~~~~~~~~~~~~~~~~

            """)
        #expect(session.run(Source(name: "[2]", text: "x = 1")) == .ok, "the session goes on")
    }

    @Test(arguments: ["net(src.x[0])", "predict(net, src.x[0])", "features(net, src.x[0], at=3)"])
    func oneSampleWhereABatchIsExpectedSaysHowToMakeABatchOfOne(_ call: String) {
        let capture = Capture()
        let session = Session(console: capture.console)
        #expect(session.run(Source(name: "[1]", text: "src = digits(4)\nnet = cnn()")) == .ok)
        #expect(session.run(Source(name: "[2]", text: call)) == .runtimeError)
        #expect(capture.err.hasSuffix("this is one sample (3×28×28); a model takes a batch, N×3×28×28: slice a range (x[0:1], not x[0]) or reshape(x, [1, 3, 28, 28])\n"), "\(capture.err)")
        // A batch of one runs.
        #expect(session.run(Source(name: "[3]", text: call.replacingOccurrences(of: "x[0]", with: "x[0:1]"))) == .ok)
    }
}
