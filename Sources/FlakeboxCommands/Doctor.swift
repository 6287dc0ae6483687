import ArgumentParser
import FlakeboxSandbox
import Foundation

extension Flakebox {
    /// Shows which isolation layers this machine allows, measured by trying them.
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check which sandbox layers work on this machine and which isolation tier follows.")

        @Flag(help: "Print the report as JSON.")
        var json = false

        @Option(help: "Also check that this policy can run here (name or file).")
        var policy: String = "default"

        func run() async throws {
            guard let helper = HelperLocator.helperPath() else {
                throw ValidationError("cannot find \(HelperLocator.helperName); set FLAKEBOX_SANDBOX_HELPER")
            }
            let report = CapabilityProbe.shared(helperPath: helper, identity: .current())
            var policyProblem: String?
            do {
                let loaded = try PolicyStore.standard().load(policy)
                _ = try Sandbox(policy: loaded, isolation: report)
            } catch {
                policyProblem = "\(error)"
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                // snake_case, as in every --json (cgroups_usable, not cgroupsUsable).
                encoder.keyEncodingStrategy = .convertToSnakeCase
                var object = try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any] ?? [:]
                object["policy"] = [
                    "name": policy, "usable": policyProblem == nil,
                    "problem": policyProblem.map { $0 as Any } ?? NSNull(),
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(
                    "flakebox \(Flakebox.version) · kernel \(report.kernel) · \(report.rootless ? "rootless" : "root")")
                for layer in report.layers {
                    print(
                        "\(layer.available ? "✓" : "✗") \(layer.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(layer.detail)"
                    )
                }
                print("isolation tier: \(report.tier)")
                if report.tier < .full {
                    print("warning: running below the full tier; missing: \(report.missingSummary)")
                }
                if let policyProblem {
                    print("✗ policy \(policy): \(policyProblem)")
                } else {
                    print("✓ policy \(policy) can run here")
                }
            }
            if policyProblem != nil { throw ExitCode(3) }
        }
    }
}
