/// What the helper wrote on its report pipe (see Sources/flakebox-sandbox/report.h).
struct HelperReport: Equatable {
    var initPID: Int32?
    var setupFailure: AttemptResult.SetupFailure?
    /// The command's raw wait status.
    var exitStatus: Int32?
    /// PID 1's wait status when it ended without reporting the command's.
    var reaperStatus: Int32?
    /// The cgroup's CPU usage as the command started: what building the sandbox spent in it.
    var cpuBaseNanoseconds: UInt64?

    init(parsing text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == "cpu-base" {
                cpuBaseNanoseconds = UInt64(words[1])
                continue
            }
            guard let kind = words.first, words.count >= 2, let last = Int32(words[words.count - 1]) else { continue }
            switch kind {
            case "init": initPID = last
            case "exit": exitStatus = last
            case "reaper": reaperStatus = last
            case "error" where words.count >= 3 && setupFailure == nil:
                // The first failure is the cause; anything after it is a consequence.
                setupFailure = .init(stage: words[1..<(words.count - 1)].joined(separator: " "), errno: last)
            default: continue
            }
        }
    }
}
