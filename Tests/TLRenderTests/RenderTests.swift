import Testing
@testable import TLEngine
@testable import TLRender

@Suite struct ImageTests {
    /// Two 1×2×2 images: one white above black, one mid-grey.
    let images = try! Tensor(shape: [2, 1, 2, 2], values: [1, 1, 0, 0, 0.5, 0.5, 0.5, 0.5])

    @Test func plainTextShadesByBrightnessWithLabels() {
        let text = ImageText.render(images, labels: ["a", "bc"], mode: .plain, width: 80)
        #expect(text == "++ ++\na  bc")
    }

    @Test func trueColourPutsTheTopPixelInFrontAndTheBottomBehind() {
        let text = ImageText.render(images, labels: [], mode: .trueColour, width: 80)
        #expect(text.contains("\u{1B}[38;2;255;255;255m\u{1B}[48;2;0;0;0m▀"))
        #expect(text.contains("\u{1B}[38;2;128;128;128m\u{1B}[48;2;128;128;128m▀"))
        #expect(text.hasSuffix("\u{1B}[0m"))
    }

    @Test func wrapsToTheWidthAndRescalesValuesOutsideTheUnitRange() {
        let many = try! Tensor(shape: [5, 1, 2, 2], values: (0..<20).map { Float($0) })
        let text = ImageText.render(many, labels: [], mode: .plain, width: 8)
        #expect(text.split(separator: "\n").count == 2, "three images of width 2 per line of 8 columns")
        #expect(!text.isEmpty)
        #expect(ImageText.render(try! Tensor.zeros([1, 2, 2, 2]), mode: .plain) == "", "two channels are not an image")
    }
}

@Suite struct TensorFormatTests {
    @Test func integersDecimalsAndScientific() throws {
        #expect(TensorFormat.inline(try Tensor(shape: [2, 2], values: [1, 2, 3, 4])) == "[[1, 2], [3, 4]]")
        #expect(TensorFormat.inline(Tensor([0.5, 0.25])) == "[0.50, 0.25]")
        #expect(TensorFormat.inline(Tensor([1e-6, 1])) == "[1.0000e-06, 1.0000e+00]")
        #expect(TensorFormat.inline(Tensor([.nan, .infinity, -1])) == "[nan, inf, -1]")
        #expect(TensorFormat.inline(Tensor(scalar: 3)) == "3")
    }

    @Test func longAxesAreElided() throws {
        let t = try Tensor.arange(0, 2000)
        #expect(TensorFormat.inline(t) == "[0, 1, 2, ..., 1997, 1998, 1999]")
        let m = try Tensor.arange(0, 1200).reshaped([40, 30])
        let block = TensorFormat.block(m)
        #expect(block.contains("..."))
        #expect(block.split(separator: "\n").count == 7)
    }

    /// Printing a large tensor reads only what it shows (the fuzzer found a 40000×40000 result
    /// formatted element by element until the process was killed), and the precision is chosen
    /// from the shown values, as NumPy does when it summarises.
    @Test func aSummaryReadsOnlyTheShownElements() throws {
        let big = try Tensor.arange(0, 3_000_000).reshaped([100, 100, 300])
        let summary = TensorFormat.Summary(big)
        #expect(summary.shape == [6, 6, 6] && summary.values.count == 216 && summary.cut == [true, true, true])
        #expect(summary.values.prefix(4) == [0, 1, 2, 297])
        #expect(TensorFormat.inline(try Tensor.arange(0, 1001).reshaped([1, 1001])).hasSuffix("..., 998, 999, 1000]]"))
        let mixed = try Tensor(shape: [2000], values: [0.5] + [Float](repeating: 1, count: 1999))
        #expect(TensorFormat.inline(mixed) == "[0.5, 1.0, 1.0, ..., 1.0, 1.0, 1.0]")
    }

