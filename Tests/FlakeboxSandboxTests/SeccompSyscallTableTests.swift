import FlakeboxSandbox
import Foundation
import Testing

@Suite("Seccomp syscall tables")
struct SeccompSyscallTableTests {
    @Test("x86_64: the calls newer than libseccomp 2.5.4 have the kernel's numbers")
    func x86_64Newest() {
        let table = SyscallTable.x86_64
        let expected: [String: Int32] = [
            "read": 0, "ioctl": 16, "clone": 56, "_sysctl": 156, "uretprobe": 335, "uprobe": 336,
            "pidfd_send_signal": 424, "clone3": 435, "quotactl_fd": 443, "memfd_secret": 447,
            "set_mempolicy_home_node": 450, "cachestat": 451, "fchmodat2": 452, "map_shadow_stack": 453,
            "futex_wake": 454, "futex_wait": 455, "futex_requeue": 456, "statmount": 457, "listmount": 458,
            "lsm_get_self_attr": 459, "lsm_set_self_attr": 460, "lsm_list_modules": 461, "mseal": 462,
            "setxattrat": 463, "getxattrat": 464, "listxattrat": 465, "removexattrat": 466, "open_tree_attr": 467,
            "file_getattr": 468, "file_setattr": 469, "listns": 470,
        ]
        for (name, number) in expected {
            #expect(table.number(of: name) == number, "\(name)")
            #expect(table.name(of: number) == name)
        }
        #expect(table.highestNumber == 470)
        #expect(table.names.count == 384)  // 0...336 and 424...470
        #expect(table.number(of: "socketcall") == nil)
        #expect(table.number(of: "rt_sigaction") == 13)  // not the x32 number 512
    }

    @Test("aarch64: generic numbers")
    func aarch64() {
        let table = SyscallTable.aarch64
        #expect(table.number(of: "io_setup") == 0)
        #expect(table.number(of: "ioctl") == 29)
        #expect(table.number(of: "read") == 63)
        #expect(table.number(of: "clone") == 220)
        #expect(table.number(of: "renameat") == 38)
        #expect(table.number(of: "getrlimit") == 163)
        #expect(table.number(of: "memfd_secret") == 447)
        #expect(table.number(of: "mseal") == 462)
        #expect(table.number(of: "file_setattr") == 469)
        #expect(table.number(of: "open") == nil)
        #expect(table.number(of: "uretprobe") == nil)
        #expect(table.highestNumber == 470)
    }

    /// The machine's uapi header (Debian 12: Linux 6.1) must agree with the table wherever it has a
    /// number; the table only adds what is newer.
    @Test(
        "x86_64 agrees with <asm/unistd_64.h>",
        .enabled(
            if: FileManager.default.fileExists(atPath: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
            "needs the kernel uapi headers (linux-libc-dev, installed with libseccomp-dev by scripts/bootstrap.sh)")
    )
    func x86_64MatchesHeader() throws {
        let header = try String(contentsOfFile: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", encoding: .utf8)
        var checked = 0
        for line in header.split(separator: "\n") where line.hasPrefix("#define __NR_") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let number = Int32(parts[2]) else { continue }
            let name = String(parts[1].dropFirst("__NR_".count))
            #expect(SyscallTable.x86_64.number(of: name) == number, "\(name)")
            checked += 1
        }
        #expect(checked > 350)
    }
}
