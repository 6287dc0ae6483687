/// One directory of a cgroup and the controllers it provides: a v1 hierarchy, or the single v2 group.
struct CgroupPlacement: Sendable, Hashable {
    var controllers: Set<CgroupController>
    var directory: String

    func appending(_ component: String) -> CgroupPlacement {
        CgroupPlacement(controllers: controllers, directory: directory + "/" + component)
    }

    var procsFile: String { directory + "/cgroup.procs" }
}
