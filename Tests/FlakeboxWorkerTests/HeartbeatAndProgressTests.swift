import FlakeboxTestSupport
import Foundation
import Testing

extension WorkerTests {
    /// The heartbeat (docs/RUNPOD_PROTOCOL.md §10) and progress updates (§8) while a job runs.
    @Suite(
        "heartbeat and progress during a job",
        .enabled(
            if: WorkerTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
        .timeLimit(.minutes(3)))
    struct HeartbeatAndProgressTests {
        @Test("heartbeats keep coming while a long job runs, naming it; idle ones name no job")
        func heartbeatsDuringLongJob() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "sleep 5\n"])
                await harness.server.queueJobTakes([
                    .after(.seconds(2), .job(id: "job-long", input: WorkerHarness.jobInput(repo: repo.path)))
                ])
                try harness.startProductionWorker()
                // As the SDK does, the job is named until its result has been posted (the response
                // read), so a ping may name it after the result arrived: by how much depends on the
                // machine's load. What is asserted is the order: named only after the hand-out, and
                // once a ping after the result names no job, none names it again.
                let traffic = try await harness.waitFor("the result, then two idle pings") { traffic in
                    guard let result = traffic.results(for: "job-long").first else { return false }
                    return traffic.pings.filter { $0.arrival > result.arrival && $0.namesNoJob }.count >= 2
                }

