@testable import MQTT
import Logging
import TestSupport
import Testing

/// The client's socket options, read back from the connected socket.
@Suite(.enabled(if: TestServices.runMQTT))
struct MQTTSocketTests {
    @Test("TCP_NODELAY is off by default, as in libmosquitto, and on when configured")
    func tcpNoDelay() async throws {
        let url = try TestServices.requireMQTT()
        for noDelay in [false, true] {
            let client = try MQTTClient(
                configuration: .init(url: url, clientID: "nodelay-\(noDelay)-\(UInt32.random(in: 0...UInt32.max))", tcpNoDelay: noDelay),
                logger: Logger(label: "test")
            ) { _ in }
            try await client.connect()
            #expect(client.socketHasNoDelay == noDelay)
            client.disconnect()
        }
    }
}
