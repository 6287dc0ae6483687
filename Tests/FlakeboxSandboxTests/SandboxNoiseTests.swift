import FlakeboxSandbox
import Foundation
import Testing

/// Prints how many noise workers share the command's cgroup, then their pids (host pids at the
/// minimal tier, which has no pid namespace).
private let countNoise = """
    sleep 0.3; me=$(cat /proc/$$/cgroup); n=0; pids=""
    for f in /proc/[0-9]*/comm; do
      p=${f%/comm}
      case "$(cat "$f" 2>/dev/null)" in fb-noise*)
        if [ "$(cat "$p/cgroup" 2>/dev/null)" = "$me" ]; then n=$((n+1)); pids="$pids ${p#/proc/}"; fi;;
      esac
    done
    echo "$n"; echo "$pids"; ls -A "${TMPDIR:-/tmp}" | wc -l
    """

@Suite(
    "Stress noise: forked by the launcher into the attempt, ended with it",
    .enabled(if: TestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct SandboxNoiseTests {
    @Test(
        "the noise workers share the command's cgroup, leave no file, and end with the attempt",
        arguments: [IsolationTier.full, .minimal])
    func noiseInside(tier: IsolationTier) async throws {
        let policy = try TestMachine.policy { $0.minimumTier = .minimal }
        let sandbox = try Sandbox(policy: policy, options: .init(tier: tier))
        let ws = try TestWorkspace()
        let result = await sandbox.run(
            AttemptRequest(
                command: ["/bin/sh", "-c", countNoise], workspace: ws.path, timeoutSeconds: 20,
                noise: BackgroundNoise(cpuWorkers: 2, ioWorkers: 1, ioBytes: 1 << 20)))
        #expect(result.status == .passed, "\(result.summary)")
        let lines = result.out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "3", "\(result.summary)")
        #expect(lines.count > 2 && lines[2] == "0", "the scratch file has no name: \(result.summary)")
        guard tier == .minimal, lines.count > 1 else { return }
        // Host pids: none of them may still be a noise worker once the attempt has returned.
        try await Task.sleep(for: .milliseconds(300))
        for pid in lines[1].split(separator: " ") {
            let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            #expect(!comm.hasPrefix("fb-noise"), "pid \(pid) outlived its attempt")
        }
    }

    @Test("an attempt with noise still ends at its wall-clock limit as a timeout")
    func timeoutWithNoise() async throws {
        let sandbox = try Sandbox(policy: TestMachine.policy())
        let ws = try TestWorkspace()
        let result = await sandbox.run(
            AttemptRequest(
                command: ["/bin/sh", "-c", "sleep 60"], workspace: ws.path, timeoutSeconds: 1,
                noise: BackgroundNoise(cpuWorkers: 1, ioWorkers: 1, ioBytes: 1 << 20)))
        #expect(result.status == .timeout, "\(result.summary)")
    }
}
