import Synchronization

/// What the routes need to know about the whole service: is it draining (SIGTERM seen)?
final class ServiceState: Sendable {
    private let drainingFlag = Mutex(false)

    var draining: Bool {
        get { drainingFlag.withLock { $0 } }
        set { drainingFlag.withLock { $0 = newValue } }
    }
}
