#if canImport(Glibc)
import Glibc
#endif
import CZMQ
import Foundation
import Synchronization
import TLEngine
import TLLang
import TLRender
import TLShell
import TLTransfer

/// The ports, address and key Jupyter gives a kernel in its connection file.
public struct ConnectionInfo: Sendable {
    public let transport: String, ip: String
    public let shellPort: Int, iopubPort: Int, stdinPort: Int, controlPort: Int, heartbeatPort: Int
    public let key: String

    public static func read(_ path: String) throws -> ConnectionInfo {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KernelError(description: "cannot read the connection file '\(path)'")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? JSONObject else {
            throw KernelError(description: "the connection file '\(path)' is not a JSON object")
        }
        func port(_ name: String) throws -> Int {
            guard let p = json[name] as? Int, (1...65535).contains(p) else {
                throw KernelError(description: "the connection file has no valid '\(name)'")
            }
            return p
        }
        let scheme = json["signature_scheme"] as? String ?? "hmac-sha256"
        guard scheme == "hmac-sha256" else {
            throw KernelError(description: "signature scheme '\(scheme)' is not supported (hmac-sha256 is)")
        }
        return ConnectionInfo(
            transport: json["transport"] as? String ?? "tcp", ip: json["ip"] as? String ?? "127.0.0.1",
            shellPort: try port("shell_port"), iopubPort: try port("iopub_port"), stdinPort: try port("stdin_port"),
            controlPort: try port("control_port"), heartbeatPort: try port("hb_port"), key: json["key"] as? String ?? "")
    }

    func endpoint(_ port: Int) -> String { "\(transport)://\(ip):\(port)" }
}

public struct KernelError: Error, CustomStringConvertible {
    public let description: String
}

/// Where the session's text goes while a cell runs: set by the kernel once it exists.
final class Outlet: @unchecked Sendable {
    var out: (String) -> Void = { _ in }
    var err: (String) -> Void = { _ in }
}

/// tl as a Jupyter kernel (messaging protocol 5.3 over ZeroMQ): one live session whose cells
/// come from a Jupyter front end. The shell channel runs on the main thread; control (interrupt,
/// shutdown) and the heartbeat have threads of their own, so an interrupt reaches a running
/// training. Every message is verified against the connection file's key; one that does not
/// verify is logged to standard error and dropped.
public final class Kernel: @unchecked Sendable {
    let info: ConnectionInfo
    let signer: Signer
    let context: ZMQContext
    let shell: ZMQSocket, control: ZMQSocket, stdin: ZMQSocket, iopub: ZMQSocket, heartbeat: ZMQSocket
    /// IOPub is written from the shell and control threads.
    let iopubLock = Mutex<Void>(())
    let session: Session
    let outlet: Outlet
    let sessionID = UUID().uuidString.lowercased()
    var executionCount = 0
    /// The request whose outputs are being published.
    var parent: KernelMessage?
    /// Error text the session reported during the current cell.
    var errorText = ""
    /// The training progress display of the current run, by id.
    var progressDisplay: String?
    var lastProgress = 0.0
    let stopping = Atomic<Bool>(false)
    /// Log lines (dropped messages, failures) go to standard error, which Jupyter shows in its log.
    let log: @Sendable (String) -> Void = { Console.standard.err("tl kernel: " + $0 + "\n") }

    public init(connectionFile: String) throws {
        info = try ConnectionInfo.read(connectionFile)
        signer = Signer(key: info.key)
        // ZeroMQ's I/O threads and the kernel's own threads inherit this mask: SIGINT, SIGTERM and
        // SIGHUP then always reach the main thread (unblocked in run()), whose wait they interrupt.
        Kernel.setSignalsBlocked(true)
        context = try ZMQContext()
        shell = try ZMQSocket(context, type: ZMQ_ROUTER)
        control = try ZMQSocket(context, type: ZMQ_ROUTER)
        stdin = try ZMQSocket(context, type: ZMQ_ROUTER)
        iopub = try ZMQSocket(context, type: ZMQ_PUB)
        heartbeat = try ZMQSocket(context, type: ZMQ_REP)
        for (socket, port) in [(shell, info.shellPort), (control, info.controlPort), (stdin, info.stdinPort),
                               (iopub, info.iopubPort), (heartbeat, info.heartbeatPort)] {
            try socket.bind(info.endpoint(port))
        }
        let outlet = Outlet()
        self.outlet = outlet
        session = Session(console: Console(out: { outlet.out($0) }, err: { outlet.err($0) }))
        outlet.out = { [unowned self] text in self.stream(text) }
        outlet.err = { [unowned self] text in self.errorText += text }
        session.resultHandler = { [unowned self] value in self.result(value) }
        session.interpreter.display = { [unowned self] item in
            self.display(item)
            return true
        }
        session.interpreter.width = 100
        session.interpreter.height = nil
        session.interpreter.imageMode = .plain
        session.interpreter.progress = { [unowned self] p in self.progress(p) }
        session.interpreter.progressEnded = { [unowned self] in self.endProgress() }
    }

