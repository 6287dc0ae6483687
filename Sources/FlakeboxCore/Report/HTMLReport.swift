import FlakeboxSandbox
import Foundation

/// One self-contained HTML page for a job: verdict, rate and interval, a strip of every attempt
/// coloured by status, the duration histogram, the per-test table, failure signatures with their
/// attempts, and replay lines. No script and no external asset: inline CSS and SVG only, under a
/// Content-Security-Policy that allows nothing else, and every string from the repository escaped.
/// The CLI writes it (`--html`); a service serves the same page.
public enum HTMLReport {
    static let colours: [String: String] = [
        "passed": "#2da44e", "failed": "#cf222e", "signaled": "#8250df", "timeout": "#bf8700", "oom": "#e16f24",
        "output_limit": "#953800", "sandbox_error": "#57606a", "cancelled": "#d0d7de",
    ]

    public static func render(_ summary: JobSummary, command: String) -> String {
        let e = MarkupEscaping.text
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>flakebox: \(e(GitHubActionsReport.verdictTitle(summary.verdict))) — \(e(command))</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1f2328}
            h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de}
            code,pre{font:12px/1.4 ui-monospace,monospace} pre{background:#f6f8fa;padding:8px;overflow:auto;white-space:pre-wrap}
            table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #eaeef2;padding:4px 8px;text-align:left}
            td.n{text-align:right} .verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff}
            .legend span{display:inline-block;margin-right:12px} .legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
            .muted{color:#57606a}
            </style></head><body>

            """
        let verdictColour =
            summary.verdict == .noFailureSeen ? "#2da44e" : summary.verdict == .flaky ? "#bf8700" : "#cf222e"
        html += #"<h1>flakebox <span class="verdict" style="background:\#(verdictColour)">"#
        html += "\(e(GitHubActionsReport.verdictTitle(summary.verdict)))</span></h1>\n"
        html += "<p><code>\(e(command))</code></p>\n"
        html += "<p><strong>\(e(summary.failureRate.sentence))</strong></p>\n"
        html += "<p>\(e(summary.advice))</p>\n"
        html += "<h2>Attempts</h2>\n" + strip(summary) + legend(summary)
        html += "<h2>Durations</h2>\n" + histogram(summary)
        if !summary.tests.isEmpty {
            html += "<h2>Tests that failed</h2>\n<table><tr><th>test</th><th>failed</th><th>rate</th><th></th>"
            html += "<th>attempts</th></tr>\n"
            for test in summary.tests {
                let kind = test.alwaysFails ? "always fails" : test.flaky ? "flaky" : ""
                html += "<tr><td><code>\(e(test.name))</code>"
                if let message = test.exampleMessage { html += #"<br><span class="muted">\#(e(message))</span>"# }
                html += #"</td><td class="n">\#(test.failures) of \#(test.runs)</td>"#
                html += #"<td class="n">\#(String(format: "%.1f %%", test.rate * 100))</td><td>\#(kind)</td>"#
                html += "<td>\(test.failingAttempts.map(String.init).joined(separator: ", "))</td></tr>\n"
            }
            html += "</table>\n"
        }
        if !summary.failureSignatures.isEmpty {
            html += "<h2>Failure signatures</h2>\n"
            for signature in summary.failureSignatures {
                html += "<p>\(signature.count) attempt(s): "
                html += "\(signature.attempts.prefix(40).map(String.init).joined(separator: ", "))</p>\n"
                html += "<pre>\(e(MarkupEscaping.tail(signature.signature, maxBytes: 6000)))</pre>\n"
            }
        }
        let examples = FailureExample.examples(in: summary, test: nil, limit: 10)
        if !examples.isEmpty {
            html += "<h2>Replay</h2>\n<table><tr><th>attempt</th><th>seed</th><th>status</th><th>command</th></tr>\n"
            for example in examples {
                html += #"<tr><td class="n">\#(example.attempt)</td><td class="n">\#(example.seed)</td>"#
                html += "<td>\(e(example.status))</td><td><code>\(e(example.replay ?? ""))</code></td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "<h2>Isolation</h2>\n<p>tier: <strong>\(e(summary.isolation.tier.rawValue))</strong>"
        if let warning = summary.isolation.warning { html += " — \(e(warning))" }
        html += "</p>\n"
        html += #"<p class="muted">\#(summary.totalRuns) runs, \#(summary.parallelism) at a time · "#
        html += "commit \(e(summary.commit ?? "unknown")) · flakebox \(e(summary.flakeboxVersion))</p>\n"
        html += "</body></html>\n"
        return html
    }

    /// One square per attempt, in attempt order, wrapping every 50.
    static func strip(_ summary: JobSummary) -> String {
        let attempts = summary.results.sorted { $0.attempt < $1.attempt }
        let perRow = 50
        let size = 16
        let rows = max(1, (attempts.count + perRow - 1) / perRow)
        var svg = #"<svg id="strip" role="img" aria-label="attempts by status" width="\#(perRow * (size + 2))" "#
        svg += #"height="\#(rows * (size + 2))" xmlns="http://www.w3.org/2000/svg">"# + "\n"
        for (index, attempt) in attempts.enumerated() {
            let x = (index % perRow) * (size + 2)
            let y = (index / perRow) * (size + 2)
            let status = attempt.status.rawValue
            svg += #"<rect class="attempt \#(status)" x="\#(x)" y="\#(y)" width="\#(size)" height="\#(size)" "#
            svg += "fill=\"\(colours[status] ?? "#000")\"><title>attempt \(attempt.attempt), seed \(attempt.seed): "
            svg += "\(status), \(String(format: "%.2f", attempt.durationSeconds)) s</title></rect>\n"
        }
        return svg + "</svg>\n"
    }

    static func legend(_ summary: JobSummary) -> String {
        var html = #"<p class="legend">"#
        for (status, count) in summary.statusCounts.sorted(by: { $0.key < $1.key }) where count > 0 {
            html += "<span><i style=\"background:\(colours[status] ?? "#000")\"></i>\(MarkupEscaping.text(status)) "
            html += "\(count)</span>"
        }
        return html + "</p>\n"
    }

    /// Durations of the attempts that ran a test, in 20 bins, failures stacked on passes.
    static func histogram(_ summary: JobSummary) -> String {
        let durations = summary.results.filter { $0.status != .cancelled && $0.status != .sandboxError }
        guard let longest = durations.map(\.durationSeconds).max(), longest > 0 else {
            return "<p class=\"muted\">no durations</p>\n"
        }
        let bins = 20
        var passed = [Int](repeating: 0, count: bins)
        var failed = [Int](repeating: 0, count: bins)
        for attempt in durations {
            let bin = min(bins - 1, Int(attempt.durationSeconds / longest * Double(bins)))
            if attempt.status == .passed { passed[bin] += 1 } else { failed[bin] += 1 }
        }
        let tallest = max(1, zip(passed, failed).map { $0 + $1 }.max() ?? 1)
        let width = 30
        let height = 120
        var svg =
            #"<svg id="histogram" role="img" aria-label="duration histogram" width="\#(bins * (width + 4) + 60)" "#
        svg += #"height="\#(height + 30)" xmlns="http://www.w3.org/2000/svg">"# + "\n"
        for bin in 0..<bins {
            let x = 40 + bin * (width + 4)
            let passHeight = passed[bin] * height / tallest
            let failHeight = failed[bin] * height / tallest
            let low = longest * Double(bin) / Double(bins)
            let high = longest * Double(bin + 1) / Double(bins)
            let label = String(format: "%.2f–%.2f s: %d passed, %d failed", low, high, passed[bin], failed[bin])
            if passHeight > 0 {
                svg += #"<rect class="bar passed" x="\#(x)" y="\#(height - passHeight)" width="\#(width)" "#
                svg += "height=\"\(passHeight)\" fill=\"#2da44e\"><title>\(label)</title></rect>\n"
            }
            if failHeight > 0 {
                svg +=
                    #"<rect class="bar failed" x="\#(x)" y="\#(height - passHeight - failHeight)" width="\#(width)" "#
                svg += "height=\"\(failHeight)\" fill=\"#cf222e\"><title>\(label)</title></rect>\n"
            }
        }
        svg +=
            "<line x1=\"38\" y1=\"\(height)\" x2=\"\(40 + bins * (width + 4))\" y2=\"\(height)\" stroke=\"#57606a\"/>"
        svg += #"<text x="40" y="\#(height + 16)" font-size="11">0 s</text>"#
        svg += #"<text x="\#(bins * (width + 4))" y="\#(height + 16)" font-size="11" text-anchor="end">"#
        svg += String(format: "%.2f s</text>", longest)
        svg += #"<text x="0" y="12" font-size="11">\#(tallest)</text>"# + "\n"
        return svg + "</svg>\n"
    }
}
