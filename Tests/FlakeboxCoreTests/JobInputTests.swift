import FlakeboxCore
import Foundation
import Testing

@Suite("Job input")
struct JobInputTests {
    static func parse(_ json: String, origin: JobInput.Origin = .remote) throws(JobInputError) -> JobInput {
        try JobInput.parse(json: Data(json.utf8), origin: origin)
    }

    @Test("a minimal job gets the defaults; every field is read")
    func defaultsAndFields() throws {
        let minimal = try Self.parse(#"{"repo": "https://github.com/o/r", "test_command": "pytest"}"#)
        #expect(minimal.runs == 10 && minimal.parallelism == 1 && minimal.seedStart == 0)
        let full = try Self.parse(
            """
            {"repo": "git@github.com:o/r.git", "test_command": "make test", "runs": 200, "parallelism": 8,
             "ref": "v1.2", "setup_command": "make deps", "timeout_s": 30, "deadline_s": 600,
             "env": {"LEVEL": "3"}, "seed_start": 1000, "stop_after_failures": 5, "policy": "default",
             "output_limit_bytes": 65536, "junit_xml": "reports/*.xml", "summary_budget_bytes": 1048576,
             "submodules": true}
            """)
        #expect(full.runs == 200 && full.parallelism == 8 && full.ref == "v1.2" && full.environment == ["LEVEL": "3"])
        #expect(full.seedStart == 1000 && full.stopAfterFailures == 5 && full.junitXML == "reports/*.xml")
        #expect(full.timeoutSeconds == 30 && full.deadlineSeconds == 600 && full.submodules)
    }

    @Test("rerun is 3 by default, 0 turns the classification phase off, and it is bounded")
    func rerun() throws {
        #expect(try Self.parse(#"{"repo": "https://h/r", "test_command": "t"}"#).rerun == 3)
        #expect(try Self.parse(#"{"repo": "https://h/r", "test_command": "t", "rerun": 0}"#).rerun == 0)
        #expect(try Self.parse(#"{"repo": "https://h/r", "test_command": "t", "rerun": 50}"#).rerun == 50)
        #expect(throws: JobInputError.self) {
            try Self.parse(#"{"repo": "https://h/r", "test_command": "t", "rerun": 51}"#)
        }
        #expect(throws: JobInputError.self) {
            try Self.parse(#"{"repo": "https://h/r", "test_command": "t", "rerun": -1}"#)
        }
    }

    @Test(
        "bad input is one clear error naming every bad field",
        arguments: [
            ("not json", ["not valid JSON"]),
            (#"[1]"#, ["expected a JSON object"]),
            (#"{}"#, ["repo: required", "test_command: required"]),
            (#"{"repo": 5, "test_command": ["x"]}"#, ["repo: expected a string", "test_command: expected a string"]),
            (
                #"{"repo": "https://h/r", "test_command": "t", "runs": 0, "parallelism": 51}"#,
                ["runs: 0 is out of range", "parallelism: 51 is out of range"]
            ),
            (#"{"repo": "https://h/r", "test_command": "t", "runs": 1.5}"#, ["runs: expected an integer"]),
            (
                #"{"repo": "https://h/r", "test_command": "t", "run": 5}"#,
                [#"run: unknown field (did you mean "runs"?)"#]
            ),
            (
                #"{"repo": "https://h/r", "test_command": "t", "env": {"TEST_SEED": "1", "1X": "a", "RUNPOD_AI_API_KEY": "k"}}"#,
                ["env.TEST_SEED: reserved", "env.1X: not a valid", "env.RUNPOD_AI_API_KEY: reserved"]
            ),
            (#"{"repo": "https://h/r", "test_command": "t", "junit_xml": "../x.xml"}"#, ["junit_xml"]),
            (#"{"repo": "https://h/r", "test_command": "  "}"#, ["test_command: must not be empty"]),
            (
                #"{"repo": "https://h/r", "test_command": "t", "runs": 3, "stop_after_failures": 4}"#,
                ["stop_after_failures: 4 is more than runs"]
            ),
            (
                #"{"repo": "https://h/r", "test_command": "t", "timeout_s": -1, "seed_start": -5}"#,
                ["timeout_s", "seed_start"]
            ),
            (#"{"repo": "https://h/r", "test_command": "t", "policy": "../../etc/passwd"}"#, ["policy:"]),
        ])
    func badInput(json: String, expected: [String]) {
        do {
            _ = try Self.parse(json)
            Issue.record("accepted: \(json)")
        } catch {
            for fragment in expected {
                #expect(error.description.contains(fragment), "\(fragment) not in: \(error)")
            }
        }
    }

    @Test(
        "hostile repositories and refs are refused before anything runs",
        arguments: [
            #"{"repo": "--upload-pack=touch /tmp/flakebox-pwned", "test_command": "t"}"#,
            #"{"repo": "ext::sh -c touch% /tmp/flakebox-pwned", "test_command": "t"}"#,
            #"{"repo": "-u touch /tmp/flakebox-pwned", "test_command": "t"}"#,
            #"{"repo": "https://h/r", "ref": "--upload-pack=touch /tmp/flakebox-pwned", "test_command": "t"}"#,
            #"{"repo": "https://h/r", "ref": "-b", "test_command": "t"}"#,
            #"{"repo": "file:///etc", "test_command": "t"}"#,
            #"{"repo": "/etc", "test_command": "t"}"#,
        ])
    func hostileInput(json: String) {
        #expect(throws: JobInputError.self) { try Self.parse(json) }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/flakebox-pwned"))
    }

    @Test("local paths are for the command line only")
    func localPaths() throws {
        let local = #"{"repo": "/srv/repo", "test_command": "t"}"#
        #expect(throws: JobInputError.self) { try Self.parse(local, origin: .remote) }
        #expect(try Self.parse(local, origin: .commandLine).repo == "/srv/repo")
    }
}
