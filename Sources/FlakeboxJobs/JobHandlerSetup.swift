import FlakeboxCore
import FlakeboxSandbox

/// How a long-running server (`flakebox worker`, `flakebox serve`) builds its job handler: the
/// machine checked once (the sandbox launcher found, the tier probed), and the runner given the
/// tier and policies of its command line. One place, so the two servers run jobs alike.
public struct JobHandlerSetup: Sendable {
    /// Run at this tier instead of the strongest available.
    public var tier: IsolationTier?
    /// The attempts' policy when a job names none; `runpod` also runs at the minimal tier.
    public var policy: String
    /// The policy of the setup step (dependency installation).
    public var setupPolicy: String
    /// Accept local paths and `file://` repositories (tests and local development only).
    public var allowLocalRepositories: Bool
    /// The hosts repositories and submodules may be on (empty: any public host).
    public var allowedHosts: [String] = []

    public init(
        tier: IsolationTier? = nil, policy: String = "runpod", setupPolicy: String = "runpod-setup",
        allowLocalRepositories: Bool = false
    ) {
        self.tier = tier
        self.policy = policy
        self.setupPolicy = setupPolicy
        self.allowLocalRepositories = allowLocalRepositories
    }

    /// What the machine gives, probed once.
    public struct Machine: Sendable {
        public var tier: IsolationTier
        /// What is missing for the full tier (empty at full).
        public var missingSummary: String
    }

    /// A setup that cannot run: the launcher is missing.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Finds the sandbox launcher and probes the tier jobs will run at.
    public func probe() throws(Failure) -> Machine {
        guard let helper = HelperLocator.helperPath() else {
            throw Failure(
                description:
                    "The sandbox launcher \(HelperLocator.helperName) was not found; set FLAKEBOX_SANDBOX_HELPER.")
        }
        let machine = CapabilityProbe.shared(helperPath: helper, identity: .current())
        let report = machine.at(tier ?? machine.tier)
        return Machine(tier: report.tier, missingSummary: report.missingSummary)
    }

    /// The handler every job of this server runs through.
    public func handler() -> FlakeboxJobHandler {
        var runner = JobRunner.Options(sandbox: .init(tier: tier), defaultPolicy: policy, setupPolicy: setupPolicy)
        runner.allowedHosts = HostAllowList(allowedHosts)
        return FlakeboxJobHandler(options: .init(runner: runner, allowLocalRepositories: allowLocalRepositories))
    }
}
