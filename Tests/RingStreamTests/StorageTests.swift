#if canImport(Glibc)
import Glibc
@testable import RingStream
import Testing

@Suite("Storage made resident at creation")
struct StorageTests {
    /// The fraction of the pages of `storage` that are resident, by `mincore(2)`.
    static func residentFraction(_ storage: UnsafeMutableRawBufferPointer) throws -> Double {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = try #require(storage.baseAddress)
        let start = UInt(bitPattern: base) & ~UInt(page - 1)
        let length = Int(UInt(bitPattern: base) - start) + storage.count
        let pages = (length + page - 1) / page
        var vector = [UInt8](repeating: 0, count: pages)
        let result = vector.withUnsafeMutableBufferPointer { buffer in
            mincore(UnsafeMutableRawPointer(bitPattern: start), length, buffer.baseAddress)
        }
        try #require(result == 0, "mincore failed: errno \(errno)")
        return Double(vector.count { $0 & 1 == 1 }) / Double(pages)
    }

    /// Each lazily written range of the stream's storage, with the fraction of it that is resident.
    static func residency(_ stream: RingStream) throws -> [(bytes: Int, resident: Double)] {
        let ranges = stream.withCore { core in core.lazilyWrittenStorage }
        return try ranges.map { (bytes: $0.count, resident: try residentFraction($0)) }
    }

    /// Sizes above glibc's largest mmap threshold (32 MiB), so each range is a fresh mapping of its own and
    /// never memory that an earlier test wrote and freed.
    static func configure(_ configuration: inout RingStream.Configuration) {
        configuration.maxBytes = 64 << 20
        configuration.maxMessageSize = 40 << 20
        configuration.maxDuplicateIDs = 1 << 20
    }

    @Test("prefaultStorage makes every page of the stream's storage resident before the first publish")
    func prefaulted() throws {
        let stream = try makeStream { Self.configure(&$0); $0.prefaultStorage = true }
        let ranges = try Self.residency(stream)
        #expect(ranges.count == 4)
        for range in ranges {
            #expect(range.resident == 1.0, "\(range.bytes) bytes, \(range.resident * 100)% resident")
        }
        // The stream behaves as any other: stores, reads back, deduplicates.
        let first = try stream.publish("boiler.b1.telemetry", "21.5", id: MessageID("b1:1"))
        let again = try stream.publish("boiler.b1.telemetry", "21.5", id: MessageID("b1:1"))
        #expect(first.sequence == 1 && !first.duplicate)
        #expect(again.sequence == 1 && again.duplicate)
        #expect(stream.allPayloads() == ["21.5"])
    }

    @Test("without it, the storage is allocated but the system makes it resident only as it is written")
    func lazy() throws {
        let stream = try makeStream { Self.configure(&$0) }
        try stream.publish("boiler.b1.telemetry", "21.5", id: MessageID("b1:1"))
        let ranges = try Self.residency(stream)
        let arena = try #require(ranges.first)
        #expect(arena.bytes == 64 << 20)
        #expect(arena.resident < 0.5, "\(arena.resident * 100)% of the arena resident after one publish")
    }
}
#endif
