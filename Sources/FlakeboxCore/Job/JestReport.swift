import Foundation

/// Jest's own `--json` results, turned into JUnit XML at collection so that the per-test table,
/// failure causes and classification read them as they read any runner's JUnit report. The file
/// comes from inside the sandbox: its size, the files and tests read and every string are capped,
/// and anything that is not Jest's shape yields nil.
public enum JestReport {
    public static let maximumBytes = 32 << 20
    public static let maximumTests = 100_000
    static let maximumText = 4096

    /// JUnit XML for Jest's results; test ids are `<file relative to root>::<full name>`
    /// (`root` is the workspace, where Jest ran). Nil when `bytes` are not Jest's results.
    public static func junitXML(_ bytes: [UInt8], root: String) -> [UInt8]? {
        guard !bytes.isEmpty, bytes.count <= maximumBytes,
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let files = object["testResults"] as? [Any]
        else { return nil }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        var count = 0
        for case let file as [String: Any] in files {
            guard count < maximumTests else { break }
            let path = relative(text(file["name"]) ?? "", to: root)
            xml += "<testsuite name=\"\(escape(path))\">\n"
            let cases = file["assertionResults"] as? [Any] ?? []
            if cases.isEmpty, file["status"] as? String == "failed" {
                // The file failed before any test ran (a syntax error, a throwing import).
                xml += testCase(
                    path: path, name: "(test file)", status: "failed", message: text(file["message"]), seconds: nil)
                count += 1
            }
            for case let test as [String: Any] in cases {
                guard count < maximumTests else { break }
                let name = text(test["fullName"]) ?? text(test["title"]) ?? "(unnamed)"
                let failures = (test["failureMessages"] as? [Any] ?? []).compactMap { text($0) }
                let seconds = (test["duration"] as? Double).map { $0 / 1000 }
                xml += testCase(
                    path: path, name: name, status: text(test["status"]) ?? "", message: failures.first,
                    seconds: seconds)
                count += 1
            }
            xml += "</testsuite>\n"
        }
        xml += "</testsuites>\n"
        return Array(xml.utf8)
    }

    /// What the preload says it did; nil when it is not the preload's note, or when the preload
    /// found no seed to pass (then the seed did not reach this attempt's Jest).
    public static func runnerReport(_ bytes: [UInt8]) -> RunnerReport? {
        guard bytes.count <= 64 << 10,
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            object["plugin"] as? String == "flakebox_jest", object["seeded"] as? Bool != false
        else { return nil }
        return RunnerReport(
            sessions: 1, reseededBy: nil, generators: [],
            shuffledBy: object["randomize"] as? Bool == true ? "jest --randomize" : nil, order: [], orderTotal: 0,
            jestVersion: text(object["jest"]).map { String($0.prefix(40)) })
    }

    private static func testCase(path: String, name: String, status: String, message: String?, seconds: Double?)
        -> String
    {
        let time = seconds.map { " time=\"\($0)\"" } ?? ""
        let open = "<testcase classname=\"\(escape(path))\" name=\"\(escape(name))\"\(time)"
        switch status {
        case "passed": return open + "/>\n"
        case "failed":
            let message = message ?? "failed"
            let first = message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            return open + "><failure message=\"\(escape(first))\">\(escape(message))</failure></testcase>\n"
        default: return open + "><skipped/></testcase>\n"  // pending, skipped, todo, disabled
        }
    }

    private static func text(_ value: Any?) -> String? {
        guard let string = value as? String else { return nil }
        return String(string.prefix(maximumText))
    }

    private static func relative(_ path: String, to root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// XML text: markup escaped, ANSI colour sequences dropped, other control characters (which
    /// XML 1.0 forbids) replaced.
    static func escape(_ string: String) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count)
        var scalars = string.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\u{1B}":
                // CSI: ESC [ parameters final-byte.
                while let next = scalars.next(), !(next.value >= 0x40 && next.value <= 0x7E && next != "[") {}
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "?"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
