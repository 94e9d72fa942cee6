import Foundation
import GlossEngine
import GlossTestSupport
import GlossWeb
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A replica with an article, a revision that moves an annotation, a graded fact with evidence,
/// notes; and helpers to drive the web view in process.
struct WebFixture {
    let dir: TempDir
    let replica: Replica
    let article: String
    let fact: String
    let otherFact: String
    let annotation: String
    let note: String
    static let evidence = "hold exercises in Azerbaijan in September"
    static let annotated = "inspecting the landfills"

    init(_ label: String) throws {
        dir = TempDir("web-\(label)")
        let clock = MockClock(start: 1_700_000_000_000, step: 1000)
        replica = try Replica.create(in: dir.sub("ana"), analyst: "ana", key: fixedKey("web-ana"), clock: clock.function)
        article = try replica.ingest(bytes: sampleArticleBytes(), filename: "trilateral.txt").id
        _ = try replica.addSource(name: "Dawn", kind: "outlet")
        _ = try replica.gradeSource("Dawn", reliability: .usuallyReliable, reason: "long record")
        var input = FactInput()
        input.article = article; input.subject = "Special Forces"; input.predicate = "will hold"; input.object = "exercises"
        input.source = "Dawn"; input.evidence = Self.evidence
        fact = try replica.addFact(input).id
        _ = try replica.gradeFact(fact, credibility: .probablyTrue, reason: nil)
        var other = FactInput()
        other.article = article; other.subject = "Zakir Hasanov"; other.predicate = "said"; other.object = "joint exercises"
        other.evidence = "joint military exercises"
        otherFact = try replica.addFact(other).id
        _ = try replica.relateFact(fact, "corroborates", by: otherFact)
        annotation = try replica.annotate(article: article, quote: Self.annotated, comment: "odd wording", tags: ["follow-up"]).id
        _ = try replica.tag(article, "azerbaijan")
        note = try replica.addNote(on: article, body: "Check the exercise date.").id
        // A revision that inserts text before the annotated span: its anchor moves.
        let text = String(decoding: sampleArticleBytes(), as: UTF8.self)
            .replacingOccurrences(of: "The statement made", with: "(Updated.) The statement made")
        let v2 = dir.sub("v2.txt")
        try Data(text.utf8).write(to: v2)
        _ = try replica.revise(article: article, file: v2.path)
    }

    func server(token: String? = nil) -> WebServer {
        WebServer(replica: replica, security: WebSecurity(token: token))
    }

    func remove() { try? replica.close(); dir.remove() }
}

/// The response body as text.
func text(_ r: TestResponse) -> String { String(buffer: r.body) }

/// The session cookie a response sets (`name=value`).
func sessionCookie(_ r: TestResponse) -> String? {
    r.headers[values: .setCookie].first { $0.hasPrefix("gloss_session=") }?.split(separator: ";").first.map(String.init)
}

/// The CSRF token in a page's first form.
func csrfToken(_ html: String) -> String? {
    guard let r = html.range(of: "name=\"csrf\" value=\"") else { return nil }
    return String(html[r.upperBound...].prefix { $0 != "\"" })
}

/// `application/x-www-form-urlencoded`.
func formBody(_ fields: [(String, String)]) -> ByteBuffer {
    ByteBuffer(string: fields.map { "\(HTML.urlComponent($0.0))=\(HTML.urlComponent($0.1))" }.joined(separator: "&"))
}

extension TestClientProtocol {
    func get(_ uri: String, cookie: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var h = headers
        if let cookie { h[.cookie] = cookie }
        return try await execute(uri: uri, method: .get, headers: h)
    }

    /// GETs `page` for a session and its CSRF token, then POSTs `fields` (plus the token) to `uri`.
    func postForm(_ uri: String, from page: String, _ fields: [(String, String)]) async throws -> TestResponse {
        let first = try await get(page)
        let cookie = try #require(sessionCookie(first))
        let token = try #require(csrfToken(text(first)))
        return try await execute(uri: uri, method: .post,
                                 headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                 body: formBody(fields + [("csrf", token)]))
    }
}
