/// Writes one flat JSON object, field by field: the encoder for setpoint commands, snapshot events and
/// checkpoints. Doubles are written in their shortest form that reads back to the same value.
public struct JSONWriter: Sendable {
    private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var isFirst = true

    public init() {
        self.bytes.reserveCapacity(256)
    }

    private mutating func key(_ name: String) {
        if !self.isFirst { self.bytes.append(UInt8(ascii: ",")) }
        self.isFirst = false
        // Field names are plain ASCII written in code: no escaping needed.
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: name.utf8)
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(UInt8(ascii: ":"))
    }

    private mutating func appendString(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.bytes.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// A string field.
    public mutating func field(_ name: String, _ value: String) {
        self.key(name)
        self.appendString(value)
    }

    /// An integer field.
    public mutating func field(_ name: String, _ value: Int64) {
        self.key(name)
        self.bytes.append(contentsOf: String(value).utf8)
    }

    /// An unsigned integer field.
    public mutating func field(_ name: String, _ value: UInt64) {
        self.key(name)
        self.bytes.append(contentsOf: String(value).utf8)
    }

    /// A number field; `nil` and non-finite values are written as `null` (JSON has no NaN).
    public mutating func field(_ name: String, _ value: Double?) {
        self.key(name)
        if let value, value.isFinite {
            self.bytes.append(contentsOf: value.description.utf8)
        } else {
            self.bytes.append(contentsOf: "null".utf8)
        }
    }

    /// An optional integer field, `null` when absent.
    public mutating func field(_ name: String, _ value: Int64?) {
        if let value { self.field(name, value) } else { self.field(name, Double?.none) }
    }

    /// A field holding an already-encoded JSON value.
    package mutating func rawField(_ name: String, _ json: [UInt8]) {
        self.key(name)
        self.bytes.append(contentsOf: json)
    }

    /// The finished object (the writer is done with after this).
    public mutating func finish() -> [UInt8] {
        self.bytes.append(UInt8(ascii: "}"))
        return self.bytes
    }
}
