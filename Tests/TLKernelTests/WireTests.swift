import Foundation
import Testing
@testable import TLKernel

/// The wire format: HMAC-SHA256 signatures and the framing of the Jupyter messaging protocol.
@Suite struct WireTests {
    @Test func hmacMatchesTheStandardVector() {
        let signer = Signer(key: "key")
        #expect(signer.signature([Array("The quick brown fox ".utf8), Array("jumps over the lazy dog".utf8)])
                == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        #expect(Signer(key: "").signature([Array("x".utf8)]) == "")
    }

    func sample() -> KernelMessage {
        var m = KernelMessage(header: KernelMessage.header("execute_request", session: "s"), content: ["code": "1 + 1"])
        m.identities = [Array("client".utf8)]
        return m
    }

    @Test func roundTripAndVerification() throws {
        let signer = Signer(key: "secret")
        let frames = sample().encode(signer: signer)
        let decoded = try KernelMessage.decode(frames, signer: signer)
        #expect(decoded.type == "execute_request")
        #expect(decoded.content["code"] as? String == "1 + 1")
        #expect(decoded.identities == [Array("client".utf8)])
        // Signed with another key, tampered with, or unsigned: dropped.
        #expect(throws: WireError.self) { try KernelMessage.decode(sample().encode(signer: Signer(key: "other")), signer: signer) }
        var tampered = frames
        tampered[tampered.count - 1] = Array("{\"code\": \"evil\"}".utf8)
        #expect(throws: WireError.self) { try KernelMessage.decode(tampered, signer: signer) }
        #expect(throws: WireError.self) { try KernelMessage.decode(sample().encode(signer: Signer(key: "")), signer: signer) }
    }

    @Test func malformedFramesAreRefused() {
        let signer = Signer(key: "")
        let delimiter = KernelMessage.delimiter
        for frames: [[UInt8]] in [[], [Array("x".utf8)], [delimiter, []], [delimiter, [], Array("{}".utf8), Array("{}".utf8), Array("{}".utf8)],
                                  [delimiter, [], Array("[]".utf8), Array("{}".utf8), Array("{}".utf8), Array("{}".utf8)],
                                  [delimiter, [], Array("{}".utf8), Array("{}".utf8), Array("{}".utf8), Array("{}".utf8)],
                                  [delimiter, [], Array("{\"msg_type\": \"x\"}".utf8), Array("{".utf8), Array("{}".utf8), Array("{}".utf8)]] {
            #expect(throws: WireError.self) { try KernelMessage.decode(frames, signer: signer) }
        }
    }
}

extension WireTests {
    /// Seeded mutations of a valid message (bytes flipped, frames cut, dropped, duplicated or
    /// swapped): the decoder throws WireError or decodes, never anything else; signed, a mutated
    /// message verifies only where the mutation left the signed frames alone.
    @Test func mutatedMessagesAreRefusedOrDecoded() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(Swift.max(n, 1)))
        }
        for key in ["", "secret"] {
            let signer = Signer(key: key)
            let original = sample().encode(signer: signer)
            for _ in 0..<5_000 {
                var frames = original
                for _ in 0...next(3) {
                    let f = next(frames.count)
                    switch next(5) {
                    case 0 where !frames[f].isEmpty: frames[f][next(frames[f].count)] ^= UInt8(1 << next(8))
                    case 1: frames[f] = Array(frames[f].prefix(next(frames[f].count + 1)))
                    case 2 where frames.count > 1: frames.remove(at: f)
                    case 3: frames.insert(frames[f], at: next(frames.count))
                    default: frames.swapAt(f, next(frames.count))
                    }
                }
                do {
                    let m = try KernelMessage.decode(frames, signer: signer)
                    if signer.isEnabled, let split = frames.firstIndex(of: KernelMessage.delimiter) {
                        #expect(Array(frames[(split + 2)...(split + 5)]) == Array(original[3...6]), "only intact signed parts verify")
                    }
                    #expect(!m.type.isEmpty)
                } catch is WireError {
                } catch {
                    Issue.record("the decoder threw \(error)")
                }
            }
        }
    }
}
