import FlakeboxCore
import Foundation
import Testing

@Suite("Attempt planner and test-runner adapters")
struct AttemptPlannerTests {
    @Test("pytest is detected from the command; go test gets its own adapter")
    func detection() {
        #expect(TestRunnerDetector.adapter(for: "python3 -m pytest -q tests").name == "pytest")
        #expect(TestRunnerDetector.adapter(for: "cd src && .venv/bin/pytest").name == "pytest")
        #expect(TestRunnerDetector.adapter(for: "make test").name == "pytest (assumed)")
        #expect(TestRunnerDetector.adapter(for: "go test ./...").name == "go test")
        #expect(TestRunnerDetector.adapter(for: "cd x; /usr/local/go/bin/go test -v ./pkg").name == "go test")
        #expect(TestRunnerDetector.adapter(for: "echo go; test -f x").name == "pytest (assumed)")
    }

    @Test("a pinned planner (replay --runs N) gives every attempt the first one's seed, number and plan")
    func pinnedPlan() {
        var job = JobInput(repo: "/r", testCommand: "pytest", seedStart: 9)
        job.shuffle = true
        let planner = AttemptPlanner(input: job, workspace: "/workspace", firstAttempt: 4, pinned: true)
        let first = planner.plan(index: 0)
        #expect(first.seed == 9 && first.attempt == 4)
        for index in 1..<3 {
            let plan = planner.plan(index: index)
            // The same command and environment, report paths included (each replay has its own sandbox).
            #expect(plan.seed == 9 && plan.attempt == 4 && plan.command == first.command)
            #expect(plan.environment == first.environment)
        }
        let unpinned = AttemptPlanner(input: job, workspace: "/workspace", firstAttempt: 4).plan(index: 2)
        #expect(unpinned.seed == 11 && unpinned.attempt == 6)
    }

