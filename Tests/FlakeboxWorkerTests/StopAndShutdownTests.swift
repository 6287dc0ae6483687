import FlakeboxTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension WorkerTests {
    /// The job-stop channel (docs/RUNPOD_PROTOCOL.md §9) and SIGTERM (§14, with the worker's grace period).
    @Suite(
        "job-stop and SIGTERM",
        .enabled(
            if: WorkerTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
        .timeLimit(.minutes(3)))
    struct StopAndShutdownTests {
        @Test("a job named by job-stop is killed, nothing final is posted for it, and the next job is taken")
        func stoppedThroughJobStop() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "sleep 30\n"])
                // Answered at once, so that the worker's own pace between polls shows.
                await harness.server.setStopHold(.zero)
                await harness.server.queueJobTakes([
                    .job(id: "job-to-stop", input: WorkerHarness.jobInput(repo: repo.path, ["timeout_s": 120])),
                    .job(id: "job-after-stop", input: WorkerHarness.jobInput(repo: repo.path, command: "true")),
                ])
                // A stop for a job this worker is not running: ignored.
                await harness.server.stop("job-elsewhere") { traffic in traffic.handOut(of: "job-to-stop") != nil }
                // Its attempts have had 2 s to start by then.
                await harness.server.stop("job-to-stop") { traffic in
                    traffic.handOut(of: "job-to-stop").map { ContinuousClock.now - $0 > .seconds(2) } ?? false
                }
                try harness.startProductionWorker()
                try await harness.waitFor("the next job's result") { !$0.results(for: "job-after-stop").isEmpty }
                // Time for a late result of the stopped job to show up, if one were coming.
                try await Task.sleep(for: .seconds(2))
                let traffic = await harness.server.traffic

                for stop in traffic.jobStops { harness.expectJobStop(stop) }
                let orders = traffic.jobStops.filter { traffic.reply(to: $0)?.status == 200 }
                try #require(orders.count == 2, "the stop orders were not both given\n\(traffic)")
                let order = orders[1]
                #expect(traffic.results(for: "job-to-stop").isEmpty, "a stopped job got a result\n\(traffic)")
                for progress in traffic.progress(for: "job-to-stop") {
                    #expect(progress.arrival < order.arrival + .seconds(1), "progress after the stop: \(progress)")
                }
                // Its 30 s attempts were killed: the next job went out long before they could have ended.
                let next = try #require(traffic.handOut(of: "job-after-stop"))
                #expect(next > order.arrival, "the job ended before its stop order (or on the other job's)\n\(traffic)")
                let delay = harness.seconds(from: order.arrival, to: next)
                #expect(delay < 20, "the next job was taken \(delay) s after the stop\n\(traffic)")
                let result = try #require(traffic.results(for: "job-after-stop").first)
                harness.expectJobDone(result, jobID: "job-after-stop")
                try harness.expectSummary(result, runs: 2, parallelism: 2)
                // A 204 is polled again 1 s later (arrivals, stamped by the stand-in, may bunch under
                // load: half of it still tells the interval from a hot loop).
                let stops = traffic.jobStops
                for (earlier, later) in zip(stops, stops.dropFirst()) {
                    let gap = harness.seconds(from: earlier.arrival, to: later.arrival)
                    #expect(gap >= 0.5, "job-stop polls \(gap) s apart\n\(traffic)")
                }
                #expect(stops.count >= 3, "\(traffic)")
            }
        }

        @Test("SIGTERM during a long job: no more job-takes, the partial summary posted after the grace, exit 0")
        func sigtermPostsPartialResult() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "sleep 20\n"])
                await harness.server.queueJobTakes([
                    .job(
                        id: "job-sigterm", input: WorkerHarness.jobInput(repo: repo.path, runs: 4, ["timeout_s": 120])),
                    .job(id: "job-never", input: WorkerHarness.jobInput(repo: repo.path, command: "true")),
                ])
                let worker = try harness.startProductionWorker()  // --shutdown-grace 2
                // Its attempts have had time to start (they run 20 s).
                try await harness.waitFor("the job to be 3 s old") { traffic in
                    traffic.handOut(of: "job-sigterm").map { ContinuousClock.now - $0 > .seconds(3) } ?? false
                }
                let signalled = ContinuousClock.now
                worker.send(SIGTERM)
                let termination = try await harness.waitForExit(worker, timeout: 60)
                let traffic = await harness.server.traffic

                #expect(termination == .exited(0), "\(worker.logTail)")
                let posts = traffic.results(for: "job-sigterm")
                #expect(posts.count == 1, "\(traffic)")
                let post = try #require(posts.first)
                harness.expectJobDone(post, jobID: "job-sigterm")
                let after = harness.seconds(from: signalled, to: post.arrival)
                #expect(after >= 1.8, "the partial result came \(after) s after SIGTERM, inside the 2 s grace")
                // The attempts were cut short, not waited for (they would have run to about 20 s).
                #expect(after < 12, "the partial result came \(after) s after SIGTERM")
                let summary = try #require(post.jsonObject?["output"] as? [String: Any], "\(post)")
                #expect(summary["complete"] as? Bool == false, "\(post)")
                for key in ["total_runs", "parallelism", "failures", "repro_rate", "results", "isolation"] {
                    #expect(summary[key] != nil, "the partial summary has no \(key)")
                }
                #expect(!traffic.jobTakes.contains { $0.arrival > signalled }, "a job-take after SIGTERM\n\(traffic)")
                #expect(traffic.handOut(of: "job-never") == nil)
            }
        }
    }

    /// SIGTERM with no job running: nothing to cut short.
    @Suite(
        "SIGTERM while idle",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox and flakebox-sandbox"),
        .timeLimit(.minutes(2)))
    struct IdleShutdownTests {
        @Test("SIGTERM while idle: the worker stops polling and exits 0")
        func sigtermWhileIdle() async throws {
            try await WorkerHarness.run { harness in
                await harness.server.setIdleTakeHold(.seconds(5))
                let worker = try harness.startProductionWorker()
                try await harness.waitFor("a job-take and a ping") { !$0.jobTakes.isEmpty && !$0.pings.isEmpty }
                let signalled = ContinuousClock.now
                worker.send(SIGTERM)
                let termination = try await harness.waitForExit(worker, timeout: 30)
                let traffic = await harness.server.traffic

                #expect(termination == .exited(0), "\(worker.logTail)")
                let late = traffic.jobTakes.filter { $0.arrival > signalled + .milliseconds(500) }
                #expect(late.isEmpty, "job-takes after SIGTERM\n\(traffic)")
            }
        }
    }
}
