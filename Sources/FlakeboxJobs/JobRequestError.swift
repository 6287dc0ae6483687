/// A request the job service refuses, with the field at fault: the transport turns it into its
/// own error reply (FastAPI's `detail` shape, a 400 or 422).
public struct JobRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { message }
}
