import HeatingControl
import RingStream
import SnapshotStore
import Telemetry

/// The JSON bodies of the HTTP API (schemas/openapi.yaml). Field names are the wire names; absent optional
/// values are left out.
public enum APIModels {
    public struct Reading: Codable, Sendable, Hashable {
        public var boot: String
        public var seq: UInt64
        public var ts_ms: Int64
        public var water_c: Double
        public var return_c: Double?
        public var room_c: Double?
        public var outdoor_c: Double?
        public var burner_pct: Double?

        init(_ reading: TelemetryReading) {
            self.boot = reading.boot.rawValue
            self.seq = reading.seq
            self.ts_ms = reading.timestampMs
            self.water_c = reading.waterC
            self.return_c = reading.returnC
            self.room_c = reading.roomC
            self.outdoor_c = reading.outdoorC
            self.burner_pct = reading.burnerPct
        }
    }

    public struct Snapshot: Codable, Sendable, Hashable {
        public var boiler_id: String
        public var hour_start_ms: Int64
        public var mean_c: Double?
        public var min_c: Double?
        public var max_c: Double?
        public var stddev_c: Double?
        public var samples: UInt64
        public var expected_samples: UInt64
        public var coverage: Double
        public var duplicates: UInt64
        public var late_samples: UInt64
        public var out_of_order: UInt64
        public var max_gap_ms: Int64?
        public var first_ts_ms: Int64?
        public var last_ts_ms: Int64?
        public var closed_at_ms: Int64
        public var revision: UInt64

        init(_ snapshot: HourlySnapshot) {
            self.boiler_id = snapshot.boilerID.rawValue
            self.hour_start_ms = snapshot.hourStartMs
            self.mean_c = snapshot.meanC
            self.min_c = snapshot.minC
            self.max_c = snapshot.maxC
            self.stddev_c = snapshot.stddevC
            self.samples = snapshot.samples
            self.expected_samples = snapshot.expectedSamples
            self.coverage = snapshot.coverage
            self.duplicates = snapshot.duplicates
            self.late_samples = snapshot.lateSamples
            self.out_of_order = snapshot.outOfOrder
            self.max_gap_ms = snapshot.maxGapMs
            self.first_ts_ms = snapshot.firstTimestampMs
            self.last_ts_ms = snapshot.lastTimestampMs
            self.closed_at_ms = snapshot.closedAtMs
            self.revision = snapshot.revision
        }
    }

    public struct Decision: Codable, Sendable, Hashable {
        public var decision_id: String
        public var boiler_id: String
        public var tick_at_ms: Int64
        public var trusted: Bool
        public var reason: String
        public var current_c: Double?
        public var hourly_mean_c: Double?
        public var delta_c: Double?
        public var room_setpoint_c: Double?
        public var published: Bool

        init(_ decision: HeatingControl.Decision) {
            self.decision_id = decision.decisionID
            self.boiler_id = decision.boilerID.rawValue
            self.tick_at_ms = decision.tickAtMs
            self.trusted = decision.trusted
            self.reason = decision.reason
            self.current_c = decision.currentC
            self.hourly_mean_c = decision.hourlyMeanC
            self.delta_c = decision.deltaC
            self.room_setpoint_c = decision.roomSetpointC
            self.published = decision.sendCommand
        }

        init(_ row: DecisionRow) {
            self.decision_id = row.decisionID
            self.boiler_id = row.boilerID
            self.tick_at_ms = row.tickAtMs
            self.trusted = row.trusted
            self.reason = row.reason
            self.current_c = row.currentC
            self.hourly_mean_c = row.hourlyMeanC
            self.delta_c = row.deltaC
            self.room_setpoint_c = row.roomSetpointC
            self.published = row.published
        }
    }

    public struct Boiler: Codable, Sendable, Hashable {
        public var boiler_id: String
        public var latest_reading: Reading?
        public var last_snapshot: Snapshot?
        public var last_decision: Decision?
    }

