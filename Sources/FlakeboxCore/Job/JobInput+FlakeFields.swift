import FlakeboxSandbox

extension JobInput {
    /// The fields that make runs differ and setup unscripted: `reseed`, `shuffle`, `packages`,
    /// `memory`.
    static let flakeFieldNames = ["reseed", "shuffle", "packages", "memory"]

    static func parseFlakeFields(_ r: inout JSONFieldReader, into input: inout JobInput) {
        input.reseed = r.bool("reseed") ?? true
        input.shuffle = r.bool("shuffle") ?? false
        if let packages = r.stringArray("packages") {
            if packages.count > 100 { r.fail("packages", "at most 100 packages") }
            for (index, package) in packages.enumerated() {
                if let problem = packageProblem(package) { r.fail("packages[\(index)]", problem) }
            }
            input.packages = packages
        }
        input.memoryBytes = r.byteSize("memory", in: (64 << 20)...(1 << 40))
    }

    /// A pip requirement specifier (`name`, `name==1.2`, `name[extra]>=1,<2`), never an option or
    /// a path: pip reads them from a file, one a line.
    static func packageProblem(_ package: String) -> String? {
        guard let first = package.unicodeScalars.first, first.isASCII,
            first.properties.isAlphabetic || ("0"..."9").contains(first)
        else { return "a requirement such as numpy==2.4.6 (starting with a letter or digit)" }
        if package.utf8.count > 200 { return "longer than 200 bytes" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-[],<>=!~*+ ")
        if let bad = package.first(where: { !allowed.contains($0) }) {
            return "\"\(bad)\" is not allowed in a requirement (no options, paths, URLs or markers)"
        }
        return nil
    }
}
