import Foundation

/// The statistics a job summary reports, as plain functions over counts and samples.
public enum SummaryStatistics {
    /// The normal quantile for a two-sided 95% interval.
    public static let z95 = 1.959964

    /// The Wilson score interval for `successes` out of `trials` at the given `z`.
    ///
    /// Unlike the normal ("Wald") interval it stays inside [0, 1] and is not degenerate at 0 or
    /// `trials` successes, which is where flaky-test counts usually are.
    /// - Returns: `(low, high)`; `(0, 1)` when `trials` is 0 (nothing is known).
    public static func wilsonInterval(successes: Int, trials: Int, z: Double = z95) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let k = Double(min(max(successes, 0), trials))
        let n = Double(trials)
        let p = k / n
        let z2 = z * z
        let denominator = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denominator
        let margin = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        // Exact at the edges: rounding must not put 0 failures above 0 or n failures below 1.
        let low = k == 0 ? 0 : max(0, center - margin)
        let high = k == n ? 1 : min(1, center + margin)
        return (low, high)
    }

    /// The "rule of three": with no event in `trials` independent trials, the event's rate is
    /// below `3 / trials` at 95% confidence (from `(1 - p)^n = 0.05`, `-ln 0.05 ≈ 3`).
    /// - Returns: `3 / trials`, capped at 1; 1 when `trials` is 0.
    public static func ruleOfThreeUpperBound(trials: Int) -> Double {
        guard trials > 0 else { return 1 }
        return min(1, 3 / Double(trials))
    }

    /// The nearest-rank percentile: the smallest sample such that at least `percent`% of the
    /// samples are less than or equal to it, i.e. `sorted[ceil(percent / 100 × n) − 1]` (the
    /// first sample for `percent` 0). It is always one of the samples, never an interpolation.
    /// - Returns: nil for no samples.
    public static func percentile(_ percent: Double, of samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let clamped = min(max(percent, 0), 100)
        let rank = Int((clamped * Double(sorted.count) / 100).rounded(.up))
        return sorted[min(max(rank - 1, 0), sorted.count - 1)]
    }

    /// Fisher's exact test, one-sided: the chance of `failuresA` or more failures in group A when
    /// both groups fail at the same rate (the failures spread over the runs at random).
    /// - Returns: a p-value in 0...1; 1 when a group is empty.
    public static func fisherOneSided(failuresA: Int, runsA: Int, failuresB: Int, runsB: Int) -> Double {
        guard runsA > 0, runsB > 0 else { return 1 }
        let total = runsA + runsB
        let failures = failuresA + failuresB
        func logChoose(_ n: Int, _ k: Int) -> Double {
            lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
        }
        var p = 0.0
        for a in failuresA...min(failures, runsA) where failures - a <= runsB {
            p += exp(logChoose(runsA, a) + logChoose(runsB, failures - a) - logChoose(total, failures))
        }
        return min(p, 1)
    }

    /// The arithmetic mean; nil for no samples.
    public static func mean(_ samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        return samples.reduce(0, +) / Double(samples.count)
    }
}
