import FlakeboxJobs
import Hummingbird
import NIOCore

/// Replies built as JSON text (`JSONText`), so a stored summary is spliced in, never re-encoded.
enum ServiceReply {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"error": message}`.
    static func error(_ message: String) -> [UInt8] {
        var reply = JSONText()
        reply.add("error", string: message)
        return reply.bytes
    }

    /// `{"id", "status"}`: what `/run`, `/cancel` and `/retry` answer.
    static func idAndStatus(_ id: String, _ state: JobState) -> [UInt8] {
        var reply = JSONText()
        reply.add("id", string: id)
        reply.add("status", string: state.rawValue)
        return reply.bytes
    }
}
