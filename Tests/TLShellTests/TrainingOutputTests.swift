#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TLLang
@testable import TLShell

/// What training leaves for a class to read, and how a wrong argument or name is answered.
@Suite struct TrainingOutputTests {
    /// Each finished epoch leaves a line — epoch, every recorded figure, rate, time — in the
    /// output (and so in notebooks); quiet=true leaves none.
    @Test func everyEpochLeavesALine() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        session.recorder.begin(code: "h = train(…)")
        #expect(session.run(Source(name: "t", text: """
            seed(1)
            d = digits(64)
            h = train(attach(cnn(), mlp([512, 8, 2]), at=7), d, target=unlabel(digits(64, style="usps")), epochs=2, batch=32)
            """)) == .ok)
        let lines = capture.out.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("epoch 1/2 · loss ") == true)
        for name in ["source_accuracy", "domain_loss", "domain_accuracy", "lambda", "samples/s"] {
            #expect(lines.allSatisfy { $0.contains(name) }, "\(name) in every epoch line")
        }
        let streams = session.recorder.cells.flatMap(\.outputs).compactMap { output -> String? in
            if case .stream(let text) = output { return text }
            return nil
        }
        #expect(streams.contains { $0.contains("epoch 2/2 · loss ") }, "the notebook gets the lines too")

        let quiet = Capture()
        #expect(Session(console: quiet.console).run(Source(name: "q", text: "train(mlp([2352, 10]), digits(32), quiet=true);")) == .ok)
        #expect(!quiet.out.contains("epoch 1/"))
    }

    /// show(h) prints a column per recorded figure, plot(h) draws loss and accuracies,
    /// plot(h.NAME) any one of them, and save(h, "h.csv") keeps them all by name.
    @Test func historiesShowPlotAndSaveEveryFigure() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        let path = "/tmp/tl-history-\(getpid()).csv"
        defer { unlink(path) }
        #expect(session.run(Source(name: "h", text: """
            seed(2)
            adv = attach(cnn(), mlp([512, 8, 2]), at=7)
            h = train(adv, digits(64), target=unlabel(digits(64, style="svhn")), epochs=2, quiet=true)
            show(h)
            f = plot(h)
            g = plot(h.domain_accuracy)
            save(h, "\(path)")
            """)) == .ok, "\(capture.err)")
        let header = capture.out.split(separator: "\n").first { $0.hasPrefix("epoch ") } ?? ""
        #expect(header.split(separator: " ", omittingEmptySubsequences: true)
            == ["epoch", "loss", "source_accuracy", "domain_loss", "domain_accuracy", "lambda", "samples/s", "seconds"])
        guard case .figure(let f)? = session.interpreter.globals["f"], case .figure(let g)? = session.interpreter.globals["g"] else {
            Issue.record("plot gives figures")
            return
        }
        #expect(f.series.map(\.name) == ["loss", "source_accuracy", "domain_accuracy"])
        #expect(g.series.first?.y.count == 2)
        let csv = try #require(String(validating: try readBytes(path), as: UTF8.self))
        #expect(csv.hasPrefix("epoch,loss,source_accuracy,domain_loss,domain_accuracy,lambda,samples_per_second,seconds\n1,"))
        #expect(csv.split(separator: "\n").count == 3)
    }

    /// An argument error names the builtin, the argument, what was expected and what was given,
    /// and its caret is under the argument, not the whole call.
    @Test func argumentErrorsPointAtTheArgument() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        #expect(session.run(Source(name: "[1]", text: "train(mlp([2352, 10]), digits(8), lr=\"fast\")")) == .runtimeError)
        #expect(capture.err.contains("train(): 'lr' must be a number, got \"fast\""))
        #expect(capture.err.contains("\n                                      ^~~~~~~~~"), "caret under lr=\"fast\": \(capture.err)")
        #expect(session.run(Source(name: "[2]", text: "freeze(3)")) == .runtimeError)
        #expect(capture.err.contains("freeze(): 'm' must be a model, got 3"))
        #expect(session.run(Source(name: "[3]", text: "evaluate(mlp([2352, 10]), 5)")) == .runtimeError)
        #expect(capture.err.contains("evaluate(): 'data' must be a dataset (or a list of datasets, one per head of a multitask model), got 5"))
    }

    /// One "did you mean" rule for names, parameters, options, properties, commands and topics.
    @Test func didYouMeanEverywhere() throws {
        let capture = Capture()
        let session = Session(console: capture.console)
        let cases: [(String, String)] = [
            ("trian", "did you mean 'train'?"),
            ("sum(tensor([1]), axes=0)", "did you mean 'axis'?"),
            ("train(mlp([2352, 10]), digits(8), optimizer=\"adan\")", "did you mean 'adam'?"),
            (":hepl", "did you mean ':help'?"),
            (":he", "did you mean ':help'?"),
            ("h = train(mlp([2352, 10]), digits(8), quiet=true); h.acurracy", "did you mean 'accuracy'?"),
            ("h.domain_accuracy", "a history has no property 'domain_accuracy'; it records loss, accuracy"),
        ]
        for (n, (code, hint)) in cases.enumerated() {
            #expect(session.run(Source(name: "[\(n)]", text: code)) == .runtimeError, "\(code) fails")
            #expect(capture.err.contains(hint), "\(code): \(hint)")
        }
        #expect(suggestions(for: "epo", among: ["epochs", "batch"]) == ["epochs"], "a prefix when nothing is close")
        #expect(session.run(Source(name: "[p]", text: "train(mlp([2352, 10]), digits(8), learning_rate=0.1)")) == .runtimeError)
        #expect(capture.err.contains("train() has no parameter 'learning_rate' (tl calls it 'lr')"))
    }

    /// `:help` finds a lecture topic by the words a class uses for it: any case, with or without
    /// hyphens, or the name of a variant.
    @Test func helpFindsTopicsByTheirOtherNames() throws {
        for (query, topic) in [("DANN", "Domain-adversarial training"), ("fine-tuning", "Fine-tuning"), ("mkmmd", "MMD, multi-kernel MMD"),
                               ("Zero-Shot", "Zero-shot learning")] {
            let capture = Capture()
            let session = Session(console: capture.console)
            #expect(session.run(Source(name: "[1]", text: ":help \(query)")) == .ok, "\(query): \(capture.err)")
            #expect(capture.out.contains(topic), "\(query) shows \(topic)")
        }
    }
}
