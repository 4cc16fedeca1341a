import Testing
@testable import TLRender

@Suite struct FigureTests {
    let diagonal = Figure(series: [Figure.Series(name: "", x: [0, 1], y: [0, 1], mark: .line)])

    @Test func ticksAreRoundStepsCoveringTheRange() {
        #expect(Figure.ticks(0...1, count: 5) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        #expect(Figure.ticks(-3...17, count: 4) == [0, 5, 10, 15])
        #expect(Figure.ticks(-0.013...0.021, count: 4) == [-0.01, 0, 0.01, 0.02])
        #expect(Figure.ticks(2...2, count: 4) == [2])
    }

    @Test func labelsKeepThreeSignificantDigits() {
        #expect(Figure.label(0.0867123) == "0.0867")
        #expect(Figure.label(26.8542) == "26.9")
        #expect(Figure.label(-7) == "-7")
        #expect(Figure.label(0.000015) == "1.5e-5")
        #expect(Figure.label(123456) == "1.23e5")
        #expect(Figure.label(0) == "0")
    }

    @Test func aLineRunsCornerToCornerInPlainText() {
        let text = FigureText.render(diagonal, width: 40, height: 5, colour: false)
        let rows = text.split(separator: "\n").map(String.init)
        // Five plot rows, the axis, the x labels; no legend for one unnamed series. The y labels
        // (1, 0.5, 0) are right-aligned.
        #expect(rows.count == 7)
        #expect(rows[0].hasPrefix("  1 ┤") && rows[0].hasSuffix("•"))
        #expect(rows[2].hasPrefix("0.5 ┤"))
        #expect(rows[4].hasPrefix("  0 ┤•"))
        #expect(rows.allSatisfy { $0.count <= 40 })
        #expect(!text.contains("\u{1B}"))
    }

    @Test func colourUsesBrailleDotsAndALegend() {
        let figure = Figure(title: "two", series: [
            Figure.Series(name: "a", x: [0, 1, 2], y: [0, 1, 0], mark: .points),
            Figure.Series(name: "b", x: [0, 2], y: [1, 1], mark: .line),
        ])
        let text = FigureText.render(figure, width: 60, colour: true)
        #expect(text.hasPrefix("   two") || text.contains("two\n"))
        #expect(text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        #expect(text.contains("\u{1B}[38;5;32m●\u{1B}[0m a"))
        #expect(text.contains("\u{1B}[38;5;208m●\u{1B}[0m b"))
    }

    @Test func missingAndSingleValuesDoNotBreakTheDrawing() {
        let odd = Figure(series: [
            Figure.Series(name: "x", x: [0, 1, 2], y: [.nan, 3, .infinity], mark: .line),
            Figure.Series(name: "empty", x: [], y: [], mark: .points),
        ])
        let text = FigureText.render(odd, width: 30, colour: false)
        #expect(text.contains("•"))
        #expect(!text.contains("nan"))
        let svg = FigureSVG.render(odd)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func svgHasAxesLegendAndEscapedText() {
        let figure = Figure(title: "a < b & c", xLabel: "epoch", yLabel: "loss", series: [
            Figure.Series(name: "train", x: [1, 2, 3], y: [0.9, 0.5, 0.3], mark: .line),
            Figure.Series(name: "points", x: [1, 2], y: [0.4, 0.6], mark: .points),
        ])
        let svg = FigureSVG.render(figure)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("a &lt; b &amp; c") && !svg.contains("a < b"))
        #expect(svg.contains(">epoch</text>") && svg.contains(">loss</text>"))
        #expect(svg.components(separatedBy: "<polyline").count == 2)
        // Two data points and two legend markers.
        #expect(svg.components(separatedBy: "<circle").count == 5)
        // Every opened element is closed.
        #expect(svg.components(separatedBy: "<g ").count == svg.components(separatedBy: "</g>").count)
        #expect(svg.components(separatedBy: "<text").count == svg.components(separatedBy: "</text>").count)
    }
}

private extension String {
    func components(separatedBy separator: String) -> [Substring] { split(separator: separator, omittingEmptySubsequences: false) }
}
