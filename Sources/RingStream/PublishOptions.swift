/// Options of one publish, as JetStream's `Nats-Msg-Id` and `Nats-Expected-*` headers.
public struct PublishOptions: Sendable {
    /// Deduplicates within the stream's duplicate window: a second publish with the same ID is not stored and
    /// its ack has `duplicate == true` and the original message's sequence.
    public var messageID: MessageID?
    /// The stream's last sequence must be this, or the publish fails with 10071.
    public var expectedLastSequence: UInt64?
    /// The subject's last sequence must be this (0: nothing was ever published on it), or 10071.
    public var expectedLastSubjectSequence: UInt64?
    /// The stream's last stored message must have had this ID, or 10070.
    public var expectedLastMessageID: MessageID?
    /// The stream must have this name, or 10060.
    public var expectedStream: String?

    public init(
        messageID: MessageID? = nil,
        expectedLastSequence: UInt64? = nil,
        expectedLastSubjectSequence: UInt64? = nil,
        expectedLastMessageID: MessageID? = nil,
        expectedStream: String? = nil
    ) {
        self.messageID = messageID
        self.expectedLastSequence = expectedLastSequence
        self.expectedLastSubjectSequence = expectedLastSubjectSequence
        self.expectedLastMessageID = expectedLastMessageID
        self.expectedStream = expectedStream
    }

    /// No ID, no expectations.
    public static var none: PublishOptions { PublishOptions() }
}

/// What a publish expects of the stream (its ID aside): `PublishOptions`, or `SeriesExpectations`. The stream's
/// publish is generic over it, so that a publish with a `MessageIDSeries` (the ingestion path's) runs a copy in
/// which every check but the subject's is folded away, and lends no `PublishOptions`: lending it a
/// `PublishOptions()` cost a copy of 160 bytes per publish (and a `swift_once` when it was a `static let`), about
/// 45 instructions.
protocol PublishExpectations: ~Copyable {
    var expectedLastSequence: UInt64? { get }
    var expectedLastSubjectSequence: UInt64? { get }
    var expectedLastMessageID: MessageID? { get }
    var expectedStream: String? { get }
}

extension PublishOptions: PublishExpectations {}

/// What a publish with a `MessageIDSeries` may expect: its subject's last sequence, or nothing.
struct SeriesExpectations: PublishExpectations {
    let expectedLastSubjectSequence: UInt64?
    var expectedLastSequence: UInt64? { nil }
    var expectedLastMessageID: MessageID? { nil }
    var expectedStream: String? { nil }
}

/// The stream's answer to a successful publish.
public struct PublishAck: Hashable, Sendable {
    /// The stream that stored (or had already stored) the message.
    public var stream: String
    /// The message's sequence; for a duplicate, the sequence of the original.
    public var sequence: UInt64
    /// `true` when the message ID was seen within the window and nothing was stored.
    public var duplicate: Bool

    public init(stream: String, sequence: UInt64, duplicate: Bool) {
        self.stream = stream
        self.sequence = sequence
        self.duplicate = duplicate
    }
}
