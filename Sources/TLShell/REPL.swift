import TLEngine
import TLLang

extension Session {
    /// The interactive loop: numbered prompts, continuation lines for unfinished statements,
    /// Ctrl-C clears the line (or stops a running cell), Ctrl-D on an empty line quits.
    public func interact(reader: LineReader, banner: Bool = true) -> Int32 {
        if banner {
            console.out("tl \(Version.string) · :help lists what there is · Ctrl-D quits\n")
        }
        var buffer = ""
        while true {
            let main = "[\(cellNumber)]> "
            let prompt = buffer.isEmpty ? main : String(repeating: " ", count: Swift.max(0, main.count - 5)) + "...> "
            switch reader.readLine(prompt: prompt) {
            case .end:
                console.out("\n")
                return Termination.exitStatus ?? 0
            case .interrupted:
                buffer = ""
            case .line(let line):
                buffer += (buffer.isEmpty ? "" : "\n") + line
                if buffer.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) {
                    buffer = ""
                    continue
                }
                let source = Source(name: "[\(cellNumber)]", text: buffer)
                let (_, errors) = Parser.parse(source)
                if !errors.isEmpty && errors.allSatisfy({ $0.kind == .incomplete }) { continue }
                reader.addHistory(buffer)
                cellNumber += 1
                recorder.begin(code: buffer)
                buffer = ""
                if run(source) == .quit { return 0 }
                if let status = Termination.exitStatus { return status }
                if let walk = pendingWalk, walk.next >= walk.cells.count { pendingWalk = nil }
            }
        }
    }
}
