/// Which of an attempt's output streams a piece of output came from.
public enum StandardStream: Sendable {
    case stdout, stderr
}

/// Sees an attempt's output as it arrives, on the attempt's supervising thread: keep it quick.
public typealias OutputObserver = @Sendable (StandardStream, [UInt8]) -> Void
