import FlakeboxSandbox
import Foundation

extension JobRunner {
    /// The launcher's stage for a setup that filled its workspace's tmpfs (commit.h).
    static let workspaceLimitStage = "workspace-limit"

    /// Fetch once, prepare once: the checkout every attempt overlays, and what setup found.
    func prepare(_ input: JobInput, origin: JobInput.Origin, in directory: String) async throws(JobError)
        -> Prepared
    {
        // The policy first: a job that may not run under it is refused before anything is fetched.
        var policy: Policy
        do {
            policy = try options.policies.load(input.policy ?? options.defaultPolicy)
        } catch {
            throw JobError(.policy, "\(error)")
        }
        if origin == .remote, let named = input.policy, !policy.openToRemoteJobs {
            throw JobError(
                .policy,
                "policy \(named) is not open to jobs from the network (its \"remoteJobs\" is not true)")
        }
        let checkout = "\(directory)/checkout"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // The sandbox user must be able to reach the checkout through these directories.
            chmod(options.workRoot, 0o755)
            chmod(directory, 0o755)
        } catch {
            throw JobError(.sandbox, "cannot create \(directory): \(error.localizedDescription)")
        }
        if let bytes = input.outputLimitBytes { policy.limits.outputCapture = bytes }
        if let bytes = input.memoryBytes { try Self.applyMemory(bytes, to: &policy) }
        // Attempts at once and their memory budget: no more than the machine can give.
        let admission = MemoryAdmission.admit(
            parallelism: input.parallelism, perAttempt: policy.limits.memory, available: MachineMemory.available())
        var sandboxOptions = options.sandbox
        sandboxOptions.memoryBudgetBytes = admission.budgetBytes
        // The checkout is final once setup is done: below the full tier each attempt's copy of it
        // is made while the previous attempt runs.
        sandboxOptions.frozenWorkspaces = true
        let sandbox: Sandbox
        do {
            sandbox = try Sandbox(policy: policy, options: sandboxOptions)
        } catch {
            throw JobError(.sandbox, "\(error)")
        }
        let adapter = TestRunnerDetector.adapter(for: input.testCommand)
        let setupPolicy = policy.setupPolicy ?? options.setupPolicy
        let cacheKey = { (commit: String) -> PreparedCheckoutCache.Key? in
            guard origin == .commandLine, options.preparedCache != nil else { return nil }
            return Self.cacheKey(input, commit: commit, sandbox: sandbox, setupPolicy: setupPolicy, adapter: adapter)
        }

        options.progress?(
            JobProgress(phase: .fetching, total: input.runs, completed: 0, failures: 0, running: 0, elapsedSeconds: 0))
        let fetchStarted = ContinuousClock.now
        // A commit named in full (a replay's) needs no fetch to be found in the cache.
        if case .commit(let commit)? = try? GitRef.parse(input.ref), let key = cacheKey(commit),
            let lease = options.preparedCache?.lookup(key)
        {
            return Self.prepared(from: lease, sandbox: sandbox, started: fetchStarted).admitted(admission)
        }
        let fetched: FetchResult
        do {
            fetched = try await RepositoryFetcher.fetch(
                FetchRequest(
                    repo: input.repo, ref: input.ref, allowLocal: origin == .commandLine, submodules: input.submodules,
                    includeWorkingTree: origin == .commandLine && options.includeWorkingTree,
                    allowedHosts: options.allowedHosts),
                into: checkout)
        } catch {
            throw JobError(.fetchFailed, error.message)
        }
        // Only a checkout that is exactly its commit is kept or reused: a working tree's changes
        // are not part of the key.
        let key = fetched.workingTree?.isEmpty == false ? nil : cacheKey(fetched.commit)
        if let key, let lease = options.preparedCache?.lookup(key) {
            WorkspaceFiles.removeTree(checkout)
            return Self.prepared(
                from: lease, sandbox: sandbox, started: fetchStarted, workingTree: fetched.workingTree
            ).admitted(admission)
        }
        let cloneSeconds = (ContinuousClock.now - fetchStarted).seconds

        try Self.writeSupportFiles(adapter, into: checkout)
        do {
            try sandbox.adoptWorkspace(checkout)
        } catch {
            throw JobError(.sandbox, "\(error)")
        }

