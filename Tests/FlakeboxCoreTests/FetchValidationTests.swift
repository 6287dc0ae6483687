import Foundation
import Testing

@testable import FlakeboxCore

@Suite("Fetch: URL and ref validation")
struct FetchValidationTests {
    @Test(
        "accepted remote URLs",
        arguments: [
            ("https://github.com/apple/swift.git", RepositoryURL.Kind.https),
            ("https://git.example.com:8443/group/sub/repo", .https),
            ("HTTPS://example.com/x", .https),
            ("https://[::1]:8443/x.git", .https),
            ("https://example.com/~user/r%C3%A9po.git", .https),
            ("ssh://git@github.com/apple/swift.git", .ssh),
            ("ssh://example.com:2222/~/repo.git", .ssh),
            ("git@github.com:apple/swift.git", .scpLike),
            ("example.com:repo.git", .scpLike),
            ("deploy_user@host.example:/srv/git/x.git", .scpLike),
        ])
    func acceptedRemote(url: String, kind: RepositoryURL.Kind) throws {
        #expect(try RepositoryURL.classify(url) == kind)
        #expect(try RepositoryURL.validate(url, allowLocal: false) == url)
    }

    @Test(
        "rejected URLs",
        arguments: [
            "", "--upload-pack=touch /tmp/pwned", "--upload-pack=touch", "-u touch", "-oProxyCommand=x:y",
            "ext::sh -c touch% /tmp/pwned", "ext::touch%20x", "fd::17", "a::b", "foo+bar::https://x/y",
            "https://example.com/x --upload-pack=y", "https://example.com/x\n--upload-pack=y",
            "https://example.com/x\0y", "https://example.com/x\ty", "https://example.com/x\u{202E}y",
            "https://example.com/x\u{00A0}y", "https://user:pw@host/x", "https://TOKEN@github.com/x/y",
            "http://github.com/x/y", "git://github.com/x/y", "ftp://example.com/x", "svn+ssh://host/x",
            "ssh://-oProxyCommand=touch/x", "ssh://user:pw@host/x", "ssh://-user@host/x", "git@-host:x",
            "host:-path", "https://example.com", "https://example.com/", "https://example.com/x%0a",
            "https://example.com/x%zz", "https://example.com/x?y=1", "https://example.com/x#frag",
            "https://hoşt.example/x", "https://ex ample.com/x", "https://example.com:99999/x",
            "https://-host/x", "https://host/a\\b", "https://host/a\"b", "https://host/a<b>",
            "user@[::1]:x", String(repeating: "a", count: 5000),
        ])
    func rejected(url: String) {
        for allowLocal in [false, true] {
            do {
                let accepted = try RepositoryURL.validate(url, allowLocal: allowLocal)
                Issue.record("accepted \(url.debugDescription) as \(accepted)")
            } catch {
                #expect(error.code == .invalidURL, "\(url): \(error)")
            }
        }
    }

    @Test(
        "local paths and file:// need allowLocal",
        arguments: ["/tmp/repo", "file:///tmp/repo", "relative/repo", "./repo", "../repo", "repo", "/tmp/a:b"])
    func localNeedsPermission(url: String) throws {
        do {
            _ = try RepositoryURL.validate(url, allowLocal: false)
            Issue.record("\(url) accepted without allowLocal")
        } catch {
            #expect(error.code == .localNotAllowed)
        }
        let accepted = try RepositoryURL.validate(url, allowLocal: true)
        #expect(accepted.hasPrefix("/") || accepted.hasPrefix("file:///"))
    }

