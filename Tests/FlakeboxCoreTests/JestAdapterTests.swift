import FlakeboxCore
import FlakeboxSandbox
import Foundation
import Testing

@Suite("Jest adapter and its report")
struct JestAdapterTests {
    @Test("Jest is detected however the command starts it; words that only contain jest are not")
    func detection() {
        for command in [
            "jest", "npx jest --coverage", "cd web && node_modules/.bin/jest", "node node_modules/jest-cli/bin/jest.js",
        ] {
            #expect(TestRunnerDetector.adapter(for: command).name == "jest", "\(command)")
        }
        #expect(TestRunnerDetector.adapter(for: "echo jestful").name == "pytest (assumed)")
        #expect(TestRunnerDetector.adapter(for: "go test ./... && jest").name == "go test")
    }

    @Test("the seed, shuffle and report paths reach the preload; the job's NODE_OPTIONS are kept")
    func contribution() {
        var job = JobInput(
            repo: "/r", testCommand: "npx jest", environment: ["NODE_OPTIONS": "--max-old-space-size=512"])
        job.seedStart = 3_000_000_000
        job.shuffle = true
        let plan = AttemptPlanner(input: job, workspace: "/workspace").plan(index: 1)
        #expect(plan.command == ["npx", "jest"] && plan.shellFallback)
        #expect(
            plan.environment["NODE_OPTIONS"]
                == "--max-old-space-size=512 --require /workspace/.flakebox-jest/preload.cjs")
        #expect(plan.environment["TEST_SEED"] == "3000000001")
        #expect(plan.environment["JEST_FLAKEBOX_SEED"] == "\(3_000_000_001 % 2_147_483_648)")
        #expect(plan.environment["JEST_FLAKEBOX_SHUFFLE"] == "1")
        #expect(plan.artifacts.contains("/workspace/.flakebox-jest-results.json"))
        #expect(JestAdapter().supportFiles.map(\.path) == [".flakebox-jest/preload.cjs"])
    }

    @Test("Jest's --json results become JUnit the summary reads: ids, outcomes, failure text without colour")
    func resultsAsJUnit() throws {
        let json = """
            {"testResults": [
              {"name": "/workspace/src/a.test.js", "status": "failed", "assertionResults": [
                {"fullName": "math adds", "title": "adds", "status": "passed", "duration": 5},
                {"fullName": "math <divides>", "status": "failed", "duration": 2,
                 "failureMessages": ["\\u001b[31mError: expect(received)\\u001b[39m\\nExpected: 0\\u0007"]},
                {"fullName": "later", "status": "todo"}]},
              {"name": "/workspace/b.test.js", "status": "failed", "message": "SyntaxError: x", "assertionResults": []}
            ]}
            """
        let xml = try #require(JestReport.junitXML(Array(json.utf8), root: "/workspace"))
        let report = try #require(JUnitReport.parse(xml))
        #expect(
            report.testCases.map(\.id) == [
                "src/a.test.js::math adds", "src/a.test.js::math <divides>", "src/a.test.js::later",
                "b.test.js::(test file)",
            ])
        #expect(report.testCases.map(\.outcome) == [.passed, .failed, .skipped, .failed])
        #expect(report.testCases[1].message == "Error: expect(received)")
        #expect(report.testCases[3].message == "SyntaxError: x")
    }

    @Test("anything that is not Jest's results or the preload's note is refused, not half-read")
    func refusesOtherInput() {
        for bytes in [Array("".utf8), Array("not json".utf8), Array("[1,2]".utf8), Array("{\"x\":1}".utf8)] {
            #expect(JestReport.junitXML(bytes, root: "/workspace") == nil)
            #expect(JestReport.runnerReport(bytes) == nil)
        }
        #expect(JestReport.junitXML([UInt8](repeating: 0x20, count: JestReport.maximumBytes + 1), root: "/") == nil)
        let note = JestReport.runnerReport(Array(#"{"plugin":"flakebox_jest","jest":"29.3.1","randomize":false}"#.utf8))
        #expect(note?.jestVersion == "29.3.1" && note?.shuffledBy == nil)
    }

    @Test("the Jest record collects the note as its runner report and the results as JUnit")
    func collecting() {
        let results = Artifact(
            path: "/workspace/.flakebox-jest-results.json",
            bytes: Array(
                #"{"testResults":[{"name":"/workspace/t.test.js","assertionResults":[{"fullName":"x","status":"passed"}]}]}"#
                    .utf8), truncated: false)
        let note = Artifact(
            path: "/workspace/.flakebox-jest-info.json",
            bytes: Array(#"{"plugin":"flakebox_jest","jest":"29.4.0","randomize":true}"#.utf8), truncated: false)
        var result = SummaryFixtures.result(.passed)
        result.artifacts = [results, note]
        let record = AttemptRecord.collecting(attempt: 0, seed: 0, result: result)
        #expect(record.runnerReport?.shuffledBy == "jest --randomize")
        #expect(record.junitReports.compactMap { JUnitReport.parse($0) }.first?.testCases.map(\.id) == ["t.test.js::x"])
    }
}
