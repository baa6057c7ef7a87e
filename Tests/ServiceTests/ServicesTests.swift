import Foundation
import Testing
import TestSupport

/// The test services are real: a message goes through the broker between the real command-line clients, and
/// the database answers `psql` as the `boiler` role.
@Suite("Services from deploy/local/services.sh")
struct ServicesTests {
    @Test("mosquitto carries a retained message from mosquitto_pub to mosquitto_sub", .enabled(if: TestServices.runMQTT))
    func broker() async throws {
        let url = try TestServices.requireMQTT()
        let topic = "selftest/\(UUID().uuidString)"
        let published = try await run(["mosquitto_pub", "-L", "\(url)/\(topic)", "-r", "-q", "1", "-m", "hello"])
        #expect(published.status == 0)
        let received = try await run(["mosquitto_sub", "-L", "\(url)/\(topic)", "-C", "1", "-W", "5"])
        #expect(received.status == 0)
        #expect(received.output == "hello\n")
        _ = try await run(["mosquitto_pub", "-L", "\(url)/\(topic)", "-r", "-n"])
    }

    @Test("PostgreSQL answers psql as the boiler role", .enabled(if: TestServices.runPostgres))
    func database() async throws {
        let url = try TestServices.requirePostgres()
        let answer = try await run(["psql", url, "-tAc", "select current_user || ' ' || current_database()"])
        #expect(answer.status == 0)
        #expect(answer.output == "boiler boiler\n")
    }
}