    public struct Boilers: Codable, Sendable, Hashable {
        public var count: Int
        public var boilers: [Boiler]
    }

    public struct Snapshots: Codable, Sendable, Hashable {
        public var boiler_id: String
        public var from_ms: Int64
        public var to_ms: Int64
        public var snapshots: [Snapshot]
    }

    public struct Decisions: Codable, Sendable, Hashable {
        public var boiler_id: String
        public var from_ms: Int64
        public var to_ms: Int64
        public var decisions: [Decision]
    }

    public struct Stream: Codable, Sendable, Hashable {
        public var name: String
        public var subjects: [String]
        public var messages: Int
        public var bytes: Int
        public var first_seq: UInt64
        public var last_seq: UInt64
        public var last_ts_ms: Int64?
        public var subjects_with_messages: Int
        /// Subjects the stream has ever seen (it remembers each one's last sequence), bounded by its subject limit.
        public var subjects_known: Int
        /// Message IDs remembered for deduplication, at most `max_duplicate_ids`.
        public var duplicate_ids: Int
        public var max_duplicate_ids: Int
        /// IDs forgotten before their duplicate window ended because the table was full: when this grows, the
        /// effective dedup window is shorter than configured.
        public var duplicate_ids_forgotten_early: UInt64
        public var messages_removed: UInt64
        public var duplicates_dropped: UInt64
        public var max_messages: Int
        public var max_bytes: Int

        init(_ info: StreamInfo, configuration: RingStream.Configuration) {
            self.name = info.name
            self.subjects = configuration.subjects
            self.messages = info.messages
            self.bytes = info.bytes
            self.first_seq = info.firstSequence
            self.last_seq = info.lastSequence
            self.last_ts_ms = info.lastTimestamp?.millisecondsSinceEpoch
            self.subjects_with_messages = info.subjectsWithMessages
            self.subjects_known = info.subjectsKnown
            self.duplicate_ids = info.duplicateIDs
            self.max_duplicate_ids = configuration.maxDuplicateIDs
            self.duplicate_ids_forgotten_early = info.duplicateIDsForgottenEarly
            self.messages_removed = info.messagesRemoved
            self.duplicates_dropped = info.duplicatesDropped
            self.max_messages = configuration.maxMessages
            self.max_bytes = configuration.maxBytes
        }
    }

    public struct StreamMessage: Codable, Sendable, Hashable {
        public var seq: UInt64
        public var subject: String
        public var stored_at_ms: Int64
        /// The same instant to the nanosecond (the wall clock when the reading was stored).
        public var stored_at_ns: Int64
        /// The message's reading, when it holds one.
        public var reading: Reading?
        /// All readings of a message that holds a run of them (stream storage `message`); else absent.
        public var readings: [Reading]?

        init(seq: UInt64, subject: String, stored_at_ms: Int64, stored_at_ns: Int64, readings: [TelemetryReading]?) {
            self.seq = seq
            self.subject = subject
            self.stored_at_ms = stored_at_ms
            self.stored_at_ns = stored_at_ns
            if let readings, readings.count == 1 {
                self.reading = Reading(readings[0])
            } else {
                self.readings = readings.map { $0.map(Reading.init) }
            }
        }
    }

    public struct Gap: Codable, Sendable, Hashable {
        public var first_seq: UInt64
        public var last_seq: UInt64
        public var message: String
    }

    public struct StreamMessages: Codable, Sendable, Hashable {
        public var messages: [StreamMessage]
        public var gaps: [Gap]
        public var next_seq: UInt64
    }

    public struct Health: Codable, Sendable, Hashable {
        public var status: String
        public var checks: [String: Bool]?
    }

    public struct ErrorBody: Codable, Sendable, Hashable {
        public struct Detail: Codable, Sendable, Hashable {
            public var code: String
            public var message: String
        }
        public var error: Detail
    }
}
