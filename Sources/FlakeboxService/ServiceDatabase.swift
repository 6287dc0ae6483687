import FlakeboxJobs
import Foundation

/// The service's database: its jobs and its API keys, in one file.
public struct ServiceDatabase: Sendable {
    public var jobs: any JobStore
    public var keys: any APIKeyStore

    public init(jobs: any JobStore, keys: any APIKeyStore) {
        self.jobs = jobs
        self.keys = keys
    }
}
