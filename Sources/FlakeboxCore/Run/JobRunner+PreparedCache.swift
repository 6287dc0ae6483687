import FlakeboxSandbox
import Foundation

extension JobRunner {
    /// What decides the prepared checkout: the repository and commit, what setup installs and
    /// under which policy, who owns the files, and this flakebox (its support files and setup
    /// script). The job's environment reaches setup, so it counts too, as a digest only: the
    /// key is written to disk, and a variable may hold a token.
    static func cacheKey(
        _ input: JobInput, commit: String, sandbox: Sandbox, setupPolicy: String, adapter: any TestRunnerAdapter
    ) -> PreparedCheckoutCache.Key {
        var repo = (try? RepositoryURL.validate(input.repo, allowLocal: true)) ?? input.repo
        if (try? RepositoryURL.classify(repo)) == .localPath, let real = realpath(repo, nil) {
            repo = String(cString: real)
            free(real)
        }
        let environment = input.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let identity = sandbox.options.identity
        return PreparedCheckoutCache.Key([
            ("flakebox", FlakeboxVersion.current),
            ("repo", repo),
            ("commit", commit),
            ("submodules", "\(input.submodules)"),
            ("setup_command", input.setupCommand ?? ""),
            ("packages", input.packages.joined(separator: "\u{1F}")),
            ("environment", String(FNV1a.hash(environment.joined(separator: "\u{0}")), radix: 16)),
            ("setup_policy", setupPolicy),
            ("tier", "\(sandbox.tier)"),
            ("owner", "\(identity.uid):\(identity.gid)"),
            (
                "support_files",
                String(FNV1a.hash(adapter.supportFiles.map { "\($0.path)\u{0}\($0.contents)" }.joined()), radix: 16)
            ),
        ])
    }

    /// The job's prepared state from a cached checkout: no clone, no setup.
    /// - Parameter workingTree: what the fetch that found the entry took of a local working tree
    ///   (an empty snapshot: one with changes is never cached), so the summary says what a fresh
    ///   checkout's would; nil when no fetch ran (a commit named in full takes no working tree).
    static func prepared(
        from lease: PreparedCheckoutCache.Lease, sandbox: Sandbox, started: ContinuousClock.Instant,
        workingTree: WorkingTreeSnapshot? = nil
    ) -> Prepared {
        Prepared(
            sandbox: sandbox, checkout: lease.checkout, commit: lease.metadata.commit,
            venv: hasVirtualEnvironment(lease.checkout) ? "\(sandbox.policy.filesystem.workspace)/.venv" : nil,
            pytestRandomly: lease.metadata.pytestRandomly, setup: lease.metadata.setup, workingTree: workingTree,
            cloneSeconds: (ContinuousClock.now - started).seconds, setupSeconds: 0, cacheLease: lease)
    }
}
