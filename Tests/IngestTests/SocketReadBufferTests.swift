import CSocketReadBuffer
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The network thread's read buffer (`CSocketReadBuffer`), on a socket pair: what libmosquitto reads through it
/// byte by byte arrives whole and in order from one system call; other threads and other descriptors read as
/// before; nothing buffered survives a detach.
@Suite struct SocketReadBufferTests {
    /// A connected, non-blocking socket pair: (the end read through the buffer, the end written).
    private func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        return (fds[0], fds[1])
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) {
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        #expect(written == bytes.count)
    }

    /// `read` of up to `count` bytes: the bytes, or nil with errno.
    private func receive(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
        return got < 0 ? nil : Array(bytes[0..<got])
    }

    @Test("byte-at-a-time reads of an attached socket come from one system call, in order, then EAGAIN")
    func oneFillServesManyReads() throws {
        let (reader, writer) = try self.pair()
        defer { close(reader); close(writer) }
        let sent = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        self.send(writer, sent)
        #expect(boilerpipeline_read_buffer_attach(reader) == 0)
        defer { boilerpipeline_read_buffer_detach() }
        let fillsBefore = boilerpipeline_read_buffer_fills()
        var received: [UInt8] = []
        // As libmosquitto reads a packet: one byte, one byte, then the rest in one go.
        received += self.receive(reader, 1) ?? []
        received += self.receive(reader, 1) ?? []
        #expect(boilerpipeline_read_buffer_pending() == 998)
        while received.count < sent.count, let chunk = self.receive(reader, 3), !chunk.isEmpty { received += chunk }
        #expect(received == sent)
        #expect(boilerpipeline_read_buffer_fills() - fillsBefore == 1)
        #expect(self.receive(reader, 1) == nil && errno == EAGAIN)
        #expect(boilerpipeline_read_buffer_pending() == 0)
        // End of stream reads as 0, as from the socket itself.
        shutdown(writer, Int32(SHUT_WR))
        #expect(self.receive(reader, 1) == [])
    }

    @Test("another thread, and another descriptor, read straight from the kernel")
    func otherThreadsAndDescriptorsAreUntouched() throws {
        let (reader, writer) = try self.pair()
        let (other, otherWriter) = try self.pair()
        defer { close(reader); close(writer); close(other); close(otherWriter) }
        #expect(boilerpipeline_read_buffer_attach(reader) == 0)
        defer { boilerpipeline_read_buffer_detach() }
        self.send(otherWriter, [1, 2, 3])
        #expect(self.receive(other, 1) == [1])
        #expect(self.receive(other, 8) == [2, 3])
        self.send(writer, [10, 11, 12, 13, 14, 15])
        // A thread that attached nothing reads 4 of the 6 bytes from the socket itself.
        let elsewhere = Mutex<[UInt8]?>(nil)
        let thread = Thread { elsewhere.withLock { $0 = self.receive(reader, 4) } }
        thread.start()
        while elsewhere.withLock({ $0 }) == nil { usleep(1_000) }
        #expect(elsewhere.withLock { $0 } == [10, 11, 12, 13])
        #expect(self.receive(reader, 8) == [14, 15])
    }

    @Test("a detach drops what was buffered; a large read goes straight through")
    func detachDropsAndLargeReadsPassThrough() throws {
        let (reader, writer) = try self.pair()
        defer { close(reader); close(writer) }
        self.send(writer, Array(repeating: 9, count: 20))
        #expect(boilerpipeline_read_buffer_attach(reader) == 0)
        #expect(self.receive(reader, 1) == [9])
        #expect(boilerpipeline_read_buffer_pending() == 19)
        boilerpipeline_read_buffer_detach()
        #expect(boilerpipeline_read_buffer_pending() == 0)
        #expect(self.receive(reader, 1) == nil && errno == EAGAIN)
        // Attached again: a read of 64 KiB or more is not buffered.
        #expect(boilerpipeline_read_buffer_attach(reader) == 0)
        defer { boilerpipeline_read_buffer_detach() }
        let fillsBefore = boilerpipeline_read_buffer_fills()
        self.send(writer, [5, 6, 7])
        #expect(self.receive(reader, 1 << 16) == [5, 6, 7])
        #expect(boilerpipeline_read_buffer_fills() == fillsBefore)
    }
}