    @Test("each attempt gets its seed, the plugin, its report paths and the job's own options kept")
    func pytestPlan() {
        var job = JobInput(
            repo: "/r", testCommand: "pytest", environment: ["PYTEST_ADDOPTS": "-x", "PYTHONPATH": "/workspace/src"],
            seedStart: 40)
        job.shuffle = true
        let planner = AttemptPlanner(
            input: job, workspace: "/workspace", venv: "/workspace/.venv", pytestRandomly: true, firstAttempt: 5)
        let plan = planner.plan(index: 2)
        #expect(plan.attempt == 7 && plan.seed == 42)
        #expect(plan.command == ["pytest"] && plan.shellFallback)
        let env = plan.environment
        #expect(env["TEST_SEED"] == "42" && env["ATTEMPT"] == "7" && env["PYTHONHASHSEED"] == "42")
        #expect(
            env["PYTEST_ADDOPTS"]
                == "-x -p flakebox_pytest --junitxml=/workspace/.flakebox-junit.xml -p randomly --randomly-seed=42")
        #expect(env["PYTHONPATH"] == "/workspace/.flakebox-pytest:/workspace/src")
        #expect(env["PYTEST_FLAKEBOX_SHUFFLE"] == "1" && env["PYTEST_FLAKEBOX_RESEED"] == "1")
        #expect(env["PATH"]?.hasPrefix("/workspace/.venv/bin:") == true)
        #expect(plan.artifacts == ["/workspace/.flakebox-junit.xml", "/workspace/.flakebox-pytest.json"])
    }

    @Test("a job's JUnit path replaces the default; reseed off reaches the plugin")
    func jobJUnitAndReseedOff() {
        var job = JobInput(repo: "/r", testCommand: "pytest", junitXML: "out/*.xml")
        job.reseed = false
        let plan = AttemptPlanner(input: job, workspace: "/w").plan(index: 0)
        #expect(plan.environment["PYTEST_ADDOPTS"] == "-p flakebox_pytest")
        #expect(plan.environment["PYTEST_FLAKEBOX_RESEED"] == "0")
        #expect(plan.artifacts == ["/w/out/*.xml", "/w/.flakebox-pytest.json"])
    }

    @Test("go test: -count=1 always, -shuffle by the seed when asked, through GOFLAGS")
    func goPlan() {
        var job = JobInput(repo: "/r", testCommand: "go test ./...", environment: ["GOFLAGS": "-v"], seedStart: 9)
        #expect(AttemptPlanner(input: job, workspace: "/w").plan(index: 0).environment["GOFLAGS"] == "-v -count=1")
        job.shuffle = true
        let plan = AttemptPlanner(input: job, workspace: "/w").plan(index: 1)
        #expect(plan.environment["GOFLAGS"] == "-v -count=1 -shuffle=10")
        #expect(plan.environment["PYTEST_ADDOPTS"] == nil)
    }

    @Test("the plugin's report is read defensively; junk is no report")
    func runnerReportParsing() throws {
        let good = #"""
            {"plugin": "flakebox_pytest", "version": 1, "sessions": [
              {"seed": 3, "reseeded_by": "flakebox", "generators": ["random", "numpy", "evil"],
               "shuffled_by": "flakebox", "order": ["a::t1", "a::t2", 7], "order_total": 2}]}
            """#
        let report = try #require(RunnerReport.parse(Array(good.utf8)))
        #expect(report.reseededBy == "flakebox" && report.generators == ["numpy", "random"])
        #expect(report.shuffledBy == "flakebox" && report.order == ["a::t1", "a::t2"] && report.orderTotal == 2)
        for junk in ["", "[]", "{\"plugin\": \"other\", \"sessions\": [{}]}", String(repeating: "[", count: 100_000)] {
            #expect(RunnerReport.parse(Array(junk.utf8)) == nil)
        }
    }

    @Test("new job fields parse into typed values; bad ones are errors")
    func jobFields() throws {
        let job = try JobInput.parse(
            json: Data(
                #"{"repo": "https://h/r", "test_command": "t", "reseed": false, "shuffle": true, "packages": ["numpy==2.4.6", "faker>=1,<3"], "memory": "3GiB"}"#
                    .utf8), origin: .remote)
        #expect(!job.reseed && job.shuffle && job.packages == ["numpy==2.4.6", "faker>=1,<3"])
        #expect(job.memoryBytes == 3 << 30)
        let defaults = try JobInput.parse(
            json: Data(#"{"repo": "https://h/r", "test_command": "t"}"#.utf8), origin: .remote)
        #expect(defaults.reseed && !defaults.shuffle && defaults.packages.isEmpty && defaults.memoryBytes == nil)
        do {
            _ = try JobInput.parse(
                json: Data(
                    #"{"repo": "https://h/r", "test_command": "t", "reseed": "yes", "packages": ["-e /etc", "x; rm"], "memory": "1KiB", "env": {"PYTEST_FLAKEBOX_REPORT": "x"}}"#
                        .utf8), origin: .remote)
            Issue.record("expected an error")
        } catch {
            let text = error.description
            for field in ["reseed:", "packages[0]:", "packages[1]:", "memory:", "env.PYTEST_FLAKEBOX_REPORT: reserved"]
            {
                #expect(text.contains(field), "\(text)")
            }
        }
    }

    @Test("a command of plain words runs without a shell; anything the shell would read otherwise runs under sh -c")
    func shellWords() {
        #expect(
            ShellCommand.words("python3 -m pytest -q tests/test_x.py") == [
                "python3", "-m", "pytest", "-q", "tests/test_x.py",
            ])
        #expect(ShellCommand.words("  go  test\t-count=1 ./... ") == ["go", "test", "-count=1", "./..."])
        #expect(
            ShellCommand.words("./run-tests.sh --seed=1,2 a@b 50%") == ["./run-tests.sh", "--seed=1,2", "a@b", "50%"])
        #expect(ShellCommand.words("true") == ["true"] && ShellCommand.words("false x") == ["false", "x"])
        for shell in [
            "", "   ", "pytest $ARGS", "pytest 'a b'", "pytest \"x\"", "pytest *.py", "pytest a?", "pytest [ab]",
            "pytest > out", "pytest < in", "pytest | tee", "a && b", "a; b", "a & b", "(a)", "{ a; }", "pytest ~/t",
            "pytest # note", "X=1 pytest", "cd sub", "exit 1", "echo hi", "test -f x", "pytest \\x",
            "pytest\nls", "pytest `id`", "pytest é",
        ] {
            #expect(ShellCommand.words(shell) == nil, "\(shell)")
        }
        let plan = AttemptPlanner(input: JobInput(repo: "/r", testCommand: "sh -c 'exit 3'"), workspace: "/w").plan(
            index: 0)
        #expect(plan.command == ["/bin/sh", "-c", "sh -c 'exit 3'"] && !plan.shellFallback)
    }
}
