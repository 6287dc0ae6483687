import ArgumentParser
import FlakeboxSandbox

/// The runner options the servers share (`flakebox worker`, `flakebox serve`): the tier and the
/// default policies of the attempts and the setup step.
struct RunnerArguments: ParsableArguments {
    @Option(help: "Run at this isolation tier (minimal, reduced, full) instead of the strongest available.")
    var tier: IsolationTier?

    @Option(
        help:
            "The attempts' policy when a job names none (runpod: the default policy, also at the minimal tier)."
    )
    var policy = "runpod"

    @Option(help: "The policy of the setup step (dependency installation).")
    var setupPolicy = "runpod-setup"
}
