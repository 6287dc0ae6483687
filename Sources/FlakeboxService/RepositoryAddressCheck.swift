import FlakeboxCore

/// Refuses, at submit, a repository whose host resolves to an address the service must not
/// reach (loopback, private, link-local…, Core's `HostAddress` list), or that is not on the
/// allow-list, so that such a job is a 422 and nothing is queued. Git is pinned to the checked
/// address again at fetch time (`RemoteHostGuard`).
struct RepositoryAddressCheck: Sendable {
    var allowPrivateAddresses: Bool
    var allowedHosts: [String]

    /// Why `repo` is refused; nil when it may be fetched (local paths: `--allow-local-repos`).
    func refusal(_ repo: String) -> String? {
        guard let endpoint = RemoteHostGuard.endpoint(of: repo) else { return nil }
        let host = endpoint.host.lowercased()
        if !allowedHosts.isEmpty,
            !allowedHosts.contains(where: { host == $0.lowercased() || host.hasSuffix("." + $0.lowercased()) })
        {
            return "the host \(host) is not on the service's allow-list"
        }
        guard !allowPrivateAddresses else { return nil }
        do {
            _ = try RemoteHostGuard.check(host: endpoint.host)
            return nil
        } catch {
            return error.message
        }
    }
}
