#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Who an attempt runs as. A root supervisor hands every sandbox to one unprivileged host
/// account (default 65534, "nobody"), and the checkout is owned by it, so copy-on-write works in
/// the user namespace (an unmapped owner makes copy-up fail with EOVERFLOW). A rootless
/// supervisor's sandboxes run as its own uid. Inside, the test sees uid/gid 1000, `flakebox`.
public struct SandboxIdentity: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    /// True when the supervisor is root and the helper must drop to `uid`/`gid` first.
    public var dropsPrivileges: Bool

    public static let innerUID: UInt32 = 1000
    public static let innerGID: UInt32 = 1000

    public static func current(rootUID: UInt32 = 65534, rootGID: UInt32 = 65534) -> SandboxIdentity {
        if geteuid() == 0 { return SandboxIdentity(uid: rootUID, gid: rootGID, dropsPrivileges: true) }
        return SandboxIdentity(uid: geteuid(), gid: getegid(), dropsPrivileges: false)
    }

    static let passwd = """
        root:x:0:0:root:/root:/usr/sbin/nologin
        flakebox:x:\(innerUID):\(innerGID):flakebox:/tmp:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin

        """
    static let group = """
        root:x:0:
        flakebox:x:\(innerGID):
        nogroup:x:65534:

        """
}
