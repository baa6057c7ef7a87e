import RingStream

/// A deliberately simple model of the stream's documented behaviour: every message ever published kept in an
/// array, limits applied by linear scans. The property test requires the real stream to agree with it.
struct ReferenceModel {
    struct Message {
        var sequence: UInt64
        var subject: String
        var payload: [UInt8]
        var timestamp: Int64
        var removed = false
        var removedByLimit = false
    }

    struct Consumer {
        var filters: [String]
        var cursor: UInt64
        var pending: [(sequence: UInt64, subject: String)] = []
    }

    let configuration: RingStream.Configuration
    var messages: [Message] = []
    /// Oldest retained sequence: everything before it is gone, holes included.
    var head: UInt64 = 1
    var dedup: [(id: String, sequence: UInt64, time: Int64)] = []
    var forgottenEarly: UInt64 = 0
    var lastMessageID: String?
    var lastTimestamp = Int64.min
    var duplicatesDropped: UInt64 = 0
    var removedCount: UInt64 = 0
    var subjectsKnown: [String: UInt64] = [:]

    init(_ configuration: RingStream.Configuration) { self.configuration = configuration }

    var next: UInt64 { UInt64(self.messages.count) + 1 }
    var stored: [Message] { self.messages.filter { !$0.removed } }
    var slotCapacity: Int {
        let wanted = self.configuration.maxMessages * (self.configuration.maxMessagesPerSubject == nil ? 1 : 2)
        var slots = 1
        while slots < wanted { slots <<= 1 }
        return slots
    }
    var arenaCapacity: Int { self.configuration.maxBytes * (self.configuration.maxMessagesPerSubject == nil ? 1 : 2) }
    var arenaUsed: Int { self.messages[Int(self.head - 1)...].reduce(0) { $0 + $1.payload.count } }

    static func matches(_ filter: String, _ subject: String) -> Bool {
        let f = filter.split(separator: ".", omittingEmptySubsequences: false)
        let s = subject.split(separator: ".", omittingEmptySubsequences: false)
        for (index, token) in f.enumerated() {
            if token == ">" { return s.count > index }
            if index >= s.count { return false }
            if token != "*" && token != s[index] { return false }
        }
        return f.count == s.count
    }

    mutating func remove(_ sequence: UInt64, byLimit: Bool) {
        let index = Int(sequence - 1)
        self.messages[index].removed = true
        self.messages[index].removedByLimit = byLimit
        self.removedCount += 1
        while self.head < self.next && self.messages[Int(self.head - 1)].removed { self.head += 1 }
    }

    mutating func expire(_ now: Int64) {
        let window = self.configuration.duplicateWindow.components
        let windowNs = window.seconds * 1_000_000_000 + window.attoseconds / 1_000_000_000
        self.dedup.removeAll { $0.time <= now - windowNs }
        if let maxAge = self.configuration.maxAge {
            let age = maxAge.components.seconds * 1_000_000_000 + maxAge.components.attoseconds / 1_000_000_000
            while self.head < self.next && self.messages[Int(self.head - 1)].timestamp <= now - age {
                self.remove(self.head, byLimit: true)
            }
        }
    }

