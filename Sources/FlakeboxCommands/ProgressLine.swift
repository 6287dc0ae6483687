import FlakeboxCore
import Foundation
import Synchronization

/// One line on the terminal, rewritten in place: done / failed / running and the time left.
final class ProgressLine: Sendable {
    private let enabled: Bool
    private let last = Mutex<Double>(0)

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func update(_ progress: JobProgress) {
        guard enabled else { return }
        // At most ten redraws a second, whatever the attempt rate.
        let now = Date().timeIntervalSince1970
        let due = last.withLock { previous -> Bool in
            guard now - previous >= 0.1 || progress.completed == progress.total else { return false }
            previous = now
            return true
        }
        guard due else { return }
        var line: String
        switch progress.phase {
        case .fetching: line = "fetching the repository…"
        case .setup: line = "preparing the checkout…"
        case .summarizing: line = "summarizing…"
        case .classifying: line = "classifying the failing tests: \(progress.completed) runs alone and in order…"
        case .running:
            line =
                "\(progress.completed)/\(progress.total) done · \(progress.failures) failed · \(progress.running) running"
            if let eta = progress.etaSeconds { line += String(format: " · ETA %.0fs", eta) }
        }
        FileHandle.standardError.write(Data("\r\u{1B}[2K[flakebox] \(line)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
