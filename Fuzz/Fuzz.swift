#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TLData
import TLEngine
import TLKernel
import TLLang
import TLNN
import TLRender
import TLShell

/// Coverage-guided fuzzing of what reads untrusted bytes: the lexer and parser (every line a user
/// types), the file decoders (every file a user loads), the Jupyter kernel's message decoder
/// (every message a client sends) and the notebook writer (every cell and output a session saves).
///
/// Built by `scripts/fuzz` with `-sanitize=fuzzer -D TL_LIBFUZZER`, libFuzzer drives
/// `LLVMFuzzerTestOneInput`; the target is chosen by `TL_FUZZ_TARGET` (`parser`, the default,
/// `files`, `kernel` or `notebook`). Built normally, `tl-fuzz TARGET FILE…` replays saved inputs (a crash libFuzzer found,
/// a corpus) through the same checks. A check that fails traps on purpose, so libFuzzer keeps the
/// input; the shell itself never traps.
enum FuzzTarget: String {
    case parser, files, kernel, notebook

    func run(_ bytes: [UInt8]) {
        switch self {
        case .parser: Self.parse(bytes)
        case .files: Self.decode(bytes)
        case .kernel: Self.message(bytes)
        case .notebook: Self.notebook(bytes)
        }
    }

    /// The bytes as parts separated by 0x1E (ASCII's record separator).
    static func parts(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: 0x1E, omittingEmptySubsequences: false).map(Array.init)
    }

    /// The bytes as the frames of a kernel message (split at 0x1E): decoding either throws a
    /// WireError or gives a message that encodes and decodes again to the same type and content,
    /// unsigned and signed; a message signed with one key never verifies under another.
    static func message(_ bytes: [UInt8]) {
        let frames = parts(bytes)
        for key in ["", "key"] {
            let signer = Signer(key: key)
            let decoded: KernelMessage
            do {
                decoded = try KernelMessage.decode(frames, signer: signer)
            } catch is WireError {
                continue
            } catch {
                check(false, "the decoder throws WireError, not \(error)")
                return
            }
            let again = try? KernelMessage.decode(decoded.encode(signer: signer), signer: signer)
            check(again?.type == decoded.type && again?.content.count == decoded.content.count, "a decoded message round-trips")
            check(decoded.identities.count == frames.firstIndex(of: KernelMessage.delimiter), "identities end at the delimiter")
            if !key.isEmpty {
                check((try? KernelMessage.decode(decoded.encode(signer: Signer(key: "other")), signer: signer)) == nil,
                      "a message signed with another key does not verify")
            }
        }
    }

    /// The bytes as cells (split at 0x1E; the first byte of each picks its kind and an output):
    /// the notebook written is JSON that Foundation reads back, with every cell's source intact.
    static func notebook(_ bytes: [UInt8]) {
        var cells: [NotebookCell] = []
        for (i, part) in parts(bytes).enumerated() {
            let text = String(decoding: part.dropFirst(), as: UTF8.self)
            let selector = part.first ?? 0
            var cell = NotebookCell(kind: selector & 1 == 0 ? .code : .markdown, source: text,
                                    executionCount: selector & 1 == 0 ? i + 1 : nil)
            if cell.kind == .code {
                switch selector >> 1 & 3 {
                case 0: cell.outputs = [.stream(text)]
                case 1: cell.outputs = [.result(text, html: text)]
                case 2: cell.outputs = [.error(text)]
                default: cell.outputs = [.blocks([.text(text), .table(Table(headers: [text], rows: [[text, text]]))])]
                }
            }
            cells.append(cell)
        }
        let json = NotebookWriter.ipynb(cells)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
              let written = object["cells"] as? [[String: Any]] else {
            check(false, "the notebook is a JSON object with cells")
            return
        }
        check(written.count == cells.count, "every cell is written")
        for (cell, w) in zip(cells, written) {
            let source = (w["source"] as? [String])?.joined() ?? ""
            check(source == cell.source, "a cell's source survives the notebook")
        }
    }

    /// Lexes and parses the bytes as a cell, then checks what came back: token and node ranges
    /// lie inside the text and in order, errors have a kind the shell handles and format with
    /// their line, each statement has its span, name resolution runs.
    static func parse(_ bytes: [UInt8]) {
        let source = Source(name: "fuzz", text: String(decoding: bytes, as: UTF8.self))
        let length = source.text.unicodeScalars.count
        func inside(_ r: SourceRange, _ what: String) {
            check(0 <= r.start.offset && r.start.offset <= r.end.offset && r.end.offset <= length
                  && r.start.line >= 1 && r.start.column >= 1, "\(what) range \(r.start)–\(r.end) outside the text")
        }
        let (tokens, _) = Lexer.tokenize(source)
        check(tokens.last?.kind == .end, "the token stream ends with .end")
        var previous = 0
        for token in tokens {
            inside(token.range, "token")
            check(token.range.start.offset >= previous, "tokens in order")
            previous = token.range.end.offset
        }
        let (statements, spans, errors) = Parser.parseWithSpans(source)
        check(spans.count == statements.count, "one span per statement")
        for e in errors {
            check(e.kind == .syntax || e.kind == .incomplete, "a parse error is syntax or incomplete, not \(e.kind)")
            if let r = e.range { inside(r, "error") }
            check(!e.formatted.isEmpty && e.sourceName == "fuzz", "errors name their source")
        }
        var walker = Walker(visit: { inside($0, "node") })
        for s in statements { walker.statement(s) }
        _ = NameResolver.undefinedNames(in: statements, source: source, predefined: [])
    }

    /// Decodes the bytes as each format `load` reads; each either yields tensors whose shape
    /// accounts for their values or throws a `FileError` naming the file.
    static func decode(_ bytes: [UInt8]) {
        func expect(naming file: String = "f.bin", _ body: () throws -> [Tensor]) {
            do {
                for t in try body() { check(t.count == t.shape.reduce(1, *), "a decoded tensor's shape matches its values") }
            } catch let e as FileError {
                check(e.description.contains(file), "the error names the file: \(e)")
            } catch {
                check(false, "decoders throw FileError, not \(error)")
            }
        }
        expect { [try NPY.decode(bytes, path: "f.bin")] }
        expect { try NPZ.decode(bytes, path: "f.bin").map(\.tensor) }
        expect { try Safetensors.decode(bytes, path: "f.bin").tensors.map(\.tensor) }
        expect { [try IDX.decode(file: bytes, path: "f.bin")] }
        if let text = String(validating: bytes, as: UTF8.self) {
            expect { [try CSV.parse(text, path: "f.bin").x] }
        }
        // PNG and JPEG are decoded from a file, by libpng and libjpeg through CImage.
        if bytes.count >= 3, bytes[0] == 0x89 || bytes[0] == 0xFF {
            let path = "/tmp/tl-fuzz-\(getpid()).img"
            if let f = fopen(path, "wb") {
                _ = fwrite(bytes, 1, bytes.count, f)
                fclose(f)
                expect(naming: path) { [try ImageFiles.loadFile(path, options: .init(size: (8, 8)))] }
            }
        }
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("fuzz check failed: " + message()) }
    }
}

