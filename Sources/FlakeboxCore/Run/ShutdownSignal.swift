import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM and SIGINT as an async sequence. Their default action is replaced by `SIG_IGN` and the
/// signals are read through dispatch sources instead; children never inherit that, because every
/// spawn resets all dispositions and the mask (`fb_spawn`).
public enum ShutdownSignal {
    /// The sources live as long as the process (one worker or one CLI job per process).
    private static let sources = Mutex<[any DispatchSourceSignal]>([])

    public static func stream() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        sources.withLock { sources in
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                sources.append(source)
            }
        }
        return stream
    }

    public static func name(_ number: Int32) -> String {
        number == SIGTERM ? "SIGTERM" : number == SIGINT ? "SIGINT" : "signal \(number)"
    }
}
