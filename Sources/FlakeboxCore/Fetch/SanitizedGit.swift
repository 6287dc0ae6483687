#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// git, as the fetcher runs it on untrusted input: an absolute path, an environment built from
/// nothing (never the supervisor's, which may hold API keys, nor its `GIT_*` variables), the same
/// `-c` settings on every call, a shared wall-clock deadline, the size limit, and the whole
/// process tree killed at the end (`GroupedProcess`).
///
/// The settings, and why:
/// - No system or global configuration (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`) and an
///   empty private `HOME`: nothing of the host's git setup (url rewrites, credential helpers,
///   filters, `core.sshCommand`) applies. A clone cannot carry configuration, so the new repository's
///   own `.git/config` is the one git wrote.
/// - `protocol.allow=never` with `https` and `ssh` allowed, `file` only with `allowLocal`; `ext`,
///   `fd`, `git://`, `http://` and every remote helper refused, for submodules too
///   (`GIT_PROTOCOL_FROM_USER=0` also disables anything left at the `user` policy).
/// - Nothing of the repository runs: `core.hooksPath=/dev/null` (and no template, so no hooks
///   directory), `core.fsmonitor=false`, no credential helper, no prompts (`GIT_TERMINAL_PROMPT=0`,
///   askpass `/bin/false`), no pager or editor, LFS smudging skipped; `safe.bareRepository=explicit`
///   so no bare repository embedded in the checkout is ever discovered.
/// - `transfer.fsckObjects=true`: objects are checked as they arrive, which rejects malformed trees
///   and the `.gitmodules` tricks fsck knows (option-like URLs and paths, names with `..`). With
///   `--depth 1` only the tip's objects are checked, so old history with cosmetic flaws rarely
///   matters; a repository that does fail it fails loudly, with fsck's message.
/// - `gc.auto=0`, `maintenance.auto=false`: `gc --auto` may daemonize with setsid(2), which would
///   leave the process group the timeout kills.
/// - `core.protectNTFS`, `core.protectHFS`: refuse paths that other filesystems would fold into `.git`.
/// - ssh: `BatchMode=yes` (never prompt) and `StrictHostKeyChecking=accept-new`: an unknown host key
///   is accepted, a changed one refused. For input that is not from the command line, ssh also runs
///   without any configuration (`-F /dev/null`), keys or agent, with known hosts in the private
///   `HOME` (so a job can neither learn the host's public keys nor add to its `known_hosts`); host
///   keys are then only trusted on first use, i.e. not verified at all across jobs. From the command
///   line, ssh uses the user's own configuration and keys.
struct SanitizedGit {
    /// git itself.
    static let executable: String? = ["/usr/bin/git", "/bin/git"].first { access($0, X_OK) == 0 }

    let gitPath: String
    /// The private, empty `HOME` (0700, removed after the fetch).
    let home: String
    let allowLocal: Bool
    /// Monotonic seconds, for every call together.
    let deadline: Double
    let timeoutSeconds: Double
    let cancelFD: Int32
    /// The checkout whose size is watched while git runs, and its limit.
    let watchedDirectory: String
    let maxBytes: UInt64
    /// For remote input: the checked addresses git is pinned to (`RemoteHostGuard`).
    var pins = Pins()

    struct Pins: Sendable {
        /// `http.curloptResolve` entries, one per checked https host.
        var resolve: [String] = []
        /// The address ssh connects to, whatever host name git hands it.
        var sshAddress: String?
        /// Set for remote input: no https redirect is followed.
        var refuseRedirects = false
    }

    /// The complete environment of every git process (and of ssh, which git starts).
    static func environment(home: String, allowLocal: Bool, sshAddress: String? = nil) -> [String] {
        var ssh = "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=30"
        if let sshAddress { ssh += " -o HostName=\(shellQuoted(sshAddress))" }
        if !allowLocal {
            ssh += " -F /dev/null -o UserKnownHostsFile=\(shellQuoted(home + "/known_hosts"))"
            ssh += " -o IdentitiesOnly=yes -o IdentityFile=none -o IdentityAgent=none"
        }
        let parent = home.split(separator: "/").dropLast().joined(separator: "/")
        return [
            "PATH=/usr/bin:/bin",
            "HOME=\(home)",
            "GIT_CONFIG_NOSYSTEM=1",
            "GIT_CONFIG_GLOBAL=/dev/null",
            "GIT_TERMINAL_PROMPT=0",
            "GIT_ASKPASS=/bin/false",
            "SSH_ASKPASS=/bin/false",
            "GIT_SSH_COMMAND=\(ssh)",
            "GIT_PROTOCOL_FROM_USER=0",
            "GIT_LFS_SKIP_SMUDGE=1",
            // Repository discovery never climbs above the private HOME, where clones start.
            "GIT_CEILING_DIRECTORIES=/\(parent)",
            "LC_ALL=C",
        ]
    }

