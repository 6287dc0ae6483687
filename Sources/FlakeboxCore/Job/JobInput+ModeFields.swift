import FlakeboxSandbox
import Foundation

extension JobInput {
    /// The fields that change how the attempts run together: `interference` (the same runs again,
    /// several at once in one shared checkout) and `stress` (CPU and I/O noise beside the test).
    static let modeFieldNames = ["interference", "stress"]

    static func parseModeFields(_ r: inout JSONFieldReader, into input: inout JobInput) {
        input.interference = r.bool("interference") ?? false
        input.stress = stress(&r)
    }

    /// `true` (the standard noise), `false`, or `{"cpu": N, "io": N, "io_bytes": SIZE}`.
    private static func stress(_ r: inout JSONFieldReader) -> BackgroundNoise? {
        guard let value = r.value("stress") else { return nil }
        if let number = value as? NSNumber, JSONFieldReader.typeName(number) == "a boolean" {
            return number.boolValue ? .standard : nil
        }
        guard value is [String: Any], var nested = r.object("stress") else {
            r.fail(
                "stress",
                "expected true, false or an object such as {\"cpu\": 4, \"io\": 1}, found \(JSONFieldReader.typeName(value))"
            )
            return nil
        }
        let cpuRange = BackgroundNoise.cpuWorkerRange
        let ioRange = BackgroundNoise.ioWorkerRange
        var noise = BackgroundNoise.standard
        if let cpu = nested.integer("cpu", in: Int64(cpuRange.lowerBound)...Int64(cpuRange.upperBound)) {
            noise.cpuWorkers = Int(cpu)
        }
        if let io = nested.integer("io", in: Int64(ioRange.lowerBound)...Int64(ioRange.upperBound)) {
            noise.ioWorkers = Int(io)
        }
        if let bytes = nested.byteSize("io_bytes", in: (64 << 10)...(256 << 20)) { noise.ioBytes = bytes }
        nested.rejectUnknownKeys(known: ["cpu", "io", "io_bytes"])
        if nested.problems.isEmpty, noise.cpuWorkers == 0, noise.ioWorkers == 0 {
            nested.fail("cpu", "no noise at all: give cpu or io at least 1, or set stress to false")
        }
        r.absorb(nested)
        return nested.problems.isEmpty ? noise : nil
    }
}
