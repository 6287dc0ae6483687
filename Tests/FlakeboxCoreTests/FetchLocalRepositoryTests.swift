import Foundation
import Testing

@testable import FlakeboxCore

/// Real fetches of repositories made on the spot (by path and by `file://`, with allowLocal).
@Suite("Fetch: local repositories")
struct FetchLocalRepositoryTests {
    enum Form: String, CaseIterable, Sendable {
        case path, fileURL

        func url(_ repository: FetchFixtures.Repository) -> String {
            self == .path ? repository.path : "file://" + repository.path
        }
    }

    enum Ref: String, CaseIterable, Sendable {
        case none, main, feature, tag, fullFirst, shortFirst, fullFeature

        func text(_ repository: FetchFixtures.Repository) -> String? {
            switch self {
            case .none: return nil
            case .main: return "main"
            case .feature: return "feature"
            case .tag: return "v1"
            case .fullFirst: return repository.first
            case .shortFirst: return String(repository.first.prefix(9)).uppercased()
            case .fullFeature: return repository.feature
            }
        }

        func expectedCommit(_ repository: FetchFixtures.Repository) -> String {
            switch self {
            case .none, .main: return repository.second
            case .feature, .fullFeature: return repository.feature
            case .tag, .fullFirst, .shortFirst: return repository.first
            }
        }
    }

    @Test("the right commit and files, shallow where possible", arguments: Form.allCases, Ref.allCases)
    func fetches(form: Form, ref: Ref) async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        let destination = "\(root)/checkout"
        let request = FetchRequest(repo: form.url(repository), ref: ref.text(repository), allowLocal: true)

        let result = try await RepositoryFetcher.fetch(request, into: destination)

