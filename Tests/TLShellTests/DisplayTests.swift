import Testing
@testable import TLLang
@testable import TLTransfer

/// Every display is bounded: long strings, lists, records and histories show their ends.
@Suite struct DisplayTests {
    @Test func longStringsShowTheirEnds() {
        let s = String(repeating: "a", count: 5_000) + "END"
        let shown = Value.string(s).shown
        #expect(shown.count < 1_000 + 50)
        #expect(shown.hasSuffix("aaEND\" (5003 characters)"))
        #expect(Value.string(s).plain == s, "print writes a string in full")
    }

    @Test func hugeListsAndRecordsStayShort() {
        let list = Value.list((0..<2_000_000).map { .number(Double($0)) })
        #expect(list.plain == "[0, 1, 2, 3, 4, 5, …, 1999997, 1999998, 1999999] (2000000 items)")
        let record = Value.record(Record((0..<500).map { ("f\($0)", Value.number(Double($0))) }))
        #expect(record.plain.hasSuffix("f499: 499} (500 fields)"))
        // A list of long lists of long strings is cut by the character budget.
        let text = Value.list(Array(repeating: .string(String(repeating: "x", count: 900)), count: 90)).plain
        #expect(text.count < 25_000)
    }

    @Test func longHistoriesShowTheirFirstAndLastEpochs() {
        var h = History()
        h.epochs = (1...500).map { EpochRecord(epoch: $0, seconds: 1, samplesPerSecond: 100, figures: [("loss", 1 / Double($0))]) }
        let table = HistoryTable.render(h)
        #expect(table.split(separator: "\n").count < 70)
        #expect(table.contains("(500 epochs; save(h, \"h.csv\") keeps every one)"))
        #expect(table.contains("  500 "), "the last epoch is shown")
    }
}
