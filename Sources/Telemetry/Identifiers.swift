/// A boiler's id: `[A-Za-z0-9_-]{1,64}`, taken from the telemetry topic.
///
/// The character set keeps ids safe in MQTT topics, stream subjects (`boiler.{id}.telemetry`), message IDs,
/// file names and URLs without escaping.
public struct BoilerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The longest id accepted.
    public static let maximumLength = 64

    /// The id's text.
    public let rawValue: String

    /// The id, or nil when `text` is not `[A-Za-z0-9_-]{1,64}`.
    public init?(_ text: String) {
        var text = text
        guard text.withUTF8({ isIdentifier($0, maximumLength: Self.maximumLength) }) else { return nil }
        self.rawValue = text
    }

    /// Validates raw bytes (from a topic) and makes an id of them.
    public init(validating bytes: UnsafeBufferPointer<UInt8>) throws(TelemetryRejection) {
        guard isIdentifier(bytes, maximumLength: Self.maximumLength) else {
            throw TelemetryRejection(
                .invalidBoilerID,
                "boiler id '\(String(decoding: bytes.prefix(80), as: UTF8.self))' is not [A-Za-z0-9_-]{1,64}"
            )
        }
        self.rawValue = String(decoding: bytes, as: UTF8.self)
    }

    init(unchecked text: String) { self.rawValue = text }

    public var description: String { self.rawValue }
    public static func < (lhs: BoilerID, rhs: BoilerID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A boiler's boot id: `[A-Za-z0-9_-]{1,32}`, new at each power cycle, so that a restart (seq back to 0) is told
/// apart from lost readings.
public struct BootID: Hashable, Sendable, CustomStringConvertible {
    /// The longest boot id accepted.
    public static let maximumLength = 32

    /// The boot id's text.
    public let rawValue: String

    /// The boot id, or nil when `text` is not `[A-Za-z0-9_-]{1,32}`.
    public init?(_ text: String) {
        var text = text
        guard text.withUTF8({ isIdentifier($0, maximumLength: Self.maximumLength) }) else { return nil }
        self.rawValue = text
    }

    init(unchecked text: String) { self.rawValue = text }

    /// The boot id spelled by `bytes`, or nil when they are not `[A-Za-z0-9_-]{1,32}`.
    init?(identifierBytes bytes: UnsafeBufferPointer<UInt8>) {
        guard isIdentifier(bytes, maximumLength: Self.maximumLength) else { return nil }
        self.rawValue = String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { self.rawValue }
}

/// True when `bytes` is 1...maximumLength characters of `[A-Za-z0-9_-]`.
func isIdentifier(_ bytes: UnsafeBufferPointer<UInt8>, maximumLength: Int) -> Bool {
    guard (1...maximumLength).contains(bytes.count) else { return false }
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            continue
        default:
            return false
        }
    }
    return true
}
