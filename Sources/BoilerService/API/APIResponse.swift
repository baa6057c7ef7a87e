import Foundation
import Hummingbird

/// JSON responses.
enum APIResponse {
    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static func error(_ error: APIError) -> Response {
        let body = APIModels.ErrorBody(error: .init(code: error.code, message: error.message))
        let response = try? Self.json(body, status: error.status)
        return response ?? Response(status: error.status)
    }

    static func bytes(_ bytes: [UInt8], contentType: String) -> Response {
        var headers: HTTPFields = [:]
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
