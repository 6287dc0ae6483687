import Foundation

/// The test cases of one JUnit XML report, as pytest (`--junitxml`), Maven Surefire, Gradle,
/// go-junit-report, jest-junit and most runners write it.
///
/// Every `<testcase>` counts, however deep in `<testsuites>`/`<testsuite>` it is. Reports come from
/// inside the sandbox, so the parser is defensive: documents declaring entities are refused
/// (no expansion bombs), input and collected text are capped, and anything that is not
/// well-formed XML yields nil rather than a partial answer.
public struct JUnitReport: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable, Codable {
        case passed
        /// A `<failure>`: an assertion failed.
        case failed
        /// An `<error>`: the test could not run to an assertion (an exception, a setup error).
        case errored
        case skipped
    }

    public struct TestCase: Sendable, Equatable {
        /// `classname::name` when the case has a class name, else `file::name` when it has a
        /// file, else `name`: one stable rule for every producer.
        public var id: String
        public var outcome: Outcome
        /// The failure's or error's `message`, else the first line of its text.
        public var message: String?
        public var seconds: Double?
        /// The end of the failure's or error's text (where a traceback names its innermost frame
        /// and the exception), capped at `Limits.maximumTailCharacters`.
        public var failureTail: String?

        public init(
            id: String, outcome: Outcome, message: String? = nil, seconds: Double? = nil, failureTail: String? = nil
        ) {
            self.id = id
            self.outcome = outcome
            self.message = message
            self.seconds = seconds
            self.failureTail = failureTail
        }
    }

    /// Limits on the work one report may cause.
    public struct Limits: Sendable, Equatable {
        /// Larger reports are ignored.
        public var maximumBytes: Int
        /// Parsing stops after this many test cases (`truncated` says so).
        public var maximumTestCases: Int
        /// Characters of a failure's message or text kept.
        public var maximumMessageCharacters: Int
        /// Characters kept of the end of a failure's text.
        public var maximumTailCharacters = 4096

        public init(maximumBytes: Int = 32 << 20, maximumTestCases: Int = 100_000, maximumMessageCharacters: Int = 1024)
        {
            self.maximumBytes = maximumBytes
            self.maximumTestCases = maximumTestCases
            self.maximumMessageCharacters = maximumMessageCharacters
        }
    }

    public var testCases: [TestCase]
    /// Parsing stopped at `Limits.maximumTestCases`.
    public var truncated: Bool

    public init(testCases: [TestCase], truncated: Bool = false) {
        self.testCases = testCases
        self.truncated = truncated
    }

    /// The test case id rule (see `TestCase.id`).
    public static func testID(className: String?, name: String, file: String?) -> String {
        if let className, !className.isEmpty { return "\(className)::\(name)" }
        if let file, !file.isEmpty { return "\(file)::\(name)" }
        return name
    }

    /// Parses `bytes`; nil when they are not a well-formed XML document, declare entities, or
    /// exceed `limits.maximumBytes`. Never traps, whatever the input.
    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) -> JUnitReport? {
        guard !bytes.isEmpty, bytes.count <= limits.maximumBytes, !declaresEntities(bytes) else { return nil }
        var parser = JUnitReportParser(limits: limits)
        parser.parse(bytes)
        if parser.stoppedAtLimit {
            return JUnitReport(testCases: parser.testCases, truncated: true)
        }
        guard !parser.failed, parser.sawRoot else { return nil }
        return JUnitReport(testCases: parser.testCases)
    }

    /// `<!ENTITY` anywhere (JUnit never needs one; a "billion laughs" document does). The tokenizer
    /// refuses declarations itself; this keeps refusing the string wherever it appears, as before.
    private static func declaresEntities(_ bytes: [UInt8]) -> Bool {
        let needle = Array("<!ENTITY".utf8)
        guard bytes.count >= needle.count else { return false }
        var index = 0
        while let start = bytes[index...].firstIndex(of: needle[0]) {
            if start + needle.count > bytes.count { return false }
            if bytes[start..<(start + needle.count)].elementsEqual(needle) { return true }
            index = start + 1
        }
        return false
    }
}
