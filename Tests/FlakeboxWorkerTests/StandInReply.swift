import Foundation

/// What the stand-in RunPod answers to one request.
indirect enum StandInReply: Sendable, CustomStringConvertible {
    /// A status line and no body (204, 400, 429, 500…).
    case status(Int)
    /// 200 with a job object; the id is kept so that tests can tell which job went out when.
    case job(id: String, body: [UInt8])
    /// Any status, content type and body (a JSON object without `id`, bytes that are not JSON…).
    case raw(status: Int, contentType: String?, body: [UInt8])
    /// Closes the connection without a reply.
    case dropConnection
    /// Writes these bytes instead of an HTTP response, then closes the connection.
    case garbage([UInt8])
    /// Holds the request open (a long-poll), then answers.
    case after(Duration, StandInReply)

    /// A job as job-take hands it out: `{"id": id, "input": input}`.
    static func job(id: String, input: [String: Any]) -> StandInReply {
        job(id: id, inputJSON: String(decoding: JSON.encode(input), as: UTF8.self))
    }

    /// A job whose `input` is any JSON text (a string, a number, `null`…).
    static func job(id: String, inputJSON: String) -> StandInReply {
        .job(id: id, body: Array("{\"id\": \(JSON.quoted(id)), \"input\": \(inputJSON)}".utf8))
    }

    /// 200 with a JSON body.
    static func json(_ object: [String: Any]) -> StandInReply {
        .raw(status: 200, contentType: "application/json", body: JSON.encode(object))
    }

    /// The id of the job this reply hands out, if it is one.
    var jobID: String? {
        if case .job(let id, _) = self { return id }
        return nil
    }

    /// The HTTP status it answers with (nil when it answers none).
    var status: Int? {
        switch self {
        case .status(let code): code
        case .job: 200
        case .raw(let status, _, _): status
        case .dropConnection, .garbage: nil
        case .after(_, let next): next.status
        }
    }

    var description: String {
        switch self {
        case .status(let code): "\(code)"
        case .job(let id, _): "200 job \(id)"
        case .raw(let status, let type, let body): "\(status) \(type ?? "-") \(body.count) bytes"
        case .dropConnection: "connection dropped"
        case .garbage(let bytes): "\(bytes.count) garbage bytes"
        case .after(let hold, let reply): "held \(hold), then \(reply)"
        }
    }
}
