import FlakeboxSandbox
import Foundation
import Testing

/// The fuzzers' committed corpora, replayed through an ordinary build of `flakebox-fuzz`: every
/// input that once found new behaviour (and every crash fixed since) keeps being read without a
/// crash, on every test run, not only when `scripts/fuzz.sh` runs.
@Suite("Fuzz corpora replayed")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus").path

    @Test(
        "each parser reads its whole corpus without a crash",
        arguments: ["junit", "job", "policy", "seccomp", "request"])
    func replay(target: String) async throws {
        let fuzz = HelperLocator.executableDirectory().appendingPathComponent("flakebox-fuzz").path
        try #require(FileManager.default.isExecutableFile(atPath: fuzz), "flakebox-fuzz is built beside the tests")
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(Self.corpus)/\(target)")
        #expect(!files.isEmpty)
        let result = try await flakeboxProcess(fuzz, [target, "\(Self.corpus)/\(target)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(files.count) inputs, no crash"), "\(result.stdout)")
    }
}
