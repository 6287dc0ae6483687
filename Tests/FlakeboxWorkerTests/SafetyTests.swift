import FlakeboxTestSupport
import Foundation
import Testing

extension WorkerTests {
    /// Nothing of the worker's reaches a test: not its environment, not the API key, not its
    /// descriptors.
    @Suite(
        "what a sandbox can see",
        .enabled(
            if: WorkerTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
        .timeLimit(.minutes(3)))
    struct SafetyTests {
        @Test("no RUNPOD_ variable, API key or worker descriptor reaches a test's environment, /proc or fds")
        func noSecretsInTheSandbox() async throws {
            try await expectNoSecrets(extraArguments: [])
        }

        /// At the minimal tier a test shares the worker's pid namespace, so the worker's own
        /// `/proc/PID/environ` is in reach. A root worker runs tests as another uid; a rootless one
        /// (scripts/test.sh runs this suite again as nobody) shares its uid with them, and only its
        /// being non-dumpable keeps the key out.
        @Test("at the minimal tier too, where the worker's own /proc entry is in reach")
        func noSecretsAtTheMinimalTier() async throws {
            try await expectNoSecrets(extraArguments: ["--tier", "minimal"], tier: "minimal")
        }

        private func expectNoSecrets(extraArguments: [String], tier: String = "full") async throws {
            try await WorkerHarness.run { harness in
                let script = """
                    echo "seen TEST_SEED=$TEST_SEED"
                    echo ---env; env
                    echo ---self; tr '\\0' '\\n' < /proc/self/environ
                    echo ---init; cat /proc/1/cmdline /proc/1/environ 2>/dev/null | tr '\\0' '\\n'
                    echo ---parent; tr '\\0' '\\n' < /proc/$PPID/environ 2>/dev/null
                    echo ---all; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f"; done 2>/dev/null
                    echo ---visible; for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f" 2>/dev/null | grep -q "flakebox worker" && echo "worker-visible"; done
                    echo ---fds; ls -l /proc/self/fd
                    echo ---end
                    """
                let repo = try TestRepository(files: ["t.sh": script + "\n"])
                await harness.server.queueJobTakes([
                    .job(id: "job-safety", input: WorkerHarness.jobInput(repo: repo.path))
                ])
                let worker = try harness.startProductionWorker(
                    extraArguments: extraArguments,
                    extraEnvironment: [
                        "RUNPOD_ENDPOINT_ID": "ep-\(harness.podID)", "RUNPOD_POD_HOSTNAME": "host-\(harness.podID)",
                    ])
                let traffic = try await harness.waitFor("the result") { !$0.results(for: "job-safety").isEmpty }

                let result = try #require(traffic.results(for: "job-safety").first)
                let summary = try harness.expectSummary(result, runs: 2, parallelism: 2)
                let isolation = summary["isolation"] as? [String: Any]
                #expect(isolation?["tier"] as? String == tier, "\(isolation ?? [:])")
                let attempts = summary["results"] as? [[String: Any]] ?? []
                for attempt in attempts {
                    // In reach at the minimal tier (so the scan of every environ above covered it);
                    // hidden by the pid namespace at the full tier.
                    let visible = (attempt["stdout"] as? String ?? "").contains("worker-visible")
                    #expect(visible == (tier == "minimal"), "worker process visible: \(visible)")
                    let stdout = attempt["stdout"] as? String ?? ""
                    // The script ran to its end and printed what it saw (else the checks below prove nothing).
                    #expect(stdout.contains("seen TEST_SEED=") && stdout.contains("---end"), "\(attempt)")
                    let fds = stdout.components(separatedBy: "---fds").last?.components(separatedBy: "---end").first
                    #expect(fds?.contains("socket:") == false, "a socket reached the sandbox:\n\(fds ?? "")")
                }
                #expect(!result.bodyText.contains(harness.apiKey), "the API key reached a test:\n\(result)")
                #expect(!result.bodyText.contains("RUNPOD_"), "a RUNPOD_ variable reached a test:\n\(result.bodyText)")
                // The worker's log goes to RunPod's log service: the key has no business there either.
                #expect(!worker.stdout.contains(harness.apiKey) && !worker.stderr.contains(harness.apiKey))
            }
        }
    }
}