    /// Serves until a shutdown request; the exit status.
    public func run() -> Int32 {
        let beat = Thread { [heartbeat] in
            while let frames = try? heartbeat.receive() { try? heartbeat.send(frames) }
            heartbeat.close()
        }
        beat.start()
        let controlDone = DispatchSemaphore(value: 0)
        let controlThread = Thread { [unowned self] in
            self.serve(self.control)
            self.control.close()
            controlDone.signal()
        }
        controlThread.start()
        Kernel.setSignalsBlocked(false)
        serve(shell)
        // Ended by SIGTERM or SIGHUP rather than a shutdown request: stop the other channels too.
        if !stopping.exchange(true, ordering: .relaxed) { context.shutdown() }
        // IOPub is shared with the control thread: close it once that thread is done.
        controlDone.wait()
        for socket in [shell, stdin, iopub] { socket.close() }
        context.terminate()
        return Termination.exitStatus ?? 0
    }

    /// Receives and handles requests on `socket` until the context shuts down.
    func serve(_ socket: ZMQSocket) {
        while !stopping.load(ordering: .relaxed) {
            let frames: [[UInt8]]
            do {
                frames = try socket.receive()
            } catch let error as ZMQError {
                if !error.isTerminated { log("\(error)") }
                return
            } catch {
                return
            }
            let request: KernelMessage
            do {
                request = try KernelMessage.decode(frames, signer: signer)
            } catch {
                log("dropped a message: \(error)")
                continue
            }
            publish("status", ["execution_state": "busy"], parent: request)
            handle(request, on: socket)
            publish("status", ["execution_state": "idle"], parent: request)
        }
    }

    func handle(_ request: KernelMessage, on socket: ZMQSocket) {
        let onControl = socket === control
        switch request.type {
        case "kernel_info_request": reply(request, on: socket, kernelInfo)
        case "shutdown_request": shutdown(request, on: socket)
        case "interrupt_request":
            Cancellation.request()
            reply(request, on: socket, ["status": "ok"])
        case "execute_request" where !onControl: execute(request)
        case "complete_request" where !onControl: complete(request)
        case "inspect_request" where !onControl: inspect(request)
        case "is_complete_request" where !onControl:
            let status = session.completeness(request.content["code"] as? String ?? "")
            reply(request, on: socket, ["status": status] + (status == "incomplete" ? ["indent": ""] : [:]))
        case "history_request" where !onControl: reply(request, on: socket, ["status": "ok", "history": [Any]()])
        case "comm_info_request" where !onControl: reply(request, on: socket, ["status": "ok", "comms": JSONObject()])
        default:
            log("no handler for '\(request.type)' on the \(onControl ? "control" : "shell") channel")
        }
    }

    var kernelInfo: JSONObject {
        ["status": "ok", "protocol_version": KernelMessage.protocolVersion, "implementation": "tl",
         "implementation_version": Version.string,
         "language_info": ["name": "tl", "version": Version.string, "mimetype": "text/x-tl", "file_extension": ".tl",
                           "pygments_lexer": "text", "codemirror_mode": "null"] as JSONObject,
         "banner": "tl \(Version.string): a shell for transfer learning · :help lists what there is",
         "help_links": [Any]()]
    }

    // MARK: Sending

    func message(_ type: String, _ content: JSONObject, parent: KernelMessage?) -> KernelMessage {
        var m = KernelMessage(header: KernelMessage.header(type, session: sessionID), content: content)
        m.parentHeader = parent?.header ?? [:]
        return m
    }

    func reply(_ request: KernelMessage, on socket: ZMQSocket, _ content: JSONObject) {
        let type = request.type.hasSuffix("_request") ? String(request.type.dropLast(8)) + "_reply" : request.type + "_reply"
        var m = message(type, content, parent: request)
        m.identities = request.identities
        do { try socket.send(m.encode(signer: signer)) } catch let e as ZMQError where e.isTerminated {
        } catch { log("cannot send \(type): \(error)") }
    }

    /// Publishes on IOPub, the topic being the message type.
    func publish(_ type: String, _ content: JSONObject, parent: KernelMessage?) {
        var m = message(type, content, parent: parent)
        m.identities = [Array(type.utf8)]
        iopubLock.withLock { _ in
            do { try iopub.send(m.encode(signer: signer)) } catch let e as ZMQError where e.isTerminated {
            } catch { log("cannot publish \(type): \(error)") }
        }
    }

    // MARK: Execution

