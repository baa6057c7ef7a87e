// Byte helpers shared by the subject table and the dedup table.

/// A fast 64-bit hash of bytes, seeded so that keys cannot be chosen to collide.
///
/// The construction is wyhash's: words of the key, each XORed with a secret, multiplied to 128 bits and the two
/// halves folded (`fold`). Keys of up to 32 bytes, every subject and message ID the pipeline makes, take two or
/// three such products, the first two side by side, instead of a chain of one multiply per word. Both factors
/// carry a secret, so no key word is known to zero a product (wyhash's own secret-free factor can be zeroed).
@inline(__always)
func seededHash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
    let count = bytes.count
    let other = hashPartner(of: seed)
    let first: UInt64
    let second: UInt64
    if count <= 16 {
        let (a, b) = loadShort(bytes)
        first = fold(a ^ seed, b ^ other)
        second = 0
    } else if count <= 32 {
        // Overlapping loads: the first and last 16 bytes cover every byte once the length is mixed in.
        first = fold(bytes.loadUnaligned(as: UInt64.self) ^ seed, bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self) ^ other)
        second = fold(
            bytes.loadUnaligned(fromByteOffset: count - 16, as: UInt64.self) ^ other,
            bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) ^ seed
        )
    } else {
        var state = seed
        var index = 0
        while index + 16 < count {
            state = fold(
                bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ state ^ 0xA076_1D64_78BD_642F,
                bytes.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self) ^ other
            )
            index += 16
        }
        first = state
        second = fold(
            bytes.loadUnaligned(fromByteOffset: count - 16, as: UInt64.self) ^ other,
            bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) ^ seed
        )
    }
    return fold(first ^ second ^ 0x8EBC_6AF0_9C88_C6E3, UInt64(truncatingIfNeeded: count) ^ other ^ 0x5899_65CC_7537_4CC3)
}

/// The second secret derived from a hash's seed: the seed goes into one factor of a product, this into the other.
@inline(__always)
func hashPartner(of seed: UInt64) -> UInt64 { (seed &* 0x9E37_79B9_7F4A_7C15) ^ 0xE703_7ED1_A0B4_28DB }

/// The two halves of the 128-bit product of `a` and `b`, XORed.
@inline(__always)
func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let (high, low) = a.multipliedFullWidth(by: b)
    return high ^ low
}

/// Keys of at most 16 bytes as two words that, with the length, determine them: the first and last 8 bytes
/// (overlapping), the first and last 4, or for 1 to 3 bytes the first, middle and last byte.
@inline(__always)
private func loadShort(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
    let count = bytes.count
    if count >= 8 {
        return (bytes.loadUnaligned(as: UInt64.self), bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
    }
    if count >= 4 {
        return (
            UInt64(bytes.loadUnaligned(as: UInt32.self)),
            UInt64(bytes.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
        )
    }
    guard count > 0 else { return (0, 0) }
    return (UInt64(bytes[0]) << 16 | UInt64(bytes[count >> 1]) << 8 | UInt64(bytes[count - 1]), 0)
}

/// Byte-wise equality of two buffers, a word at a time. Up to 32 bytes (every subject and ID the pipeline
/// makes) take no loop: two or four overlapping words from each side, their differences ORed.
@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let count = a.count
    guard count == b.count else { return false }
    @inline(__always) func difference(_ offset: Int) -> UInt64 {
        a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) ^ b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    }
    if count > 16 {
        if count <= 32 {
            return difference(0) | difference(8) | difference(count - 16) | difference(count - 8) == 0
        }
        var index = 0
        while index + 8 <= count {
            if difference(index) != 0 { return false }
            index += 8
        }
        // The tail as the last 8 bytes, overlapping what was already compared.
        return index == count || difference(count - 8) == 0
    }
    if count >= 8 { return difference(0) | difference(count - 8) == 0 }
    if count >= 4 {
        return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
            && a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
                == b.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
    }
    for index in 0..<count where a[index] != b[index] { return false }
    return true
}

/// Copies `count` bytes between buffers that do not overlap. Up to 64 bytes (the IDs and the readings of the
/// publish path), two to eight word loads and stores that may overlap each other, with no loop and no call;
/// longer copies go to `memcpy`, which would cost more than the copy itself for these.
@inline(__always)
func copyBytes(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int) {
    @inline(__always) func word(_ offset: Int) -> UInt64 { source.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
    @inline(__always) func put(_ value: UInt64, _ offset: Int) { destination.storeBytes(of: value, toByteOffset: offset, as: UInt64.self) }
    if count > 64 {
        destination.copyMemory(from: source, byteCount: count)
    } else if count >= 8 {
        // The first and last `min(count, 32)` bytes, and for more than 32 bytes the 16 after the first 16 and
        // the 16 before the last 16: every byte is covered, some twice.
        if count > 32 {
            put(word(16), 16)
            put(word(24), 24)
            put(word(count - 32), count - 32)
            put(word(count - 24), count - 24)
        }
        if count > 16 {
            put(word(8), 8)
            put(word(count - 16), count - 16)
        }
        put(word(0), 0)
        put(word(count - 8), count - 8)
    } else if count >= 4 {
        destination.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
        destination.storeBytes(
            of: source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self), toByteOffset: count - 4, as: UInt32.self
        )
    } else {
        for index in 0..<count {
            destination.storeBytes(of: source.load(fromByteOffset: index, as: UInt8.self), toByteOffset: index, as: UInt8.self)
        }
    }
}

/// Writes one byte in every 4 KiB of `storage`, so that the operating system makes the whole range resident now
/// rather than on first use (see `RingStream.Configuration.prefaultStorage`). The storage is not yet initialized,
/// so nothing read later depends on the bytes written.
func prefaultPages(_ storage: UnsafeMutableRawBufferPointer) {
    guard let start = storage.baseAddress, storage.count > 0 else { return }
    var offset = 0
    while offset < storage.count {
        start.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
        offset += 4096
    }
    start.storeBytes(of: 0, toByteOffset: storage.count - 1, as: UInt8.self)
}