        options.progress?(
            JobProgress(phase: .setup, total: input.runs, completed: 0, failures: 0, running: 0, elapsedSeconds: 0))
        let setupStarted = ContinuousClock.now
        let step = SetupStep(input: input, checkout: checkout, workspace: policy.filesystem.workspace)
        let found: SetupStep.Findings
        var report: SetupReport?
        if step.needsSetupSandbox {
            let setupSandbox: Sandbox
            do {
                // The job's policy names its family's setup policy (runpod → runpod-setup).
                setupSandbox = try Sandbox(policy: options.policies.load(setupPolicy), options: options.sandbox)
            } catch {
                throw JobError(.policy, "setup policy: \(error)")
            }
            let result = await setupSandbox.run(step.request)
            let log = result.stdout.text + result.stderr.text
            report = SetupReport(
                command: step.description, durationSeconds: (ContinuousClock.now - setupStarted).seconds,
                logTail: String(log.suffix(4000)), writeLimit: Self.setupWriteLimit(setupSandbox))
            guard result.status == .passed else {
                let why: String
                if result.setupFailure?.stage == Self.workspaceLimitStage {
                    // The repository's doing, not the harness's: its setup filled the room it had.
                    let fs = setupSandbox.policy.filesystem
                    why =
                        "wrote past its workspace limit (\(SummaryFormat.bytes(fs.workspaceSize)), \(fs.inodes) inodes"
                        + " in the setup policy): nothing it wrote was kept"
                } else {
                    why =
                        result.setupFailure.map { "sandbox error at \($0)" } ?? "\(result.status)"
                        + (result.exitCode.map { " with exit code \($0)" } ?? "")
                }
                throw JobError(.setupFailed, "setup (\(step.description)) \(why)", logTail: String(log.suffix(4000)))
            }
            found = SetupStep.Findings(parsing: result.stdout.text)
        } else {
            // Nothing to install: only ask what the machine's test runner has, in a strict sandbox.
            let result = await sandbox.run(step.request)
            found = SetupStep.Findings(parsing: result.stdout.text)
        }
        let venvExists = Self.hasVirtualEnvironment(checkout)
        return Prepared(
            sandbox: sandbox, checkout: checkout, commit: fetched.commit,
            venv: venvExists ? "\(policy.filesystem.workspace)/.venv" : nil, pytestRandomly: found.pytestRandomly,
            setup: report, workingTree: fetched.workingTree, cloneSeconds: cloneSeconds,
            setupSeconds: (ContinuousClock.now - setupStarted).seconds,
            cacheable: key.map {
                PreparedCheckoutCache.Metadata(
                    key: $0.text, commit: fetched.commit, pytestRandomly: found.pytestRandomly, setup: report,
                    bytes: 0)
            }
        ).admitted(admission)
    }

    /// What bounded setup's writes: at the full tier an overlay whose upper is a tmpfs of the
    /// setup policy's size; below it the checkout itself, bounded by nothing but the disk.
    static func setupWriteLimit(_ sandbox: Sandbox) -> String {
        let fs = sandbox.policy.filesystem
        guard sandbox.tier == .full else {
            return "none at the \(sandbox.tier) tier: setup writes into the checkout in place (no overlay)"
        }
        return "\(SummaryFormat.bytes(fs.workspaceSize)), \(fs.inodes) inodes (held in memory until setup passes)"
    }

    /// Whether `checkout/.venv` is a virtual environment, judged without following any link the
    /// repository may have committed: `.venv` and `.venv/bin` must be real directories, and
    /// `bin/python` must be an entry there (a venv's python is itself a link to the host's, which
    /// is never followed). A followed link would tell the sandbox whether a host path exists.
    static func hasVirtualEnvironment(_ checkout: String) -> Bool {
        var info = stat()
        for directory in ["\(checkout)/.venv", "\(checkout)/.venv/bin"] {
            guard lstat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return false }
        }
        guard lstat("\(checkout)/.venv/pyvenv.cfg", &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return false
        }
        return lstat("\(checkout)/.venv/bin/python", &info) == 0
    }
}
