import FlakeboxCore
import FlakeboxSandbox
import Foundation
import Testing

/// `seed_control`: the first failing seed of a flaky job replayed, and what the advice says of it.
/// (The end-to-end check that the runner replays it is in `CommandLineTests`.)
struct SummarySeedControlTests {
    /// Seeds 1000…1003: 1001 and 1003 failed.
    static let flaky = [
        SummaryFixtures.record(0, .passed), SummaryFixtures.record(1, .failed), SummaryFixtures.record(2, .passed),
        SummaryFixtures.record(3, .failed),
    ]
    static let template = "flakebox replay --repo /r --seed {seed} --attempt {attempt} -- sh t.sh"

    static func summarize(_ replay: SeedReplay?) -> JobSummary {
        var input = SummaryFixtures.input(Self.flaky, replayTemplate: template)
        input.seedReplay = replay
        return Summarizer.summarize(input)
    }

    @Test func failedAgainSaysTheSeedControlsTheFailureAndNamesTheReplayOnce() throws {
        let summary = Self.summarize(SeedReplay(seed: 1001, attempt: 1, statuses: [.failed]))
        let control = try #require(summary.seedControl)
        #expect(control.failedAgain)
        #expect(control.replays == 1 && control.seed == 1001 && control.attempt == 1)
        #expect(control.sentence.hasPrefix("The seed controls this failure"))
        let replay = "flakebox replay --repo /r --seed 1001 --attempt 1 -- sh t.sh"
        #expect(summary.replay == replay)
        #expect(summary.advice.components(separatedBy: replay).count == 2, "\(summary.advice)")
        let object = try SummaryFixtures.object(summary)
        let json = try #require(object["seed_control"] as? [String: Any])
        #expect(json["failed_again"] as? Bool == true)
        #expect(json["statuses"] as? [String] == ["failed"])
        #expect(Set(json.keys) == ["seed", "attempt", "replays", "failed_again", "statuses", "sentence"])
    }

    @Test func passedOnReplaySaysTheSeedDoesNotControlItAndHowToMeasure() throws {
        let summary = Self.summarize(SeedReplay(seed: 1001, attempt: 1, statuses: [.passed]))
        let control = try #require(summary.seedControl)
        #expect(!control.failedAgain)
        #expect(control.sentence.hasPrefix("Replaying seed 1001 passed: the seed does not control this failure"))
        #expect(
            summary.advice.contains(
                "`flakebox replay --runs 20 --repo /r --seed 1001 --attempt 1 -- sh t.sh` to measure how often"),
            "\(summary.advice)")
        #expect(summary.advice.contains("\"shuffle\""))
        #expect(!summary.advice.contains("Replay seed 1001 with"), "one replay sentence, not two")
    }

    @Test func notCheckedIsNullAndTheAdviceIsAsBefore() throws {
        let summary = Self.summarize(nil)
        #expect(summary.seedControl == nil)
        #expect(try SummaryFixtures.object(summary)["seed_control"] is NSNull)
        #expect(summary.advice.contains("Replay seed 1001 with `flakebox replay"))
    }

    @Test func aReplayOfAnotherSeedIsIgnored() {
        // Only the seed the summary's `replay` names is answered for.
        #expect(Self.summarize(SeedReplay(seed: 1003, attempt: 3, statuses: [.failed])).seedControl == nil)
    }

    @Test func aTimeoutOnReplayCountsAsFailingAgain() throws {
        let control = try #require(
            Self.summarize(SeedReplay(seed: 1001, attempt: 1, statuses: [.timeout])).seedControl)
        #expect(control.failedAgain)
    }
}
