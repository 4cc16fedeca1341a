import CCrypto
import Foundation

/// A JSON object as JSONSerialization reads and writes it.
public typealias JSONObject = [String: Any]

/// Signs and verifies messages with HMAC-SHA256 over the connection file's key (OpenSSL's
/// libcrypto). An empty key means no signatures, as the protocol allows.
public struct Signer: Sendable {
    let key: [UInt8]

    public init(key: String) { self.key = Array(key.utf8) }

    public var isEnabled: Bool { !key.isEmpty }

    /// The hex digest of `parts` concatenated: header, parent header, metadata, content.
    public func signature(_ parts: [[UInt8]]) -> String {
        guard isEnabled else { return "" }
        let message = parts.flatMap { $0 }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                _ = HMAC(EVP_sha256(), k.baseAddress, Int32(key.count), m.bindMemory(to: UInt8.self).baseAddress, message.count,
                         &digest, &length)
            }
        }
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `given` is the signature of `parts`, compared in constant time.
    public func verify(_ given: [UInt8], _ parts: [[UInt8]]) -> Bool {
        guard isEnabled else { return true }
        let expected = Array(signature(parts).utf8)
        guard given.count == expected.count else { return false }
        return given.withUnsafeBytes { g in expected.withUnsafeBytes { e in CRYPTO_memcmp(g.baseAddress, e.baseAddress, given.count) == 0 } }
    }
}

/// Why a received message was dropped.
public struct WireError: Error, CustomStringConvertible {
    public let description: String
}

/// One message of the Jupyter messaging protocol (5.3): the routing identities, the four JSON
/// dictionaries, and any binary buffers.
public struct KernelMessage {
    public var identities: [[UInt8]] = []
    public var header: JSONObject
    public var parentHeader: JSONObject = [:]
    public var metadata: JSONObject = [:]
    public var content: JSONObject
    public var buffers: [[UInt8]] = []

    public var type: String { header["msg_type"] as? String ?? "" }

    public static let delimiter = Array("<IDS|MSG>".utf8)
    public static let protocolVersion = "5.3"

    public init(header: JSONObject, content: JSONObject) { (self.header, self.content) = (header, content) }

    /// A new header of type `type` for `session`.
    public static func header(_ type: String, session: String) -> JSONObject {
        ["msg_id": UUID().uuidString.lowercased(), "session": session, "username": "tl", "msg_type": type,
         "version": protocolVersion, "date": timestamp()]
    }

    /// Made once: every message (each printed line of a cell) needs a timestamp. The formatter is
    /// thread-safe, and the shell and control threads both use it.
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()

    static func timestamp() -> String { formatter.string(from: Date()) }

    /// Decodes frames: identities up to the delimiter, the signature, four JSON frames, buffers.
    /// Throws for anything malformed and for a signature that does not verify.
    public static func decode(_ frames: [[UInt8]], signer: Signer) throws -> KernelMessage {
        guard let split = frames.firstIndex(of: delimiter) else {
            throw WireError(description: "no <IDS|MSG> delimiter among \(frames.count) frames")
        }
        let rest = Array(frames[(split + 1)...])
        guard rest.count >= 5 else { throw WireError(description: "\(rest.count) frames after the delimiter, expected at least 5") }
        let parts = Array(rest[1...4])
        guard signer.verify(rest[0], parts) else { throw WireError(description: "bad signature") }
        func object(_ bytes: [UInt8], _ what: String) throws -> JSONObject {
            guard let value = try? JSONSerialization.jsonObject(with: Data(bytes)), let object = value as? JSONObject else {
                throw WireError(description: "the \(what) is not a JSON object")
            }
            return object
        }
        var message = KernelMessage(header: try object(parts[0], "header"), content: try object(parts[3], "content"))
        guard message.header["msg_type"] is String else { throw WireError(description: "the header has no msg_type") }
        message.identities = Array(frames[..<split])
        message.parentHeader = try object(parts[1], "parent header")
        message.metadata = try object(parts[2], "metadata")
        message.buffers = Array(rest[5...])
        return message
    }

    /// The frames to send, signed.
    public func encode(signer: Signer) -> [[UInt8]] {
        let parts = [header, parentHeader, metadata, content].map(KernelMessage.json)
        return identities + [KernelMessage.delimiter, Array(signer.signature(parts).utf8)] + parts + buffers
    }

    static func json(_ object: JSONObject) -> [UInt8] {
        // Values put in messages are strings, numbers, booleans, arrays and dictionaries.
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }
}
