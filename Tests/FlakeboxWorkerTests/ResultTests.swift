import FlakeboxTestSupport
import Foundation
import Testing

extension WorkerTests {
    /// job-done delivery (docs/RUNPOD_PROTOCOL.md §6) and the two error shapes (§6 and §13).
    @Suite(
        "job-done: retries and error shapes",
        .enabled(
            if: WorkerTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
        .timeLimit(.minutes(3)))
    struct ResultTests {
        @Test("a result refused twice with 5xx is posted again after 2 s, then 3 s, unchanged")
        func retriedAfterServerErrors() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "true\n"])
                await harness.server.queueJobTakes([.job(id: "job-5xx", input: WorkerHarness.jobInput(repo: repo.path))]
                )
                await harness.server.queueResultReplies([.status(500), .status(502)])
                try harness.startProductionWorker()
                let traffic = try await harness.waitFor("three result posts, then a job-take") { traffic in
                    let posts = traffic.results(for: "job-5xx")
                    return posts.count >= 3 && traffic.jobTakes.contains { $0.arrival > posts[2].arrival }
                }

                let posts = traffic.results(for: "job-5xx")
                #expect(posts.count == 3, "\(traffic)")
                for post in posts { harness.expectJobDone(post, jobID: "job-5xx") }
                #expect(Set(posts.map(\.body)).count == 1, "the retries must resend the same body")
                let first = harness.seconds(from: posts[0].arrival, to: posts[1].arrival)
                let second = harness.seconds(from: posts[1].arrival, to: posts[2].arrival)
                #expect(first >= 1.9 && second >= 2.9, "waits of \(first) s and \(second) s\n\(traffic)")
                try harness.expectSummary(posts[2], runs: 2, parallelism: 2)
            }
        }

        @Test("a result refused three times is given up (3 attempts in all) and the next job is served")
        func givenUpAfterThreeAttempts() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "true\n"])
                await harness.server.queueJobTakes([
                    .job(id: "job-lost", input: WorkerHarness.jobInput(repo: repo.path)),
                    .job(id: "job-next", input: WorkerHarness.jobInput(repo: repo.path)),
                ])
                await harness.server.queueResultReplies([.status(500), .status(503), .status(500)])
                try harness.startProductionWorker()
                let traffic = try await harness.waitFor("the next job's result") {
                    !$0.results(for: "job-next").isEmpty
                }

                let posts = traffic.results(for: "job-lost")
                #expect(posts.count == 3, "\(traffic)")
                for post in posts { harness.expectJobDone(post, jobID: "job-lost") }
                if posts.count == 3 {
                    #expect(harness.seconds(from: posts[0].arrival, to: posts[1].arrival) >= 1.9)
                    #expect(harness.seconds(from: posts[1].arrival, to: posts[2].arrival) >= 2.9)
                }
                let next = try #require(traffic.results(for: "job-next").first)
                harness.expectJobDone(next, jobID: "job-next")
                try harness.expectSummary(next, runs: 2, parallelism: 2)
            }
        }

        @Test("bad input is answered {\"error\": <words naming the fields>} and the next job is still served")
        func badInput() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "true\n"])
                // Each bad job, and the field names its error must mention.
                let bad: [(id: String, reply: StandInReply, names: [String])] = [
                    (
                        "bad-runs", .job(id: "bad-runs", input: WorkerHarness.jobInput(repo: repo.path, runs: 0)),
                        ["runs"]
                    ),
                    (
                        "bad-no-repo", .job(id: "bad-no-repo", input: ["test_command": "sh t.sh", "runs": 2]),
                        ["repo"]
                    ),
                    (
                        "bad-unknown",
                        .job(
                            id: "bad-unknown", input: WorkerHarness.jobInput(repo: repo.path, ["surprise_field": true])),
                        ["surprise_field"]
                    ),
                    (
                        "bad-types",
                        .job(id: "bad-types", input: ["repo": 42, "test_command": ["sh"], "runs": "two"]),
                        ["repo", "test_command", "runs"]
                    ),
                    ("bad-not-object", .job(id: "bad-not-object", inputJSON: "\"run my tests\""), []),
                ]
                await harness.server.queueJobTakes(
                    bad.map(\.reply) + [.job(id: "good-after-bad", input: WorkerHarness.jobInput(repo: repo.path))])
                try harness.startProductionWorker()
                let traffic = try await harness.waitFor("the good job's result") {
                    !$0.results(for: "good-after-bad").isEmpty
                }

                for job in bad {
                    let posts = traffic.results(for: job.id)
                    #expect(posts.count == 1, "\(job.id)\n\(traffic)")
                    guard let post = posts.first else { continue }
                    harness.expectJobDone(post, jobID: job.id)
                    let body = post.jsonObject ?? [:]
                    #expect(Array(body.keys) == ["error"], "\(job.id): \(post)")
                    let error = body["error"] as? String ?? ""
                    #expect(!error.isEmpty, "\(job.id): \(post)")
                    // Bad input is a refusal in words, not the handler-exception payload.
                    #expect(JSON.object(error) == nil, "\(job.id): \(error)")
                    for name in job.names {
                        #expect(error.contains(name), "\(job.id): the error does not name \(name): \(error)")
                    }
                }
                let good = try #require(traffic.results(for: "good-after-bad").first)
                harness.expectJobDone(good, jobID: "good-after-bad")
                try harness.expectSummary(good, runs: 2, parallelism: 2)
            }
        }
    }

    /// A job that cannot run at all, answered as the SDK answers a handler that raised (§13).
    @Suite(
        "job-done: handler exceptions",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox and flakebox-sandbox"),
        .timeLimit(.minutes(2)))
    struct HandlerExceptionTests {
        @Test("a repository that does not exist is answered with the SDK's double-encoded error_info")
        func missingRepository() async throws {
            try await WorkerHarness.run { harness in
                let missing = "/nonexistent/flakebox-repo-\(UUID().uuidString.prefix(8))"
                await harness.server.queueJobTakes([
                    .job(id: "job-no-repo", input: WorkerHarness.jobInput(repo: missing)),
                    .job(id: "job-after-exception", input: WorkerHarness.jobInput(repo: missing, runs: 0)),
                ])
                try harness.startProductionWorker(extraEnvironment: ["RUNPOD_POD_HOSTNAME": "host-\(harness.podID)"])
                let traffic = try await harness.waitFor("both jobs' results") {
                    !$0.results(for: "job-no-repo").isEmpty && !$0.results(for: "job-after-exception").isEmpty
                }

                let posts = traffic.results(for: "job-no-repo")
                #expect(posts.count == 1, "\(traffic)")
                let post = try #require(posts.first)
                harness.expectJobDone(post, jobID: "job-no-repo")
                let body = try #require(post.jsonObject)
                #expect(Array(body.keys) == ["error"], "\(post)")
                let text = try #require(body["error"] as? String, "\(post)")
                let info = try #require(JSON.object(text), "error is not JSON-encoded: \(text)")
                #expect(
                    Set(info.keys) == [
                        "error_type", "error_message", "error_traceback", "hostname", "worker_id", "runpod_version",
                    ], "\(info)")
                #expect(info["worker_id"] as? String == harness.podID)
                #expect(info["hostname"] as? String == "host-\(harness.podID)")
                #expect(info["runpod_version"] as? String == "1.12.0")
                #expect(!(info["error_type"] as? String ?? "").isEmpty, "\(info)")
                #expect(!(info["error_message"] as? String ?? "").isEmpty, "\(info)")
                #expect(info["error_traceback"] is String, "\(info)")
                // The worker went on to the next job.
                harness.expectJobDone(
                    try #require(traffic.results(for: "job-after-exception").first), jobID: "job-after-exception")
            }
        }
    }
}
