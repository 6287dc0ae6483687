import Testing

@testable import FlakeboxCore
@testable import FlakeboxSandbox

@Suite("The minimal tier's isolation warning")
struct IsolationWarningTests {
    static func report(_ found: [String], guardDetail: String = "own 127.x.y.z") -> IsolationReport {
        var layers: [IsolationReport.Layer] = [.init(name: "namespaces", available: false, detail: "clone: EPERM")]
        for name in [IsolationReport.loopbackGuard, IsolationReport.slotUIDs, IsolationReport.landlock] {
            let detail = name == IsolationReport.loopbackGuard ? guardDetail : "x"
            layers.append(.init(name: name, available: found.contains(name), detail: detail))
        }
        return IsolationReport(tier: .minimal, layers: layers, kernel: "6", rootless: false, cgroupsUsable: true)
    }

    @Test("names what is still shared, from the layers found")
    func sharedFromLayers() throws {
        let none = try #require(SummaryContext.isolationWarning(Self.report([])))
        #expect(none.contains("the host's network (ports collide"))
        #expect(none.contains("one uid for every attempt"))
        #expect(none.contains("/tmp, /var/tmp and /dev/shm"))
        let all = try #require(
            SummaryContext.isolationWarning(
                Self.report(
                    [IsolationReport.loopbackGuard, IsolationReport.slotUIDs, IsolationReport.landlock],
                    guardDetail: "addresses rewritten in place")))
        #expect(!all.contains("ports collide") && !all.contains("one uid for every attempt"))
        #expect(all.contains("a loopback address of its own") && all.contains("a test racing its own call"))
        #expect(all.contains("/dev/shm (names can collide)") && all.contains("process list"))
    }
}