    @Test("file:// with a host is not a local path")
    func fileWithHost() {
        #expect(
            throws: FetchError(.invalidURL, "repository 'file://host/x' is not file:///absolute/path (no host part)")
        ) {
            try RepositoryURL.validate("file://host/x", allowLocal: true)
        }
    }

    @Test("a relative path is made absolute against the working directory")
    func relativeMadeAbsolute() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let expected = (cwd.hasSuffix("/") ? cwd : cwd + "/") + "some/repo"
        #expect(try RepositoryURL.validate("some/repo", allowLocal: true) == expected)
    }

    @Test("credentials never appear in the error message")
    func credentialsRedacted() {
        for url in ["https://alice:hunter2secret@example.com/x", "https://ghp_hunter2secret@github.com/x/y"] {
            do {
                _ = try RepositoryURL.validate(url, allowLocal: false)
                Issue.record("accepted \(url)")
            } catch {
                #expect(!error.message.contains("hunter2secret"), "\(error.message)")
                #expect(error.message.contains("***@"))
            }
        }
    }

    @Test(
        "submodule URLs: relative ones checked for junk, the rest like the repository's",
        arguments: [
            ("../sibling.git", true), ("./sub", true), ("https://example.com/x.git", true),
            ("ext::sh -c touch% /tmp/x", false), ("../x\n-y", false), ("../a::b", false),
            ("/srv/local", false), ("-u x", false),
        ])
    func submoduleURLs(url: String, accepted: Bool) {
        let result = Result { () throws(FetchError) in try RepositoryURL.validateSubmodule(url, allowLocal: false) }
        #expect((try? result.get()) != nil ? accepted : !accepted, "\(url)")
    }

    // MARK: - Refs

    @Test(
        "branch and tag names",
        arguments: ["main", "feature/x", "v1.0.0", "release-2024", "a.b", "user@host", "ümlaut", "x.locked"])
    func names(ref: String) throws {
        #expect(try GitRef.parse(ref) == .name(ref))
    }

    @Test("commit ids, full and abbreviated, are lowercased")
    func commitIDs() throws {
        let sha1 = String(repeating: "ab12", count: 10)
        let sha256 = String(repeating: "cd34", count: 16)
        #expect(try GitRef.parse(sha1) == .commit(sha1))
        #expect(try GitRef.parse(sha1.uppercased()) == .commit(sha1))
        #expect(try GitRef.parse(sha256) == .commit(sha256))
        #expect(try GitRef.parse("ABCDEF1") == .abbreviatedCommit("abcdef1"))
        #expect(try GitRef.parse("abcdef") == .name("abcdef"))
        #expect(try GitRef.parse(String(repeating: "a", count: 41)) == .name(String(repeating: "a", count: 41)))
    }

    @Test("no ref, an empty one and HEAD mean the default branch")
    func defaultBranch() throws {
        #expect(try GitRef.parse(nil) == .defaultBranch)
        #expect(try GitRef.parse("") == .defaultBranch)
        #expect(try GitRef.parse("HEAD") == .defaultBranch)
    }

    @Test(
        "hostile and malformed refs",
        arguments: [
            "--orphan", "-b", "-", "..", "a..b", "@{", "x@{-1}", "@", "refs/heads/x.lock", "x.lock", "x y",
            "a\u{7}b", "a\nb", "a\0b", "a\u{7F}b", "HEAD:../../", "a:b", "a~1", "a^", "a?", "a*", "a[b", "a\\b", "/a",
            "a/", "a//b", ".a", "a/.b", "a.", "a\u{202E}b", "a\u{200B}b", String(repeating: "x", count: 2000),
        ])
    func hostileRefs(ref: String) {
        do {
            let parsed = try GitRef.parse(ref)
            Issue.record("accepted \(ref.debugDescription) as \(parsed)")
        } catch {
            #expect(error.code == .invalidRef)
        }
    }

    // MARK: - Messages

    @Test("git's output is cleaned of control characters and cut to its last lines")
    func cleanTail() {
        let raw = Array("one\r\ntwo\u{1B}[31mred\u{7}\n\n\u{202E}evil\tx\n".utf8)
        #expect(FetchError.cleanTail(raw) == "one\ntwo?[31mred?\n?evil x")
        let many = Array((1...40).map { "line \($0)" }.joined(separator: "\n").utf8)
        let kept = FetchError.cleanTail(many, maxLines: 3)
        #expect(kept == "line 38\nline 39\nline 40")
    }
}
