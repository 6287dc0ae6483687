import FlakeboxSandbox

/// Turns a job's attempts into its `JobSummary`, within the job's size budget.
///
/// The budget (`JobInput.summaryBudgetBytes`) holds however many attempts there are and however
/// much they wrote: every attempt keeps its `results` entry, and what gives way is, in order,
/// passing attempts' output, failing attempts' output (failing ones keep more), then the lengths
/// of the other lists (signatures, tests, failed tests per attempt, failing seeds, the setup log).
/// The summary is encoded and measured, and cut again if an estimate was short, a bounded number
/// of times; at worst every output is dropped. Only a budget smaller than the summary with no
/// output and the shortest lists is exceeded, and `truncation.within_budget` then says so.
public enum Summarizer {
    /// Bytes kept free for what the measured drafts lack (the truncation report's numbers and
    /// sentence).
    static let reserveBytes = 512
    /// Encode-measure-shrink rounds before dropping every output.
    static let maximumRounds = 8

    public static func summarize(_ input: SummaryInput) -> JobSummary {
        summarize(SummaryContext(input))
    }

    /// The summary of `context` within its job's budget: a job's own and a merge of shards
    /// (`SummaryMerger`) are both fitted here.
    static func summarize(_ context: SummaryContext) -> JobSummary {
        let budget = context.input.job.summaryBudgetBytes

        // The longest lists whose summary without output leaves a quarter of the budget for
        // output; else the longest that fit at all; else the shortest (over budget).
        var chosen: (limits: SummaryLimits, skeletonBytes: Int)?
        var fitting: (limits: SummaryLimits, skeletonBytes: Int)?
        for limits in SummaryLimits.levels {
            let skeleton = context.assemble(limits: limits, caps: .zero).summary
            let bytes = skeleton.encodedJSON().count + reserveBytes
            if bytes <= budget - budget / 4 {
                chosen = (limits, bytes)
                break
            }
            if bytes <= budget, fitting == nil { fitting = (limits, bytes) }
        }
        guard let (limits, skeletonBytes) = chosen ?? fitting else {
            return finish(context, limits: SummaryLimits.levels[SummaryLimits.levels.count - 1], caps: .zero)
        }

        let allocator = OutputBudgetAllocator(profiles: context.profiles)
        var available = budget - skeletonBytes
        for _ in 0..<maximumRounds {
            let caps = allocator.caps(fitting: available)
            let summary = finish(context, limits: limits, caps: caps)
            if summary.truncation.jsonBytes <= budget || caps == .zero { return summary }
            // The estimate was short: ask again for what this round would have needed to be.
            let outputBytes = max(summary.truncation.jsonBytes - skeletonBytes + reserveBytes, 1)
            available = Int(Double(available) * Double(available) / Double(outputBytes) * 0.95)
        }
        return finish(context, limits: limits, caps: .zero)
    }

    /// The assembled summary with its truncation report, `json_bytes` measured.
    private static func finish(
        _ context: SummaryContext, limits: SummaryLimits, caps: OutputBudgetAllocator.Caps
    ) -> JobSummary {
        let (assembled, cutFailing, cutPassing) = context.assemble(limits: limits, caps: caps)
        var summary = assembled
        summary.workingTree = context.input.workingTree
        let budget = context.input.job.summaryBudgetBytes
        let failingCap = cutFailing > 0 ? caps.failing : nil
        let passingCap = cutPassing > 0 ? caps.passing : nil
        summary.truncation.outputBytesPerFailingAttempt = failingCap
        summary.truncation.outputBytesPerPassingAttempt = passingCap
        summary.truncation.attemptsWithCutOutput = cutFailing + cutPassing
        // json_bytes is part of what it measures: settle it (it changes at most a digit or two).
        var bytes = 0
        for _ in 0..<6 {
            summary.truncation.jsonBytes = bytes
            summary.truncation.withinBudget = bytes <= budget
            summary.truncation.sentence = sentence(
                summary.truncation, total: summary.totalRuns, cutFailing: cutFailing, cutPassing: cutPassing)
            let measured = summary.encodedJSON().count
            if measured == bytes { break }
            bytes = measured
        }
        return summary
    }

    private static func sentence(
        _ truncation: JobSummary.Truncation, total: Int, cutFailing: Int, cutPassing: Int
    ) -> String {
        let budget = truncation.budgetBytes
        guard truncation.withinBudget else {
            return
                "Even with no output and the shortest lists the summary takes \(truncation.jsonBytes) bytes, "
                + "over its \(budget)-byte budget: raise summary_budget_bytes to at least \(truncation.jsonBytes)."
        }
        let cut = cutFailing + cutPassing
        var text: String
        if cut == 0 {
            text = "No output was cut: the summary takes \(truncation.jsonBytes) of its \(budget) bytes."
        } else {
            text =
                "To fit the \(budget)-byte budget the output of \(cut) of \(SummaryFormat.count(total, "attempt")) was cut"
            var keeps: [String] = []
            if let cap = truncation.outputBytesPerFailingAttempt {
                keeps.append("failing attempts keep up to \(cap) bytes")
            }
            if let cap = truncation.outputBytesPerPassingAttempt { keeps.append("passing ones up to \(cap)") }
            text += (keeps.isEmpty ? "" : ": " + keeps.joined(separator: ", ")) + "."
        }
        if truncation.listsShortened { text += " Signatures, tests and other lists were shortened to fit." }
        return text
    }
}
