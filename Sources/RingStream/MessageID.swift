/// A publish's message ID, used for deduplication: up to 128 bytes of UTF-8.
///
/// The ingestion path builds one per reading (`{boiler}:{boot}:{seq}`), so short IDs must cost nothing: up to
/// `inlineCapacity` bytes live in the value itself (no heap allocation, cheap to copy); longer ones are kept
/// in an array.
public struct MessageID: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The longest message ID the stream accepts, in UTF-8 bytes.
    public static let maximumLength = 128
    /// IDs up to this many bytes are stored inline, without allocating.
    public static let inlineCapacity = 40

    typealias Inline = (UInt64, UInt64, UInt64, UInt64, UInt64)

    private var inline: Inline = (0, 0, 0, 0, 0)
    private var spilled: [UInt8]? = nil
    /// The ID's length in bytes.
    public private(set) var count: Int = 0

    /// An empty ID, to be filled with `append`.
    public init() {}

    /// The ID spelled by `string`, or `nil` when it is empty or longer than `maximumLength` UTF-8 bytes.
    public init?(_ string: some StringProtocol) {
        var fitted = true
        let wasContiguous: Void? = string.utf8.withContiguousStorageIfAvailable { buffer in
            fitted = self.append(UnsafeRawBufferPointer(buffer))
        }
        if wasContiguous == nil {
            for byte in string.utf8 where fitted {
                fitted = self.append(byte: byte)
            }
        }
        guard fitted, self.count > 0 else { return nil }
    }

    /// The ID made of `bytes`, or `nil` when empty or longer than `maximumLength`.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, self.append(bytes) else { return nil }
    }

    /// For IDs written in code. An empty literal or one longer than `maximumLength` is a programming error.
    public init(stringLiteral value: StaticString) {
        let appended = value.withUTF8Buffer { self.append(UnsafeRawBufferPointer($0)) }
        precondition(appended && self.count > 0, "message ID literal empty or longer than \(MessageID.maximumLength) bytes")
    }

    /// Appends bytes; returns `false` (and appends nothing) when the ID would exceed `maximumLength`.
    @discardableResult
    public mutating func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = self.count
        guard bytes.count <= MessageID.maximumLength - start else { return false }
        if start + bytes.count <= MessageID.inlineCapacity {
            withUnsafeMutableBytes(of: &self.inline) { raw in
                if bytes.count <= 16 {
                    // A few bytes (a boiler's name, a separator): a call to memcpy costs more than the copy.
                    for offset in 0..<bytes.count { raw[start + offset] = bytes[offset] }
                } else {
                    UnsafeMutableRawBufferPointer(rebasing: raw[start...]).copyMemory(from: bytes)
                }
            }
        } else {
            self.spill()
            self.spilled!.append(contentsOf: bytes)
        }
        self.count = start + bytes.count
        return true
    }

    /// Appends a string's UTF-8 bytes; returns `false` (and appends nothing) when the ID would exceed
    /// `maximumLength`.
    @discardableResult
    public mutating func append(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { self.append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends one byte; returns `false` when the ID is full.
    @discardableResult
    public mutating func append(byte: UInt8) -> Bool {
        let start = self.count
        guard start < MessageID.inlineCapacity else { return Swift.withUnsafeBytes(of: byte) { self.append($0) } }
        withUnsafeMutableBytes(of: &self.inline) { $0[start] = byte }
        self.count = start + 1
        return true
    }

    /// Shortens the ID to its first `length` bytes (nothing changes when it is not longer): a caller that makes
    /// many IDs with one prefix, as the ingestion path does per reading, keeps the prefix and replaces the rest.
    public mutating func truncate(to length: Int) {
        guard length >= 0, length < self.count else { return }
        if let spilled = self.spilled {
            if length <= MessageID.inlineCapacity {
                // Back inline: `append` writes inline whenever the result fits there.
                withUnsafeMutableBytes(of: &self.inline) { raw in
                    for offset in 0..<length { raw[offset] = spilled[offset] }
                }
                self.spilled = nil
            } else {
                self.spilled?.removeLast(self.count - length)
            }
        }
        self.count = length
    }

    /// Appends `value` in decimal; returns `false` when the ID would exceed `maximumLength`.
    @discardableResult
    public mutating func append(decimal value: UInt64) -> Bool {
        let length = MessageID.decimalLength(value)
        let start = self.count
        guard length <= MessageID.maximumLength - start else { return false }
        if start + length <= MessageID.inlineCapacity {
            // Straight into the inline bytes: the ingestion path builds an ID per reading.
            withUnsafeMutableBytes(of: &self.inline) { MessageID.writeDecimal(value, endingAt: start + length, in: $0) }
            self.count = start + length
            return true
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of UInt64.max
        return withUnsafeMutableBytes(of: &digits) { buffer in
            MessageID.writeDecimal(value, endingAt: buffer.count, in: buffer)
            return self.append(UnsafeRawBufferPointer(rebasing: buffer[(buffer.count - length)...]))
        }
    }

    /// How many decimal digits `value` has, without a loop: the bit length gives it to within one (1233/4096 is
    /// just above log10(2)), and one comparison with a power of ten settles which.
    @inline(__always)
    static func decimalLength(_ value: UInt64) -> Int {
        let value = value | 1  // 0 has one digit, as 1 has; no power of ten above 1 is odd, so no other count moves
        let estimate = ((64 - value.leadingZeroBitCount) &* 1233) >> 12
        return estimate &+ (value >= MessageID.powerOfTen(estimate) ? 1 : 0)
    }

    /// 10^`exponent` for 0 to 19 (a switch of constants, which the compiler makes a table).
    @inline(__always)
    private static func powerOfTen(_ exponent: Int) -> UInt64 {
        switch exponent {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        case 18: 1_000_000_000_000_000_000
        case 19: 10_000_000_000_000_000_000
        default: .max
        }
    }

    /// "00" to "99": two digits per division, as the ingestion path writes a number into every reading's ID.
    private static let digitPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051\
        525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899
        """

    /// Writes `value`'s decimal digits into `buffer`, the last one just before `end`.
    @inline(__always)
    static func writeDecimal(_ value: UInt64, endingAt end: Int, in buffer: UnsafeMutableRawBufferPointer) {
        let pairs = UnsafeRawPointer(MessageID.digitPairs.utf8Start)
        var position = end
        var rest = value
        while rest >= 100 {
            let (quotient, remainder) = rest.quotientAndRemainder(dividingBy: 100)
            position -= 2
            let pair = pairs.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: remainder) &* 2, as: UInt16.self)
            buffer.storeBytes(of: pair, toByteOffset: position, as: UInt16.self)
            rest = quotient
        }
        if rest >= 10 {
            position -= 2
            let pair = pairs.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: rest) &* 2, as: UInt16.self)
            buffer.storeBytes(of: pair, toByteOffset: position, as: UInt16.self)
        } else {
            position -= 1
            buffer.storeBytes(of: UInt8(truncatingIfNeeded: 48 &+ rest), toByteOffset: position, as: UInt8.self)
        }
    }

    private mutating func spill() {
        guard self.spilled == nil else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(MessageID.maximumLength)
        Swift.withUnsafeBytes(of: &self.inline) { bytes.append(contentsOf: $0[0..<self.count]) }
        self.spilled = bytes
    }

    /// Copies the ID's bytes to `destination`, which has room for `maximumLength` bytes and is 8-byte aligned,
    /// and returns how many there are. No closure: the publish path calls it on a field of its locked state,
    /// where a closure borrowing that state made Swift copy it.
    @inline(__always)
    func copyBytes(to destination: UnsafeMutableRawPointer) -> Int {
        if let spilled = self.spilled {
            spilled.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { destination.copyMemory(from: base, byteCount: bytes.count) }
            }
        } else {
            destination.storeBytes(of: self.inline, as: Inline.self)
        }
        return self.count
    }

    /// Calls `body` with the ID's bytes.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let spilled = self.spilled {
            return try spilled.withUnsafeBytes(body)
        }
        var inline = self.inline
        return try Swift.withUnsafeBytes(of: &inline) { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[0..<self.count]))
        }
    }

    public var description: String {
        self.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    public static func == (lhs: MessageID, rhs: MessageID) -> Bool {
        lhs.count == rhs.count && lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in bytesEqual(l, r) } }
    }

    public func hash(into hasher: inout Hasher) {
        self.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
