import Foundation

/// The faults to inject, parsed from `--faults`, e.g.
/// `duplicate=0.01,reorder=0.001,drop=0.001,malformed=0.0005,skew=+2s@b0003,disconnect=30s@15m`.
///
/// Rates are per telemetry message. `duplicate` re-sends a message right after itself (same boot and seq: the
/// pipeline must drop it); `reorder` holds a message back until after the boiler's next one; `drop` never sends
/// it (its seq numbers are skipped, as on a lossy link); `malformed` sends an extra broken payload on the boiler's
/// telemetry topic (the reading itself still goes). `skew=±D@ID` shifts that boiler's clock by D (repeatable).
/// `disconnect=D@T` closes the simulator's connection at event time T after the start, for D of event time: at
/// QoS 1 the readings of that span are kept and sent on reconnection; at QoS 0 they are lost, counted, and left out
/// of the truth.
struct FaultPlan: Sendable, Hashable {
    var duplicate = 0.0
    var reorder = 0.0
    var drop = 0.0
    var malformed = 0.0
    /// Clock offsets by boiler id, ms.
    var skewMs: [String: Int64] = [:]
    /// A disconnection: event-time offset from the start, and length, ms.
    struct Disconnect: Sendable, Hashable {
        var atMs: Int64
        var lengthMs: Int64
    }
    var disconnects: [Disconnect] = []

    init() {}

    /// Parses a fault spec; throws a message naming the bad part.
    init(parsing spec: String) throws(SimulatorError) {
        for part in spec.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2 else { throw SimulatorError("fault '\(part)' is not name=value") }
            let name = pieces[0].trimmingCharacters(in: .whitespaces), value = pieces[1].trimmingCharacters(in: .whitespaces)
            switch name {
            case "duplicate", "reorder", "drop", "malformed":
                guard let rate = Double(value), rate >= 0, rate <= 1 else {
                    throw SimulatorError("fault '\(name)' needs a rate between 0 and 1, got '\(value)'")
                }
                switch name {
                case "duplicate": self.duplicate = rate
                case "reorder": self.reorder = rate
                case "drop": self.drop = rate
                default: self.malformed = rate
                }
            case "skew":
                let sides = value.split(separator: "@", maxSplits: 1)
                guard sides.count == 2, let offset = SimDuration.parseSignedMs(String(sides[0])) else {
                    throw SimulatorError("fault 'skew' needs ±DURATION@BOILER_ID (e.g. +2s@b0003), got '\(value)'")
                }
                self.skewMs[String(sides[1]), default: 0] += offset
            case "disconnect":
                let sides = value.split(separator: "@", maxSplits: 1)
                guard sides.count == 2, let length = SimDuration.parseMs(String(sides[0])), length > 0,
                    let at = SimDuration.parseMs(String(sides[1]))
                else {
                    throw SimulatorError("fault 'disconnect' needs DURATION@OFFSET (e.g. 30s@15m), got '\(value)'")
                }
                self.disconnects.append(Disconnect(atMs: at, lengthMs: length))
                self.disconnects.sort { $0.atMs < $1.atMs }
            default:
                throw SimulatorError(
                    "unknown fault '\(name)' (known: duplicate, reorder, drop, malformed, skew, disconnect)"
                )
            }
        }
    }
}

/// What was injected, counted exactly.
struct FaultCounts: Sendable, Hashable {
    var duplicateMessages: UInt64 = 0
    var duplicateReadings: UInt64 = 0
    var reorderedMessages: UInt64 = 0
    var droppedMessages: UInt64 = 0
    var droppedReadings: UInt64 = 0
    var malformedMessages: UInt64 = 0
    /// Malformed payloads by the rejection reason the pipeline should give (`malformed-json`, ...).
    var malformedByReason: [String: UInt64] = [:]
    var skewedBoilers: UInt64 = 0
    var disconnects: UInt64 = 0
    /// Readings generated while disconnected at QoS 0: never sent.
    var lostOfflineReadings: UInt64 = 0
}