        let expected = ref.expectedCommit(repository)
        #expect(result.commit == expected)
        #expect(result.directory == destination)
        #expect(result.shallow == (ref != .shortFirst))
        #expect(result.bytes > 0)
        #expect(result.durationSeconds > 0)
        let a = FetchFixtures.read("\(destination)/a.txt")
        switch expected {
        case repository.second:
            #expect(a == "two\n")
            #expect(FetchFixtures.read("\(destination)/b.txt") == "bee\n")
            #expect(!FetchFixtures.exists("\(destination)/f.txt"))
        case repository.feature:
            #expect(a == "one\n")
            #expect(FetchFixtures.read("\(destination)/f.txt") == "feature\n")
            #expect(!FetchFixtures.exists("\(destination)/b.txt"))
        default:
            #expect(a == "one\n")
            #expect(!FetchFixtures.exists("\(destination)/b.txt"))
            #expect(!FetchFixtures.exists("\(destination)/f.txt"))
        }
        // Nothing in .git can run later: no hooks directory, and git's own configuration only.
        #expect(!FetchFixtures.exists("\(destination)/.git/hooks"))
        let config = FetchFixtures.read("\(destination)/.git/config") ?? ""
        #expect(!config.contains("fsmonitor") && !config.contains("hooksPath") && !config.contains("sshCommand"))
    }

    @Test("a SHA-256 repository, by its 64-digit commit id and by its default branch")
    func sha256Repository() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let path = "\(root)/origin"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FetchFixtures.git(["init", "-q", "--object-format=sha256"], in: path)
        try FetchFixtures.write("one\n", to: "\(path)/a.txt")
        try FetchFixtures.git(["add", "a.txt"], in: path)
        try FetchFixtures.git(["commit", "-q", "-m", "first"], in: path)
        let id = try FetchFixtures.git(["rev-parse", "HEAD"], in: path)
        #expect(id.count == 64)
        for (ref, name) in [(id, "by-id"), (nil, "default")] {
            let result = try await RepositoryFetcher.fetch(
                FetchRequest(repo: path, ref: ref, allowLocal: true), into: "\(root)/\(name)")
            #expect(result.commit == id)
            #expect(FetchFixtures.read("\(root)/\(name)/a.txt") == "one\n")
        }
    }

    @Test("a branch that does not exist reaches git and fails with git's message")
    func missingBranch() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        let destination = "\(root)/checkout"
        do {
            _ = try await RepositoryFetcher.fetch(
                FetchRequest(repo: repository.path, ref: "no-such-branch", allowLocal: true), into: destination)
            Issue.record("fetched a branch that does not exist")
        } catch {
            #expect(error.code == .gitFailed)
            #expect(error.message.contains("git clone failed"))
            #expect(error.message.contains("no-such-branch"), "\(error.message)")
            #expect(!error.message.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        }
        #expect(!FetchFixtures.exists(destination))
    }

    @Test("a commit id that is not in the repository fails after the fallback fetch")
    func missingCommit() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        let destination = "\(root)/checkout"
        let missing = String(repeating: "0123456789", count: 4)
        do {
            _ = try await RepositoryFetcher.fetch(
                FetchRequest(repo: repository.path, ref: missing, allowLocal: true), into: destination)
            Issue.record("fetched a commit that does not exist")
        } catch {
            #expect(error.code == .gitFailed)
            #expect(error.message.contains("commit \(missing) is not in the repository"), "\(error.message)")
        }
        #expect(!FetchFixtures.exists(destination))
    }

    @Test("without allowLocal, paths and file:// are refused before git runs", arguments: Form.allCases)
    func localRefused(form: Form) async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        let destination = "\(root)/checkout"
        do {
            _ = try await RepositoryFetcher.fetch(FetchRequest(repo: form.url(repository)), into: destination)
            Issue.record("fetched a local repository without allowLocal")
        } catch {
            #expect(error.code == .localNotAllowed)
        }
        #expect(!FetchFixtures.exists(destination))
    }

    static let hostileURLs = [
        "--upload-pack=touch MARKER", "-u touch MARKER", "--upload-pack=touch%20MARKER", "ext::sh -c touch% MARKER",
        "ext::touch%20MARKER", "fd::17", "https://example.com/x --upload-pack=touch MARKER",
        "https://example.com/x\n--upload-pack=touch MARKER", "https://example.com/x\0--upload-pack=touch MARKER",
        "a::b", "https://user:pw@host/x", "ssh://-oProxyCommand=touch%20MARKER/x", "-oProxyCommand=touch MARKER",
    ]

    @Test("hostile URLs are refused before anything runs", arguments: hostileURLs)
    func hostileURL(template: String) async {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let marker = "\(root)/pwned"
        let destination = "\(root)/checkout"
        let url = template.replacingOccurrences(of: "MARKER", with: marker)
        do {
            _ = try await RepositoryFetcher.fetch(FetchRequest(repo: url, allowLocal: true), into: destination)
            Issue.record("accepted \(url.debugDescription)")
        } catch {
            #expect(error.code == .invalidURL, "\(error)")
        }
        #expect(!FetchFixtures.exists(marker))
        #expect(!FetchFixtures.exists(destination))
    }

    static let hostileRefs = [
        "--orphan", "-b", "--upload-pack=touch MARKER", "..", "a..b", "@{", "refs/heads/x.lock", "x y", "a\u{1B}b",
        "a\nb", "HEAD:../../", "main:MARKER",
    ]

    @Test("hostile refs are refused before anything runs", arguments: hostileRefs)
    func hostileRef(template: String) async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        let marker = "\(root)/pwned"
        let destination = "\(root)/checkout"
        let ref = template.replacingOccurrences(of: "MARKER", with: marker)
        do {
            _ = try await RepositoryFetcher.fetch(
                FetchRequest(repo: repository.path, ref: ref, allowLocal: true), into: destination)
            Issue.record("accepted ref \(ref.debugDescription)")
        } catch {
            #expect(error.code == .invalidRef, "\(error)")
        }
        #expect(!FetchFixtures.exists(marker))
        #expect(!FetchFixtures.exists(destination))
    }

    @Test("git itself refuses ext:: and, without allowLocal, file (the second lock)")
    func protocolAllowList() throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        let marker = "\(root)/pwned"
        for (url, allowLocal, transport) in [
            ("ext::sh -c touch% \(marker)", true, "ext"), ("file://\(repository.path)", false, "file"),
            (repository.path, false, "file"), ("fd::17", true, "fd"),
        ] {
            let git = SanitizedGit(
                gitPath: SanitizedGit.executable!, home: root, allowLocal: allowLocal,
                deadline: GroupedProcess.now() + 30, timeoutSeconds: 30, cancelFD: -1,
                watchedDirectory: "\(root)/checkout", maxBytes: .max)
            let outcome = try git.run(["clone", "--", url, "\(root)/checkout"], in: root, what: "clone")
            #expect(outcome.status != 0)
            let message = String(decoding: outcome.stderr, as: UTF8.self)
            #expect(message.contains("transport '\(transport)' not allowed"), "\(message)")
            #expect(!FetchFixtures.exists(marker))
            FetchFixtures.remove("\(root)/checkout")
        }
    }

    @Test("a destination that is not empty is refused")
    func destinationNotEmpty() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        do {
            _ = try await RepositoryFetcher.fetch(FetchRequest(repo: repository.path, allowLocal: true), into: root)
            Issue.record("fetched into a directory that is not empty")
        } catch {
            #expect(error.code == .destination)
        }
        #expect(FetchFixtures.exists(repository.path))
    }

    // MARK: - Submodules

    /// A repository whose submodule `sub` has the URL `url` (and points at `commit`).
    private static func makeSuperproject(in root: String, submoduleURL url: String, commit: String) throws -> String {
        let path = "\(root)/super"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FetchFixtures.git(["init", "-q"], in: path)
        try FetchFixtures.write("top\n", to: "\(path)/top.txt")
        try FetchFixtures.write("[submodule \"sub\"]\n\tpath = sub\n\turl = \(url)\n", to: "\(path)/.gitmodules")
        try FetchFixtures.git(["add", "top.txt", ".gitmodules"], in: path)
        try FetchFixtures.git(["update-index", "--add", "--cacheinfo", "160000,\(commit),sub"], in: path)
        try FetchFixtures.git(["commit", "-q", "-m", "with a submodule"], in: path)
        return path
    }

    @Test("an allow-list of hosts refuses a repository or a submodule elsewhere, before anything connects")
    func allowList() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let list = HostAllowList(["github.com", "Git.Example.org."])
        #expect(list.allows(host: "github.com") && list.allows(host: "api.GitHub.com"))
        #expect(list.allows(host: "git.example.org") && !list.allows(host: "evilgithub.com"))
        #expect(!list.allows(host: "example.org") && HostAllowList().allows(host: "anything.example"))
        do {
            // Refused before a name is resolved: this machine reaches no public host.
            _ = try await RepositoryFetcher.fetch(
                FetchRequest(repo: "https://gitlab.example/x/y.git", allowedHosts: list), into: "\(root)/remote")
            Issue.record("fetched a repository whose host is off the list")
        } catch {
            #expect(error.code == .hostNotAllowed, "\(error)")
            #expect(error.message.contains("gitlab.example") && error.message.contains("github.com"), "\(error)")
        }
        let sub = try FetchFixtures.makeRepository(in: root, name: "sub")
        let superproject = try Self.makeSuperproject(
            in: root, submoduleURL: "https://evil.example/sub.git", commit: sub.second)
        do {
            _ = try await RepositoryFetcher.fetch(
                FetchRequest(repo: superproject, allowLocal: true, submodules: true, allowedHosts: list),
                into: "\(root)/with")
            Issue.record("fetched a submodule whose host is off the list")
        } catch {
            #expect(error.code == .hostNotAllowed, "\(error)")
            #expect(error.message.contains("evil.example"), "\(error)")
        }
        // The control: without a list the same superproject gets as far as git (which then fails
        // to reach the made-up host, or is refused by the address check).
        do {
            _ = try await RepositoryFetcher.fetch(
                FetchRequest(repo: superproject, allowLocal: true, submodules: true), into: "\(root)/without")
        } catch {
            #expect(error.code != .hostNotAllowed, "\(error)")
        }
    }

    @Test("submodules: fetched when asked, shallow, and left out otherwise")
    func submodules() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let sub = try FetchFixtures.makeRepository(in: root, name: "sub")
        let superproject = try Self.makeSuperproject(in: root, submoduleURL: sub.path, commit: sub.second)

        let with = try await RepositoryFetcher.fetch(
            FetchRequest(repo: superproject, allowLocal: true, submodules: true), into: "\(root)/with")
        #expect(FetchFixtures.read("\(root)/with/top.txt") == "top\n")
        #expect(FetchFixtures.read("\(root)/with/sub/b.txt") == "bee\n")
        #expect(with.shallow)

        _ = try await RepositoryFetcher.fetch(
            FetchRequest(repo: superproject, allowLocal: true), into: "\(root)/without")
        #expect(FetchFixtures.read("\(root)/without/top.txt") == "top\n")
        #expect(!FetchFixtures.exists("\(root)/without/sub/b.txt"))
    }

    @Test("a submodule URL that is not acceptable stops the fetch before git uses it")
    func hostileSubmodule() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let marker = "\(root)/pwned"
        let sub = try FetchFixtures.makeRepository(in: root, name: "sub")
        let superproject = try Self.makeSuperproject(
            in: root, submoduleURL: "ext::sh -c touch% \(marker)", commit: sub.second)
        do {
            _ = try await RepositoryFetcher.fetch(
                FetchRequest(repo: superproject, allowLocal: true, submodules: true), into: "\(root)/checkout")
            Issue.record("fetched a submodule with an ext:: URL")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(error.message.contains("submodule.sub.url"), "\(error.message)")
        }
        #expect(!FetchFixtures.exists(marker))
        #expect(!FetchFixtures.exists("\(root)/checkout"))
    }
}
