/// Subject syntax, as in NATS: dot-separated tokens; filters may use `*` (exactly one token) and, as the last
/// token, `>` (one or more tokens).
enum Subject {
    /// Checks that `subject` is a literal subject a message can be published to.
    static func validateLiteral(_ subject: String) throws(StreamError) {
        if let reason = self.problem(in: subject, allowWildcards: false) {
            throw .invalidSubject(subject, reason)
        }
    }

    /// Why `subject` is not acceptable, or `nil` when it is.
    static func problem(in subject: String, allowWildcards: Bool) -> String? {
        if subject.isEmpty { return "it is empty" }
        var tokenLength = 0
        var tokenIsWildcard = false
        var sawFullWildcard = false
        for byte in subject.utf8 {
            if sawFullWildcard { return "'>' must be the last token" }
            switch byte {
            case UInt8(ascii: "."):
                if tokenLength == 0 { return "it has an empty token" }
                tokenLength = 0
                tokenIsWildcard = false
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), 0:
                return "it contains whitespace or a control character"
            case UInt8(ascii: "*"), UInt8(ascii: ">"):
                guard allowWildcards else { return "wildcards ('*', '>') are only allowed in filters" }
                if tokenLength != 0 { return "a wildcard must be a whole token" }
                tokenLength = 1
                tokenIsWildcard = true
                if byte == UInt8(ascii: ">") { sawFullWildcard = true }
            default:
                if tokenIsWildcard { return "a wildcard must be a whole token" }
                tokenLength += 1
            }
        }
        if tokenLength == 0 { return "it has an empty token" }
        return nil
    }
}

/// A parsed subject filter such as `boiler.*.telemetry` or `boiler.>`.
public struct SubjectFilter: Hashable, Sendable, CustomStringConvertible {
    enum Token: Hashable, Sendable {
        case literal(Substring)
        case single
        case rest
    }

    /// The filter as written.
    public let text: String
    let tokens: [Token]

    /// `true` when the filter has no wildcard, so it names exactly one subject.
    public var isLiteral: Bool { !self.tokens.contains { $0 == .single || $0 == .rest } }

    /// Parses a filter; throws `invalidFilter` with the reason when it is malformed.
    public init(_ text: String) throws(StreamError) {
        if let reason = Subject.problem(in: text, allowWildcards: true) {
            throw .invalidFilter(text, reason)
        }
        self.text = text
        self.tokens = text.split(separator: ".", omittingEmptySubsequences: false).map { token in
            switch token {
            case "*": .single
            case ">": .rest
            default: .literal(token)
            }
        }
    }

    /// Whether the literal `subject` matches this filter.
    public func matches(_ subject: String) -> Bool {
        var index = 0
        for token in subject.split(separator: ".", omittingEmptySubsequences: false) {
            guard index < self.tokens.count else { return false }
            switch self.tokens[index] {
            case .rest: return true
            case .single: break
            case .literal(let literal): if literal != token { return false }
            }
            index += 1
        }
        return index == self.tokens.count
    }

    public var description: String { self.text }
}
