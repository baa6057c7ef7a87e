/// Where a new consumer starts reading (JetStream's deliver policies).
public enum DeliverPolicy: Hashable, Sendable {
    /// From the oldest stored message.
    case all
    /// From the newest stored message that matches the filter.
    case last
    /// Only messages published after the consumer was made.
    case new
    /// From this sequence. If it was already evicted, the first fetch reports the gap.
    case byStartSequence(UInt64)
    /// From the first message stored at or after this instant.
    case byStartTime(StreamInstant)
    /// The newest stored message of each matching subject, then everything published after.
    case lastPerSubject
}

/// A pull consumer's cursor over a stream. It is a value owned by its reader; read with `RingStream.fetch`.
public struct StreamConsumer: Sendable {
    /// How a consumer selects and starts.
    public struct Configuration: Sendable {
        /// Subject filters; empty means every subject.
        public var filterSubjects: [String]
        /// Where to start.
        public var deliverPolicy: DeliverPolicy

        public init(filterSubjects: [String] = [], deliverPolicy: DeliverPolicy = .all) {
            self.filterSubjects = filterSubjects
            self.deliverPolicy = deliverPolicy
        }
    }

    public let configuration: Configuration
    let filters: [SubjectFilter]
    /// The next stream sequence to look at.
    public internal(set) var nextSequence: UInt64
    /// Initial messages of `lastPerSubject`, in sequence order, still to deliver.
    var pending: [(sequence: UInt64, subjectID: UInt32)] = []
    var pendingIndex = 0
    /// Per subject ID: 0 not yet evaluated, 1 matches, 2 does not.
    var matchCache: [UInt8] = []
    /// Messages delivered so far.
    public internal(set) var delivered: UInt64 = 0
    /// Gaps reported so far.
    public internal(set) var gapsReported: UInt64 = 0

    init(configuration: Configuration, filters: [SubjectFilter], nextSequence: UInt64) {
        self.configuration = configuration
        self.filters = filters
        self.nextSequence = nextSequence
    }

    /// Whether the subject with `id` (named `name`) passes the filters; cached per subject.
    mutating func matches(_ id: UInt32, name: String) -> Bool {
        if self.filters.isEmpty { return true }
        let index = Int(id)
        if index < self.matchCache.count {
            let cached = self.matchCache[index]
            if cached != 0 { return cached == 1 }
        } else {
            self.matchCache.append(contentsOf: repeatElement(0, count: index + 1 - self.matchCache.count))
        }
        let result = self.filters.contains { $0.matches(name) }
        self.matchCache[index] = result ? 1 : 2
        return result
    }
}

/// What one fetch did.
public struct FetchResult: Hashable, Sendable {
    /// Messages handed to the closure.
    public var delivered: Int
    /// Evicted ranges the consumer should have read, in order; each came before the messages after it.
    public var gaps: [StreamGap]
    /// Where the next fetch continues.
    public var nextSequence: UInt64
}

extension StreamCore {
    func makeConsumer(_ configuration: StreamConsumer.Configuration) throws(StreamError) -> StreamConsumer {
        var filters: [SubjectFilter] = []
        for text in configuration.filterSubjects { filters.append(try SubjectFilter(text)) }
        var consumer = StreamConsumer(configuration: configuration, filters: filters, nextSequence: self.nextSequence)
        switch configuration.deliverPolicy {
        case .all:
            consumer.nextSequence = self.headSequence
        case .new:
            consumer.nextSequence = self.nextSequence
        case .byStartSequence(let start):
            consumer.nextSequence = max(start, 1)
        case .byStartTime(let instant):
            consumer.nextSequence = self.firstSequence(atOrAfter: instant.nanosecondsSinceEpoch)
        case .last:
            if filters.isEmpty {
                consumer.nextSequence = self.liveMessages > 0 ? self.nextSequence - 1 : self.nextSequence
            } else {
                let last = filters.compactMap { self.lastStoredSequence(matching: $0) }.max()
                consumer.nextSequence = last ?? self.nextSequence
            }
        case .lastPerSubject:
            for (id, state) in self.subjects.enumerated() where state.liveCount > 0 {
                if consumer.matches(UInt32(id), name: state.name) {
                    consumer.pending.append((state.lastSequence, UInt32(id)))
                }
            }
            consumer.pending.sort { $0.sequence < $1.sequence }
        }
        return consumer
    }

    /// Delivers up to `maxMessages` messages to `body`, reporting any evicted range first.
    func fetch(
        _ consumer: inout StreamConsumer,
        maxMessages: Int,
        _ body: (StreamMessageView) -> Void
    ) -> FetchResult {
        var delivered = 0
        var gaps: [StreamGap] = []
        while consumer.pendingIndex < consumer.pending.count && delivered < maxMessages {
            let (sequence, subjectID) = consumer.pending[consumer.pendingIndex]
            consumer.pendingIndex += 1
            if self.isStored(sequence) {
                body(self.view(sequence))
                delivered += 1
            } else if self.subjects[Int(subjectID)].lastEvictedSequence >= sequence {
                // A stream limit took messages of this subject from `sequence` on; had the per-subject limit
                // replaced it instead, the newer message would follow and nothing would be reported.
                gaps.append(StreamGap(first: sequence, last: sequence))
            }
        }
        if consumer.pendingIndex == consumer.pending.count && !consumer.pending.isEmpty {
            consumer.pending = []
            consumer.pendingIndex = 0
        }
        guard consumer.pending.isEmpty else {
            return self.finish(&consumer, delivered: delivered, gaps: gaps)
        }
        if consumer.nextSequence < self.headSequence {
            if self.lapped(&consumer) {
                gaps.append(StreamGap(first: consumer.nextSequence, last: self.headSequence - 1))
            }
            consumer.nextSequence = self.headSequence
        }
        var sequence = consumer.nextSequence
        while sequence < self.nextSequence && delivered < maxMessages {
            let record = self.records[self.slot(sequence)]
            if !record.isDeleted
                && consumer.matches(record.subjectID, name: self.subjects[Int(record.subjectID)].name)
            {
                body(self.view(sequence))
                delivered += 1
            }
            sequence += 1
        }
        consumer.nextSequence = max(sequence, consumer.nextSequence)
        return self.finish(&consumer, delivered: delivered, gaps: gaps)
    }

    private func finish(_ consumer: inout StreamConsumer, delivered: Int, gaps: [StreamGap]) -> FetchResult {
        consumer.delivered += UInt64(delivered)
        consumer.gapsReported += UInt64(gaps.count)
        return FetchResult(delivered: delivered, gaps: gaps, nextSequence: consumer.nextSequence)
    }

    /// Whether a stream limit removed a message at or after the consumer's position that its filter matches.
    private func lapped(_ consumer: inout StreamConsumer) -> Bool {
        guard self.lastEvictedSequence >= consumer.nextSequence else { return false }
        if consumer.filters.isEmpty { return true }
        for (id, state) in self.subjects.enumerated() where state.lastEvictedSequence >= consumer.nextSequence {
            if consumer.matches(UInt32(id), name: state.name) { return true }
        }
        return false
    }
}
