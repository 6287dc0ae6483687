import FlakeboxCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Progress on stderr: on a terminal, one line rewritten in place and cut to the terminal's
/// width (a wrapped line would leave a trail); elsewhere (CI logs, a pipe) a plain line at each
/// phase and every few seconds while attempts run, as go's `stress` prints; nothing with `--quiet`.
final class ProgressLine: Sendable {
    enum Mode: Sendable, Equatable {
        case terminal
        case plain(everySeconds: Double)
        case off

        /// A terminal when stderr is one, plain lines every 5 s otherwise, or off.
        static func forStandardError(quiet: Bool) -> Mode {
            quiet ? .off : isatty(2) == 1 ? .terminal : .plain(everySeconds: 5)
        }
    }

    private let mode: Mode
    private struct State {
        var lastTime: Double = 0
        var lastPhase: JobProgress.Phase?
        var drawn = false
    }
    private let state = Mutex(State())

    init(mode: Mode) {
        self.mode = mode
    }

    func update(_ progress: JobProgress) {
        let now = Date().timeIntervalSince1970
        let due = state.withLock { state -> Bool in
            let phaseChanged = state.lastPhase != progress.phase
            let interval: Double
            switch mode {
            case .off: return false
            // At most ten redraws a second, whatever the attempt rate.
            case .terminal: interval = 0.1
            case .plain(let every): interval = every
            }
            guard phaseChanged || now - state.lastTime >= interval || progress.completed == progress.total else {
                return false
            }
            state.lastTime = now
            state.lastPhase = progress.phase
            state.drawn = true
            return true
        }
        guard due else { return }
        let line = "[flakebox] " + Self.text(progress)
        switch mode {
        case .terminal:
            let width = Self.terminalWidth()
            let shown = width > 1 && line.count >= width ? String(line.prefix(width - 2)) + "…" : line
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(shown)".utf8))
        case .plain:
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        case .off:
            break
        }
    }

    func finish() {
        guard mode == .terminal, state.withLock({ $0.drawn }) else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    static func text(_ progress: JobProgress) -> String {
        switch progress.phase {
        case .fetching: return "fetching the repository…"
        case .setup: return "preparing the checkout…"
        case .summarizing: return "summarizing…"
        case .sharing:
            return
                "interference: \(progress.completed)/\(progress.total) seeds rerun, \(progress.running) at once in one shared checkout…"
        case .classifying: return "classifying the failing tests: \(progress.completed) runs alone and in order…"
        case .running:
            var line =
                "\(progress.completed)/\(progress.total) done · \(progress.failures) failed · \(progress.running) running"
            if let eta = progress.etaSeconds { line += String(format: " · ETA %.0fs", eta) }
            return line
        }
    }

    /// Columns of the terminal on stderr, or 0 when unknown.
    static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0 else { return 0 }
        return Int(size.ws_col)
    }
}
