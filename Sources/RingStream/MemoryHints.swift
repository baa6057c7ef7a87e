// Two hints to the machine for the tables a publish reads at random (the dedup index): start a load early, and
// map the table on large pages. Neither changes any result.
import Builtin

#if canImport(Glibc)
import Glibc
#endif

/// Starts bringing the cache line at `address` into the cache.
///
/// Unlike a load, a prefetch has no result to wait for, so the work after it can run while the line is on its
/// way. (A load used as a hint stalls the first atomic operation after it, the lock or a reference count,
/// which waits for every earlier load.) It never faults and reads no value, so it needs no synchronisation.
/// LLVM's `llvm.prefetch` (read, keep in all cache levels, data), reached through the compiler's `Builtin`
/// module: Swift has no public spelling of it.
@inline(__always)
func prefetchCacheLine(_ address: UnsafeRawPointer) {
    Builtin.int_prefetch_RawPointer(address._rawValue, Int32(0)._value, Int32(3)._value, Int32(1)._value)
}

/// The size of a large page (x86-64 and arm64 Linux with 4 KiB base pages).
let largePageSize = 2 << 20

/// Allocates `byteCount` bytes, aligned to `largePageSize` when there are at least that many, and asks Linux to
/// back them with large pages (transparent huge pages, granted when the system's setting is `always` or
/// `madvise`). Call before the memory is first written: the kernel picks the page size at the first touch.
///
/// A table read at random and larger than the TLB's reach (a few MiB of 4 KiB pages) costs a page-table walk
/// on almost every access, on top of the cache miss; on a virtual machine that walk is itself two-dimensional.
/// On 2 MiB pages a 32 MiB table needs 16 TLB entries. Where the hint is not honoured, the memory is ordinary.
func allocateForRandomAccess(byteCount: Int) -> UnsafeMutableRawPointer {
    guard byteCount >= largePageSize else { return .allocate(byteCount: byteCount, alignment: 4096) }
    let memory = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: largePageSize)
    #if os(Linux)
    // Failure (an old kernel, transparent huge pages set to `never`) leaves ordinary pages, which is correct.
    _ = madvise(memory, byteCount, MADV_HUGEPAGE)
    #endif
    return memory
}
