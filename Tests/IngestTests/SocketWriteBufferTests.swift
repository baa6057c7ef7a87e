import CSocketReadBuffer
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The network thread's write buffer (`socket_write_buffer.c`), on a socket pair: what libmosquitto writes packet by
/// packet leaves in one system call when flushed, in order; other threads and other descriptors write as before; a
/// full socket keeps the rest for later; a close sends what is buffered first; a failed connection says so.
@Suite struct SocketWriteBufferTests {
    /// A connected, non-blocking socket pair: (the end written through the buffer, the end read).
    private func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (fds[0], fds[1])
    }

    /// `write` of all of `bytes`: what it returned, and errno.
    @discardableResult
    private func send(_ fd: Int32, _ bytes: [UInt8]) -> (Int, Int32) {
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return (written, errno)
    }

    /// Everything readable now (non-blocking): the bytes, and whether the stream has ended.
    private func drain(_ fd: Int32) -> (bytes: [UInt8], ended: Bool) {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got > 0 {
                all += chunk[0..<got]
            } else {
                return (all, got == 0)
            }
        }
    }

    private func bytes(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ seed) }
    }

    @Test("writes to an attached socket wait in the buffer; one flush sends them in one system call, in order")
    func flushSendsAllInOne() throws {
        let (writer, reader) = try self.pair()
        defer { close(reader); close(writer) }
        #expect(boilerpipeline_write_buffer_attach(writer) == 0)
        defer { boilerpipeline_write_buffer_detach() }
        // As libmosquitto writes PUBACKs: four bytes each, one write per packet.
        let packets = (0..<200).map { self.bytes(4, seed: $0) }
        for packet in packets { #expect(self.send(writer, packet).0 == 4) }
        #expect(self.drain(reader).bytes.isEmpty, "nothing reaches the socket before the flush")
        #expect(boilerpipeline_write_buffer_pending() == 800)
        let writesBefore = boilerpipeline_write_buffer_writes()
        #expect(boilerpipeline_write_buffer_flush() == 0)
        #expect(boilerpipeline_write_buffer_writes() - writesBefore == 1)
        #expect(boilerpipeline_write_buffer_pending() == 0)
        #expect(self.drain(reader).bytes == packets.flatMap { $0 })
    }

    @Test("another thread, and another descriptor, write straight to the kernel")
    func otherThreadsAndDescriptorsAreUntouched() throws {
        let (writer, reader) = try self.pair()
        let (other, otherReader) = try self.pair()
        defer { for fd in [writer, reader, other, otherReader] { close(fd) } }
        #expect(boilerpipeline_write_buffer_attach(writer) == 0)
        defer { boilerpipeline_write_buffer_detach() }
        #expect(self.send(other, [1, 2, 3]).0 == 3)
        #expect(self.drain(otherReader).bytes == [1, 2, 3])
        let done = Atomic<Bool>(false)
        Thread {
            _ = [UInt8]([7, 8, 9]).withUnsafeBytes { Glibc.write(writer, $0.baseAddress, 3) }
            done.store(true, ordering: .releasing)
        }.start()
        while !done.load(ordering: .acquiring) { usleep(1_000) }
        #expect(self.drain(reader).bytes == [7, 8, 9])
        #expect(boilerpipeline_write_buffer_pending() == 0)
    }

    @Test("a write larger than the room left sends what is buffered first, then goes straight out; order kept")
    func largeWriteKeepsOrder() throws {
        let (writer, reader) = try self.pair()
        defer { close(reader); close(writer) }
        #expect(boilerpipeline_write_buffer_attach(writer) == 0)
        defer { boilerpipeline_write_buffer_detach() }
        let small = self.bytes(10, seed: 1)
        let large = self.bytes(20_000, seed: 2)
        #expect(self.send(writer, small).0 == 10)
        #expect(self.send(writer, large).0 == 20_000)
        #expect(boilerpipeline_write_buffer_pending() == 0)
        #expect(self.drain(reader).bytes == small + large)
    }

    @Test("a full socket: the flush keeps the rest and says EAGAIN, a write that does not fit waits too; all goes once it is read")
    func fullSocket() throws {
        let (writer, reader) = try self.pair()
        defer { close(reader); close(writer) }
        #expect(boilerpipeline_write_buffer_attach(writer) == 0)
        defer { boilerpipeline_write_buffer_detach() }
        // Another thread fills the socket straight through the kernel until it takes no more.
        let filled = Mutex<[UInt8]>([])
        let done = Atomic<Bool>(false)
        Thread {
            let chunk = [UInt8](repeating: 0xEE, count: 4_096)
            while true {
                let written = chunk.withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                filled.withLock { $0 += chunk[0..<written] }
            }
            done.store(true, ordering: .releasing)
        }.start()
        while !done.load(ordering: .acquiring) { usleep(1_000) }
        let buffered = self.bytes(15_000, seed: 3)
        #expect(self.send(writer, buffered).0 == 15_000)
        #expect(boilerpipeline_write_buffer_flush() == -1 && errno == EAGAIN)
        #expect(boilerpipeline_write_buffer_pending() == 15_000)
        // 2,000 more do not fit behind the 15,000: refused for now, as by a full socket.
        let refused = self.send(writer, self.bytes(2_000, seed: 4))
        #expect(refused.0 == -1 && (refused.1 == EAGAIN || refused.1 == EWOULDBLOCK))
        var received: [UInt8] = []
        for _ in 0..<100 where boilerpipeline_write_buffer_pending() > 0 {
            received += self.drain(reader).bytes
            _ = boilerpipeline_write_buffer_flush()
        }
        received += self.drain(reader).bytes
        #expect(boilerpipeline_write_buffer_pending() == 0)
        #expect(received == filled.withLock { $0 } + buffered)
    }

    @Test("closing the attached socket sends what is buffered first (libmosquitto closes right after a DISCONNECT)")
    func closeSendsTheRest() throws {
        let (writer, reader) = try self.pair()
        defer { close(reader) }
        #expect(boilerpipeline_write_buffer_attach(writer) == 0)
        defer { boilerpipeline_write_buffer_detach() }
        let disconnect: [UInt8] = [0xE0, 0x00]
        #expect(self.send(writer, disconnect).0 == 2)
        #expect(close(writer) == 0)
        let (got, ended) = self.drain(reader)
        #expect(got == disconnect)
        #expect(ended)
        #expect(boilerpipeline_write_buffer_pending() == 0)
    }

    @Test("when the connection is gone, the flush drops what was buffered and the next write fails with the error")
    func failedConnection() throws {
        // As libmosquitto does when a client is made: a write to a closed connection fails, it does not kill.
        signal(SIGPIPE, SIG_IGN)
        let (writer, reader) = try self.pair()
        defer { close(writer) }
        #expect(boilerpipeline_write_buffer_attach(writer) == 0)
        defer { boilerpipeline_write_buffer_detach() }
        #expect(self.send(writer, [1, 2, 3, 4]).0 == 4)
        close(reader)
        #expect(boilerpipeline_write_buffer_flush() == -1 && errno == EPIPE)
        #expect(boilerpipeline_write_buffer_pending() == 0)
        let next = self.send(writer, [5])
        #expect(next.0 == -1 && next.1 == EPIPE)
    }

    @Test("a detach drops what was buffered; an attach to another descriptor starts empty")
    func detachDrops() throws {
        let (writer, reader) = try self.pair()
        let (other, otherReader) = try self.pair()
        defer { for fd in [writer, reader, other, otherReader] { close(fd) } }
        #expect(boilerpipeline_write_buffer_attach(writer) == 0)
        #expect(self.send(writer, [1, 2]).0 == 2)
        #expect(boilerpipeline_write_buffer_attach(other) == 0)
        #expect(boilerpipeline_write_buffer_pending() == 0)
        #expect(self.send(writer, [3]).0 == 1)
        #expect(self.drain(reader).bytes == [3], "the old descriptor is no longer buffered, and its bytes are gone")
        #expect(self.send(other, [4]).0 == 1)
        boilerpipeline_write_buffer_detach()
        #expect(boilerpipeline_write_buffer_pending() == 0)
        #expect(self.drain(otherReader).bytes.isEmpty)
    }
}
