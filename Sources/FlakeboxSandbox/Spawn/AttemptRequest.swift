/// One command to run in one sandbox.
public struct AttemptRequest: Sendable {
    public enum WorkspaceMode: Sendable, Equatable {
        /// A private copy-on-write view (a per-attempt copy below the full tier); the checkout is
        /// never changed.
        case overlay
        /// The checkout itself, writable (the setup step, whose changes must persist).
        case writable
    }

    /// argv; the first element is a path inside the sandbox or a name looked up on its `PATH`.
    public var command: [String]
    /// Variables set on top of the policy's environment (`TEST_SEED`, `ATTEMPT`, …).
    public var environment: [String: String]
    /// Host path of the prepared checkout. It must be owned by the sandbox user (see
    /// `Sandbox.adoptWorkspace(_:)`) so that copy-on-write works inside the user namespace.
    public var workspace: String
    public var workspaceMode: WorkspaceMode
    /// Names the attempt in cgroup and scratch paths (letters, digits, `-`, `_`).
    public var label: String
    /// Overrides the policy's wall-clock limit.
    public var timeoutSeconds: Double?
    /// Files to bring back after the command exits (JUnit XML): absolute paths inside the
    /// sandbox, wildcards allowed in the last component. Read as untrusted data, with caps.
    public var artifacts: [String]
    /// Stress mode: load started beside the command, inside the sandbox; nil: none.
    public var noise: BackgroundNoise?
    /// `command` is the words of a shell command (`ShellCommand`): when it cannot be executed, the
    /// launcher runs the words joined under `/bin/sh -c`, so the shell reports it as it would have.
    public var shellFallback: Bool

    public init(
        command: [String], environment: [String: String] = [:], workspace: String,
        workspaceMode: WorkspaceMode = .overlay, label: String = "attempt", timeoutSeconds: Double? = nil,
        artifacts: [String] = [], noise: BackgroundNoise? = nil, shellFallback: Bool = false
    ) {
        self.command = command
        self.environment = environment
        self.workspace = workspace
        self.workspaceMode = workspaceMode
        self.label = label
        self.timeoutSeconds = timeoutSeconds
        self.artifacts = artifacts
        self.noise = noise
        self.shellFallback = shellFallback
    }
}
