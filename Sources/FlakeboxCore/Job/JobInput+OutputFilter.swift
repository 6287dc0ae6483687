import FlakeboxSandbox

extension JobInput {
    /// go `stress`'s `-failure` and `-ignore`: which failures count (see `OutputFilter`).
    static let outputFilterFieldNames = ["failure_pattern", "ignore_pattern"]

    static func parseOutputFilterFields(_ r: inout JSONFieldReader, into input: inout JobInput) {
        input.failurePattern = pattern("failure_pattern", in: &r)
        input.ignorePattern = pattern("ignore_pattern", in: &r)
    }

    private static func pattern(_ field: String, in r: inout JSONFieldReader) -> OutputPattern? {
        guard let source = r.string(field) else { return nil }
        do {
            return try OutputPattern(source)
        } catch {
            r.fail(field, error.message)
            return nil
        }
    }
}
