#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value the calling thread sets for the length of a scope (a pthread key holding a boxed
/// value): the per-thread deadline of `Cancellation` and budget of `Memory`.
final class ThreadScoped<Value>: @unchecked Sendable {
    private let key: pthread_key_t

    init() {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "cannot create a thread-local key")
        self.key = key
    }

    /// The calling thread's value, nil outside a scope.
    var current: Value? { pthread_getspecific(key).map { $0.assumingMemoryBound(to: Value.self).pointee } }

    /// Runs `body` with `value` set on this thread, restoring what was there after.
    func with<R>(_ value: Value, _ body: () throws -> R) rethrows -> R {
        let box = UnsafeMutablePointer<Value>.allocate(capacity: 1)
        box.initialize(to: value)
        let saved = pthread_getspecific(key)
        pthread_setspecific(key, box)
        defer {
            pthread_setspecific(key, saved)
            box.deinitialize(count: 1)
            box.deallocate()
        }
        return try body()
    }
}
