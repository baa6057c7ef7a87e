import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension TestServices {
    /// An executable built beside the test binary (`swift build` puts products and tests in one folder).
    public static func builtProduct(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// A loopback TCP port free at the moment of asking: the one the kernel gives a socket bound to port 0.
    /// (In process: it was a python3 process, which blocked a thread of the concurrency pool while it ran.)
    public static func freeLoopbackPort() throws -> String {
        let bound = try boundLoopbackSocket()
        close(bound.descriptor)
        return String(bound.port)
    }

    /// A TCP socket bound to a port of 127.0.0.1 that the kernel chose, not listening: while it stays open,
    /// nothing else can take the port and a connection to it is refused. The caller closes it.
    public static func boundLoopbackSocket() throws -> (descriptor: Int32, port: UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw PortError(step: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let failedStep = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> String? in
                if bind(descriptor, raw, length) != 0 { return "bind" }
                if getsockname(descriptor, raw, &length) != 0 { return "getsockname" }
                return nil
            }
        }
        if let failedStep {
            let code = errno
            close(descriptor)
            throw PortError(step: failedStep, code: code)
        }
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }

    /// Finding a free port failed at `step` with `errno` `code`.
    public struct PortError: Error, CustomStringConvertible {
        public var step: String
        public var code: Int32
        public var description: String { "finding a free loopback port: \(self.step) failed: \(String(cString: strerror(self.code)))" }
    }
}
