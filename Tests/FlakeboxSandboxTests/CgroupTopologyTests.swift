import FlakeboxSandbox
import Testing

/// The `/proc/self/cgroup` + mountinfo parser, fed with layouts of other kinds of hosts.
@Suite("Cgroup topology parsing")
struct CgroupTopologyTests {
    @Test("v1 host with a nested memory cgroup, as on the CI machine")
    func v1NestedMemory() {
        let topology = CgroupTopology(
            procSelfCgroup: """
                9:name=systemd:/
                8:pids:/
                4:memory:/process_api/48e4e95c
                2:cpuacct:/
                1:cpu:/
                0::/
                """,
            mountInfo: """
                31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
                32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
                33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
                35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
                39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
                40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
                41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
                """)
        #expect(topology.v1Hierarchy(for: "memory")?.directory == "/sys/fs/cgroup/memory/process_api/48e4e95c")
        #expect(topology.v1Hierarchy(for: "pids")?.directory == "/sys/fs/cgroup/pids")
        #expect(topology.v1Hierarchy(for: "cpuacct")?.directory == "/sys/fs/cgroup/cpuacct")
        #expect(topology.v1Hierarchy(for: "name=systemd")?.directory == "/sys/fs/cgroup/systemd")
        #expect(topology.unified?.directory == "/sys/fs/cgroup/unified")
        #expect(topology.v1Hierarchy(for: "blkio") == nil)
    }

    @Test("systemd v2 laptop: the terminal's scope below user@.service")
    func v2Laptop() {
        let scope = "/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1a2b.scope"
        let topology = CgroupTopology(
            procSelfCgroup: "0::\(scope)\n",
            mountInfo: """
                24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
                35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
                """)
        #expect(topology.hierarchies.count == 1)
        #expect(topology.unified?.directory == "/sys/fs/cgroup" + scope)
        #expect(topology.v1Hierarchy(for: "memory") == nil)
    }

    @Test("co-mounted cpu,cpuacct share one hierarchy")
    func coMounted() {
        let topology = CgroupTopology(
            procSelfCgroup: "4:cpu,cpuacct:/user.slice\n3:net_cls,net_prio:/\n",
            mountInfo: """
                30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct
                31 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:13 - cgroup cgroup rw,net_cls,net_prio
                """)
        let cpu = topology.v1Hierarchy(for: "cpu")
        #expect(cpu?.directory == "/sys/fs/cgroup/cpu,cpuacct/user.slice")
        #expect(cpu == topology.v1Hierarchy(for: "cpuacct"))
        #expect(topology.unified == nil)
    }

    @Test("a mount of a subtree resolves paths below it; other subtrees are not visible")
    func subtreeMounts() {
        let topology = CgroupTopology(
            procSelfCgroup: "0::/docker/abc/job\n5:memory:/elsewhere\n",
            mountInfo: """
                40 30 0:40 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw
                41 30 0:41 /docker/abc /mnt/mem rw - cgroup cgroup rw,memory
                """)
        #expect(topology.unified?.directory == "/sys/fs/cgroup/job")
        #expect(topology.v1Hierarchy(for: "memory")?.mountPoint == nil)
        #expect(topology.v1Hierarchy(for: "memory")?.directory == nil)
    }

    @Test("escaped mount points and optional mountinfo fields")
    func escapes() {
        let topology = CgroupTopology(
            procSelfCgroup: "7:pids:/a:b\n",
            mountInfo: "50 1 0:50 / /srv/my\\040cgroups rw shared:3 master:1 - cgroup none rw,pids\n")
        #expect(topology.v1Hierarchy(for: "pids")?.cgroupPath == "/a:b")
        #expect(topology.v1Hierarchy(for: "pids")?.directory == "/srv/my cgroups/a:b")
    }
}
