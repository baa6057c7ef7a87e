/// An error from the stream, carrying NATS JetStream's numeric error code and text where JetStream has one.
///
/// The `code` is what programs match on; the `description` is what a person reads. Codes that JetStream
/// defines keep JetStream's number (for example 10071 `wrong last sequence: 5`); conditions that JetStream
/// does not have use numbers from 90001 upwards.
public struct StreamError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The numeric error code.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public var rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// JetStream 10071: an `expectedLastSequence` or `expectedLastSubjectSequence` did not hold.
        public static let wrongLastSequence = Code(rawValue: 10071)
        /// JetStream 10070: an `expectedLastMessageID` did not hold.
        public static let wrongLastMessageID = Code(rawValue: 10070)
        /// JetStream 10060: an `expectedStream` named another stream.
        public static let streamNotMatch = Code(rawValue: 10060)
        /// JetStream 10077: storing the message would break a limit under the `new` discard policy.
        public static let storeFailed = Code(rawValue: 10077)
        /// JetStream 10054: the payload is larger than the stream's maximum message size.
        public static let messageTooLarge = Code(rawValue: 10054)
        /// JetStream 10037: the requested message is not in the stream.
        public static let noMessageFound = Code(rawValue: 10037)
        /// JetStream 10052: the stream configuration is invalid.
        public static let invalidConfiguration = Code(rawValue: 10052)
        /// The subject is not a valid literal subject (empty token, wildcard or whitespace).
        public static let invalidSubject = Code(rawValue: 90001)
        /// No subject filter of the stream covers the subject.
        public static let subjectNotInStream = Code(rawValue: 90002)
        /// The stream already tracks `maxSubjects` subjects; a new one cannot be added.
        public static let subjectLimitReached = Code(rawValue: 90003)
        /// A message ID is longer than `MessageID.maximumLength` bytes.
        public static let messageIDTooLong = Code(rawValue: 90004)
        /// A consumer filter is not a valid subject filter.
        public static let invalidFilter = Code(rawValue: 90005)
        /// A subject handle was made by another stream.
        public static let foreignHandle = Code(rawValue: 90006)

        public var description: String { String(self.rawValue) }
    }

    /// What went wrong, as a number.
    public var code: Code
    /// What went wrong, in words, including what to do about it where that is not obvious.
    public var description: String

    public init(code: Code, description: String) {
        self.code = code
        self.description = description
    }
}

extension StreamError {
    static func wrongLastSequence(_ actual: UInt64) -> StreamError {
        StreamError(code: .wrongLastSequence, description: "wrong last sequence: \(actual)")
    }

    static func wrongLastMessageID(_ actual: String) -> StreamError {
        StreamError(code: .wrongLastMessageID, description: "wrong last msg ID: \(actual)")
    }

    static let streamNotMatch = StreamError(code: .streamNotMatch, description: "expected stream does not match")
    static let maximumMessages = StreamError(code: .storeFailed, description: "maximum messages exceeded")
    static let maximumBytes = StreamError(code: .storeFailed, description: "maximum bytes exceeded")
    static let maximumMessagesPerSubject = StreamError(
        code: .storeFailed,
        description: "maximum messages per subject exceeded"
    )
    static let messageTooLarge = StreamError(
        code: .messageTooLarge,
        description: "message size exceeds maximum allowed"
    )
    static let noMessageFound = StreamError(code: .noMessageFound, description: "no message found")

    static func invalidConfiguration(_ reason: String) -> StreamError {
        StreamError(code: .invalidConfiguration, description: "invalid stream configuration: \(reason)")
    }

    static func invalidSubject(_ subject: String, _ reason: String) -> StreamError {
        StreamError(code: .invalidSubject, description: "invalid subject \"\(subject)\": \(reason)")
    }

    static func subjectNotInStream(_ subject: String, stream: String) -> StreamError {
        StreamError(
            code: .subjectNotInStream,
            description: "subject \"\(subject)\" is not covered by any subject filter of stream \(stream)"
        )
    }

    static func subjectLimitReached(_ limit: Int) -> StreamError {
        StreamError(
            code: .subjectLimitReached,
            description: "the stream already tracks \(limit) subjects (maxSubjects); raise the limit to add more"
        )
    }

    static func invalidFilter(_ filter: String, _ reason: String) -> StreamError {
        StreamError(code: .invalidFilter, description: "invalid subject filter \"\(filter)\": \(reason)")
    }

    static func foreignHandle(stream: String) -> StreamError {
        StreamError(
            code: .foreignHandle,
            description: "the subject handle was made by another stream than \(stream); resolve it with this stream's handle(subject:)"
        )
    }
}
