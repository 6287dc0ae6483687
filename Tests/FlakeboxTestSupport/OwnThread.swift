import FlakeboxSandbox

/// Runs blocking or CPU-heavy `body` on a thread of its own and awaits its value, so that it never
/// holds one of the cooperative pool's threads (two on a 2-core machine), which every test of the
/// run shares: a test that holds one for seconds delays every timing-sensitive test beside it.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let started = DetachedThread.start { continuation.resume(returning: body()) }
        // No thread to be had: run it here rather than never.
        if !started { continuation.resume(returning: body()) }
    }
}
