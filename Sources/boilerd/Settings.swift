import Foundation

/// Where boilerd's settings come from, first match wins: the command-line flag, the environment variable
/// (`BOILERD_` and the setting's name in capitals, `-` as `_`), the config file (`--config FILE`: lines of
/// `name = value`, `#` comments), then the default. Secrets (passwords, the API token) are read from the
/// environment or from a file named by a `...-file` setting, never required on the command line.
struct Settings: Sendable {
    /// A setting that cannot be used: named, with what is wrong. boilerd prints it as one line and exits.
    struct Problem: Error, CustomStringConvertible, Sendable {
        var setting: String
        var message: String
        var description: String {
            "boilerd: setting '\(self.setting)' (--\(self.setting) or \(Settings.environmentName(self.setting))): \(self.message)"
        }
    }

    let environment: [String: String]
    let file: [String: String]

    init(environment: [String: String], configFile: String?) throws(Problem) {
        self.environment = environment
        guard let path = configFile ?? environment["BOILERD_CONFIG"] else {
            self.file = [:]
            return
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(setting: "config", message: "cannot read the config file '\(path)'")
        }
        self.file = try Self.parse(text, path: path)
    }

    /// `name = value` lines; blank lines and `#` comments skipped; quotes around the value removed.
    static func parse(_ text: String, path: String) throws(Problem) -> [String: String] {
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw Problem(setting: "config", message: "\(path) line \(number + 1) is not 'name = value'")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            guard Self.known.contains(name) else {
                throw Problem(setting: "config", message: "\(path) line \(number + 1): unknown setting '\(name)'")
            }
            values[name] = value
        }
        return values
    }

    /// Every setting a config file may hold.
    static let known: Set<String> = [
        "mqtt-url", "mqtt-client-id", "mqtt-username", "mqtt-password-file", "mqtt-ca-file", "mqtt-clean-session",
        "mqtt-tcp-nodelay", "mqtt-receive-window-us", "mqtt-buffered-reads", "mqtt-buffered-writes",
        "telemetry-filter", "topic-prefix", "dead-letters", "database-url", "database-password-file", "http-host",
        "http-port", "api-token-file", "log-level", "stream-max-messages", "stream-max-bytes",
        "stream-max-duplicate-ids", "stream-storage", "allowed-lateness-ms",
        "idle-allowance-ms", "max-future-skew-ms", "checkpoint-interval-ms", "control-tick-ms",
        "rate-limit-readings-per-second",
    ]

    static func environmentName(_ setting: String) -> String {
        "BOILERD_" + setting.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The flag's value, else the environment's, else the file's.
    func string(_ setting: String, flag: String?) -> String? {
        flag ?? self.environment[Self.environmentName(setting)] ?? self.file[setting]
    }

    func integer<Value: FixedWidthInteger>(_ setting: String, flag: Value?, default value: Value, range: ClosedRange<Value>) throws(Problem) -> Value {
        if let flag { return try Self.check(flag, setting, range) }
        guard let text = self.string(setting, flag: nil) else { return value }
        guard let parsed = Value(text.replacingOccurrences(of: "_", with: "")) else {
            throw Problem(setting: setting, message: "must be an integer, got '\(text)'")
        }
        return try Self.check(parsed, setting, range)
    }

    static func check<Value: FixedWidthInteger>(_ value: Value, _ setting: String, _ range: ClosedRange<Value>) throws(Problem) -> Value {
        guard range.contains(value) else { throw Problem(setting: setting, message: "must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return value
    }

    func bool(_ setting: String, flag: Bool, default value: Bool) throws(Problem) -> Bool {
        try self.bool(setting, flag: flag ? true : nil, default: value)
    }

    /// For a flag with a `--no-` form: `nil` when neither was given.
    func bool(_ setting: String, flag: Bool?, default value: Bool) throws(Problem) -> Bool {
        if let flag { return flag }
        guard let text = self.string(setting, flag: nil) else { return value }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw Problem(setting: setting, message: "must be true or false, got '\(text)'")
        }
    }

    /// A secret: the environment variable (`BOILERD_MQTT_PASSWORD`, ...), else the file named by `{name}-file`.
    func secret(_ name: String, fileFlag: String?) throws(Problem) -> String? {
        if let value = self.environment[Self.environmentName(name)], !value.isEmpty { return value }
        guard let path = self.string("\(name)-file", flag: fileFlag) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(setting: "\(name)-file", message: "cannot read '\(path)'")
        }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw Problem(setting: "\(name)-file", message: "'\(path)' is empty") }
        return value
    }
}
