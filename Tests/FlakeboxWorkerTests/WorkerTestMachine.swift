import FlakeboxSandbox
import Foundation

/// What the machine allows, probed once (a skipped suite says why).
enum WorkerTestMachine {
    /// The built `flakebox` binary and the sandbox launcher beside it: enough for tests whose
    /// jobs never reach a sandbox (bad input, local API routes, shutdown while idle).
    static let hasBinaries: Bool = {
        let binary = HelperLocator.executableDirectory().appendingPathComponent("flakebox").path
        guard FileManager.default.isExecutableFile(atPath: binary), HelperLocator.helperPath() != nil else {
            print("[flakebox worker tests] flakebox or flakebox-sandbox not built: worker tests are skipped")
            return false
        }
        return true
    }()

    /// Jobs run at the full isolation tier, as in FlakeboxCoreTests' JobTestMachine.
    static let fullTier: Bool = {
        guard hasBinaries, let helper = HelperLocator.helperPath() else { return false }
        let report = CapabilityProbe.shared(helperPath: helper, identity: .current())
        print("[flakebox worker tests] jobs run at the \(report.tier) tier; missing: \(report.missingSummary)")
        return report.tier == .full
    }()
}
