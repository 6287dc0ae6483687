import FlakeboxSandbox
import Foundation

extension JobRunner {
    /// Fetch once, prepare once: the checkout every attempt overlays, and what setup found.
    func prepare(_ input: JobInput, origin: JobInput.Origin, in directory: String) async throws(JobError)
        -> Prepared
    {
        let checkout = "\(directory)/checkout"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // The sandbox user must be able to reach the checkout through these directories.
            chmod(options.workRoot, 0o755)
            chmod(directory, 0o755)
        } catch {
            throw JobError(.sandbox, "cannot create \(directory): \(error.localizedDescription)")
        }
        options.progress?(
            JobProgress(phase: .fetching, total: input.runs, completed: 0, failures: 0, running: 0, elapsedSeconds: 0))
        let fetchStarted = ContinuousClock.now
        let fetched: FetchResult
        do {
            fetched = try await RepositoryFetcher.fetch(
                FetchRequest(
                    repo: input.repo, ref: input.ref, allowLocal: origin == .commandLine, submodules: input.submodules),
                into: checkout)
        } catch {
            throw JobError(.fetchFailed, error.message)
        }
        let cloneSeconds = (ContinuousClock.now - fetchStarted).seconds

        var policy: Policy
        do {
            policy = try options.policies.load(input.policy ?? options.defaultPolicy)
        } catch {
            throw JobError(.policy, "\(error)")
        }
        if let bytes = input.outputLimitBytes { policy.limits.outputCapture = bytes }
        let sandbox: Sandbox
        do {
            sandbox = try Sandbox(policy: policy, options: options.sandbox)
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
                let name = policy.setupPolicy ?? options.setupPolicy
                setupSandbox = try Sandbox(policy: options.policies.load(name), options: options.sandbox)
            } catch {
                throw JobError(.policy, "setup policy: \(error)")
            }
            let result = await setupSandbox.run(step.request)
            let log = result.stdout.text + result.stderr.text
            report = SetupReport(
                command: step.description, durationSeconds: (ContinuousClock.now - setupStarted).seconds,
                logTail: String(log.suffix(4000)))
            guard result.status == .passed else {
                let why =
                    result.setupFailure.map { "sandbox error at \($0)" } ?? "\(result.status)"
                    + (result.exitCode.map { " with exit code \($0)" } ?? "")
                throw JobError(.setupFailed, "setup (\(step.description)) \(why)", logTail: String(log.suffix(4000)))
            }
            found = SetupStep.Findings(parsing: result.stdout.text)
        } else {
            // Nothing to install: only ask what the machine's test runner has, in a strict sandbox.
            let result = await sandbox.run(step.request)
            found = SetupStep.Findings(parsing: result.stdout.text)
        }
        let venvExists = FileManager.default.fileExists(atPath: "\(checkout)/.venv/bin/python")
        return Prepared(
            sandbox: sandbox, checkout: checkout, commit: fetched.commit,
            venv: venvExists ? "\(policy.filesystem.workspace)/.venv" : nil, pytestRandomly: found.pytestRandomly,
            setup: report, cloneSeconds: cloneSeconds, setupSeconds: (ContinuousClock.now - setupStarted).seconds)
    }
}
