import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte aligned buffer of `Float`s, shared between tensor values until one of them writes.
@usableFromInline
final class Storage: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<Float>
    @usableFromInline let count: Int
    /// The memory budget's account this storage is counted in, until it is freed.
    private let account: Memory.Account

    /// Uninitialised storage for `count` elements; callers fill every element.
    /// Keeps freed tensor memory in the heap for the next tensor. By default glibc maps each block
    /// above 128 KiB afresh and returns it when freed, so every training step page-faulted its
    /// activations and gradients in again. Blocks up to 32 MiB (glibc's ceiling for this setting)
    /// now come from the heap, and up to 512 MiB of free heap is kept before it is trimmed.
    private static let heapTuning: Void = {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 512 << 20)
        #endif
    }()

    @usableFromInline
    init(uninitializedCount count: Int) {
        Storage.heapTuning
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        account = Memory.charge(bytes)
        // Failure here means the process is out of memory: sizes were bounded by Shape.count.
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            preconditionFailure("out of memory allocating \(bytes) bytes")
        }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    @usableFromInline
    func copy() -> Storage {
        let s = Storage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    deinit {
        free(pointer)
        Memory.release(max(count, 1) * MemoryLayout<Float>.stride, from: account)
    }
}
