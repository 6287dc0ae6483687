import FlakeboxSandbox
import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The `XMLParser` delegate behind `JUnitReport.parse`: collects `<testcase>` elements at any
/// depth with their `<failure>`, `<error>` and `<skipped>` children. Used by one parse, on one
/// thread, then dropped.
final class JUnitReportParser: NSObject, XMLParserDelegate {
    private let limits: JUnitReport.Limits
    private(set) var testCases: [JUnitReport.TestCase] = []
    private(set) var stoppedAtLimit = false
    private(set) var sawRoot = false
    /// libxml2 may recover from errors and still report success: any error reported here
    /// makes the report unusable.
    private(set) var failed = false

    private var current: (id: String, seconds: Double?)?
    private var outcome: JUnitReport.Outcome = .passed
    private var message: String?
    /// Text inside the current `<failure>`/`<error>`, capped.
    private var failureText = ""
    private var inFailure = false
    /// `<testcase>` elements open inside the current one (their end must not end it).
    private var nestedTestCases = 0

    init(limits: JUnitReport.Limits) {
        self.limits = limits
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
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

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        failed = true
    }

    func parser(_ parser: XMLParser, validationErrorOccurred validationError: any Error) {
        failed = true
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard inFailure, failureText.count < limits.maximumMessageCharacters else { return }
        failureText += string.prefix(limits.maximumMessageCharacters - failureText.count)
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard inFailure, failureText.count < limits.maximumMessageCharacters else { return }
        let text = LossyUTF8.string(Array(CDATABlock.prefix(limits.maximumMessageCharacters * 4)))
        failureText += text.prefix(limits.maximumMessageCharacters - failureText.count)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
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
            testCases.append(.init(id: testCase.id, outcome: outcome, message: message, seconds: testCase.seconds))
            current = nil
            inFailure = false
            if testCases.count >= limits.maximumTestCases {
                stoppedAtLimit = true
                parser.abortParsing()
            }
        default:
            break
        }
    }
}
