@testable import RingStream
import Testing

/// The hash behind the subject table and the dedup index: every byte and the length count, the seed counts,
/// and the bits the index uses spread the IDs the pipeline makes evenly. Also the byte equality both tables use.
@Suite("Seeded hash")
struct SeededHashTests {
    private func hash(_ bytes: [UInt8], seed: UInt64 = 0x1234_5678_9ABC_DEF0) -> UInt64 {
        bytes.withUnsafeBytes { seededHash($0, seed: seed) }
    }

    @Test("changing any one byte, or the length, changes the hash, for keys of 0 to 80 bytes")
    func everyByteCounts() {
        var seen: Set<UInt64> = []
        for length in 0...80 {
            let key = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
            let original = self.hash(key)
            #expect(seen.insert(original).inserted, "length \(length) collides with a shorter key")
            for position in 0..<length {
                for flip: UInt8 in [0x01, 0x80] {
                    var changed = key
                    changed[position] ^= flip
                    #expect(self.hash(changed) != original, "length \(length), byte \(position), flip \(flip)")
                }
            }
            // A zero byte appended is a different key (the length is hashed, not only the bytes).
            #expect(self.hash(key + [0]) != original, "length \(length) and the same key with a 0 appended")
        }
    }

    @Test("bytesEqual: equal copies are equal; one changed byte anywhere, or another length, is not (0 to 80 bytes)")
    func equalityEveryByte() {
        for length in 0...80 {
            let key = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ length) }
            // Copies in other buffers, at an odd offset, so that no comparison can lean on shared storage or alignment.
            let copy = [0x55] + key
            let equal = key.withUnsafeBytes { k in copy.withUnsafeBytes { bytesEqual(k, UnsafeRawBufferPointer(rebasing: $0[1...])) } }
            #expect(equal, "length \(length)")
            for position in 0..<length {
                for flip: UInt8 in [0x01, 0x80] {
                    var changed = copy
                    changed[position + 1] ^= flip
                    let same = key.withUnsafeBytes { k in
                        changed.withUnsafeBytes { bytesEqual(k, UnsafeRawBufferPointer(rebasing: $0[1...])) }
                    }
                    #expect(!same, "length \(length), byte \(position), flip \(flip)")
                }
            }
            let longer = key + [0]
            let prefixEqual = key.withUnsafeBytes { k in longer.withUnsafeBytes { bytesEqual(k, $0) } }
            #expect(!prefixEqual, "length \(length) against itself with a 0 appended")
        }
    }

    @Test("copyBytes copies exactly the bytes asked for and touches nothing around them (0 to 150 bytes)")
    func copyEveryLength() {
        for length in 0...150 {
            let source = (0..<(length + 3)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length &+ 1) }
            // Odd offsets on both sides, and a guard byte before and after the destination.
            var destination = [UInt8](repeating: 0xEE, count: length + 4)
            source.withUnsafeBytes { from in
                destination.withUnsafeMutableBytes { to in
                    guard let from = from.baseAddress, let to = to.baseAddress else { return }
                    copyBytes(from: from + 3, to: to + 1, count: length)
                }
            }
            #expect(Array(destination[1..<(length + 1)]) == Array(source[3..<(length + 3)]), "length \(length)")
            #expect(destination[0] == 0xEE && destination[(length + 1)...].allSatisfy { $0 == 0xEE }, "length \(length): a byte outside was written")
        }
    }

    @Test("another seed gives another hash")
    func seedCounts() {
        for length in [0, 1, 3, 5, 8, 15, 16, 17, 22, 31, 32, 33, 64, 100] {
            let key = [UInt8](repeating: 0x61, count: length)
            #expect(self.hash(key, seed: 1) != self.hash(key, seed: 2), "length \(length)")
        }
    }

    @Test("IDs like the pipeline's spread evenly over the index's buckets and tags", arguments: ["seeded", "index"])
    func spread(hashName: String) {
        // 200,000 IDs `{boiler}:{boot}:{seq}` of 200 boilers, into 4,096 buckets by the low bits (as the index
        // picks a bucket) and 65,536 tags by the high 16 bits (as it tells slots apart).
        let table = DedupTable(capacity: 16, seed: 0x1234_5678_9ABC_DEF0)
        var buckets = [Int](repeating: 0, count: 4096)
        var tags = [Int](repeating: 0, count: 1 << 16)
        let count = 200_000
        for n in 0..<count {
            let id = Array("b\(1000 + n % 200):5f3a9c1e:\(n / 200)".utf8)
            // "index": the dedup index's own hash, for an ID that ends in a number its prefix's hash folded with it.
            let value = hashName == "seeded" ? self.hash(id) : id.withUnsafeBytes { table.hash($0) }
            buckets[Int(value & 4095)] += 1
            tags[Int(value >> 48)] += 1
        }
        // Mean 48.8 per bucket: a uniform hash puts the fullest near 75 and the emptiest near 25.
        #expect(buckets.max()! < 90 && buckets.min()! > 15, "bucket counts \(buckets.min()!)...\(buckets.max()!)")
        // Mean 3.05 per tag: the fullest near 14 for a uniform hash.
        #expect(tags.max()! < 20, "the fullest tag holds \(tags.max()!)")
    }
}
