import FlakeboxSandbox

/// One `RepositoryFetcher.pinnedRef`: the commit a ref names now, asked of the repository with
/// `git ls-remote` under the same rules as a fetch of the same request (`SanitizedGit`, the host
/// allow-list, public addresses only for remote input with git pinned to the checked ones, one
/// deadline). `prepare` validates without running anything; `run` blocks (on a thread of its own).
struct RefPinning: Sendable {
    let request: FetchRequest
    let url: String
    let ref: GitRef
    let cancelFD: Int32
    let start: Double

    static func prepare(_ request: FetchRequest, cancelFD: Int32) throws(FetchError) -> RefPinning {
        let start = GroupedProcess.now()
        let url = try RepositoryURL.validate(request.repo, allowLocal: request.allowLocal)
        let ref = try GitRef.parse(request.ref)
        guard request.timeoutSeconds > 0, request.timeoutSeconds.isFinite else {
            throw FetchError(.system, "the fetch timeout must be a positive number of seconds")
        }
        return RefPinning(request: request, url: url, ref: ref, cancelFD: cancelFD, start: start)
    }

    func run() throws(FetchError) -> String {
        // In order of preference; the same list is ls-remote's patterns.
        let patterns: [String]
        switch ref {
        case .commit(let id), .abbreviatedCommit(let id): return id
        case .defaultBranch: patterns = ["HEAD"]
        // What `git clone --branch=NAME` takes, in its order: the branch, else the tag (an
        // annotated tag's commit is its peeled `^{}` line, listed only when asked for).
        case .name(let name): patterns = ["refs/heads/\(name)", "refs/tags/\(name)^{}", "refs/tags/\(name)"]
        }
        guard let gitPath = SanitizedGit.executable else {
            throw FetchError(.system, "git not found in /usr/bin or /bin")
        }
        try FetchOperation.checkAllowed(url, request.allowedHosts, what: "the repository")
        let home = try FetchOperation.makePrivateHome()
        defer { _ = HostCommand.run(["/bin/rm", "-rf", "--", home]) }
        var git = SanitizedGit(
            gitPath: gitPath, home: home, allowLocal: request.allowLocal,
            deadline: start + request.timeoutSeconds, timeoutSeconds: request.timeoutSeconds, cancelFD: cancelFD,
            watchedDirectory: home, maxBytes: request.maxBytes)
        if request.addressScope == .publicOnly { git.pins = try FetchOperation.pins(for: url) }
        let outcome = try git.check(["ls-remote", "--", url] + patterns, in: home, what: "git ls-remote")
        let listed = Self.parse(outcome.stdout)
        guard let commit = patterns.lazy.compactMap({ listed[$0] }).first else {
            switch ref {
            case .name(let name):
                throw FetchError(
                    .gitFailed, "the repository has no branch or tag \(RepositoryURL.quoted(name)) (git ls-remote)")
            default:
                throw FetchError(.gitFailed, "the repository has no default branch (HEAD); is it empty?")
            }
        }
        return commit
    }

    /// `ls-remote`'s lines, `<id>\t<ref>`, as ref → id (lines that are not one are skipped).
    static func parse(_ bytes: [UInt8]) -> [String: String] {
        var listed: [String: String] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")),
                let id = FetchOperation.commitID(Array(line[..<tab]))
            else { continue }
            listed[String(decoding: line[(tab + 1)...], as: UTF8.self)] = id
        }
        return listed
    }
}