    mutating func publish(
        subject: String,
        payload: [UInt8],
        id: String?,
        expectLast: UInt64?,
        expectSubject: UInt64?,
        expectID: String?,
        expectStream: String?,
        now requested: Int64
    ) -> Outcome {
        let now = max(requested, self.lastTimestamp)
        if self.subjectsKnown[subject] == nil {
            let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
            if subject.isEmpty || tokens.contains(where: { $0.isEmpty || $0.contains(where: { "*> \t".contains($0) }) }) {
                return .failed(.invalidSubject)
            }
            if !self.configuration.subjects.contains(where: { Self.matches($0, subject) }) {
                return .failed(.subjectNotInStream)
            }
        }
        guard payload.count <= self.configuration.maxMessageSize else { return .failed(.messageTooLarge) }
        self.expire(now)
        if let id, let hit = self.dedup.first(where: { $0.id == id }) {
            self.duplicatesDropped += 1
            return .ack(PublishAck(stream: self.configuration.name, sequence: hit.sequence, duplicate: true))
        }
        if let expectStream, expectStream != self.configuration.name { return .failed(.streamNotMatch) }
        if let expectLast, expectLast != self.next - 1 { return .failed(.wrongLastSequence) }
        if let expectSubject, expectSubject != (self.subjectsKnown[subject] ?? 0) {
            return .failed(.wrongLastSequence)
        }
        if let expectID, expectID != self.lastMessageID { return .failed(.wrongLastMessageID) }

        let mine = self.stored.filter { $0.subject == subject }
        if let perSubject = self.configuration.maxMessagesPerSubject, mine.count >= perSubject {
            guard self.configuration.discard == .old else { return .failed(.storeFailed) }
            for message in mine.prefix(mine.count - perSubject + 1) { self.remove(message.sequence, byLimit: false) }
        }
        func overLimits(_ model: ReferenceModel) -> Bool {
            let stored = model.stored
            return stored.count + 1 > model.configuration.maxMessages
                || stored.reduce(0, { $0 + $1.payload.count }) + payload.count > model.configuration.maxBytes
                || Int(model.next - model.head) + 1 > model.slotCapacity
                || model.arenaUsed + payload.count > model.arenaCapacity
        }
        if self.configuration.discard == .new {
            if overLimits(self) { return .failed(.storeFailed) }
        } else {
            while overLimits(self) { self.remove(self.head, byLimit: true) }
        }
        let sequence = self.next
        self.messages.append(Message(sequence: sequence, subject: subject, payload: payload, timestamp: now))
        self.subjectsKnown[subject] = sequence
        self.lastTimestamp = now
        if let id {
            while self.dedup.count == self.configuration.maxDuplicateIDs
                || self.dedup.reduce(0, { $0 + $1.id.utf8.count }) + id.utf8.count
                    > max(self.configuration.maxDuplicateIDs * 40, MessageID.maximumLength)
            {
                self.dedup.removeFirst()
                self.forgottenEarly += 1
            }
            self.dedup.append((id, sequence, now))
        }
        self.lastMessageID = id
        return .ack(PublishAck(stream: self.configuration.name, sequence: sequence, duplicate: false))
    }

    func lastStored(matching filter: String) -> Message? {
        self.stored.last { Self.matches(filter, $0.subject) }
    }

    func message(_ sequence: UInt64) -> Message? {
        guard sequence >= 1 && sequence < self.next else { return nil }
        let message = self.messages[Int(sequence - 1)]
        return message.removed ? nil : message
    }

    func makeConsumer(filters: [String], policy: DeliverPolicy) -> Consumer {
        func matches(_ subject: String) -> Bool { filters.isEmpty || filters.contains { Self.matches($0, subject) } }
        var consumer = Consumer(filters: filters, cursor: self.next)
        switch policy {
        case .all: consumer.cursor = self.head
        case .new: consumer.cursor = self.next
        case .byStartSequence(let start): consumer.cursor = max(start, 1)
        case .byStartTime(let instant):
            consumer.cursor = self.messages[Int(self.head - 1)...]
                .first { $0.timestamp >= instant.nanosecondsSinceEpoch }?.sequence ?? self.next
        case .last: consumer.cursor = self.stored.last { matches($0.subject) }?.sequence ?? self.next
        case .lastPerSubject:
            var last: [String: UInt64] = [:]
            for message in self.stored where matches(message.subject) { last[message.subject] = message.sequence }
            consumer.pending = last.map { ($0.value, $0.key) }.sorted { $0.sequence < $1.sequence }
        }
        return consumer
    }

    func fetch(_ consumer: inout Consumer, max: Int) -> (messages: [UInt64], gaps: [StreamGap]) {
        func matches(_ subject: String) -> Bool {
            consumer.filters.isEmpty || consumer.filters.contains { Self.matches($0, subject) }
        }
        var delivered: [UInt64] = []
        var gaps: [StreamGap] = []
        while !consumer.pending.isEmpty && delivered.count < max {
            let (sequence, subject) = consumer.pending.removeFirst()
            if self.message(sequence) != nil {
                delivered.append(sequence)
            } else if self.messages.contains(where: {
                $0.subject == subject && $0.removedByLimit && $0.sequence >= sequence
            }) {
                gaps.append(StreamGap(first: sequence, last: sequence))
            }
        }
        if !consumer.pending.isEmpty { return (delivered, gaps) }
        if consumer.cursor < self.head {
            let lost = self.messages[Int(consumer.cursor - 1)..<Int(self.head - 1)]
            if lost.contains(where: { $0.removedByLimit && matches($0.subject) }) {
                gaps.append(StreamGap(first: consumer.cursor, last: self.head - 1))
            }
            consumer.cursor = self.head
        }
        var sequence = consumer.cursor
        while sequence < self.next && delivered.count < max {
            let message = self.messages[Int(sequence - 1)]
            if !message.removed && matches(message.subject) { delivered.append(sequence) }
            sequence += 1
        }
        consumer.cursor = Swift.max(sequence, consumer.cursor)
        return (delivered, gaps)
    }
}
