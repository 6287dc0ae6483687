import Foundation

/// Finds policies by name in a list of directories, or by file path; a policy may `extends`
/// another and override only the fields it names (objects merge key by key).
public struct PolicyStore: Sendable {
    public var directories: [URL]

    public init(directories: [URL]) {
        self.directories = directories
    }

    /// `$FLAKEBOX_POLICY_DIR`, `~/.config/flakebox/policies`, the `policies/` beside the
    /// executable's package (development) or under `share/flakebox` (installed), in that order.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> PolicyStore {
        var dirs: [URL] = []
        if let custom = environment["FLAKEBOX_POLICY_DIR"], !custom.isEmpty {
            dirs.append(URL(fileURLWithPath: custom))
        }
        if let home = environment["HOME"], !home.isEmpty {
            dirs.append(URL(fileURLWithPath: home).appendingPathComponent(".config/flakebox/policies"))
        }
        dirs += HelperLocator.installationRoots().flatMap { root in
            [root.appendingPathComponent("policies"), root.appendingPathComponent("share/flakebox/policies")]
        }
        return PolicyStore(directories: dirs.filter { FileManager.default.fileExists(atPath: $0.path) })
    }

    /// Names of every policy found, first directory wins.
    public func availableNames() -> [String] {
        var names: [String] = []
        for dir in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for file in files.sorted() where file.hasSuffix(".json") {
                let name = String(file.dropLast(5))
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    /// Loads `reference`: a policy name (`default`) or a path to a policy file.
    public func load(_ reference: String) throws(PolicyError) -> Policy {
        let object = try resolvedObject(reference, seen: [])
        return try Policy(json: object.json, directory: object.directory)
    }

    private func locate(_ reference: String) throws(PolicyError) -> URL {
        if reference.contains("/") || reference.hasSuffix(".json") {
            return URL(fileURLWithPath: reference)
        }
        guard reference.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !reference.isEmpty
        else {
            throw PolicyError(
                code: .notFound, policy: reference,
                problems: [FieldProblem(field: "", message: "a policy name has only letters, digits, - and _")])
        }
        for dir in directories {
            let url = dir.appendingPathComponent("\(reference).json")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        let known = availableNames()
        var message = "no policy file \(reference).json in \(directories.map(\.path).joined(separator: ", "))"
        if let near = JSONFieldReader.nearest(to: reference, in: known) { message += " (did you mean \"\(near)\"?)" }
        throw PolicyError(code: .notFound, policy: reference, problems: [FieldProblem(field: "", message: message)])
    }

    private func resolvedObject(
        _ reference: String, seen: [String]
    ) throws(PolicyError) -> (json: [String: Any], directory: URL) {
        let url = try locate(reference)
        guard !seen.contains(url.path) else {
            throw PolicyError(
                code: .cycle, policy: reference,
                problems: [
                    FieldProblem(field: "extends", message: "cycle: \((seen + [url.path]).joined(separator: " → "))")
                ])
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PolicyError(
                code: .unreadable, policy: reference,
                problems: [FieldProblem(field: "", message: "cannot read \(url.path): \(error.localizedDescription)")])
        }
        var object: [String: Any]
        do {
            object = try JSONFieldReader.parseObject(data)
        } catch {
            throw PolicyError(code: .invalid, policy: reference, problems: [error])
        }
        if object["name"] == nil { object["name"] = url.deletingPathExtension().lastPathComponent }
        let directory = url.deletingLastPathComponent()
        guard let base = object["extends"] else { return (object, directory) }
        guard let baseName = base as? String else {
            throw PolicyError(
                code: .invalid, policy: reference,
                problems: [FieldProblem(field: "extends", message: "expected a policy name")])
        }
        let parent = try resolvedObject(baseName, seen: seen + [url.path])
        var merged = Self.merge(parent.json, object)
        merged["name"] = object["name"]
        // A profile named by the child is relative to the child; one inherited, to the parent.
        if object["seccomp"] == nil, let inherited = parent.json["seccomp"] as? String, inherited != "unconfined",
            !inherited.hasPrefix("/")
        {
            merged["seccomp"] = parent.directory.appendingPathComponent(inherited).path
        }
        return (merged, directory)
    }

    static func merge(_ base: [String: Any], _ override: [String: Any]) -> [String: Any] {
        var out = base
        for (key, value) in override {
            if let nested = value as? [String: Any], let baseNested = base[key] as? [String: Any] {
                out[key] = merge(baseNested, nested)
            } else {
                out[key] = value
            }
        }
        return out
    }
}
