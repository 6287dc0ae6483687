/// Which stream a piece of an attempt's output came from.
public enum OutputStream: Sendable {
    case stdout, stderr
}

/// Sees an attempt's output as it arrives, on the attempt's supervising thread: keep it quick.
public typealias OutputObserver = @Sendable (OutputStream, [UInt8]) -> Void