    @Test func blocksAlignColumns() throws {
        let t = try Tensor(shape: [2, 2], values: [1, -10, 100, 2])
        #expect(TensorFormat.block(t) == "[[  1, -10]\n [100,   2]]")
    }
}

@Suite struct TableTests {
    @Test func columnsArePaddedAndTrailingSpaceTrimmed() {
        let t = Table(headers: ["name", "n"], rows: [["a", "1"], ["long", "22"]], alignments: [.left, .right])
        #expect(t.render() == "name   n\n────  ──\na      1\nlong  22")
    }
}

@Suite struct TableWrapTests {
    @Test func aLongLastColumnWrapsUnderItself() {
        let t = Table(headers: ["name", "description"], rows: [["a", "one two three four five six seven eight nine ten"], ["b", "short"]])
        let text = t.render(width: 30)
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 30 }, "\(text)")
        #expect(text.contains("\n      ") && text.contains("short"), "continuation lines start under the column")
        #expect(t.render() == t.render(width: 200), "no width, or room enough: one line per row")
    }
}

@Suite struct ProgressBarTests {
    @Test func showsEpochBatchRateLossAndTimeLeft() {
        let line = ProgressBar.line(epoch: 2, epochs: 4, batch: 50, batches: 100, samplesPerSecond: 2345.6,
                                    figures: [("loss", 0.31234), ("accuracy", 0.9), ("lambda", 0.4)], elapsed: 30, width: 100)
        #expect(line.hasPrefix("epoch 2/4 ━━━━━━━"))
        #expect(line.hasSuffix(" 50/100 · 2346/s · loss 0.312 · acc 0.900 · 0:50 left"), "the bar keeps to loss and accuracy")
    }

    /// Redrawn in place, the bar never wraps: figures that do not fit go, then the line is cut.
    @Test func fitsTheTerminalWidth() {
        let figures: [(name: String, value: Double)] = [("loss", 0.3), ("reconstruction", 0.2), ("source_accuracy", 0.9), ("domain_accuracy", 0.5)]
        for width in [20, 60, 80, 99] {
            let line = ProgressBar.line(epoch: 1, epochs: 3, batch: 5, batches: 10, samplesPerSecond: 5000,
                                        figures: figures, elapsed: 3, width: width)
            #expect(line.count <= width, "width \(width): \(line)")
        }
        let wide = ProgressBar.line(epoch: 1, epochs: 3, batch: 5, batches: 10, samplesPerSecond: 5000, figures: figures, elapsed: 3, width: 200)
        #expect(wide.contains("dom acc 0.500"), "every figure when there is room")
        let narrow = ProgressBar.line(epoch: 1, epochs: 3, batch: 5, batches: 10, samplesPerSecond: 5000, figures: figures, elapsed: 3, width: 80)
        #expect(narrow.contains("loss 0.300") && !narrow.contains("dom acc") && narrow.hasSuffix(" left"), "the last figures go first")
    }

    /// A finished epoch leaves every recorded figure by name, the rate and the time.
    @Test func epochLineNamesEveryFigure() {
        let line = ProgressBar.epochLine(epoch: 2, epochs: 5, figures: [("loss", 0.31234), ("accuracy", 0.9), ("domain_accuracy", 0.55)],
                                         samplesPerSecond: 12345.6, seconds: 1.234)
        #expect(line == "epoch 2/5 · loss 0.312 · accuracy 0.900 · domain_accuracy 0.550 · 12,346 samples/s · 1.2 s")
    }

    @Test func survivesAbsurdNumbers() {
        let line = ProgressBar.line(epoch: 1, epochs: 1, batch: 1, batches: 1_000_000, samplesPerSecond: .infinity,
                                    figures: [("loss", 1e300), ("accuracy", .nan)], elapsed: 1e300, width: 80)
        #expect(line.contains("?/s") && line.contains("loss 1e+300") && !line.contains("acc"), "no accuracy without labels")
    }
}
