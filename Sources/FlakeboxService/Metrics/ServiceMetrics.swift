import FlakeboxJobs
import Foundation
import Prometheus

/// The service's Prometheus metrics (`GET /metrics`): jobs by final state, jobs queued and
/// running, job durations, HTTP requests by route and status, webhook deliveries.
public struct ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let queued: Gauge
    private let running: Gauge
    private let duration: DurationHistogram

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        queued = registry.makeGauge(
            descriptor: Self.name("jobs_queued", unit: "", help: "Jobs waiting in the queue (all keys)."))
        running = registry.makeGauge(
            descriptor: Self.name("jobs_running", unit: "", help: "Jobs in progress (all keys)."))
        duration = registry.makeDurationHistogram(
            descriptor: Self.name(
                "job_duration", unit: "seconds", help: "Execution time of jobs that finished (started to final)."),
            buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14_400].map { .seconds($0) })
        for state in JobState.allCases where state.isFinal { _ = finishedCounter(state) }
    }

    /// A job reached a final state.
    public func jobFinished(_ job: StoredJob) {
        finishedCounter(job.state).increment()
        if let ms = job.executionTimeMs { duration.record(.milliseconds(max(0, ms))) }
    }

    public func setQueue(queued: Int, running: Int) {
        self.queued.set(Double(queued))
        self.running.set(Double(running))
    }

    /// One HTTP request, by route (the route's name, never the raw path) and status code.
    public func request(route: String, status: Int) {
        registry.makeCounter(
            descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests by route and status."),
            labels: [("route", route), ("status", String(status))]
        ).increment()
    }

    /// One webhook delivery (all its tries), by outcome (`delivered` or `failed`).
    public func webhook(outcome: String) {
        registry.makeCounter(
            descriptor: Self.name("webhook_deliveries", unit: "total", help: "Webhook deliveries by outcome."),
            labels: [("outcome", outcome)]
        ).increment()
    }

    public var text: [UInt8] { registry.emitToBuffer() }

    private func finishedCounter(_ state: JobState) -> Counter {
        registry.makeCounter(
            descriptor: Self.name("jobs_finished", unit: "total", help: "Jobs that reached a final state, by state."),
            labels: [("state", state.rawValue)])
    }

    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "flakebox", metricName: metric, unitName: unit, helpText: help)
    }
}
