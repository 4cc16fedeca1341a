#if canImport(Glibc)
import Glibc
#endif
import CZMQ
import TLEngine

/// A ZeroMQ failure, with libzmq's words.
public struct ZMQError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }
    /// The context was shut down: the kernel is stopping.
    public var isTerminated: Bool { code == ETERM }

    static func last(_ operation: String) -> ZMQError { ZMQError(operation: operation, code: zmq_errno()) }
}

/// A ZeroMQ context: sockets are made from it; `shutdown` makes every blocking call in every
/// thread return with ETERM.
final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    init() throws {
        guard let h = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        handle = h
    }

    func shutdown() { zmq_ctx_shutdown(handle) }

    /// Waits until every socket is closed, then frees the context.
    func terminate() {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}

/// One ZeroMQ socket, used from one thread at a time (ZeroMQ sockets are not thread-safe).
final class ZMQSocket: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    init(_ context: ZMQContext, type: Int32) throws {
        guard let h = zmq_socket(context.handle, type) else { throw ZMQError.last("zmq_socket") }
        handle = h
        // Queued messages are delivered for up to a second after close, then dropped.
        var linger: Int32 = 1000
        zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        // A peer sending a larger frame is disconnected before the frame is held in memory.
        var largest = Int64(ZMQSocket.largestFrame)
        zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &largest, MemoryLayout<Int64>.size)
        // A wait wakes up this often to see whether SIGTERM or SIGHUP asked the kernel to end: a
        // signal that lands while no wait is under way (a cell running, a reply being sent) does
        // not interrupt the next one.
        var timeout = ZMQSocket.terminationCheckMilliseconds
        zmq_setsockopt(handle, ZMQ_RCVTIMEO, &timeout, MemoryLayout<Int32>.size)
    }

    /// How long a wait for a message goes before it looks at `Termination` again.
    static let terminationCheckMilliseconds: Int32 = 200

    /// The largest frame accepted: far beyond any cell's code, well under the memory budget.
    static let largestFrame = 64 << 20

    func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("bind \(endpoint)") }
    }

    /// The frames of the next message; waits for one. SIGINT does not end the wait; SIGTERM and
    /// SIGHUP do (ETERM), whenever they came.
    func receive() throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        while true {
            if frames.isEmpty && Termination.requested != nil { throw ZMQError(operation: "receive", code: ETERM) }
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            let n = zmq_msg_recv(&message, handle, 0)
            if n < 0 {
                let code = zmq_errno()
                // SIGTERM or SIGHUP: stop serving (the kernel then shuts down).
                // Interrupted, or no message within the check interval: look at Termination again.
                // (A message's parts arrive together, so a timeout never falls between them.)
                if (code == EINTR || code == EAGAIN) && frames.isEmpty { continue }
                throw ZMQError(operation: "receive", code: code)
            }
            let size = zmq_msg_size(&message)
            let data = zmq_msg_data(&message)
            frames.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: data, count: size)))
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }

    /// Sends `frames` as one multipart message.
    func send(_ frames: [[UInt8]]) throws {
        for (i, frame) in frames.enumerated() {
            let flags = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            while true {
                let n = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) }
                if n >= 0 { break }
                if zmq_errno() == EINTR { continue }
                throw ZMQError.last("send")
            }
        }
    }

    func close() { zmq_close(handle) }
}
