import FlakeboxSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One fetch, from validated input to a checked checkout. `prepare` validates everything
/// without touching the disk or starting a process; `run` blocks (on a thread of its own).
struct FetchOperation: Sendable {
    let request: FetchRequest
    /// What git is given: the validated URL or absolute local path.
    let url: String
    let ref: GitRef
    let directory: String
    let cancelFD: Int32
    let start: Double

    /// Validates the request and the destination; nothing runs, nothing is created.
    static func prepare(
        _ request: FetchRequest, into directory: String, cancelFD: Int32
    ) throws(FetchError) -> FetchOperation {
        let start = GroupedProcess.now()
        let url = try RepositoryURL.validate(request.repo, allowLocal: request.allowLocal)
        let ref = try GitRef.parse(request.ref)
        guard request.timeoutSeconds > 0, request.timeoutSeconds.isFinite else {
            throw FetchError(.system, "the fetch timeout must be a positive number of seconds")
        }
        try checkDestination(directory)
        return FetchOperation(
            request: request, url: url, ref: ref, directory: directory, cancelFD: cancelFD, start: start)
    }

    /// The destination is an absolute path whose parent is a directory, and it does not exist
    /// or is an empty directory (never a symlink).
    private static func checkDestination(_ path: String) throws(FetchError) {
        guard path.hasPrefix("/"), !path.contains("\0"), path != "/" else {
            throw FetchError(.destination, "the checkout directory must be an absolute path: \(path)")
        }
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        let parent = trimmed.split(separator: "/").dropLast().joined(separator: "/")
        var info = stat()
        guard lstat("/" + parent, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FetchError(.destination, "the parent of the checkout directory is not a directory: /\(parent)")
        }
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw FetchError(.destination, "\(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FetchError(.destination, "the checkout directory exists and is not a directory: \(path)")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
        guard entries.isEmpty else {
            throw FetchError(.destination, "the checkout directory exists and is not empty: \(path)")
        }
    }

    /// Fetches and checks out; on any failure the checkout directory is removed.
    func run() throws(FetchError) -> FetchResult {
        guard let gitPath = SanitizedGit.executable else {
            throw FetchError(.system, "git not found in /usr/bin or /bin")
        }
        let home = try Self.makePrivateHome()
        defer { _ = HostCommand.run(["/bin/rm", "-rf", "--", home]) }
        var git = SanitizedGit(
            gitPath: gitPath, home: home, allowLocal: request.allowLocal,
            deadline: start + request.timeoutSeconds, timeoutSeconds: request.timeoutSeconds, cancelFD: cancelFD,
            watchedDirectory: directory, maxBytes: request.maxBytes)
        try Self.checkAllowed(url, request.allowedHosts, what: "the repository")
        if request.addressScope == .publicOnly { git.pins = try Self.pins(for: url) }
        do throws(FetchError) {
            let expected: String?
            switch ref {
            case .defaultBranch:
                try clone(git, branch: nil)
                expected = nil
            case .name(let name):
                try clone(git, branch: name)
                expected = nil
            case .commit(let id):
                try fetchCommit(git, id: id)
                expected = id
            case .abbreviatedCommit(let prefix):
                expected = try fetchAbbreviatedCommit(git, prefix: prefix)
            }
            try checkGitDirectory()
            if request.submodules { try updateSubmodules(&git) }
            var commit = try headCommit(git)
            if let expected, commit != expected {
                throw FetchError(.gitFailed, "checked out \(commit), expected \(expected)")
            }
            var workingTree: WorkingTreeSnapshot?
            if request.includeWorkingTree, ref == .defaultBranch, (try? RepositoryURL.classify(url)) == .localPath {
                let snapshot = try WorkingTreeSnapshot.apply(from: url, to: directory, baseCommit: commit, git: git)
                if !snapshot.isEmpty { commit = try headCommit(git) }
                workingTree = snapshot
            }
            let bytes = DirectorySize.measure(directory, stopAbove: request.maxBytes)
            if bytes > request.maxBytes { throw FetchError.tooLarge(request.maxBytes, during: "the final size check") }
            var info = stat()
            let shallow = lstat(directory + "/.git/shallow", &info) == 0
            var result = FetchResult(
                directory: directory, commit: commit, durationSeconds: GroupedProcess.now() - start, bytes: bytes,
                shallow: shallow)
            result.workingTree = workingTree
            return result
        } catch {
            _ = HostCommand.run(["/bin/rm", "-rf", "--", directory])
            throw error
        }
    }

    // MARK: - Steps

    /// `git clone --depth 1 [--branch=NAME] -- URL DIR`: the default branch, a branch or a tag.
    private func clone(_ git: SanitizedGit, branch: String?) throws(FetchError) {
        var arguments = [
            "clone", "--quiet", "--no-local", "--depth", "1", "--single-branch", "--no-recurse-submodules",
            "--template=",
        ]
        if let branch { arguments.append("--branch=\(branch)") }
        arguments += ["--", url, directory]
        try git.check(arguments, in: git.home, what: "git clone")
    }

    /// An empty repository with `origin` set, for fetching by commit id (a 64-digit id means a
    /// SHA-256 repository, which `git init` must be told; `git clone` finds out by itself).
    private func initialize(_ git: SanitizedGit, sha256: Bool = false) throws(FetchError) {
        let format = sha256 ? ["--object-format=sha256"] : []
        try git.check(
            ["init", "--quiet", "--template="] + format + ["--", directory], in: git.home, what: "git init")
        try checkGitDirectory()
        try git.check(["remote", "add", "origin", "--", url], in: directory, what: "git remote add")
    }

    /// By id at depth 1 (servers allow it for reachable commits); if the server refuses, every
    /// branch and tag, in full.
    private func fetchCommit(_ git: SanitizedGit, id: String) throws(FetchError) {
        try initialize(git, sha256: id.utf8.count == 64)
        let shallow = try git.run(
            ["fetch", "--quiet", "--depth", "1", "--no-tags", "--no-recurse-submodules", "origin", id],
            in: directory, what: "git fetch \(id)")
        if shallow.status != 0 {
            let byID = SanitizedGit.failure("git fetch by id", shallow)
            try fetchEverything(git)
            guard try resolveCommit(git, id) != nil else {
                throw FetchError(.gitFailed, "commit \(id) is not in the repository (\(byID.message))")
            }
        }
        try git.check(["checkout", "--quiet", "--detach", id], in: directory, what: "git checkout \(id)")
    }

    /// A full fetch, then the abbreviation resolved locally (it must name exactly one commit).
    private func fetchAbbreviatedCommit(_ git: SanitizedGit, prefix: String) throws(FetchError) -> String {
        try initialize(git)
        try fetchEverything(git)
        guard let id = try resolveCommit(git, prefix) else {
            throw FetchError(.gitFailed, "no single commit of the repository starts with \(prefix)")
        }
        try git.check(["checkout", "--quiet", "--detach", id], in: directory, what: "git checkout \(id)")
        return id
    }

    private func fetchEverything(_ git: SanitizedGit) throws(FetchError) {
        try git.check(
            ["fetch", "--quiet", "--tags", "--no-recurse-submodules", "origin"], in: directory, what: "git fetch")
    }

    /// The full id of the commit `hexPrefix` names, or nil (unknown or ambiguous).
    private func resolveCommit(_ git: SanitizedGit, _ hexPrefix: String) throws(FetchError) -> String? {
        let outcome = try git.run(
            ["rev-parse", "--verify", "--quiet", "\(hexPrefix)^{commit}"], in: directory, what: "git rev-parse")
        guard outcome.status == 0 else { return nil }
        return Self.commitID(outcome.stdout)
    }

    /// `git rev-parse --verify HEAD` in the fresh checkout (the only git command the host ever
    /// runs inside a fetched tree, before any test has touched it).
    private func headCommit(_ git: SanitizedGit) throws(FetchError) -> String {
        let outcome = try git.check(["rev-parse", "--verify", "HEAD"], in: directory, what: "git rev-parse HEAD")
        guard let id = Self.commitID(outcome.stdout) else {
            throw FetchError(.gitFailed, "git rev-parse HEAD printed no commit id")
        }
        return id
    }

    /// Shallow submodules, after checking every URL in `.gitmodules` (read from the commit, not
    /// the work tree) against the same rules as the repository's own; nested submodules rely on
    /// the protocol allow-list and git's own checks of submodule URLs.
    private func updateSubmodules(_ git: inout SanitizedGit) throws(FetchError) {
        var info = stat()
        guard lstat(directory + "/.gitmodules", &info) == 0 else { return }
        let listing = try git.run(
            ["config", "--blob", "HEAD:.gitmodules", "--null", "--get-regexp", "^submodule\\..*\\.url$"],
            in: directory, what: "reading .gitmodules")
        // Status 1: no URL at all.
        guard listing.status == 0 || listing.status == 1 else {
            throw SanitizedGit.failure("reading .gitmodules", listing)
        }
        for entry in listing.stdout.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let newline = text.firstIndex(of: "\n") else { continue }
            let key = String(text[..<newline])
            let value = String(text[text.index(after: newline)...])
            do throws(FetchError) {
                try RepositoryURL.validateSubmodule(value, allowLocal: request.allowLocal)
                try Self.checkAllowed(value, request.allowedHosts, what: "the submodule")
                if request.addressScope == .publicOnly, let endpoint = RemoteHostGuard.endpoint(of: value),
                    endpoint.https
                {
                    let extra = try Self.pins(for: value)
                    git.pins.resolve += extra.resolve
                }
            } catch {
                throw FetchError(error.code, "\(RepositoryURL.quoted(key)): \(error.message)")
            }
        }
        // Only the submodules checked above: a nested `.gitmodules` is never read, so for a
        // remote job its hosts would be neither checked nor pinned. Nested ones come only for a
        // job from the command line.
        var update = ["submodule", "--quiet", "update", "--init", "--depth", "1"]
        if request.addressScope != .publicOnly { update.append("--recursive") }
        try git.check(update, in: directory, what: "git submodule update")
    }

