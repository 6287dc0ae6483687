import FlakeboxSandbox
import Foundation
import Testing

@testable import FlakeboxCore

@Suite("Job input: interference and stress")
struct ModeFieldsTests {
    static func parse(_ fields: String) throws(JobInputError) -> JobInput {
        try JobInput.parse(
            json: Data(#"{"repo": "https://h/r", "test_command": "t"\#(fields)}"#.utf8), origin: .remote)
    }

    static func problems(_ fields: String) -> String {
        do {
            _ = try parse(fields)
            return ""
        } catch {
            return error.description
        }
    }

    @Test("both are off by default; interference is a boolean")
    func interference() throws {
        let plain = try Self.parse("")
        #expect(!plain.interference && plain.stress == nil)
        #expect(try Self.parse(#", "interference": true"#).interference)
        #expect(Self.problems(#", "interference": "yes""#).contains("interference: expected true or false"))
        #expect(Self.problems(#", "interfere": true"#).contains(#"did you mean "interference"?"#))
    }

    @Test("stress: true is the standard noise, an object tunes it, everything else is named")
    func stress() throws {
        #expect(try Self.parse(#", "stress": true"#).stress == .standard)
        #expect(try Self.parse(#", "stress": false"#).stress == nil)
        let tuned = try #require(try Self.parse(#", "stress": {"cpu": 8, "io": 0, "io_bytes": "1MiB"}"#).stress)
        #expect(tuned.cpuWorkers == 8 && tuned.ioWorkers == 0 && tuned.ioBytes == 1 << 20)
        let partial = try #require(try Self.parse(#", "stress": {"io": 2}"#).stress)
        #expect(partial.cpuWorkers == BackgroundNoise.standard.cpuWorkers && partial.ioWorkers == 2)
        #expect(Self.problems(#", "stress": "high""#).contains("stress: expected true, false or an object"))
        #expect(Self.problems(#", "stress": 3"#).contains("found a number"))
        #expect(Self.problems(#", "stress": {"cpu": 65}"#).contains("stress.cpu"))
        #expect(Self.problems(#", "stress": {"cpu": "4"}"#).contains("stress.cpu"))
        #expect(Self.problems(#", "stress": {"disk": 1}"#).contains("stress.disk: unknown field"))
        #expect(Self.problems(#", "stress": {"cpu": 0, "io": 0}"#).contains("no noise at all"))
    }

    @Test("the command line's flags set them, and a replay keeps the noise")
    func replayKeepsNoise() throws {
        var input = try Self.parse(#", "stress": {"cpu": 8, "io": 1}"#)
        let template = JobRunner.replayTemplate(for: input, commit: nil)
        #expect(template.contains("--stress --stress-cpu 8 --stress-io 1"))
        input.stress = .standard
        #expect(JobRunner.replayTemplate(for: input, commit: nil).contains("--stress --seed"))
    }
}

@Suite("Shared resources named in failure output")
struct SharedResourceTests {
    @Test(
        "ports and files, as Python, Go and Node say them",
        arguments: [
            (
                "    s.bind((\"127.0.0.1\", 47123))\nE   OSError: [Errno 98] Address already in use",
                SharedResource(kind: .port, name: "47123", error: "Address already in use")
            ),
            (
                "listen tcp 127.0.0.1:8080: bind: address already in use",
                SharedResource(kind: .port, name: "8080", error: "Address already in use")
            ),
            (
                "Error: listen EADDRINUSE: address already in use :::3000",
                SharedResource(kind: .port, name: "3000", error: "Address already in use")
            ),
            (
                "E   FileExistsError: [Errno 17] File exists: 'state.txt'",
                SharedResource(kind: .file, name: "state.txt", error: "File exists")
            ),
            (
                "mkdir /tmp/x: file exists", SharedResource(kind: .file, name: "/tmp/x", error: "File exists")
            ),
            (
                "Error: EEXIST: file already exists, mkdir '/tmp/cache'",
                SharedResource(kind: .file, name: "/tmp/cache", error: "File exists")
            ),
            (
                "FileNotFoundError: [Errno 2] No such file or directory: '/tmp/x/data'",
                SharedResource(kind: .file, name: "/tmp/x/data", error: "No such file or directory")
            ),
        ])
    func names(_ text: String, _ expected: SharedResource) {
        #expect(SharedResource.find(in: text) == [expected])
    }

    @Test("a port error without a port says so once; a plain failure names nothing")
    func unnamed() {
        #expect(
            SharedResource.find(in: "OSError: [Errno 98] Address already in use")
                == [SharedResource(kind: .port, name: "?", error: "Address already in use")])
        // The summary line after a traceback that named the port adds no second, unnamed entry.
        let traceback =
            "    s.bind((\"127.0.0.1\", 47123))\nE   OSError: [Errno 98] Address already in use\n"
            + String(repeating: "\n", count: 20) + "FAILED t.py::test - OSError: [Errno 98] Address already in use"
        #expect(SharedResource.find(in: traceback).map(\.name) == ["47123"])
        #expect(SharedResource.find(in: "AssertionError: assert 1 == 2\nport of call").isEmpty)
    }
}
