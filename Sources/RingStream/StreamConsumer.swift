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

    /// Up to this many filters, all literal subjects, a fetch follows each subject's messages instead of
    /// reading the whole stream.
    static let maximumChainedFilters = 16

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
        if !consumer.filters.isEmpty && consumer.filters.count <= StreamConsumer.maximumChainedFilters
            && consumer.filters.allSatisfy(\.isLiteral)
        {
            self.fetchByChains(&consumer, maxMessages: maxMessages, delivered: &delivered, body)
            return self.finish(&consumer, delivered: delivered, gaps: gaps)
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

    /// `fetch` for a consumer whose filters are all literal subjects: it follows each subject's own chain of
    /// messages (`Record.nextInSubject`) instead of reading every record of the stream, so reading one boiler's
    /// messages costs what it delivers, not the stream's length, and holds the lock that long only. The chain
    /// from a subject's oldest stored message holds only stored messages: both limits remove a subject's
    /// oldest first.
    private func fetchByChains(
        _ consumer: inout StreamConsumer,
        maxMessages: Int,
        delivered: inout Int,
        _ body: (StreamMessageView) -> Void
    ) {
        // Each subject's first stored message at or after the consumer's position (0: none).
        var heads: [UInt64] = []
        heads.reserveCapacity(consumer.filters.count)
        for filter in consumer.filters {
            guard let id = self.subjectIDs.find(filter.text) else { continue }
            heads.append(self.firstStored(subject: id, atOrAfter: consumer.nextSequence))
        }
        while delivered < maxMessages {
            var next = 0
            for index in heads.indices where heads[index] != 0 && (heads[next] == 0 || heads[index] < heads[next]) {
                next = index
            }
            guard next < heads.count, heads[next] != 0 else {
                // Every chain is done: nothing on these subjects up to the stream's end.
                consumer.nextSequence = max(self.nextSequence, consumer.nextSequence)
                return
            }
            let sequence = heads[next]
            body(self.view(sequence))
            delivered += 1
            consumer.nextSequence = sequence + 1
            // Filters may name one subject twice: every chain standing on this message moves on.
            for index in heads.indices where heads[index] == sequence {
                heads[index] = self.records[self.slot(sequence)].nextInSubject
            }
        }
    }

    /// The subject's first stored sequence at or after `start`, 0 when there is none: along its chain from its
    /// oldest stored message, or by reading the records from `start`, whichever reads fewer.
    private func firstStored(subject id: UInt32, atOrAfter start: UInt64) -> UInt64 {
        let state = self.subjects[Int(id)]
        guard state.liveCount > 0, state.lastSequence >= start else { return 0 }
        if state.firstLiveSequence >= start { return state.firstLiveSequence }
        if UInt64(state.liveCount) <= state.lastSequence - start {
            var sequence = state.firstLiveSequence
            while sequence != 0 && sequence < start { sequence = self.records[self.slot(sequence)].nextInSubject }
            return sequence
        }
        var sequence = max(start, self.headSequence)
        while sequence <= state.lastSequence {
            let record = self.records[self.slot(sequence)]
            if !record.isDeleted && record.subjectID == id { return sequence }
            sequence += 1
        }
        return 0
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
