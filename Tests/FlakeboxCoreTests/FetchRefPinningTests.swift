import FlakeboxCore
import Foundation
import Testing

/// `RepositoryFetcher.pinnedRef`: the commit a ref names now, for the shards of a fan-out, asked
/// of the repository with `git ls-remote` under a fetch's rules.
@Suite("Fetch: pinning a ref to its commit")
struct FetchRefPinningTests {
    @Test("each kind of ref, by path and file://, to the commit a clone of it checks out")
    func kinds() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        try FetchFixtures.git(["tag", "light", repository.feature], in: repository.path)
        // A tag and a branch of the same name: clone takes the branch.
        try FetchFixtures.git(["tag", "-a", "feature", "-m", "shadowed", repository.first], in: repository.path)
        let short = String(repository.first.prefix(9))
        let cases: [(String?, String)] = [
            (nil, repository.second), ("HEAD", repository.second), ("main", repository.second),
            ("feature", repository.feature), ("v1", repository.first), ("light", repository.feature),
            (repository.first.uppercased(), repository.first), (short.uppercased(), short),
        ]
        for url in [repository.path, "file://" + repository.path] {
            for (ref, expected) in cases {
                let pinned = try await RepositoryFetcher.pinnedRef(FetchRequest(repo: url, ref: ref, allowLocal: true))
                #expect(pinned == expected, "\(url) \(ref ?? "nil")")
            }
        }
        // What a clone of each name checks out (the control).
        for (ref, expected) in cases.prefix(6) {
            let destination = "\(root)/checkout-\(UUID().uuidString.prefix(8))"
            let fetched = try await RepositoryFetcher.fetch(
                FetchRequest(repo: repository.path, ref: ref, allowLocal: true), into: destination)
            #expect(fetched.commit == expected, "clone of \(ref ?? "nil")")
        }
    }

    @Test("a pinned ref stays when the branch moves")
    func branchMoves() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        let pinned = try await RepositoryFetcher.pinnedRef(FetchRequest(repo: repository.path, allowLocal: true))
        try FetchFixtures.write("three\n", to: "\(repository.path)/a.txt")
        try FetchFixtures.git(["commit", "-q", "-am", "third"], in: repository.path)
        let moved = try await RepositoryFetcher.pinnedRef(FetchRequest(repo: repository.path, allowLocal: true))
        #expect(pinned == repository.second && moved != pinned)
        let fetched = try await RepositoryFetcher.fetch(
            FetchRequest(repo: repository.path, ref: pinned, allowLocal: true), into: "\(root)/checkout")
        #expect(fetched.commit == pinned && FetchFixtures.read("\(root)/checkout/a.txt") == "two\n")
    }

    @Test("a branch or tag that does not exist, and an empty repository, fail with what is missing")
    func missing() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        do {
            _ = try await RepositoryFetcher.pinnedRef(
                FetchRequest(repo: repository.path, ref: "no-such-branch", allowLocal: true))
            Issue.record("pinned a branch that does not exist")
        } catch {
            #expect(error.code == .gitFailed)
            #expect(error.message.contains("no branch or tag 'no-such-branch'"), "\(error.message)")
        }
        let empty = "\(root)/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try FetchFixtures.git(["init", "-q"], in: empty)
        do {
            _ = try await RepositoryFetcher.pinnedRef(FetchRequest(repo: empty, allowLocal: true))
            Issue.record("pinned the default branch of an empty repository")
        } catch {
            #expect(error.code == .gitFailed && error.message.contains("no default branch"), "\(error.message)")
        }
    }

    @Test("remote rules: local paths, private addresses and hosts off the list are refused before git connects")
    func refusals() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let repository = try FetchFixtures.makeRepository(in: root)
        do {
            _ = try await RepositoryFetcher.pinnedRef(FetchRequest(repo: repository.path))
            Issue.record("a local path was pinned without allowLocal")
        } catch {
            #expect(error.code == .localNotAllowed, "\(error)")
        }
        let listener = try LoopbackListener()
        defer { listener.close() }
        do {
            _ = try await RepositoryFetcher.pinnedRef(
                FetchRequest(repo: "https://127.0.0.1:\(listener.port)/repo.git", ref: "main", timeoutSeconds: 20))
            Issue.record("a loopback repository was asked")
        } catch {
            #expect(error.code == .addressRefused, "\(error)")
        }
        #expect(!listener.hasPendingConnection(within: 0.5), "git connected to loopback")
        do {
            _ = try await RepositoryFetcher.pinnedRef(
                FetchRequest(repo: "https://gitlab.example/x/y.git", allowedHosts: HostAllowList(["github.com"])))
            Issue.record("a host off the list was asked")
        } catch {
            #expect(error.code == .hostNotAllowed, "\(error)")
        }
        do {
            _ = try await RepositoryFetcher.pinnedRef(FetchRequest(repo: repository.path, ref: "-x", allowLocal: true))
            Issue.record("an option-like ref was accepted")
        } catch {
            #expect(error.code == .invalidRef, "\(error)")
        }
    }
}
