import Foundation
import Testing

@testable import FlakeboxSandbox

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

@Suite("Cgroup detection")
struct CgroupSupportTests {
    @Test("every controller is either usable or comes with a reason, for both versions")
    func everythingExplained() {
        let support = CgroupSupport.detect()
        // Shown in the test log: the detection result of the machine the tests ran on.
        print("cgroup detection (uid \(getuid())):\n\(support)")
        for report in [support.v1, support.v2] {
            for controller in CgroupController.allCases {
                let explained = report.controllers.contains(controller) || report.missing[controller] != nil
                #expect(explained, "cgroup \(report.version): \(controller) neither usable nor explained")
            }
            if !report.isUsable {
                #expect(report.problem != nil || report.controllers.isEmpty)
            }
        }
        if let preferred = support.preferred {
            #expect(
                preferred.controllers.count >= [support.v1, support.v2].filter(\.isUsable).map(\.controllers.count)
                    .max()!)
        }
    }

    @Test("detection removes its probe groups")
    func probesRemoved() {
        let support = CgroupSupport.detect()
        for directory in support.v1.directories + support.v2.directories {
            func probes() -> [String] {
                ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                    .filter { $0.hasPrefix("flakebox-probe-\(getpid())-") }
            }
            // Other tests detect concurrently; their probes may exist for a moment, none may stay.
            #expect(eventuallySync { probes().isEmpty }, "probe groups left in \(directory): \(probes())")
        }
    }

    @Test(
        "cgroup v1 is chosen on a host whose v2 hierarchy lacks the memory controller",
        .enabled(
            if: CgroupTestEnvironment.support.v1.controllers.count == CgroupController.allCases.count
                && !CgroupTestEnvironment.support.v2.controllers.contains(.memory),
            "needs a host like CI: all v1 controllers writable, memory not on v2"))
    func choiceOnThisKindOfHost() {
        let support = CgroupTestEnvironment.support
        #expect(support.version == .v1)
        #expect(support.v2.missing[.memory] != nil)
    }

    /// Runs on every machine: the machine's own report with one version made unusable (a real
    /// machine with an unusable version is rarely at hand, and CI's has both).
    @Test("a manager for an unusable version fails with the reasons")
    func unusableVersion() {
        let machine = CgroupTestEnvironment.support
        var broken = CgroupSupport.Report(version: .v2)
        broken.problem = "not mounted (made so by the test)"
        let support = CgroupSupport(topology: machine.topology, v1: machine.v1, v2: broken)
        #expect {
            _ = try CgroupManager(support: support, parentName: "flakebox-test-\(getpid())-unusable", version: .v2)
        } throws: { error in
            (error as? CgroupError)?.code == .unavailable
                && "\(error)".contains("not mounted (made so by the test)")
        }
    }
}

/// Polls for up to a second without suspending (for use inside synchronous closures).
private func eventuallySync(_ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + .seconds(1)
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        usleep(5000)
    }
    return true
}