    func execute(_ request: KernelMessage) {
        let code = request.content["code"] as? String ?? ""
        let silent = request.content["silent"] as? Bool ?? false
        let storeHistory = request.content["store_history"] as? Bool ?? !silent
        if storeHistory && !silent { executionCount += 1 }
        let count = executionCount
        if !silent { publish("execute_input", ["code": code, "execution_count": count], parent: request) }
        parent = silent ? nil : request
        errorText = ""
        progressDisplay = nil
        let outcome = session.run(Source(name: "[\(count)]", text: code))
        parent = nil
        switch outcome {
        case .ok, .quit:
            reply(request, on: shell, ["status": "ok", "execution_count": count, "user_expressions": JSONObject(), "payload": [Any]()])
        case .syntaxError, .runtimeError, .interrupted:
            let text = errorText.hasSuffix("\n") ? String(errorText.dropLast()) : errorText
            let first = text.split(separator: "\n").first.map(String.init) ?? text
            let evalue = first.range(of: "error: ").map { String(first[$0.upperBound...]) } ?? first
            let ename = outcome == .syntaxError ? "SyntaxError" : outcome == .interrupted ? "Interrupted" : "Error"
            let error: JSONObject = ["ename": ename, "evalue": evalue, "traceback": text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)]
            if !silent { publish("error", error, parent: request) }
            reply(request, on: shell, error + ["status": "error", "execution_count": count])
        }
    }

    func stream(_ text: String, name: String = "stdout") {
        guard let parent, !text.isEmpty else { return }
        publish("stream", ["name": name, "text": text], parent: parent)
    }

    func result(_ value: Value) {
        guard let parent else { return }
        publish("execute_result", ["execution_count": executionCount, "data": Rich.data(value), "metadata": JSONObject()], parent: parent)
    }

    func display(_ item: Display) {
        guard let parent else { return }
        publish("display_data", ["data": Rich.data(item), "metadata": JSONObject(), "transient": JSONObject()], parent: parent)
    }

    /// The progress bar, as one display updated in place (at most ten times a second).
    func progress(_ p: TrainingProgress) {
        guard let parent else { return }
        let now = Clock.seconds()
        guard progressDisplay == nil || now - lastProgress > 0.1 || p.batch == p.batches else { return }
        lastProgress = now
        let line = ProgressBar.line(epoch: p.epoch, epochs: p.epochs, batch: p.batch, batches: p.batches,
                                    samplesPerSecond: p.samplesPerSecond, figures: p.figures, elapsed: p.elapsed, width: 100)
        let type = progressDisplay == nil ? "display_data" : "update_display_data"
        let id = progressDisplay ?? UUID().uuidString.lowercased()
        progressDisplay = id
        publish(type, ["data": ["text/plain": line], "metadata": JSONObject(), "transient": ["display_id": id]], parent: parent)
    }

    /// The bar is emptied at the end of each epoch and of the run (the per-epoch lines stay); the
    /// same display shows the next epoch's bar.
    func endProgress() {
        guard let parent, let id = progressDisplay else { return }
        publish("update_display_data", ["data": ["text/plain": ""], "metadata": JSONObject(), "transient": ["display_id": id]], parent: parent)
    }

    // MARK: Completion and inspection

    func complete(_ request: KernelMessage) {
        let code = request.content["code"] as? String ?? ""
        let cursor = request.content["cursor_pos"] as? Int ?? code.unicodeScalars.count
        let (matches, start) = session.completions(code, cursor: cursor)
        reply(request, on: shell, ["status": "ok", "matches": matches, "cursor_start": start,
                                   "cursor_end": Swift.min(Swift.max(cursor, 0), code.unicodeScalars.count), "metadata": JSONObject()])
    }

    func inspect(_ request: KernelMessage) {
        let code = request.content["code"] as? String ?? ""
        let cursor = request.content["cursor_pos"] as? Int ?? code.unicodeScalars.count
        let text = session.inspection(code, cursor: cursor)
        reply(request, on: shell, ["status": "ok", "found": text != nil, "data": text.map { ["text/plain": $0] } ?? JSONObject(),
                                   "metadata": JSONObject()])
    }

    // MARK: Stopping

    /// Replies, then stops every channel: a running cell is interrupted first.
    func shutdown(_ request: KernelMessage, on socket: ZMQSocket) {
        let restart = request.content["restart"] as? Bool ?? false
        reply(request, on: socket, ["status": "ok", "restart": restart])
        Cancellation.request()
        if !stopping.exchange(true, ordering: .relaxed) { context.shutdown() }
    }
}

extension Kernel {
    static func setSignalsBlocked(_ blocked: Bool) {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &signals, nil)
    }
}

func + (a: JSONObject, b: JSONObject) -> JSONObject { a.merging(b) { _, new in new } }
