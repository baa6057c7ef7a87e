/// A message copied out of the stream.
public struct StreamMessage: Hashable, Sendable {
    /// The stream sequence (from 1).
    public var sequence: UInt64
    /// The literal subject it was published on.
    public var subject: String
    /// When it was stored (the publish's `now`, never earlier than the previous message's).
    public var timestamp: StreamInstant
    /// The payload bytes.
    public var payload: [UInt8]

    public init(sequence: UInt64, subject: String, timestamp: StreamInstant, payload: [UInt8]) {
        self.sequence = sequence
        self.subject = subject
        self.timestamp = timestamp
        self.payload = payload
    }
}

/// A message lent to a reader's closure without copying; `payload` is valid only inside that closure.
public struct StreamMessageView {
    /// The stream sequence (from 1).
    public let sequence: UInt64
    /// The literal subject's UTF-8 bytes, borrowed from the stream like `payload`.
    public let subjectBytes: UnsafeRawBufferPointer
    /// When it was stored.
    public let timestamp: StreamInstant
    /// The payload bytes, borrowed from the stream: do not keep this pointer past the closure.
    public let payload: UnsafeRawBufferPointer

    /// The literal subject it was published on, made from `subjectBytes` when asked for: a reader that does
    /// not look at it pays no reference counting for it.
    public var subject: String { String(decoding: self.subjectBytes, as: UTF8.self) }

    /// Copies the message out.
    public func copy() -> StreamMessage {
        StreamMessage(
            sequence: self.sequence,
            subject: self.subject,
            timestamp: self.timestamp,
            payload: Array(self.payload)
        )
    }
}

/// Messages a consumer should have seen but that the stream evicted before it read them.
///
/// Reported once, before the messages that follow the gap. Every sequence in `first...last` was removed by a
/// stream limit (`maxMessages`, `maxBytes`, `maxAge`); at least one of them matched the consumer's filter.
public struct StreamGap: Hashable, Sendable, CustomStringConvertible {
    /// The first lost sequence.
    public var first: UInt64
    /// The last lost sequence.
    public var last: UInt64

    public init(first: UInt64, last: UInt64) {
        self.first = first
        self.last = last
    }

    public var description: String { "messages \(self.first)...\(self.last) were evicted before they were read" }
}

/// The state of a stream.
public struct StreamInfo: Hashable, Sendable {
    /// The stream's name.
    public var name: String
    /// Messages stored now.
    public var messages: Int
    /// Payload bytes of the messages stored now.
    public var bytes: Int
    /// The oldest stored sequence (the next sequence when the stream is empty, as in JetStream).
    public var firstSequence: UInt64
    /// The newest sequence ever assigned (0 before the first publish).
    public var lastSequence: UInt64
    /// When the newest message was stored, if any was.
    public var lastTimestamp: StreamInstant?
    /// Subjects that have at least one stored message.
    public var subjectsWithMessages: Int
    /// Subjects ever published to (their last sequences are remembered).
    public var subjectsKnown: Int
    /// Messages removed by a limit (`maxMessages`, `maxBytes`, `maxAge`, or `maxMessagesPerSubject`).
    public var messagesRemoved: UInt64
    /// Publishes answered as duplicates.
    public var duplicatesDropped: UInt64
    /// Message IDs remembered for deduplication now.
    public var duplicateIDs: Int
    /// Message IDs forgotten before their window ended because `maxDuplicateIDs` was reached.
    public var duplicateIDsForgottenEarly: UInt64
}
