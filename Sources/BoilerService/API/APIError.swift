import Hummingbird
import Logging

/// An error the API answers with `{"error":{"code","message"}}` and its status.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code: `bad_parameter`, `not_found`, `unauthorized`, `unavailable`, `internal`.
    public var code: String
    /// What was wrong, for a person: names the parameter or the resource.
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.status.code) \(self.code): \(self.message)" }

    static func badParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, "bad_parameter", "\(name): \(message)")
    }

    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, "not_found", message)
    }
}

/// Turns every error into the JSON error body: `APIError` as it is, Hummingbird's `HTTPError` (unknown route,
/// wrong method) with its status, anything else as 500 without internals (logged instead).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return APIResponse.error(error)
        } catch let error as HTTPError {
            let code: String =
                switch error.status {
                case .notFound: "not_found"
                case .methodNotAllowed: "method_not_allowed"
                case .badRequest: "bad_request"
                case .unauthorized: "unauthorized"
                default: "http_\(error.status.code)"
                }
            let message =
                error.status == .notFound ? "no such resource: \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            return APIResponse.error(APIError(error.status, code, message))
        } catch {
            context.logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
            return APIResponse.error(APIError(.internalServerError, "internal", "internal error; see the server's log"))
        }
    }
}

/// With a token configured, every request under the group needs `Authorization: Bearer <token>`.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, "unauthorized", "this API needs 'Authorization: Bearer <token>'")
        }
        guard constantTimeEqual(Array(header.utf8.dropFirst(7)), self.token) else {
            throw APIError(.unauthorized, "unauthorized", "the bearer token is not valid")
        }
        return try await next(request, context)
    }
}

/// Compares without stopping at the first difference, so the time taken does not reveal the token.
func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
    for index in 0..<max(lhs.count, rhs.count) {
        difference |= (index < lhs.count ? lhs[index] : 0) ^ (index < rhs.count ? rhs[index] : 0)
    }
    return difference == 0
}
