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
