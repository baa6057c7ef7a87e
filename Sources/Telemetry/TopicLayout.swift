/// Where telemetry arrives and which topic segment holds the boiler id.
///
/// The default is `boilers/+/telemetry` with the id in the `+`; a partitioned layout such as
/// `part/+/+/telemetry` names the id's position (2 there: segments count from 0).
public struct TopicLayout: Hashable, Sendable, CustomStringConvertible {
    /// The MQTT subscription filter, with `+` for single-level wildcards (`#` is not allowed: the id's position
    /// must be fixed).
    public let filter: String
    /// The index of the `+` segment that holds the boiler id, counting segments from 0.
    public let idPosition: Int
    private let segments: [[UInt8]]

    /// The layout used when nothing is configured: `boilers/+/telemetry`, id in segment 1.
    public static let `default` = TopicLayout(uncheckedFilter: "boilers/+/telemetry", idPosition: 1)

    /// A layout from a filter and the id's segment; nil position means the first `+`.
    /// Throws a configuration error in words when the filter cannot carry an id there.
    public init(filter: String, idPosition: Int? = nil) throws(TopicLayoutError) {
        let segments = filter.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
        guard !filter.isEmpty, !segments.contains(where: { $0.isEmpty }) else {
            throw TopicLayoutError(description: "telemetry filter '\(filter)' has an empty segment")
        }
        guard !segments.contains(where: { $0.contains(UInt8(ascii: "#")) }) else {
            throw TopicLayoutError(description: "telemetry filter '\(filter)' uses '#'; name every level with '+'")
        }
        let plus = [UInt8(ascii: "+")]
        guard let position = idPosition ?? segments.firstIndex(of: plus) else {
            throw TopicLayoutError(description: "telemetry filter '\(filter)' has no '+' segment for the boiler id")
        }
        guard segments.indices.contains(position), segments[position] == plus else {
            throw TopicLayoutError(
                description: "segment \(position) of telemetry filter '\(filter)' is not '+', so it cannot hold the id"
            )
        }
        self.init(uncheckedFilter: filter, idPosition: position)
    }

    private init(uncheckedFilter filter: String, idPosition: Int) {
        self.filter = filter
        self.idPosition = idPosition
        self.segments = filter.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }

    public var description: String { "\(self.filter) (id in segment \(self.idPosition))" }

    /// The boiler id in `topic`, or a rejection when the topic does not match the filter or the id is invalid.
    public func boilerID(in topic: UnsafeBufferPointer<UInt8>) throws(TelemetryRejection) -> BoilerID {
        var segment = 0
        var start = 0
        var idRange: Range<Int>? = nil
        var index = 0
        while index <= topic.count {
            if index == topic.count || topic[index] == UInt8(ascii: "/") {
                guard segment < self.segments.count else { throw self.mismatch(topic) }
                let pattern = self.segments[segment]
                let text = UnsafeBufferPointer(rebasing: topic[start..<index])
                if pattern.count == 1 && pattern[0] == UInt8(ascii: "+") {
                    if segment == self.idPosition { idRange = start..<index }
                } else if !text.elementsEqual(pattern) {
                    throw self.mismatch(topic)
                }
                segment += 1
                start = index + 1
            }
            index += 1
        }
        guard segment == self.segments.count, let idRange else { throw self.mismatch(topic) }
        return try BoilerID(validating: UnsafeBufferPointer(rebasing: topic[idRange]))
    }

    /// Convenience for tests and tools.
    public func boilerID(in topic: String) throws(TelemetryRejection) -> BoilerID {
        var topic = topic
        let result = topic.withUTF8 { bytes in Result { () throws(TelemetryRejection) in try self.boilerID(in: bytes) } }
        return try result.get()
    }

    /// The topic on which `id` publishes telemetry under this layout, with other `+` segments filled by `fill`.
    public func topic(for id: BoilerID, fill: String = "0") -> String {
        self.segments.enumerated().map { index, segment in
            if index == self.idPosition { return id.rawValue }
            return segment == [UInt8(ascii: "+")] ? fill : String(decoding: segment, as: UTF8.self)
        }.joined(separator: "/")
    }

    private func mismatch(_ topic: UnsafeBufferPointer<UInt8>) -> TelemetryRejection {
        TelemetryRejection(
            .topicMismatch,
            "topic '\(String(decoding: topic.prefix(200), as: UTF8.self))' does not match '\(self.filter)'"
        )
    }

    public static func == (lhs: TopicLayout, rhs: TopicLayout) -> Bool {
        lhs.filter == rhs.filter && lhs.idPosition == rhs.idPosition
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.filter)
        hasher.combine(self.idPosition)
    }
}

/// A telemetry topic layout that cannot work, said in words.
public struct TopicLayoutError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
}
