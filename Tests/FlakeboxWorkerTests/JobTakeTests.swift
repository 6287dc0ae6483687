import FlakeboxTestSupport
import Foundation
import Testing

extension WorkerTests {
    /// job-take (docs/RUNPOD_PROTOCOL.md §5) and the result of one job (§6), end to end.
    @Suite(
        "job-take and results",
        .enabled(
            if: WorkerTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
        .timeLimit(.minutes(3)))
    struct JobTakeTests {
        @Test("one job end to end: taken, its summary posted to job-done, then polling goes on")
        func oneJob() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: [
                    "t.sh": "echo \"seed=$TEST_SEED attempt=$ATTEMPT\"\n[ $((TEST_SEED % 2)) -eq 0 ]\n"
                ])
                let input = WorkerHarness.jobInput(repo: repo.path, runs: 4, parallelism: 2, ["seed_start": 10])
                await harness.server.queueJobTakes([.job(id: "job-e2e", input: input)])
                try harness.startProductionWorker()
                let traffic = try await harness.waitFor("the result, then a job-take after it") { traffic in
                    guard let result = traffic.results(for: "job-e2e").first else { return false }
                    return traffic.jobTakes.contains { $0.arrival > result.arrival }
                }

                for take in traffic.jobTakes { harness.expectJobTake(take) }
                #expect(traffic.handedOut.map(\.id) == ["job-e2e"])
                let results = traffic.results(for: "job-e2e")
                #expect(results.count == 1, "\(traffic)")
                let result = try #require(results.first)
                harness.expectJobDone(result, jobID: "job-e2e")
                let summary = try harness.expectSummary(result, runs: 4, parallelism: 2)
                #expect(summary["failures"] as? Int == 2)
                #expect(summary["repro_rate"] as? Double == 0.5)
                #expect(summary["complete"] as? Bool == true)
                let attempts = summary["results"] as? [[String: Any]] ?? []
                #expect(Set(attempts.compactMap { $0["seed"] as? Int }) == [10, 11, 12, 13])
                for attempt in attempts {
                    let seed = attempt["seed"] as? Int ?? -1
                    let number = attempt["attempt"] as? Int ?? -1
                    #expect(attempt["exit_code"] as? Int == (seed % 2 == 0 ? 0 : 1), "\(attempt)")
                    let stdout = attempt["stdout"] as? String ?? ""
                    #expect(stdout.contains("seed=\(seed) attempt=\(number)"), "\(attempt)")
                }

                // One job at a time: no job-take while the job runs.
                let handOut = try #require(traffic.handOut(of: "job-e2e"))
                #expect(!traffic.jobTakes.contains { $0.arrival > handOut && $0.arrival < result.arrival })
            }
        }

        @Test("204 and 400 are re-polled at once; a held long-poll is waited for, alone; then a job")
        func emptyQueueThenJob() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "true\n"])
                await harness.server.queueJobTakes([
                    .status(204), .status(400), .after(.seconds(2), .status(204)), .status(204),
                    .job(id: "job-after-empty", input: WorkerHarness.jobInput(repo: repo.path)),
                ])
                try harness.startProductionWorker()
                let traffic = try await harness.waitFor("the job's result") {
                    !$0.results(for: "job-after-empty").isEmpty
                }

                let takes = traffic.jobTakes
                try #require(takes.count >= 5, "\(traffic)")
                for take in takes { harness.expectJobTake(take) }
                #expect(traffic.handedOut.first?.id == "job-after-empty")
                #expect(traffic.reply(to: takes[4])?.jobID == "job-after-empty", "\(traffic)")
                let gaps = (1..<5).map { harness.seconds(from: takes[$0 - 1].arrival, to: takes[$0].arrival) }
                // The held poll kept the worker waiting, and no second poll was opened beside it.
                #expect(gaps[2] >= 1.9, "\(gaps)")
                // After 204, 400 and 204 the next poll came at once: three 1 s back-offs would need 3 s.
                #expect(gaps[0] + gaps[1] + gaps[3] < 2.5, "\(gaps)")
                harness.expectJobDone(
                    try #require(traffic.results(for: "job-after-empty").first), jobID: "job-after-empty")
            }
        }

        @Test("a job-take held open for 12 s is waited for, not abandoned or doubled")
        func longPollHeld() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "true\n"])
                await harness.server.queueJobTakes([
                    .after(.seconds(12), .job(id: "job-long-poll", input: WorkerHarness.jobInput(repo: repo.path)))
                ])
                try harness.startProductionWorker()
                let traffic = try await harness.waitFor("the job's result") {
                    !$0.results(for: "job-long-poll").isEmpty
                }

                let takes = traffic.jobTakes
                let first = try #require(takes.first)
                harness.expectJobTake(first)
                #expect(traffic.reply(to: first)?.jobID == "job-long-poll", "\(traffic)")
                let handOut = try #require(traffic.handOut(of: "job-long-poll"))
                #expect(harness.seconds(from: first.arrival, to: handOut) >= 11.9)
                // No second poll while the first was held (the client's timeout is 90 s).
                #expect(takes.count == 1 || takes[1].arrival > handOut, "\(traffic)")
                harness.expectJobDone(try #require(traffic.results(for: "job-long-poll").first), jobID: "job-long-poll")
            }
        }

        @Test("after a 429 the next job-take waits 5 s")
        func tooManyRequests() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "true\n"])
                await harness.server.queueJobTakes([
                    .status(429), .job(id: "job-after-429", input: WorkerHarness.jobInput(repo: repo.path)),
                ])
                try harness.startProductionWorker()
                let traffic = try await harness.waitFor("the job's result") {
                    !$0.results(for: "job-after-429").isEmpty
                }

                let takes = traffic.jobTakes
                try #require(takes.count >= 2, "\(traffic)")
                for take in takes { harness.expectJobTake(take) }
                let wait = harness.seconds(from: takes[0].arrival, to: takes[1].arrival)
                #expect(wait >= 4.9, "the poll after the 429 came \(wait) s later\n\(traffic)")
                #expect(traffic.handedOut.first?.id == "job-after-429")
                let result = try #require(traffic.results(for: "job-after-429").first)
                harness.expectJobDone(result, jobID: "job-after-429")
                try harness.expectSummary(result, runs: 2, parallelism: 2)
            }
        }

        @Test("dropped connections, garbage, a 500 and jobs without id or input wedge neither job-take nor job-stop")
        func garbageDoesNotWedge() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "true\n"])
                let input = WorkerHarness.jobInput(repo: repo.path)
                await harness.server.queueJobTakes([
                    .dropConnection, .status(204),
                    .garbage(Array("\u{1}\u{2}NOT HTTP AT ALL\r\n\r\n\u{0}".utf8)), .status(204),
                    .raw(status: 200, contentType: "application/json", body: Array("{\"id\": \"trunc".utf8)),
                    .status(204),
                    .status(500),
                    .json(["id": "job-without-input"]),
                    .json(["input": input]),
                    .job(id: "job-after-garbage", input: input),
                ])
                await harness.server.queueJobStops([
                    .dropConnection, .garbage(Array("\u{1}garbage\r\n\r\n".utf8)), .status(500),
                    .raw(status: 200, contentType: "text/plain", body: Array("nonsense".utf8)),
                    .raw(status: 200, contentType: "application/json", body: Array(#"{"jobsToStop": [7, null]}"#.utf8)),
                ])
                try harness.startProductionWorker()
                let traffic = try await harness.waitFor("the job's result and a sixth job-stop poll", timeout: 120) {
                    !$0.results(for: "job-after-garbage").isEmpty && $0.jobStops.count >= 6
                }

                let takes = traffic.jobTakes
                for take in takes { harness.expectJobTake(take) }
                // A failed poll (no reply, not HTTP, a 5xx) is retried after a back-off of 1 s. Arrivals
                // are stamped by the stand-in, which a loaded machine may delay for one request and not
                // the next: half the back-off still tells it from a retry without one (milliseconds).
                for (index, take) in takes.enumerated().dropLast() {
                    switch traffic.reply(to: take) {
                    case .dropConnection, .garbage, .status(500):
                        let gap = harness.seconds(from: take.arrival, to: takes[index + 1].arrival)
                        #expect(gap >= 0.5, "poll \(index) failed and the next came \(gap) s later\n\(traffic)")
                    default:
                        break
                    }
                }
                // Never a hot loop: no more than a few polls in any one second.
                for (index, take) in takes.enumerated() {
                    let within = takes[index...].prefix { harness.seconds(from: take.arrival, to: $0.arrival) < 1 }
                    #expect(within.count <= 5, "\(within.count) polls within 1 s\n\(traffic)")
                }
                #expect(traffic.jobDones.allSatisfy { $0.jobID == "job-after-garbage" }, "\(traffic)")
                // The stop channel went on polling past its own bad replies, never faster than once a second.
                let stops = traffic.jobStops
                #expect(stops.count >= 6, "\(traffic)")
                for stop in stops { harness.expectJobStop(stop) }
                for (earlier, later) in zip(stops, stops.dropFirst()) {
                    let gap = harness.seconds(from: earlier.arrival, to: later.arrival)
                    #expect(gap >= 0.5, "job-stop polls \(gap) s apart\n\(traffic)")
                }
                let result = try #require(traffic.results(for: "job-after-garbage").first)
                harness.expectJobDone(result, jobID: "job-after-garbage")
                try harness.expectSummary(result, runs: 2, parallelism: 2)
            }
        }
    }
}
