import CMosquitto

/// An error from the MQTT client: libmosquitto's error number and its own text, plus what we were doing.
public struct MQTTError: Error, Hashable, Sendable, CustomStringConvertible {
    /// libmosquitto's `mosq_err_t` (or a CONNACK reason for `connectionRefused`), or one of ours below 0.
    public var code: Int32
    /// libmosquitto's message for `code`, and the operation that failed.
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "MQTT error \(self.code): \(self.message)" }

    /// An error from a libmosquitto call, with `mosquitto_strerror`'s text.
    static func mosquitto(_ rc: Int32, _ operation: String) -> MQTTError {
        MQTTError(code: rc, message: "\(operation): \(String(cString: mosquitto_strerror(rc)))")
    }

    /// The broker refused the connection (CONNACK reason), with `mosquitto_connack_string`'s text.
    static func connectionRefused(_ rc: Int32) -> MQTTError {
        MQTTError(code: rc, message: "connection refused: \(String(cString: mosquitto_connack_string(rc)))")
    }

    /// A configuration that cannot work, said in words.
    static func invalidConfiguration(_ text: String) -> MQTTError {
        MQTTError(code: -1, message: "invalid MQTT configuration: \(text)")
    }

    /// The wait for an acknowledgement ended without one.
    static func timedOut(_ operation: String) -> MQTTError {
        MQTTError(code: -2, message: "\(operation): timed out")
    }

    /// The client was shut down while an operation waited.
    static let shutDown = MQTTError(code: -3, message: "the MQTT client was shut down")

    /// The broker refused a subscription (SUBACK 0x80 or a v5 failure reason).
    static func subscriptionRefused(_ filter: String, _ granted: Int32) -> MQTTError {
        MQTTError(code: -4, message: "the broker refused the subscription to '\(filter)' (SUBACK \(granted))")
    }
}

/// Turns a libmosquitto return code into a thrown `MQTTError`.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(MQTTError) {
    guard rc == Int32(MOSQ_ERR_SUCCESS.rawValue) else { throw MQTTError.mosquitto(rc, operation()) }
}
