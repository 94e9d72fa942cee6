import Crypto
import Foundation

/// The web view's secrets and checks: the access token (required when bound beyond loopback), the
/// per-process secret behind session-bound CSRF tokens, and the limits on what a request may send.
public struct WebSecurity: Sendable {
    /// The largest request body read: a form carrying a note or merged text of the protocol's
    /// largest size (1 MiB) percent-encoded, plus the other fields.
    public static let maxBodyBytes = 3 * 1024 * 1024 + 64 * 1024
    public static let sessionCookie = "gloss_session"
    public static let authCookie = "gloss_auth"

    /// The access token, or nil when none is required (loopback only).
    public let token: String?
    /// 32 random bytes, per process (kept as bytes: `SymmetricKey` is not `Sendable`).
    private let secret: [UInt8]

    /// `secret` is random per process unless given (tests).
    public init(token: String?, secret: [UInt8]? = nil) {
        self.token = token
        self.secret = secret ?? (0..<32).map { _ in UInt8.random(in: .min ... .max) }
    }

    /// Refuses a token too short to resist guessing or unfit for a cookie, and binding beyond
    /// loopback without one.
    public static func check(host: String, token: String?) throws {
        if let token {
            guard (16...256).contains(token.count),
                  token.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._~".unicodeScalars.contains($0)) }) else {
                throw WebError(.badRequest, "--http-token must be 16–256 characters of A–Z, a–z, 0–9, '-', '.', '_', '~' (for example: openssl rand -hex 24)")
            }
        } else if !isLoopback(host) {
            throw WebError(.badRequest, "serving the web view on \(host) (beyond this machine) requires an access token: pass --http-token TOKEN or set GLOSS_HTTP_TOKEN")
        }
    }

    /// 127.0.0.0/8, ::1 and localhost.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "::1" || h == "[::1]" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    func mac(_ label: String, _ value: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data((label + "\u{0}" + value).utf8), using: SymmetricKey(data: secret))).map { String(format: "%02x", $0) }.joined()
    }

    /// The CSRF token of a session: every form carries it; a POST whose form does not carry the
    /// token of the session in its cookie is refused.
    public func csrf(session: String) -> String { mac("csrf", session) }

    public func csrfMatches(session: String, token: String?) -> Bool {
        guard let token, !session.isEmpty else { return false }
        return constantTimeEqual(csrf(session: session), token)
    }

    /// The cookie value that stands for the access token after `/login` (not the token itself).
    public var authCookieValue: String? { token.map { mac("auth", $0) } }

    public func tokenMatches(_ candidate: String?) -> Bool {
        guard let token, let candidate else { return false }
        return constantTimeEqual(mac("cmp", token), mac("cmp", candidate))
    }

    func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }

    /// A new random session id (hex).
    static func newSession() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max)) }.joined()
    }

    static func isSession(_ s: String) -> Bool {
        s.utf8.count == 32 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// An error of the web layer with the HTTP status it answers with. Messages name ids and limits,
/// never note or article text.
public struct WebError: Error, Sendable, CustomStringConvertible {
    public enum Code: Int, Sendable {
        case badRequest = 400, unauthorized = 401, forbidden = 403, notFound = 404, conflict = 409, tooLarge = 413, internalError = 500
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

/// `application/x-www-form-urlencoded` (bodies and queries): `+` is a space, `%XX` a byte; the
/// bytes must be UTF-8. The last of repeated names wins. Newlines are normalised to `\n`
/// (browsers send a textarea's lines with CRLF).
public enum FormData {
    public static func parse(_ text: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(kv[0]), let value = decode(kv.count > 1 ? kv[1] : "") else {
                throw WebError(.badRequest, "the form is not valid URL-encoded UTF-8")
            }
            out[name] = value.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        }
        return out
    }

    static func decode(_ s: Substring) -> String? {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
