// The library's HttpTransport over URLSession: the system's trust store,
// App Transport Security, the user's proxy settings and the app's own
// session (pinning delegate, if any). Every HTTP answer, 4xx and 5xx
// included, is returned as a response: the library reads the status and
// Retry-After itself. Only when there is no answer does this throw:
// Timeout, Unreachable (worth retrying), Tls (the certificate or the
// handshake: backed off, told to the user as such) or Failed.
import Foundation
import PunchCore

public final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    private let session: URLSession

    /// The default session: no cookies and no cache (every request is
    /// signed and answered once), fails at once when offline (the library
    /// retries with backoff) rather than waiting for connectivity.
    public convenience init() {
        let configuration = URLSessionConfiguration.default
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.waitsForConnectivity = false
        self.init(session: URLSession(configuration: configuration))
    }

    /// An app's own session (certificate pinning in its delegate, say).
    public init(session: URLSession) {
        self.session = session
    }

    /// Suspends until the answer; a cancelled Task cancels the request
    /// (URLSession's async `data(for:)` does), and `request.timeout` bounds
    /// the whole exchange, not only the gaps between packets.
    public func send(request: HttpRequest) async throws -> HttpResponse {
        guard let url = URL(string: request.url) else {
            throw PlatformError.Failed(detail: "not a URL")
        }
        var urlRequest = URLRequest(url: url, timeoutInterval: request.timeout)
        urlRequest.httpMethod = Self.method(request.method)
        for header in request.headers {
            urlRequest.addValue(header.value, forHTTPHeaderField: header.name)
        }
        switch request.method {
        case .get: break
        case .post: urlRequest.httpBody = request.body
        }
        let prepared = urlRequest
        // (Data, URLResponse) is Sendable with the iOS 16+ SDKs Xcode 15 ships.
        let (data, response) = try await withDeadline(request.timeout) { [session] () async throws -> (Data, URLResponse) in
            do {
                return try await session.data(for: prepared)
            } catch let error as URLError {
                throw Self.platformError(error)
            }
        }
        guard let http = response as? HTTPURLResponse else {
            throw PlatformError.Failed(detail: "the answer is not HTTP")
        }
        let headers = http.allHeaderFields.compactMap { name, value -> HttpHeader? in
            guard let name = name as? String else { return nil }
            return HttpHeader(name: name, value: String(describing: value))
        }
        return HttpResponse(status: Int32(clamping: http.statusCode), headers: headers, body: data)
    }

    static func method(_ method: HttpMethod) -> String {
        switch method {
        case .get: return "GET"
        case .post: return "POST"
        }
    }

    /// No answer, sorted by whether trying again later can help.
    static func platformError(_ error: URLError) -> PlatformError {
        switch error.code {
        case .timedOut:
            return .Timeout(detail: "the server did not answer in time")
        case .notConnectedToInternet, .networkConnectionLost, .cannotFindHost, .cannotConnectToHost,
             .dnsLookupFailed, .internationalRoamingOff, .dataNotAllowed, .callIsActive:
            return .Unreachable(detail: "the server cannot be reached (\(error.code.rawValue))")
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot,
             .serverCertificateNotYetValid, .secureConnectionFailed, .clientCertificateRejected,
             .clientCertificateRequired:
            return .Tls(detail: "the server's certificate or the TLS handshake was refused (URLError \(error.code.rawValue))")
        case .cancelled:
            return .Failed(detail: "the request was cancelled")
        default:
            // ATS refusals land here: not a network blip.
            return .Failed(detail: "the request failed (URLError \(error.code.rawValue))")
        }
    }
}

/// Runs `body`, throwing `PlatformError.Timeout` if it has not finished
/// within `seconds` (the loser is cancelled). Cancelling the caller
/// cancels both.
func withDeadline<T: Sendable>(
    _ seconds: TimeInterval,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            // Clamped: a day is beyond any request, and UInt64 cannot hold infinity.
            try await Task.sleep(nanoseconds: UInt64(min(max(seconds, 0), 86_400) * 1_000_000_000))
            throw PlatformError.Timeout(detail: "no answer within \(Int(seconds)) s")
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else {
            throw PlatformError.Failed(detail: "the request ended without an answer")
        }
        return first
    }
}
