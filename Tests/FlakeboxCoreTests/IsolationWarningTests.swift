import Testing

@testable import FlakeboxCore
@testable import FlakeboxSandbox

@Suite("The minimal tier's isolation warning")
struct IsolationWarningTests {
    static func report(_ found: [String], guardDetail: String = "own 127.x.y.z") -> IsolationReport {
        var layers: [IsolationReport.Layer] = [.init(name: "namespaces", available: false, detail: "clone: EPERM")]
        for name in [
            IsolationReport.loopbackGuard, IsolationReport.slotUIDs, IsolationReport.landlock,
            IsolationReport.privateDirectories,
        ] {
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

    @Test("with the path guard, /tmp, /var/tmp and /dev/shm are the attempt's own, not shared")
    func privateDirectories() throws {
        let found = [IsolationReport.loopbackGuard, IsolationReport.landlock, IsolationReport.privateDirectories]
        let warning = try #require(SummaryContext.isolationWarning(Self.report(found)))
        #expect(warning.contains("a private /tmp, /var/tmp and /dev/shm"), "\(warning)")
        #expect(!warning.contains("/dev/shm (names can collide)"), "\(warning)")
        let layers = Self.report(found).layers.map(\.name)
        #expect(
            !IsolationReport(tier: .full, layers: [], kernel: "6", rootless: false, cgroupsUsable: true)
                .missing.contains { $0.name == IsolationReport.privateDirectories })
        #expect(layers.contains(IsolationReport.privateDirectories))
    }
}
