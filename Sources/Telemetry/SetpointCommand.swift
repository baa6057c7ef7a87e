/// The controller's command to one boiler, on `boilers/{id}/setpoint` (`schemas/setpoint-command.schema.json`).
public struct SetpointCommand: Hashable, Sendable {
    /// The room setpoints a command may carry, °C.
    public static let setpointRange: ClosedRange<Double> = 5...35

    /// The controller decision this command carries out.
    public var decisionID: String
    /// The room temperature to hold, °C.
    public var roomSetpointC: Double
    /// When the decision was taken, ms since 1970 (event time).
    public var issuedAtMs: Int64
    /// After this instant the command is stale.
    public var validUntilMs: Int64
    /// Why, in words.
    public var reason: String

    public init(decisionID: String, roomSetpointC: Double, issuedAtMs: Int64, validUntilMs: Int64, reason: String) {
        self.decisionID = decisionID
        self.roomSetpointC = roomSetpointC
        self.issuedAtMs = issuedAtMs
        self.validUntilMs = validUntilMs
        self.reason = reason
    }

    /// The command as its JSON payload.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.field("v", Int64(1))
        writer.field("decision_id", self.decisionID)
        writer.field("room_setpoint_c", self.roomSetpointC)
        writer.field("issued_at_ms", self.issuedAtMs)
        writer.field("valid_until_ms", self.validUntilMs)
        writer.field("reason", self.reason)
        return writer.finish()
    }

    /// Decodes and validates a command payload.
    public init(decoding bytes: [UInt8]) throws(TelemetryRejection) {
        let object = try JSONObjectReader(bytes, maximumBytes: 4_096)
        try object.requireOnly(["v", "decision_id", "room_setpoint_c", "issued_at_ms", "valid_until_ms", "reason"])
        try object.requireVersion1()
        let decisionID = try object.string("decision_id")
        guard isDecisionID(decisionID) else {
            throw TelemetryRejection(.wrongType, "decision_id must be [A-Za-z0-9_.:-]{1,128}")
        }
        let reason = try object.string("reason")
        guard reason.unicodeScalars.count <= 200 else {
            throw TelemetryRejection(.valueOutOfRange, "reason is longer than 200 characters")
        }
        self.init(
            decisionID: decisionID,
            roomSetpointC: try object.double("room_setpoint_c", in: Self.setpointRange),
            issuedAtMs: try object.integer("issued_at_ms", in: 0...TelemetryDecoder.maximumTimestampMs),
            validUntilMs: try object.integer("valid_until_ms", in: 0...TelemetryDecoder.maximumTimestampMs),
            reason: reason
        )
    }
}

private func isDecisionID(_ text: String) -> Bool {
    (1...128).contains(text.utf8.count)
        && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"),
                UInt8(ascii: "-"):
                true
            default: false
            }
        }
}
