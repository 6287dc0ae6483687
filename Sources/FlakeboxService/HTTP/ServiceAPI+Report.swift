import FlakeboxCore
import FlakeboxJobs
import Foundation
import Hummingbird
import NIOCore

extension ServiceAPI {
    /// The report page's headers: nothing it holds (test names, output a tenant controls) may run
    /// a script, load anything, submit a form or be framed.
    static let reportSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// `GET report/{id}`: the HTML report of a job with a summary, to a key with the read scope
    /// or through a signed link (`expires` and `signature`, from `report_url`).
    func report(_ request: Request, context: ServiceRequestContext, id: String) async throws -> Response {
        let query = request.uri.queryParameters
        let job: StoredJob
        if let signature = query["signature"] {
            guard let expires = query["expires"],
                signer.verify(id: id, expires: String(expires), signature: String(signature))
            else { throw ServiceError(.forbidden, "this report link is not valid, or has expired") }
            guard let found = try await load(id) else { throw ServiceError.jobNotFound(id) }
            job = found
        } else {
            let key = try context.require(.read)
            job = try await self.job(id, for: key)
        }
        guard let output = job.output else {
            throw ServiceError.conflict("job \(id) has no summary yet (it is \(job.state.rawValue))")
        }
        let summary: JobSummary
        do {
            summary = try JSONDecoder().decode(JobSummary.self, from: output)
        } catch {
            throw ServiceError(.internalServerError, "the stored summary of job \(id) could not be read")
        }
        let command = (try? JSONSerialization.jsonObject(with: job.input) as? [String: Any])?["test_command"] as? String
        let html = HTMLReport.render(summary, command: command ?? "")
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: Self.reportSecurityPolicy,
                .xContentTypeOptions: "nosniff", .cacheControl: "no-store",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
