import Foundation

extension TestServices {
    /// An executable built beside the test binary (`swift build` puts products and tests in one folder).
    public static func builtProduct(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// A loopback TCP port free at the moment of asking.
    public static func freeLoopbackPort() throws -> String {
        try runBlocking(["python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
