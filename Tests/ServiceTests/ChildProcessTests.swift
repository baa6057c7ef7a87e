import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The process runner every test that drives a real program relies on: it reports the program's own status and
/// output, never waits on a program that another one started, and gives the program a clean start.
@Suite("ChildProcess")
struct ChildProcessTests {
    @Test("a program's exit status and standard output")
    func statusAndOutput() async throws {
        let result = await (try ChildProcess(["sh", "-c", "echo hello; echo not-this >&2; exit 3"])).wait(timeout: .seconds(20))
        #expect(result.status == 3)
        #expect(result.output == "hello\n")
    }

    @Test("a program still running at the timeout is killed, and its status is the signal")
    func killedAtTimeout() async throws {
        let start = ContinuousClock.now
        let result = await (try ChildProcess(["sh", "-c", "echo begun; exec sleep 300"])).wait(timeout: .milliseconds(500))
        // Far under the 300 s sleep, with room for a cooperative pool that other tests hold for tens of seconds.
        #expect(ContinuousClock.now - start < .seconds(120))
        #expect(result.status == SIGKILL)
        #expect(result.output == "begun\n")
    }

    /// A program it started in the background keeps the output pipe open: the wait ends with the program itself,
    /// not with the background one (Foundation's `readDataToEndOfFile` waited the background program out).
    @Test("the wait ends with the program, not with a program it left running")
    func backgroundProgramDoesNotHoldTheWait() async throws {
        let start = ContinuousClock.now
        let result = await (try ChildProcess(["sh", "-c", "sleep 300 & echo $!"])).wait(timeout: .seconds(30))
        let elapsed = ContinuousClock.now - start
        if let background = Int32(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) { kill(background, SIGKILL) }
        #expect(result.status == 0)
        #expect(Int32(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) != nil, "\(result.output)")
        #expect(elapsed < .seconds(120))
    }

    /// Descriptors the test process holds (here a pipe without close-on-exec, as other code may make at any
    /// moment) are closed in the program, so it can hold open no other test's pipe or socket.
    @Test("the program inherits no descriptor above standard error")
    func noDescriptorInherited() async throws {
        var descriptors: [Int32] = [-1, -1]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]); close(descriptors[1]) }
        let probe = "for fd in \(descriptors[0]) \(descriptors[1]); do if [ -e /proc/$$/fd/$fd ]; then echo open; else echo closed; fi; done"
        let result = await (try ChildProcess(["sh", "-c", probe])).wait(timeout: .seconds(20))
        #expect(result.output == "closed\nclosed\n")
    }

    /// Programs started from Swift's worker threads would inherit their blocked signals (SIGTERM among them).
    /// grep reads its own mask (not through a shell, which blocks every signal while it waits for a command).
    @Test("the program starts with no blocked signal")
    func noBlockedSignal() async throws {
        let result = await (try ChildProcess(["grep", "SigBlk", "/proc/self/status"])).wait(timeout: .seconds(20))
        #expect(result.output.hasPrefix("SigBlk:"))
        #expect(result.output.hasSuffix("0000000000000000\n"), "\(result.output)")
    }
}
