extension RingStream {
    /// What to do when storing a message would break `maxMessages`, `maxBytes` or `maxMessagesPerSubject`.
    public enum DiscardPolicy: Hashable, Sendable {
        /// Evict the oldest messages to make room (JetStream's `DiscardOld`).
        case old
        /// Refuse the new message with error 10077 (JetStream's `DiscardNew`).
        case new
    }

    /// A stream's configuration. All storage is sized from it and allocated when the stream is created.
    public struct Configuration: Sendable {
        /// The stream's name, checked by `PublishOptions.expectedStream`.
        public var name: String
        /// The subject filters this stream captures; a publish to a subject none covers is refused.
        public var subjects: [String]
        /// The most messages kept. Storage for this many records is allocated up front.
        public var maxMessages: Int
        /// The most payload bytes kept. An arena of this size is allocated up front.
        public var maxBytes: Int
        /// Messages older than this are removed on the next publish or `expire(now:)`; `nil` keeps them.
        public var maxAge: Duration?
        /// The most messages kept per subject; `nil` means no per-subject limit.
        public var maxMessagesPerSubject: Int?
        /// The largest payload accepted, in bytes; larger ones get error 10054.
        public var maxMessageSize: Int
        /// What to do when a limit would be broken.
        public var discard: DiscardPolicy
        /// How long a message ID is remembered for deduplication (JetStream's default: 2 minutes).
        public var duplicateWindow: Duration
        /// The most message IDs remembered at once. When more arrive within the window, the oldest are
        /// forgotten early and counted in `StreamInfo.duplicateIDsForgottenEarly`, so the weakening is visible.
        public var maxDuplicateIDs: Int
        /// The most distinct subjects tracked. A subject keeps its last sequence after its messages are evicted
        /// (so `expectedLastSubjectSequence` keeps its meaning); this bounds that table.
        public var maxSubjects: Int
        /// Whether every page of the stream's storage is written once when the stream is created. Storage is
        /// always allocated up front, but the operating system gives memory a page at a time as it is first
        /// written, so without this the process's resident memory grows until the rings have wrapped (for a
        /// slowly filling stream, hours). With it the stream's memory is resident from the start: flat, and a
        /// machine without it fails at start rather than later. Off by default: creation then costs the time to
        /// write the storage (boilerd's three streams, about 0.95 GB more resident: 0.35 to 0.4 s more here).
        public var prefaultStorage: Bool

        /// A stream named `name` over `subjects`, with limits suited to boiler telemetry on one machine.
        public init(
            name: String,
            subjects: [String],
            maxMessages: Int = 1 << 20,
            maxBytes: Int = 256 << 20,
            maxAge: Duration? = nil,
            maxMessagesPerSubject: Int? = nil,
            maxMessageSize: Int = 1 << 20,
            discard: DiscardPolicy = .old,
            duplicateWindow: Duration = .seconds(120),
            maxDuplicateIDs: Int = 1 << 21,
            maxSubjects: Int = 1 << 20,
            prefaultStorage: Bool = false
        ) {
            self.name = name
            self.subjects = subjects
            self.maxMessages = maxMessages
            self.maxBytes = maxBytes
            self.maxAge = maxAge
            self.maxMessagesPerSubject = maxMessagesPerSubject
            self.maxMessageSize = maxMessageSize
            self.discard = discard
            self.duplicateWindow = duplicateWindow
            self.maxDuplicateIDs = maxDuplicateIDs
            self.maxSubjects = maxSubjects
            self.prefaultStorage = prefaultStorage
        }

        /// The configuration's filters, parsed; throws with the first problem found.
        func validated() throws(StreamError) -> [SubjectFilter] {
            if self.name.isEmpty || self.name.utf8.contains(where: { $0 == 46 || $0 == 42 || $0 == 62 || $0 <= 32 }) {
                throw .invalidConfiguration("name \"\(self.name)\" must be non-empty without '.', '*', '>' or spaces")
            }
            if self.subjects.isEmpty { throw .invalidConfiguration("subjects must name at least one filter") }
            if self.maxMessages < 1 || self.maxMessages > 1 << 31 {
                throw .invalidConfiguration("maxMessages must be between 1 and 2^31")
            }
            if self.maxBytes < 1 || self.maxBytes > 1 << 40 {
                throw .invalidConfiguration("maxBytes must be between 1 and 2^40")
            }
            if self.maxMessageSize < 0 || self.maxMessageSize > self.maxBytes {
                throw .invalidConfiguration("maxMessageSize must be between 0 and maxBytes")
            }
            if let age = self.maxAge, age <= .zero { throw .invalidConfiguration("maxAge must be positive") }
            if let perSubject = self.maxMessagesPerSubject, perSubject < 1 {
                throw .invalidConfiguration("maxMessagesPerSubject must be at least 1")
            }
            if self.duplicateWindow < .zero { throw .invalidConfiguration("duplicateWindow must not be negative") }
            if self.maxDuplicateIDs < 1 || self.maxDuplicateIDs > 1 << 30 {
                throw .invalidConfiguration("maxDuplicateIDs must be between 1 and 2^30")
            }
            if self.maxSubjects < 1 || self.maxSubjects > 1 << 30 {
                throw .invalidConfiguration("maxSubjects must be between 1 and 2^30")
            }
            var filters: [SubjectFilter] = []
            for text in self.subjects {
                do {
                    filters.append(try SubjectFilter(text))
                } catch {
                    throw .invalidConfiguration(error.description)
                }
            }
            return filters
        }
    }
}
