import FlakeboxSandbox
import Foundation
import Testing

@testable import FlakeboxCore

@Suite("Summary: signatures that cluster by cause")
struct SummaryCauseSignatureTests {
    /// pytest's JUnit for one failing test, as pytest 7 writes it (value and address vary).
    static func junit(value: String, address: String, line: Int = 5) -> String {
        let text = """
            def test_coin():
            &gt;       assert random.random() &lt; 0.5, "unlucky draw"
            E       AssertionError: unlucky draw
            E       assert \(value) &lt; 0.5
            E        +  where \(value) = &lt;built-in method random of Random object at \(address)&gt;()

            tests/test_coin.py:\(line): AssertionError
            """
        return """
            <?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="3">
            <testcase classname="tests.test_coin" name="test_ok" time="0.001"/>
            <testcase classname="tests.test_coin" name="test_coin" time="0.002"><failure message="AssertionError: unlucky draw&#10;assert \(value) &lt; 0.5">\(text)</failure></testcase>
            </testsuite></testsuites>
            """
    }

    @Test("one failure whose progress line, order and values vary gives one signature naming the cause")
    func progressLineVaries() throws {
        let progress = [
            "..F.   [100%]", "F...   [100%]", ".F..   [100%]", "...F   [100%]", "tests/test_coin.py .F.. [ 50%]",
        ]
        let records = progress.enumerated().map { index, line in
            SummaryFixtures.record(
                index, .failed,
                stdout: "\(line)\n=== FAILURES ===\n___ test_coin ___\n    def test_coin():\n"
                    + "E       assert 0.\(index + 6)\(index) < 0.5\n1 failed, 3 passed in 0.0\(index)s\n",
                junit: [Self.junit(value: "0.\(index + 6)\(index)", address: "0x55d\(index)a0")])
        }
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.failureSignatures.count == 1, "\(summary.failureSignatures.map(\.signature))")
        let signature = try #require(summary.failureSignatures.first?.signature)
        #expect(signature.contains("AssertionError: unlucky draw at tests/test_coin.py:5"), "\(signature)")
        #expect(!signature.contains("[100%]") && !signature.contains(".F"))
    }

    @Test("different causes stay apart: another frame, another exception")
    func differentCausesApart() {
        var other = Self.junit(value: "0.9", address: "0x1", line: 9)
        let records = [
            SummaryFixtures.record(0, .failed, junit: [Self.junit(value: "0.7", address: "0x1")]),
            SummaryFixtures.record(1, .failed, junit: [Self.junit(value: "0.8", address: "0x2")]),
            SummaryFixtures.record(2, .failed, junit: [other]),
        ]
        #expect(SummaryFixtures.summarize(records).failureSignatures.map(\.count) == [2, 1])
        other = other.replacingOccurrences(of: "AssertionError", with: "KeyError")
        let typed = [
            SummaryFixtures.record(0, .failed, junit: [Self.junit(value: "0.7", address: "0x1", line: 9)]),
            SummaryFixtures.record(1, .failed, junit: [other]),
        ]
        #expect(SummaryFixtures.summarize(typed).failureSignatures.count == 2)
    }

    @Test("without JUnit the output decides, and pytest's progress line is left out of it")
    func progressLineDroppedFromOutput() {
        let records = ["..F.", "F...", ".F..  [100%]"].enumerated().map { index, line in
            SummaryFixtures.record(index, .failed, stdout: "\(line)\nE   ValueError: bad value \(index)\n")
        }
        #expect(SummaryFixtures.summarize(records).failureSignatures.count == 1)
    }

    @Test("the innermost frame of the repository's own code, not the library's")
    func ownFrame() {
        let tail = """
            tests/test_x.py:10: in test_x
                helper()
            src/pkg/helper.py:22: in helper
                json.loads(text)
            /usr/lib/python3.11/json/__init__.py:346: in loads
                return _default_decoder.decode(s)
            E   json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)

            /usr/lib/python3.11/json/decoder.py:355: JSONDecodeError
            """
        let line = FailureCause.line(
            for:
                JUnitReport.TestCase(
                    id: "t", outcome: .failed,
                    message: "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
                    failureTail: tail))
        #expect(line.hasPrefix("json.decoder.JSONDecodeError: Expecting value: line <n> column <n>"), "\(line)")
        #expect(line.hasSuffix("at src/pkg/helper.py:22"), "\(line)")
    }
}
