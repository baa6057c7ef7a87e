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

/// The lines of a text file, or nil when it cannot be read (read with the C library: no Foundation here).
private func lines(ofFile path: String) -> [String]? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var lines: [String] = []
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), file) != nil {
        lines.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return lines
}

/// Whether this system grants transparent huge pages to memory that asks for them (`always` or `madvise`).
private let largePagesGranted = lines(ofFile: "/sys/kernel/mm/transparent_hugepage/enabled")?.first.map {
    !$0.contains("[never]")
} ?? false

@Suite("The dedup index on large pages")
struct LargePageTests {
    /// The kB of `address`'s mapping that lie on transparent huge pages, from `/proc/self/smaps`.
    static func hugePageKilobytes(containing address: UnsafeRawPointer) throws -> Int {
        let smaps = try #require(lines(ofFile: "/proc/self/smaps"))
        let target = UInt(bitPattern: address)
        var inMapping = false
        for line in smaps {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inMapping = bounds.count == 2 && bounds[0] <= target && target < bounds[1]
            } else if inMapping, fields.first == "AnonHugePages:", fields.count >= 2 {
                return try #require(Int(fields[1]))
            }
        }
        Issue.record("no mapping holds \(address)")
        return 0
    }

    @Test(
        "an index of 16 MiB is 2 MiB-aligned and the system backs it with huge pages",
        .enabled(if: largePagesGranted, "transparent huge pages are set to never on this system")
    )
    func largeIndex() throws {
        // 1M IDs: 256Ki buckets of 64 bytes.
        let table = DedupTable(capacity: 1 << 20, seed: 5)
        let slots = table.locator.slots
        #expect(UInt(bitPattern: slots) % UInt(largePageSize) == 0)
        let huge = try Self.hugePageKilobytes(containing: slots)
        // The kernel may fall back to small pages where memory is fragmented, but not for the whole table.
        #expect(huge >= 2048, "\(huge) kB of the index's mapping on huge pages")
    }

    @Test("a small index is not padded out to a large page")
    func smallIndex() {
        // 1,000 IDs: 256 buckets, 128 KiB.
        let table = DedupTable(capacity: 1000, seed: 5)
        #expect(UInt(bitPattern: table.locator.slots) % 4096 == 0)
    }
}
#endif