/// Visits the range of every statement and expression.
struct Walker {
    var visit: (SourceRange) -> Void

    mutating func statement(_ s: Stmt) {
        visit(s.range)
        switch s.kind {
        case .expression(let e, _), .assign(_, let e): expression(e)
        case .setProperty(let a, _, let b): expression(a); expression(b)
        case .forIn(_, let e, let body), .whileLoop(let e, let body): expression(e); body.forEach { statement($0) }
        case .ifElse(let branches, let otherwise):
            for b in branches { expression(b.condition); b.body.forEach { statement($0) } }
            otherwise?.forEach { statement($0) }
        case .def(let f):
            visit(f.range)
            for p in f.parameters { visit(p.range); p.defaultValue.map { expression($0) } }
            f.body.forEach { statement($0) }
        case .returnValue(let e): e.map { expression($0) }
        case .breakLoop, .continueLoop, .global, .command: break
        }
    }

    mutating func expression(_ e: Expr) {
        visit(e.range)
        switch e.kind {
        case .number, .string, .bool, .none, .name: break
        case .list(let items): items.forEach { expression($0) }
        case .comprehension(let element, _, let sequence, let condition):
            expression(element); expression(sequence); condition.map { expression($0) }
        case .record(let fields): fields.forEach { expression($0.value) }
        case .unary(_, let a), .property(let a, _): expression(a)
        case .binary(_, let a, let b): expression(a); expression(b)
        case .call(let f, let args): expression(f); args.forEach { visit($0.range); expression($0.value) }
        case .index(let a, let items):
            expression(a)
            for item in items {
                switch item {
                case .single(let x): expression(x)
                case .slice(let lo, let hi, let step, let range):
                    visit(range)
                    [lo, hi, step].forEach { $0.map { expression($0) } }
                }
            }
        }
    }
}

#if TL_LIBFUZZER
let fuzzTarget: FuzzTarget = {
    let name = getenv("TL_FUZZ_TARGET").map { String(cString: $0) } ?? "parser"
    guard let target = FuzzTarget(rawValue: name) else { fatalError("TL_FUZZ_TARGET must be parser, files, kernel or notebook, not \(name)") }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTarget.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's entry with a callback (LLVM ≥ 11): SwiftPM links an executable's `main` to
/// `tl_fuzz_main`, so that is where libFuzzer's driver is started.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("tl_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
}
#else
@main struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: tl-fuzz parser|files|kernel|notebook FILE… (replays inputs through the fuzz checks; scripts/fuzz runs libFuzzer)")
            exit(2)
        }
        var count = 0
        for path in args.dropFirst() {
            do {
                target.run(try FileIO.read(path))
                count += 1
            } catch {
                print("tl-fuzz: \(error)")
                exit(1)
            }
        }
        print("\(count) inputs passed the \(name) checks")
    }
}
#endif
