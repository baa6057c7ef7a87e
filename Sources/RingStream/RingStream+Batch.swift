import Synchronization

extension RingStream {
    /// Publishes under one lock acquisition: the ingestion path receives readings in batches (one MQTT message
    /// may carry many), and taking the lock once per batch rather than per reading halves the cost of a
    /// publish on machines where atomic operations are slow.
    ///
    /// The ``Publisher`` is valid only inside `body`; readers wait while `body` runs, so keep it to publishing.
    public func withPublisher<Result: Sendable>(_ body: (inout Publisher) throws(StreamError) -> Result) throws(StreamError) -> Result {
        let outcome: Swift.Result<Result, StreamError> = self.withCore { core in
            withUnsafeMutablePointer(to: &core) { pointer in
                var publisher = Publisher(core: pointer)
                do throws(StreamError) {
                    return .success(try body(&publisher))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try outcome.get()
    }

    /// Publishes within ``RingStream/withPublisher(_:)``, with the same semantics as ``RingStream/publish(subject:payload:options:now:)-(_,UnsafeRawBufferPointer,_,_)``.
    public struct Publisher: ~Copyable {
        private let core: UnsafeMutablePointer<StreamCore>

        fileprivate init(core: UnsafeMutablePointer<StreamCore>) { self.core = core }

        /// Publishes `payload` on `subject` at `now`; a failure stores nothing and leaves the batch usable.
        public mutating func publish(
            subject: String,
            payload: UnsafeRawBufferPointer,
            options: PublishOptions = .none,
            now: StreamInstant
        ) throws(StreamError) -> PublishAck {
            try self.core.pointee.publish(subject: subject, payload: payload, options: options, now: now)
        }
    }
}