                let handOut = try #require(traffic.handOut(of: "job-long"))
                let result = try #require(traffic.results(for: "job-long").first)
                let pings = traffic.pings
                let named = pings.filter { !$0.namesNoJob }
                #expect(named.count >= 3, "\(named.count) pings named the 5 s job\n\(traffic)")
                let firstIdleAfter = try #require(pings.first { $0.arrival > result.arrival && $0.namesNoJob })
                for ping in named {
                    harness.expectPing(ping, jobIDs: ["job-long"])
                    #expect(ping.arrival > handOut && ping.arrival < firstIdleAfter.arrival, "\(ping)\n\(traffic)")
                }
                // Well inside the job every ping names it; before it and after it, none does.
                for ping in pings
                where ping.arrival > handOut + .milliseconds(1500) && ping.arrival < result.arrival - .milliseconds(500)
                {
                    harness.expectPing(ping, jobIDs: ["job-long"])
                }
                let idle = pings.filter { $0.arrival < handOut || $0.arrival >= firstIdleAfter.arrival }
                #expect(idle.contains { $0.arrival < handOut }, "no ping before the job\n\(traffic)")
                for ping in idle { harness.expectPing(ping, jobIDs: []) }
                // Every RUNPOD_PING_INTERVAL (1000 ms): no hot loop.
                let span = harness.seconds(from: pings[0].arrival, to: pings[pings.count - 1].arrival)
                #expect(Double(pings.count) <= span + 3, "\(pings.count) pings in \(span) s")
            }
        }

        @Test("progress is posted to job-done during a job, at most once a second, and before the result")
        func progressDuringJob() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "sleep 1\n"])
                await harness.server.queueJobTakes([
                    .job(id: "job-progress", input: WorkerHarness.jobInput(repo: repo.path, runs: 4, parallelism: 1))
                ])
                try harness.startProductionWorker()  // --progress-interval 1
                try await harness.waitFor("the result") { !$0.results(for: "job-progress").isEmpty }
                // Time for a progress post after the result to show up, if one were coming.
                try await Task.sleep(for: .seconds(2))
                let traffic = await harness.server.traffic

                let result = try #require(traffic.results(for: "job-progress").first)
                #expect(traffic.results(for: "job-progress").count == 1)
                harness.expectJobDone(result, jobID: "job-progress")
                try harness.expectSummary(result, runs: 4, parallelism: 1)
                let updates = traffic.progress(for: "job-progress")
                #expect(updates.count >= 2, "\(traffic)")
                var completed: [Int] = []
                for update in updates {
                    harness.expectJobDone(update, jobID: "job-progress")
                    let body = update.jsonObject ?? [:]
                    #expect(Set(body.keys) == ["status", "output"], "\(update)")
                    #expect(body["status"] as? String == "IN_PROGRESS")
                    let output = body["output"] as? [String: Any] ?? [:]
                    #expect(output["phase"] is String, "\(update)")
                    for key in ["completed", "failures", "running", "total"] {
                        #expect(output[key] is Int, "\(key) in \(update)")
                    }
                    #expect(output["total"] as? Int == 4, "\(update)")
                    completed.append(output["completed"] as? Int ?? -1)
                    #expect(update.arrival < result.arrival, "progress after the result: \(update)")
                }
                #expect(
                    updates.contains { ($0.jsonObject?["output"] as? [String: Any])?["phase"] as? String == "running" },
                    "\(traffic)")
                #expect(
                    completed == completed.sorted() && completed.allSatisfy { (0...4).contains($0) }, "\(completed)")
                for (earlier, later) in zip(updates, updates.dropFirst()) {
                    let gap = harness.seconds(from: earlier.arrival, to: later.arrival)
                    // Stamped on arrival at the stand-in, which load may delay for one post and not the
                    // next: half the interval still tells a limit from none.
                    #expect(gap >= 0.5, "progress posts \(gap) s apart")
                }
            }
        }

        @Test("while long attempts run, progress says so before any of them has finished")
        func progressWhileAttemptsRun() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "sleep 4\n"])
                await harness.server.queueJobTakes([
                    .job(id: "job-slow-attempts", input: WorkerHarness.jobInput(repo: repo.path))
                ])
                try harness.startProductionWorker()  // --progress-interval 1
                let traffic = try await harness.waitFor("the result") { !$0.results(for: "job-slow-attempts").isEmpty }

                let outputs = traffic.progress(for: "job-slow-attempts").compactMap {
                    $0.jsonObject?["output"] as? [String: Any]
                }
                // Four seconds of two attempts running, at one update a second: at least one says so.
                let running = outputs.filter {
                    $0["phase"] as? String == "running" && $0["completed"] as? Int == 0 && $0["running"] as? Int == 2
                }
                #expect(!running.isEmpty, "no progress showed the two attempts running\n\(traffic)")
            }
        }
    }

    /// The heartbeat's cadence, seen from an idle worker.
    @Suite(
        "heartbeat cadence",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox and flakebox-sandbox"),
        .timeLimit(.minutes(2)))
    struct HeartbeatCadenceTests {
        @Test("the first ping comes at once, the next ones every RUNPOD_PING_INTERVAL ms / 1000 s")
        func cadence() async throws {
            try await WorkerHarness.run { harness in
                try harness.startProductionWorker(extraEnvironment: ["RUNPOD_PING_INTERVAL": "4000"])
                let traffic = try await harness.waitFor("three pings", timeout: 60) { $0.pings.count >= 3 }

                let pings = traffic.pings
                for ping in pings { harness.expectPing(ping, jobIDs: []) }
                let firstTake = try #require(traffic.jobTakes.first)
                // "At once": not an interval after the worker came up.
                let lead = harness.seconds(from: firstTake.arrival, to: pings[0].arrival)
                #expect(lead < 2, "the first ping came \(lead) s after the first job-take\n\(traffic)")
                for (earlier, later) in zip(pings, pings.dropFirst()) {
                    let gap = harness.seconds(from: earlier.arrival, to: later.arrival)
                    #expect(gap >= 3.5 && gap < 10, "pings \(gap) s apart, the interval being 4 s")
                }
            }
        }

        @Test("no heartbeat without RUNPOD_AI_API_KEY (the SDK needs key, pod id and ping URL)")
        func noHeartbeatWithoutKey() async throws {
            try await WorkerHarness.run { harness in
                var environment = harness.productionEnvironment()
                environment["RUNPOD_AI_API_KEY"] = nil
                try harness.startWorker(WorkerHarness.productionArguments, environment: environment)
                try await harness.waitFor("three job-takes", timeout: 60) { $0.jobTakes.count >= 3 }
                let traffic = await harness.server.traffic
                #expect(traffic.pings.isEmpty, "\(traffic)")
            }
        }
    }
}

extension RecordedRequest {
    /// A heartbeat that names no job (`job_id` is left out when none is tracked).
    fileprivate var namesNoJob: Bool { query?.contains("job_id=") != true }
}
