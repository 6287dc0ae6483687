import FlakeboxCore
import FlakeboxSandbox
import Testing

@Suite("Summary: failure signatures")
struct SummarySignatureTests {
    /// A pytest failure whose volatile parts (address, temp path, timestamp, duration, port, pid,
    /// UUID) change with `variant`.
    static func pytestFailure(_ variant: Int) -> String {
        """
        ============================= test session starts ==============================
        platform linux -- Python 3.11.2, pytest-7.2.1
        collected 5 items

        tests/test_io.py ..F..                                                   [100%]

        =================================== FAILURES ===================================
        ______________________________ test_write_cache ________________________________

        tmp_path = PosixPath('/tmp/pytest-of-root/pytest-\(variant)/test_write_cache\(variant)')

            def test_write_cache(tmp_path):
        >       assert cache.load(tmp_path) is not None
        E       AssertionError: <Cache object at 0x7f\(variant)a9c0012d0> not ready at 2024-05-0\(variant)T10:1\(variant):12.34\(variant)Z
        E       connection to 127.0.0.1:\(40000 + variant) refused by pid \(1200 + variant), request \(variant)23e4567-e89b-12d3-a456-42661417400\(variant)

        tests/test_io.py:42: AssertionError
        =========================== short test summary info ============================
        FAILED tests/test_io.py::test_write_cache - AssertionError: <Cache object at 0x7f\(variant)a9c0012d0>
        ========================= 1 failed, 4 passed in 0.\(variant)2s =========================
        """
    }