    // MARK: - Helpers

    /// Refuses a network URL whose host is not on the allow-list (a local path has no host).
    static func checkAllowed(_ url: String, _ list: HostAllowList, what: String) throws(FetchError) {
        guard !list.isEmpty, let endpoint = RemoteHostGuard.endpoint(of: url), !list.allows(host: endpoint.host)
        else { return }
        throw FetchError(
            .hostNotAllowed,
            "\(what)'s host \(RepositoryURL.quoted(endpoint.host)) is not on this site's allow-list "
                + "(\(list.entries.joined(separator: ", ")))")
    }

    /// Resolves and checks the host `url` names, and pins git to what was checked.
    static func pins(for url: String) throws(FetchError) -> SanitizedGit.Pins {
        var pins = SanitizedGit.Pins(refuseRedirects: true)
        guard let endpoint = RemoteHostGuard.endpoint(of: url) else { return pins }
        let addresses = try RemoteHostGuard.check(host: endpoint.host)
        // A numeric host needs no pin: nothing is resolved again.
        let numeric = HostAddress(endpoint.host) != nil
        if endpoint.https {
            if !numeric {
                pins.resolve.append(
                    RemoteHostGuard.resolveEntry(host: endpoint.host, port: endpoint.port, addresses: addresses))
            }
        } else {
            pins.sshAddress = addresses[0].description
        }
        return pins
    }

    /// The repository's `.git` is a real directory (so `-C DIR` can only find this repository).
    private func checkGitDirectory() throws(FetchError) {
        var info = stat()
        guard lstat(directory + "/.git", &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FetchError(.gitFailed, "git left no .git directory in \(directory)")
        }
    }

    /// 40 or 64 lowercase hex digits, alone on the first line.
    static func commitID(_ bytes: [UInt8]) -> String? {
        let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard line.count == 40 || line.count == 64,
            line.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return line
    }

    /// A fresh 0700 directory for git's `HOME` (and ssh's known hosts).
    static func makePrivateHome() throws(FetchError) -> String {
        var base = FileManager.default.temporaryDirectory.path
        if base.hasSuffix("/") { base.removeLast() }
        var template = Array("\(base)/flakebox-git-home.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw FetchError(.system, "mkdtemp in \(base): \(String(cString: strerror(errno)))")
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
