import ArgumentParser
import BoilerService
@testable import boilerd
import MQTT
import PostgresNIO
import RingStream
import Foundation
import Testing

/// boilerd's settings: flag over environment over config file over default; one clear line naming a bad or
/// missing setting; secrets from the environment or a file.
struct SettingsTests {
    static let database = "postgres://boiler@127.0.0.1:5432/boiler"

    func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("boilerd-\(UInt32.random(in: 0...UInt32.max))").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aFlagBeatsTheEnvironmentWhichBeatsTheConfigFile() throws {
        let file = try self.temporaryFile("""
            # boilerd.conf
            http-port = 9001
            mqtt-url = "mqtt://file:1883"
            topic-prefix = fromfile
            database-url = \(Self.database)
            """)
        let environment = ["BOILERD_HTTP_PORT": "9002", "BOILERD_MQTT_URL": "mqtt://env:1883"]
        let (fromAll, _) = try Options.parse(["--config", file, "--http-port", "9003"]).resolve(environment: environment)
        #expect(fromAll.httpPort == 9003)
        #expect(fromAll.mqtt.url == "mqtt://env:1883")
        #expect(fromAll.topicPrefix == "fromfile")
        let (noFlag, level) = try Options.parse(["--config", file]).resolve(environment: environment)
        #expect(noFlag.httpPort == 9002)
        #expect(level == .info)
        let (defaults, _) = try Options.parse([]).resolve(environment: ["BOILERD_DATABASE_URL": Self.database])
        #expect(defaults.httpHost == "127.0.0.1" && defaults.httpPort == 8080 && defaults.telemetryFilter == "boilers/+/telemetry")
        #expect(defaults.mqtt.cleanSession == false && defaults.api.apiToken == nil)
        #expect(defaults.mqtt.tcpNoDelay == false)
        #expect(defaults.mqtt.receiveWindow == .microseconds(500))
        let (noWindow, _) = try Options.parse(["--mqtt-receive-window-us", "0"]).resolve(environment: ["BOILERD_DATABASE_URL": Self.database])
        #expect(noWindow.mqtt.receiveWindow == .zero)
        let (windowEnvironment, _) = try Options.parse([])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_MQTT_RECEIVE_WINDOW_US": "2000"])
        #expect(windowEnvironment.mqtt.receiveWindow == .milliseconds(2))
        #expect(defaults.stream.maxDuplicateIDs == 1 << 21)
        let (biggerDedup, _) = try Options.parse([])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_STREAM_MAX_DUPLICATE_IDS": "12000000"])
        #expect(biggerDedup.stream.maxDuplicateIDs == 12_000_000)
        let (noDelayFlag, _) = try Options.parse(["--mqtt-tcp-nodelay"]).resolve(environment: ["BOILERD_DATABASE_URL": Self.database])
        #expect(noDelayFlag.mqtt.tcpNoDelay)
        let (noDelayEnvironment, _) = try Options.parse([])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_MQTT_TCP_NODELAY": "on"])
        #expect(noDelayEnvironment.mqtt.tcpNoDelay)
        #expect(defaults.mqtt.bufferedReads)
        let (unbufferedFlag, _) = try Options.parse(["--no-mqtt-buffered-reads"]).resolve(environment: ["BOILERD_DATABASE_URL": Self.database])
        #expect(!unbufferedFlag.mqtt.bufferedReads)
        let (unbufferedEnvironment, _) = try Options.parse([])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_MQTT_BUFFERED_READS": "false"])
        #expect(!unbufferedEnvironment.mqtt.bufferedReads)
        let (flagOverEnvironment, _) = try Options.parse(["--mqtt-buffered-reads"])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_MQTT_BUFFERED_READS": "off"])
        #expect(flagOverEnvironment.mqtt.bufferedReads)
        #expect(defaults.mqtt.bufferedWrites)
        let (unbufferedWritesFlag, _) = try Options.parse(["--no-mqtt-buffered-writes"]).resolve(environment: ["BOILERD_DATABASE_URL": Self.database])
        #expect(!unbufferedWritesFlag.mqtt.bufferedWrites && unbufferedWritesFlag.mqtt.bufferedReads)
        let (unbufferedWritesEnvironment, _) = try Options.parse([])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_MQTT_BUFFERED_WRITES": "false"])
        #expect(!unbufferedWritesEnvironment.mqtt.bufferedWrites)
        #expect(defaults.stream.prefaultStorage == false)
        let (prefaultFlag, _) = try Options.parse(["--stream-prefault"]).resolve(environment: ["BOILERD_DATABASE_URL": Self.database])
        #expect(prefaultFlag.stream.prefaultStorage)
        let (prefaultEnvironment, _) = try Options.parse([])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_STREAM_PREFAULT": "true"])
        #expect(prefaultEnvironment.stream.prefaultStorage)
        #expect(defaults.storage == .perMessage)
        let (perReadingFlag, _) = try Options.parse(["--stream-storage", "reading"]).resolve(environment: ["BOILERD_DATABASE_URL": Self.database])
        #expect(perReadingFlag.storage == .perReading)
        let (perReadingEnvironment, _) = try Options.parse([])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_STREAM_STORAGE": "reading"])
        #expect(perReadingEnvironment.storage == .perReading)
        let configFile = try self.temporaryFile("stream-storage = reading\n")
        let (perReadingFile, _) = try Options.parse(["--config", configFile]).resolve(environment: ["BOILERD_DATABASE_URL": Self.database])
        #expect(perReadingFile.storage == .perReading)
    }