    @Test func failuresDifferingOnlyInVolatileDetailsShareOneSignature() throws {
        let records = [
            SummaryFixtures.record(0, .passed),
            SummaryFixtures.record(1, .failed, stdout: Self.pytestFailure(1)),
            SummaryFixtures.record(2, .failed, stdout: Self.pytestFailure(2)),
            SummaryFixtures.record(3, .passed),
            SummaryFixtures.record(4, .failed, stdout: Self.pytestFailure(7)),
        ]
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.failureSignatures.count == 1)
        let signature = try #require(summary.failureSignatures.first)
        #expect(signature.count == 3)
        #expect(signature.attempts == [1, 2, 4])
        #expect(signature.exampleAttempt == 1)
        #expect(signature.statuses == ["failed": 3])
        #expect(signature.signature.hasPrefix("[failed] exit code 1\n"))
        #expect(signature.signature.contains("AssertionError: <Cache object at 0x<hex>> not ready at <timestamp>"))
        #expect(signature.signature.contains("tmp_path = PosixPath('<tmp>')"))
        #expect(signature.signature.contains("<n> failed, <n> passed in <n>s"))
        #expect(!signature.signature.contains("0x7f1a9"))
        #expect(signature.signature.utf8.count <= 2048)
    }

    @Test func genuinelyDifferentErrorsStayApart() throws {
        let records = [
            SummaryFixtures.record(0, .failed, stderr: "Traceback:\n  File \"a.py\", line 3\nKeyError: 'user'"),
            SummaryFixtures.record(
                1, .failed, stderr: "Traceback:\n  File \"b.py\", line 9\nConnectionResetError: peer"),
            SummaryFixtures.record(2, .failed, stderr: "Traceback:\n  File \"a.py\", line 3\nKeyError: 'user'"),
            SummaryFixtures.record(3, .passed),
        ]
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.failureSignatures.map(\.count) == [2, 1])
        #expect(summary.failureSignatures.map(\.attempts) == [[0, 2], [1]])
        try #require(summary.failureSignatures.count == 2)
        #expect(summary.failureSignatures[0].signature.contains("KeyError: 'user'"))
        #expect(summary.failureSignatures[1].signature.contains("ConnectionResetError: peer"))
        #expect(summary.advice.contains("2 different ways"))
    }

    @Test func nearIdenticalSignaturesMergeButOtherStatusesDoNot() throws {
        let common = (0..<39).map { "step \($0 < 10 ? "alpha" : "beta")\($0): ok" }
        func output(_ extra: String) -> String { (common + [extra]).joined(separator: "\n") }
        let records = [
            SummaryFixtures.record(0, .failed, stdout: output("E cache miss for key users")),
            SummaryFixtures.record(1, .failed, stdout: output("E cache miss for key groups")),
            SummaryFixtures.record(2, .failed, stdout: output("E cache miss for key users")),
            SummaryFixtures.record(3, .timeout, stdout: output("E cache miss for key users")),
        ]
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.failureSignatures.map(\.attempts) == [[0, 1, 2], [3]])
        try #require(summary.failureSignatures.count == 2)
        #expect(summary.failureSignatures[0].signature.contains("users"))
        #expect(summary.failureSignatures[1].statuses == ["timeout": 1])
    }

    @Test func signatureListsAreCapped() throws {
        let distinct = (0..<30).map { SummaryFixtures.record($0, .failed, stderr: "Error kind_\($0) happened") }
        let repeated = (30..<80).map { SummaryFixtures.record($0, .failed, stderr: "Error common happened") }
        let summary = SummaryFixtures.summarize(distinct + repeated)
        #expect(summary.failureSignaturesTotal == 31)
        #expect(summary.failureSignatures.count == 20)
        let first = try #require(summary.failureSignatures.first)
        #expect(first.count == 50)
        #expect(first.attempts == Array(30..<50))
        #expect(first.exampleAttempt == 30)
        // Ties by count keep the order of first appearance.
        #expect(summary.failureSignatures.dropFirst().map(\.exampleAttempt) == Array(0..<19))
    }

    @Test func aTimeoutSignatureSaysItTimedOut() throws {
        let records = [
            SummaryFixtures.record(0, .timeout, stdout: "tests/test_slow.py ...."),
            SummaryFixtures.record(1, .timeout),
            SummaryFixtures.record(2, .signaled, signal: 11),
        ]
        let summary = SummaryFixtures.summarize(records)
        let signatures = summary.failureSignatures.map(\.signature)
        #expect(signatures.count == 3)
        // The progress line keeps where it hung, not its marks (they vary with the order).
        #expect(
            signatures.contains(
                "[timeout] still running at the wall-clock limit: killed\ntests/test_slow.py <progress>"))
        #expect(signatures.contains("[timeout] still running at the wall-clock limit: killed\n(no output)"))
        #expect(signatures.contains("[signaled] killed by SIGSEGV (signal 11)\n(no output)"))
    }

    @Test func signaturesUseTheLastFortyMeaningfulLines() throws {
        let lines = (0..<200).map { "line \($0 % 2 == 0 ? "even" : "odd") word\($0)" } + ["=====", "", "   "]
        let summary = SummaryFixtures.summarize([
            SummaryFixtures.record(0, .failed, stdout: lines.joined(separator: "\n"))
        ])
        let text = try #require(summary.failureSignatures.first?.signature)
        let kept = text.split(separator: "\n")
        try #require(kept.count == 41)
        #expect(kept.last == "line odd word199")
        #expect(kept[1] == "line even word160")
    }

    @Test(arguments: [
        ("  at 0x7ffd5a3b2c10   in   worker ", "at 0x<hex> in worker"),
        ("id=123e4567-e89b-12d3-a456-426614174000 done", "id=<uuid> done"),
        ("2024-05-01 10:11:12,345 INFO started", "<timestamp> INFO started"),
        ("[10:11:12.345] request failed", "[<time>] request failed"),
        ("wrote /tmp/tmpa8x_3k/out.txt: denied", "wrote <tmp>: denied"),
        ("cd /var/folders/xy/T/abc && run", "cd <tmp> && run"),
        ("ran 12 tests in 0.012s", "ran <n> tests in <n>s"),
        ("listening on 127.0.0.1:54321 (pid 4242)", "listening on <n>:<n> (pid <n>)"),
        ("object a3f9c2e1b7 vs test_case3 vs sha256", "object <hex> vs test_case3 vs sha256"),
        ("\u{1B}[31mFAILED\u{1B}[0m test_x", "FAILED test_x"),
        (
            "Exception in thread \"pool-1-thread-3\" java.lang.Error@1b6d3586",
            "Exception in thread \"pool-<n>-thread-<n>\" java.lang.Error@<hex>"
        ),
    ])
    func normalizerMasksVolatileParts(line: String, expected: String) {
        #expect(OutputNormalizer.normalize(line: line) == expected)
    }

    @Test(arguments: ["", "   ", "==========", "[ 50%]", "^^^^^^", "12345", "----- 0.12 -----"])
    func normalizerDropsLinesWithNothingMeaningful(line: String) {
        #expect(OutputNormalizer.normalize(line: line) == nil)
    }

    @Test func normalizerKeepsNonLatinText() {
        #expect(OutputNormalizer.normalize(line: "错误: 连接 3 失败") == "错误: 连接 <n> 失败")
    }

    @Test func signaturesTakeStderrThenStdout() throws {
        let summary = SummaryFixtures.summarize([
            SummaryFixtures.record(0, .failed, stdout: "collected 3 items", stderr: "ValueError: bad input")
        ])
        let text = try #require(summary.failureSignatures.first?.signature)
        #expect(text == "[failed] exit code 1\nValueError: bad input\ncollected <n> items")
    }
}
