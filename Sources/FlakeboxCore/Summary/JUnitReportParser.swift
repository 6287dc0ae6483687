import FlakeboxSandbox
import Foundation

/// The event handler behind `JUnitReport.parse`: collects `<testcase>` elements at any depth with
/// their `<failure>`, `<error>` and `<skipped>` children, from an `XMLTokenizer`. Used for one parse.
struct JUnitReportParser {
    private let limits: JUnitReport.Limits
    private(set) var testCases: [JUnitReport.TestCase] = []
    private(set) var stoppedAtLimit = false
    private(set) var sawRoot = false
    /// The document is not well-formed (or hit a tokenizer limit): the report is unusable.
    private(set) var failed = false

    private var current: (id: String, seconds: Double?)?
    private var outcome: JUnitReport.Outcome = .passed
    private var message: String?
    /// Text inside the current `<failure>`/`<error>`, capped.
    private var failureText = ""
    /// The last characters of the current failure's text.
    private var failureTail = ""
    private var inFailure = false
    /// `<testcase>` elements open inside the current one (their end must not end it).
    private var nestedTestCases = 0

    init(limits: JUnitReport.Limits) {
        self.limits = limits
    }

    /// Runs the tokenizer over `bytes` until the document ends, an error, or the test case limit.
    mutating func parse(_ bytes: [UInt8]) {
        var tokenizer = XMLTokenizer(bytes)
        do {
            while let event = try tokenizer.next() {
                switch event {
                case .startElement(let name, let attributes):
                    didStartElement(name, attributes: attributes)
                case .endElement(let name):
                    didEndElement(name)
                    // What `abortParsing()` did: the rest of the document is never read.
                    if stoppedAtLimit { return }
                case .text(let text):
                    foundCharacters(text)
                case .cdata(let text):
                    foundCDATA(text)
                }
            }
        } catch {
            failed = true
        }
    }

    private mutating func didStartElement(_ elementName: String, attributes attributeDict: [String: String]) {
        sawRoot = true
        switch elementName {
        case "testcase":
            guard current == nil else {  // a testcase inside a testcase: part of the outer one
                nestedTestCases += 1
                return
            }
            let name = attributeDict["name"] ?? ""
            current = (
                JUnitReport.testID(className: attributeDict["classname"], name: name, file: attributeDict["file"]),
                attributeDict["time"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            )
            outcome = .passed
            message = nil
            failureText = ""
            failureTail = ""
            inFailure = false
        case "failure", "error":
            guard current != nil else { return }
            let isFailure = elementName == "failure"
            // A failure outranks an error, which outranks a skip.
            if isFailure || outcome != .failed {
                outcome = isFailure ? .failed : .errored
                if let text = attributeDict["message"], !text.isEmpty, message == nil || isFailure {
                    message = String(text.prefix(limits.maximumMessageCharacters))
                }
            }
            inFailure = true
        case "skipped":
            if current != nil, outcome == .passed { outcome = .skipped }
        default:
            break
        }
    }

    private mutating func keepTail(_ text: some StringProtocol) {
        failureTail += text.suffix(limits.maximumTailCharacters)
        if failureTail.utf8.count > 2 * limits.maximumTailCharacters {
            failureTail = String(failureTail.suffix(limits.maximumTailCharacters))
        }
    }

    private mutating func foundCharacters(_ string: String) {
        if inFailure { keepTail(string) }
        guard inFailure, failureText.count < limits.maximumMessageCharacters else { return }
        failureText += string.prefix(limits.maximumMessageCharacters - failureText.count)
    }

    private mutating func foundCDATA(_ block: String) {
        if inFailure { keepTail(LossyUTF8.string(Array(block.utf8.suffix(limits.maximumTailCharacters * 4)))) }
        guard inFailure, failureText.count < limits.maximumMessageCharacters else { return }
        // Cut by bytes first, as when the block came as `Data`.
        let text = LossyUTF8.string(Array(block.utf8.prefix(limits.maximumMessageCharacters * 4)))
        failureText += text.prefix(limits.maximumMessageCharacters - failureText.count)
    }

    private mutating func didEndElement(_ elementName: String) {
        switch elementName {
        case "failure", "error":
            inFailure = false
        case "testcase":
            if nestedTestCases > 0 {
                nestedTestCases -= 1
                return
            }
            guard let testCase = current else { return }
            if outcome == .failed || outcome == .errored, message == nil {
                let firstLine = failureText.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) }
                message = firstLine.map { String($0.trimmingCharacters(in: .whitespaces)) }
            }
            let tail = failureTail.isEmpty ? nil : String(failureTail.suffix(limits.maximumTailCharacters))
            testCases.append(
                .init(id: testCase.id, outcome: outcome, message: message, seconds: testCase.seconds, failureTail: tail)
            )
            current = nil
            inFailure = false
            if testCases.count >= limits.maximumTestCases {
                stoppedAtLimit = true
            }
        default:
            break
        }
    }
}