    @Test func aWrongOrMissingSettingIsOneLineNamingIt() throws {
        let cases: [([String], [String: String], String)] = [
            ([], [:], "boilerd: setting 'database-url' (--database-url or BOILERD_DATABASE_URL): is required (postgres://user@host:port/database)"),
            (["--http-port", "70000"], ["BOILERD_DATABASE_URL": Self.database], "boilerd: setting 'http-port' (--http-port or BOILERD_HTTP_PORT): must be in 0...65535, got 70000"),
            ([], ["BOILERD_DATABASE_URL": Self.database, "BOILERD_HTTP_PORT": "eighty"], "boilerd: setting 'http-port' (--http-port or BOILERD_HTTP_PORT): must be an integer, got 'eighty'"),
            (["--log-level", "loud"], ["BOILERD_DATABASE_URL": Self.database], "boilerd: setting 'log-level' (--log-level or BOILERD_LOG_LEVEL): must be trace, debug, info, notice, warning, error or critical, got 'loud'"),
            (["--telemetry-filter", "boilers/telemetry"], ["BOILERD_DATABASE_URL": Self.database], "boilerd: setting 'telemetry-filter'"),
            (["--mqtt-url", "http://x"], ["BOILERD_DATABASE_URL": Self.database], "boilerd: setting 'mqtt-url' (--mqtt-url or BOILERD_MQTT_URL):"),
            (["--config", "/nonexistent/boilerd.conf"], [:], "boilerd: setting 'config' (--config or BOILERD_CONFIG): cannot read the config file '/nonexistent/boilerd.conf'"),
            ([], ["BOILERD_DATABASE_URL": Self.database, "BOILERD_STREAM_MAX_DUPLICATE_IDS": "10"], "boilerd: setting 'stream-max-duplicate-ids' (--stream-max-duplicate-ids or BOILERD_STREAM_MAX_DUPLICATE_IDS): must be in 1000...1073741824, got 10"),
            ([], ["BOILERD_DATABASE_URL": Self.database, "BOILERD_MQTT_TCP_NODELAY": "maybe"], "boilerd: setting 'mqtt-tcp-nodelay' (--mqtt-tcp-nodelay or BOILERD_MQTT_TCP_NODELAY): must be true or false, got 'maybe'"),
            ([], ["BOILERD_DATABASE_URL": Self.database, "BOILERD_MQTT_BUFFERED_READS": "sometimes"], "boilerd: setting 'mqtt-buffered-reads' (--mqtt-buffered-reads or BOILERD_MQTT_BUFFERED_READS): must be true or false, got 'sometimes'"),
            (["--mqtt-receive-window-us", "2000000"], ["BOILERD_DATABASE_URL": Self.database], "boilerd: setting 'mqtt-receive-window-us' (--mqtt-receive-window-us or BOILERD_MQTT_RECEIVE_WINDOW_US): must be in 0...1000000, got 2000000"),
            (["--stream-storage", "batch"], ["BOILERD_DATABASE_URL": Self.database], "boilerd: setting 'stream-storage' (--stream-storage or BOILERD_STREAM_STORAGE): must be reading or message, got 'batch'"),
            ([], ["BOILERD_DATABASE_URL": "mysql://x"], "boilerd: setting 'database-url' (--database-url or BOILERD_DATABASE_URL):"),
        ]
        for (arguments, environment, expected) in cases {
            do {
                _ = try Options.parse(arguments).resolve(environment: environment)
                Issue.record("\(arguments) \(environment) was accepted")
            } catch let problem as Settings.Problem {
                #expect(problem.description.hasPrefix(expected), "\(problem.description)")
                #expect(!problem.description.contains("\n"))
            } catch {
                Issue.record("not a Settings.Problem: \(error)")
            }
        }
        let unknown = try self.temporaryFile("colour = red\n")
        #expect(throws: Settings.Problem.self) { try Options.parse(["--config", unknown]).resolve(environment: [:]) }
    }

    @Test func secretsComeFromTheEnvironmentOrAFileAndAreNeverShown() throws {
        let passwordFile = try self.temporaryFile("pg-Secret-1\n")
        let tokenFile = try self.temporaryFile("api-Secret-2")
        let (configuration, _) = try Options.parse(["--database-password-file", passwordFile, "--api-token-file", tokenFile])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_MQTT_PASSWORD": "mqtt-Secret-3"])
        #expect(configuration.database.password == "pg-Secret-1")
        #expect(configuration.api.apiToken == "api-Secret-2")
        #expect(configuration.mqtt.password == "mqtt-Secret-3")
        let (fromEnvironment, _) = try Options.parse(["--api-token-file", tokenFile])
            .resolve(environment: ["BOILERD_DATABASE_URL": Self.database, "BOILERD_API_TOKEN": "env-token"])
        #expect(fromEnvironment.api.apiToken == "env-token")
        // A database URL with a password, refused: the message does not repeat the password.
        do {
            _ = try Options.parse([]).resolve(environment: ["BOILERD_DATABASE_URL": "postgres://u:hunter2@host"])
        } catch let problem as Settings.Problem {
            #expect(!problem.description.contains("hunter2"), "\(problem.description)")
        } catch {
            Issue.record("not a Settings.Problem: \(error)")
        }
        // No secret option takes the secret itself on the command line.
        let help = Boilerd.Run.helpMessage()
        #expect(help.contains("BOILERD_DATABASE_PASSWORD") && help.contains("BOILERD_API_TOKEN"))
        #expect(!help.contains("--database-password ") && !help.contains("--api-token ") && !help.contains("--mqtt-password "))
    }
}
