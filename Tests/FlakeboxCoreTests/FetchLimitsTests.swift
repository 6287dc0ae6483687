import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

@testable import FlakeboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The runner's process-tree kill, the wall-clock limit and the size limit.
@Suite("Fetch: limits and the process runner")
struct FetchLimitsTests {
    /// Waits up to `seconds` for the group to hold no live process.
    private static func groupIsGone(_ group: pid_t, within seconds: Double = 3) -> Bool {
        let until = GroupedProcess.now() + seconds
        while GroupedProcess.now() < until {
            if FetchFixtures.liveProcesses(inGroup: group).isEmpty { return true }
            usleep(20_000)
        }
        return false
    }

    private static func shell(_ script: String, deadline: Double = 30) -> GroupedProcess {
        GroupedProcess(
            argv: ["/bin/sh", "-c", script], environment: ["PATH=/usr/bin:/bin"],
            deadline: GroupedProcess.now() + deadline)
    }

    @Test("the deadline kills the whole tree, grandchildren and orphans included")
    func deadlineKillsTree() throws {
        // A child, an orphaned grandchild (its parent subshell exits), and the shell itself waiting.
        let process = Self.shell("sleep 60 & (sleep 61 &) ; sleep 62", deadline: 0.5)
        let began = GroupedProcess.now()
        let outcome = try process.run()
        let took = GroupedProcess.now() - began
        #expect(outcome.stop == .deadline)
        #expect(outcome.status == 128 + SIGKILL)
        #expect(took < 3, "took \(took) s")
        #expect(
            Self.groupIsGone(outcome.processGroup),
            "left: \(FetchFixtures.liveProcesses(inGroup: outcome.processGroup))")
    }

    @Test("what a process leaves running when it exits is killed too")
    func stragglersKilled() throws {
        let outcome = try Self.shell("sleep 60 & exit 3").run()
        #expect(outcome.stop == nil)
        #expect(outcome.status == 3)
        #expect(Self.groupIsGone(outcome.processGroup))
    }

    @Test("the process runs in a session of its own, whose id is its pid")
    func ownSession() throws {
        let outcome = try Self.shell("cut -d' ' -f6 /proc/$$/stat; echo $$").run()
        let lines = String(decoding: outcome.stdout, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == lines.last, "session \(lines.first ?? "?") vs pid \(lines.last ?? "?")")
        #expect(lines.last.flatMap { pid_t($0) } == outcome.processGroup)
    }

    @Test("cancellation kills the tree at once")
    func cancellation() throws {
        let cancellation = CancelSignal()
        defer { cancellation.close() }
        var process = Self.shell("sleep 60 & sleep 61")
        process.cancelFD = cancellation.readEnd
        let fire = Thread {
            usleep(200_000)
            cancellation.fire()
        }
        fire.start()
        let began = GroupedProcess.now()
        let outcome = try process.run()
        #expect(outcome.stop == .cancelled)
        // Far below the 60 s the tree would run; loose, because other tests load both cores.
        #expect(GroupedProcess.now() - began < 30)
        #expect(Self.groupIsGone(outcome.processGroup))
    }

    @Test("a watchdog that says stop kills the tree")
    func watchdog() throws {
        var process = Self.shell("sleep 60")
        process.watchdog = .init(interval: 0.1) { true }
        let outcome = try process.run()
        #expect(outcome.stop == .watchdog)
        #expect(Self.groupIsGone(outcome.processGroup))
    }

    @Test("output is bounded: the head of stdout, the tail of stderr")
    func boundedOutput() throws {
        var process = Self.shell("head -c 300000 /dev/zero; yes abcdefgh | head -c 300000 >&2; echo END >&2")
        process.stdoutLimit = 1000
        process.stderrLimit = 2000
        let outcome = try process.run()
        #expect(outcome.status == 0)
        #expect(outcome.stdout.count == 1000)
        #expect(outcome.stderr.count == 2000)
        #expect(String(decoding: outcome.stderr.suffix(4), as: UTF8.self) == "END\n")
    }

    @Test("a remote that never answers: timeout, and git's helper process is gone")
    func hangingRemote() async throws {
        let listener = try LoopbackListener()
        defer { listener.close() }
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let destination = "\(root)/checkout"
        let request = FetchRequest(
            repo: "https://127.0.0.1:\(listener.port)/repo.git", timeoutSeconds: 2, addressScope: .any)
        do {
            _ = try await RepositoryFetcher.fetch(request, into: destination)
            Issue.record("a fetch from a silent server succeeded")
        } catch {
            // Only the fetch's own deadline says timeout (a real hang would never return). No
            // bound on the elapsed time: it includes waiting for the cooperative pool, which the
            // rest of the suite may hold for many seconds on a loaded 2-core machine.
            #expect(error.code == .timeout, "\(error)")
        }
        #expect(!FetchFixtures.exists(destination))
        // git-remote-https connected (the connection waits in the backlog) and was killed with
        // git: the connection is closed.
        #expect(await onOwnThread { listener.acceptedConnectionIsClosed(within: 3) })
    }

    @Test("cancelling the task kills git at once")
    func cancelledFetch() async throws {
        let listener = try LoopbackListener()
        defer { listener.close() }
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let destination = "\(root)/checkout"
        let request = FetchRequest(
            repo: "https://127.0.0.1:\(listener.port)/repo.git", timeoutSeconds: 300, addressScope: .any)
        let task = Task { try await RepositoryFetcher.fetch(request, into: destination) }
        // Cancel once git's https helper has connected (and hangs in the TLS handshake). The task
        // may wait for a thread of the cooperative pool first: the bound is only for a failure.
        #expect(await onOwnThread { listener.hasPendingConnection(within: 120) })
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("a fetch from a silent server succeeded")
        } catch let error as FetchError {
            #expect(error.code == .cancelled, "\(error)")
        }
        // Cancelled, not timed out after its 300 s (the error says which).
        #expect(!FetchFixtures.exists(destination))
        #expect(await onOwnThread { listener.acceptedConnectionIsClosed(within: 3) })
    }

    @Test("a checkout over the size limit is refused and removed")
    func tooLarge() async throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        let path = "\(root)/big"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FetchFixtures.git(["init", "-q"], in: path)
        // Incompressible, in one read (a byte at a time is two million getrandom calls).
        let noise = try #require(FileHandle(forReadingAtPath: "/dev/urandom")?.readData(ofLength: 2 << 20))
        try noise.write(to: URL(fileURLWithPath: "\(path)/noise.bin"))
        try FetchFixtures.git(["add", "noise.bin"], in: path)
        try FetchFixtures.git(["commit", "-q", "-m", "two MiB of noise"], in: path)
        let destination = "\(root)/checkout"
        do {
            _ = try await RepositoryFetcher.fetch(
                FetchRequest(repo: path, allowLocal: true, maxBytes: 1 << 20), into: destination)
            Issue.record("fetched 2 MiB with a 1 MiB limit")
        } catch {
            #expect(error.code == .tooLarge, "\(error)")
        }
        #expect(!FetchFixtures.exists(destination))
        // The same repository within a larger limit.
        let fetched = try await RepositoryFetcher.fetch(
            FetchRequest(repo: path, allowLocal: true, maxBytes: 16 << 20), into: destination)
        #expect(fetched.bytes > 2 << 20)
    }

    @Test("disk use counts each inode once and follows no symlink")
    func directorySize() throws {
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        try Data(count: 100_000).write(to: URL(fileURLWithPath: "\(root)/file"))
        #expect(link("\(root)/file", "\(root)/hardlink") == 0)
        #expect(symlink("/usr", "\(root)/usr") == 0)
        #expect(symlink(root, "\(root)/loop") == 0)
        let size = DirectorySize.measure(root)
        #expect(size >= 100_000 && size < 150_000, "\(size)")
        #expect(DirectorySize.measure("\(root)/missing") == 0)
        #expect(DirectorySize.measure(root, stopAbove: 1000) > 1000)
    }
}

/// A TCP listener on 127.0.0.1 that never accepts on its own and never answers.
final class LoopbackListener: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw FetchFixtureError(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        guard bound == 0, listen(socketFD, 8) == 0 else {
            Glibc.close(socketFD)
            throw FetchFixtureError(description: "bind/listen: \(errno)")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        fd = socketFD
        port = UInt16(bigEndian: address.sin_port)
    }

    /// Whether a connection waits in the backlog, within `seconds`.
    func hasPendingConnection(within seconds: Double) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, Int32(seconds * 1000)) > 0
    }

    /// Accepts the connection waiting in the backlog and reports whether its peer has closed it
    /// (end of file or a reset) within `seconds`.
    func acceptedConnectionIsClosed(within seconds: Double) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 1000) > 0 else { return false }
        let connection = accept(fd, nil, nil)
        guard connection >= 0 else { return false }
        defer { Glibc.close(connection) }
        let until = GroupedProcess.now() + seconds
        var buffer = [UInt8](repeating: 0, count: 4096)
        while GroupedProcess.now() < until {
            var ready = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            let n = read(connection, &buffer, buffer.count)
            if n == 0 || (n < 0 && errno == ECONNRESET) { return true }
        }
        return false
    }

    func close() { Glibc.close(fd) }
}