    /// The `-c` settings given to every git call (and passed on by git to the git processes it
    /// starts, submodules included).
    static func configArguments(allowLocal: Bool) -> [String] {
        let settings = [
            "core.hooksPath=/dev/null",
            "core.fsmonitor=false",
            "core.symlinks=true",
            "core.protectNTFS=true",
            "core.protectHFS=true",
            "core.pager=cat",
            "core.editor=/bin/false",
            "credential.helper=",
            "protocol.allow=never",
            "protocol.https.allow=always",
            "protocol.ssh.allow=always",
            "protocol.file.allow=\(allowLocal ? "always" : "never")",
            "protocol.http.allow=never",
            "protocol.git.allow=never",
            "protocol.ext.allow=never",
            "http.sslVerify=true",
            "transfer.fsckObjects=true",
            "safe.bareRepository=explicit",
            "submodule.recurse=false",
            "fetch.recurseSubmodules=false",
            "gc.auto=0",
            "maintenance.auto=false",
            "init.defaultBranch=main",
            "advice.detachedHead=false",
        ]
        return settings.flatMap { ["-c", $0] }
    }

    /// The full argument vector of one call: git, no pager, the working directory, the settings,
    /// then `arguments` (where every untrusted value comes after `--` or inside `--name=value`).
    func argv(_ arguments: [String], in directory: String) -> [String] {
        var pinned = pins.resolve.flatMap { ["-c", "http.curloptResolve=\($0)"] }
        if pins.refuseRedirects { pinned += ["-c", "http.followRedirects=false"] }
        return [gitPath, "--no-pager", "-C", directory] + Self.configArguments(allowLocal: allowLocal) + pinned
            + arguments
    }

    /// Runs one git command to its end and returns how it ended (a non-zero status included).
    /// - Throws: `.timeout`, `.cancelled`, `.tooLarge` (the tree was killed), `.system`.
    func run(_ arguments: [String], in directory: String, what: String) throws(FetchError) -> GroupedProcess.Outcome {
        if GroupedProcess.now() >= deadline { throw timeout(what) }
        let directoryToWatch = watchedDirectory
        let limit = maxBytes
        let process = GroupedProcess(
            argv: argv(arguments, in: directory),
            environment: Self.environment(home: home, allowLocal: allowLocal, sshAddress: pins.sshAddress),
            deadline: deadline, cancelFD: cancelFD,
            watchdog: .init(interval: 1) { DirectorySize.measure(directoryToWatch, stopAbove: limit) > limit })
        let outcome = try process.run()
        switch outcome.stop {
        case .deadline: throw timeout(what)
        case .cancelled: throw FetchError(.cancelled, "the fetch was cancelled during \(what); git was killed")
        case .watchdog: throw FetchError.tooLarge(limit, during: what)
        case nil: return outcome
        }
    }

    /// Like `run`, but a non-zero status is `.gitFailed` with the end of git's message.
    @discardableResult
    func check(_ arguments: [String], in directory: String, what: String) throws(FetchError) -> GroupedProcess.Outcome {
        let outcome = try run(arguments, in: directory, what: what)
        guard outcome.status == 0 else { throw Self.failure(what, outcome) }
        return outcome
    }

    static func failure(_ what: String, _ outcome: GroupedProcess.Outcome) -> FetchError {
        let tail = FetchError.cleanTail(outcome.stderr)
        return FetchError(
            .gitFailed, "\(what) failed (exit \(outcome.status))" + (tail.isEmpty ? "" : ": \(tail)"))
    }

    private func timeout(_ what: String) -> FetchError {
        FetchError(
            .timeout,
            "the fetch did not finish within \(timeoutSeconds) s (during \(what)); git and its children were killed")
    }

    /// `'text'`, for sh -c (git runs GIT_SSH_COMMAND through the shell).
    static func shellQuoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

extension FetchError {
    static func tooLarge(_ limit: UInt64, during what: String) -> FetchError {
        FetchError(.tooLarge, "the checkout grew beyond the limit of \(limit) bytes (during \(what)); it was removed")
    }
}
