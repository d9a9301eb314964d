import Foundation
import PushSealSampleKit

/// Sends a registration to the sample sender's `POST /registrations`.
enum RegistrationClient {
    /// Why a registration did not go through.
    enum Failure: Error, CustomStringConvertible {
        case status(Int)
        case notHTTP
        case wrongKey

        var description: String {
            switch self {
            case .status(let code): return "the sender answered HTTP \(code)"
            case .notHTTP: return "the sender's answer is not HTTP"
            case .wrongKey: return "the sender registered a different key id"
            }
        }
    }

    /// Registers and returns the sender's answer.
    static func register(_ registration: Registration, at url: URL) async throws -> RegistrationResponse {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 15)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try registration.jsonData()
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw Failure.notHTTP }
        guard http.statusCode == 200 else { throw Failure.status(http.statusCode) }
        let answer = try JSONDecoder().decode(RegistrationResponse.self, from: data)
        guard answer.registered == registration.keyId else { throw Failure.wrongKey }
        return answer
    }
}
