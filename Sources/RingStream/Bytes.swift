// Byte helpers shared by the subject table and the dedup table.

/// A fast 64-bit hash of bytes, a word at a time, seeded so that keys cannot be chosen to collide.
func seededHash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
    let count = bytes.count
    var h = seed ^ (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15)
    if count >= 8 {
        var index = 0
        while index + 8 <= count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            index += 8
        }
        if index < count {
            // The last 8 bytes, overlapping the previous word: no byte loop for the tail.
            h = (h ^ bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)) &* 0x94D0_49BB_1331_11EB
        }
    } else if count > 0 {
        var word: UInt64 = 0
        for index in 0..<count { word |= UInt64(bytes[index]) << UInt64(index * 8) }
        h = (h ^ word) &* 0x94D0_49BB_1331_11EB
    }
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    return h
}

/// Byte-wise equality of two buffers, a word at a time.
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let count = a.count
    guard count == b.count else { return false }
    if count >= 8 {
        var index = 0
        while index + 8 <= count {
            if a.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                != b.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            {
                return false
            }
            index += 8
        }
        // The tail as the last 8 bytes, overlapping what was already compared.
        return index == count
            || a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
    for index in 0..<count where a[index] != b[index] { return false }
    return true
}

/// Copies `count` bytes a word at a time: for the short IDs of the publish path, cheaper than a call to memmove.
@inline(__always)
func copyBytes(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int) {
    var index = 0
    while index + 8 <= count {
        destination.storeBytes(of: source.loadUnaligned(fromByteOffset: index, as: UInt64.self), toByteOffset: index, as: UInt64.self)
        index += 8
    }
    while index < count {
        destination.storeBytes(of: source.load(fromByteOffset: index, as: UInt8.self), toByteOffset: index, as: UInt8.self)
        index += 1
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
