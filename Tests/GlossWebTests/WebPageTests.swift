import Foundation
import GlossEngine
import GlossModel
import GlossTestSupport
import GlossWeb
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Every page and form of the web view, in process (HummingbirdTesting's router client).
@Suite(.timeLimit(.minutes(5))) struct WebPageTests {
    static func app(_ s: WebServer) -> some ApplicationProtocol { Application(router: s.router()) }

    @Test func articleListAndArticlePageShowHighlightsOnTheRightTextWithSecurityHeaders() async throws {
        let f = try WebFixture("article")
        defer { f.remove() }
        try await Self.app(f.server()).test(.router) { client in
            let list = try await client.get("/")
            #expect(list.status == .ok)
            // Scripts only from this origin (the one file, /select.js), never inline.
            #expect(list.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(!text(list).contains("<script>"), "no inline script")
            let script = try await client.get("/select.js")
            #expect(script.status == .ok && script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(list.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            #expect(list.headers[.xContentTypeOptions] == "nosniff")
            #expect(list.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(list.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(text(list).contains("/articles/\(f.article)"))
            #expect(text(list).contains("Dawn") && text(list).contains("B2"))

            let page = try await client.get("/articles/\(f.article.prefix(10))")
            #expect(page.status == .ok)
            let html = text(page)
            #expect(HTMLTests.markedText(html, object: f.fact) == WebFixture.evidence)
            #expect(HTMLTests.markedText(html, object: f.otherFact) == "joint military exercises")
            #expect(HTMLTests.markedText(html, object: f.annotation) == WebFixture.annotated)
            #expect(html.contains("data-object=\"\(f.annotation)\" data-status=\"moved\""), "the revision moved the annotation")
            #expect(html.contains("class=\"hl evidence st-exact"))
            #expect(html.contains("Check the exercise date."))
            #expect(html.contains("odd wording"))
            #expect(!withoutOwnScript(html).contains("<script"), "the page's own /select.js is its only script")

            let css = try await client.get("/style.css")
            #expect(css.status == .ok && css.headers[.contentType]?.hasPrefix("text/css") == true)
            #expect(try await client.get("/articles/ffff0000").status == .notFound)
            #expect(try await client.get("/articles/not-hex").status == .notFound)
        }
    }

    @Test func theListPagesThroughArticlesKeepingTheFilter() async throws {
        let f = try WebFixture("pages")
        defer { f.remove() }
        for i in 0..<3 { _ = try f.replica.ingest(bytes: Array("date 2021-06-2\(i) KYIV – text \(i).\n".utf8), filename: "x\(i).txt") }
        let all = try f.replica.articleList()
        #expect(all.matching == all.total && all.articles.count == all.total && all.total >= 4)
        let first = try f.replica.articleList(limit: 2, offset: 0), rest = try f.replica.articleList(limit: 100, offset: 2)
        #expect(first.articles.count == 2 && first.matching == all.total && rest.offset == 2)
        #expect((first.articles + rest.articles).map(\.id) == all.articles.map(\.id), "pages partition the list in order")
        let html = ArticlePages.list(first, filter: ArticleFilter(tag: "x y"), frame: Page.Frame(title: "t", path: "/", csrf: "c"))
        #expect(html.contains("rel=\"next\"") && html.contains("tag=x%20y&amp;page=2") && !html.contains("rel=\"prev\""))
        #expect(html.contains("1–2 shown"))
        try await Self.app(f.server()).test(.router) { client in
            let page = try await client.get("/?page=1")
            #expect(page.status == .ok && text(page).contains("\(all.total) of \(all.total) articles"))
            #expect(try await client.get("/?page=-3").status == .ok, "a page number out of range is clamped")
        }
    }

    /// The list's text filter keeps every matching article (found by an audit, 2026-12-05: it kept
    /// the articles of the best 200 hits, so 230 matching articles listed as "200 of 230" and 30 could
    /// never be found), and a search holding U+0000 is a bad request, not a server error.
    @Test func theTextFilterListsEveryMatchingArticle() async throws {
        let f = try WebFixture("many-matches")
        defer { f.remove() }
        // 230 ingests by another analyst, applied in one window (one durable commit, not 230).
        let key = ReplicaKey()
        var prev = EventID.zero, events: [SignedEvent] = []
        for i in 0..<230 {
            let payload = ArticleIngested(text: "date 2021-06-26 KYIV – a zebra crossed, \(i).\n", date: "2021-06-26", dateline: "KYIV", places: ["KYIV"], filename: nil)
            var raw = RawEnvelope(replica: key.replicaID, seq: UInt64(i + 1), prev: prev, time: HybridTime(milliseconds: 1_624_700_000_000 + UInt64(i)).raw, payload: payload.encoded)
            raw.type = Array(ArticleIngested.type.utf8)
            let e = SignedEvent(envelope: try EventEnvelope(decoding: raw.encoded(signedBy: key)), payload: payload.encoded)
            events.append(e); prev = e.id
        }
        #expect(try f.replica.store.applyRemote(events, now: 1_624_800_000_000).applied == 230)
        let list = try f.replica.articleList(ArticleFilter(text: "zebra"), limit: 1000)
        #expect(list.matching == 230 && list.articles.count == 230)
        #expect(try f.replica.articleList(ArticleFilter(text: "zebra crossed 117")).matching == 1)
        try await Self.app(f.server()).test(.router) { client in
            let page = try await client.get("/?q=zebra")
            #expect(page.status == .ok && text(page).contains("230 of"), "\(text(page).prefix(0))")
            #expect(try await client.get("/?q=a%00b").status == .badRequest)
        }
    }

    /// A page past the last says so (it said "901–900 shown"), and an as-of point that names no
    /// event says what it looked for (it said "no  with id 0").
    @Test func aPagePastTheEndAndAnUnknownPointSayWhatTheyAre() async throws {
        let f = try WebFixture("past-end")
        defer { f.remove() }
        for i in 0..<3 { _ = try f.replica.ingest(bytes: Array("date 2021-06-2\(i) KYIV – text \(i).\n".utf8), filename: "x\(i).txt") }
        try await Self.app(f.server()).test(.router) { client in
            let page = try await client.get("/?page=999")
            #expect(page.status == .ok && text(page).contains("none on this page") && !text(page).contains("shown"))
            let point = try await client.get("/?asof=0")
            #expect(!text(point).contains("no  with"), "\(text(point).prefix(2000))")
        }
    }

    /// The list's tag, source and grade filters (each one query for the articles it lets
    /// through), alone and together, against articles with and without what they ask for.
    @Test func theListFiltersByTagSourceAndGrade() async throws {
        let f = try WebFixture("filters")
        defer { f.remove() }
        let bare = try f.replica.ingest(bytes: Array("date 2021-06-25 KYIV – nothing cited here.\n".utf8), filename: "bare.txt").id
        let cited = try f.replica.ingest(bytes: Array("date 2021-06-24 BAKU – Reuters says the talks went on.\n".utf8), filename: "cited.txt").id
        _ = try f.replica.addSource(name: "Reuters", kind: "agency")
        _ = try f.replica.gradeSource("Reuters", reliability: .fairlyReliable, reason: nil)
        var input = FactInput()
        input.article = cited; input.subject = "the talks"; input.predicate = "went on"; input.object = "in Baku"
        input.source = "Reuters"; input.evidence = "the talks went on"
        _ = try f.replica.addFact(input)
        _ = try f.replica.tag(cited, "azerbaijan")
        _ = try f.replica.tag(bare, "other")
        func ids(_ filter: ArticleFilter) throws -> Set<String> {
            let list = try f.replica.articleList(filter)
            #expect(list.matching == list.articles.count && list.total == 3)
            return Set(list.articles.map(\.id))
        }
        #expect(try ids(ArticleFilter()) == [f.article, bare, cited])
        #expect(try ids(ArticleFilter(tag: "azerbaijan")) == [f.article, cited])
        #expect(try ids(ArticleFilter(tag: "other")) == [bare])
        #expect(try ids(ArticleFilter(tag: "none")) == [])
        #expect(try ids(ArticleFilter(source: "dawn")) == [f.article], "a source by name, any case")
        let reuters = try #require(try f.replica.sources().first { $0.name == "Reuters" }?.id)
        #expect(try ids(ArticleFilter(source: String(reuters.prefix(12)))) == [cited], "or by id prefix")
        #expect(try ids(ArticleFilter(source: "Nobody")) == [], "an unknown source matches no article")
        #expect(try ids(ArticleFilter(grade: "b")) == [f.article], "B2: a grade prefix, any case")
        #expect(try ids(ArticleFilter(grade: "B2")) == [f.article])
        #expect(try ids(ArticleFilter(grade: "C")) == [cited], "C? (credibility not graded)")
        #expect(try ids(ArticleFilter(grade: "B3")) == [])
        // Lies: a grade of SQL wildcards or longer than any is refused (it matched nothing,
        // silently); an id prefix of no source matches nothing.
        for bad in ["%", "_2", String(repeating: "B", count: 10_000), "Z9"] {
            #expect(throws: GlossError.self, "grade \(bad.prefix(8))") { try ids(ArticleFilter(grade: bad)) }
        }
        #expect(try ids(ArticleFilter(source: "ffffffffffff")) == [])
        #expect(try ids(ArticleFilter(tag: "%")) == [])
        #expect(try ids(ArticleFilter(tag: "azerbaijan", source: "Reuters")) == [cited])
        #expect(try ids(ArticleFilter(tag: "azerbaijan", grade: "B")) == [f.article])
        #expect(try ids(ArticleFilter(tag: "other", grade: "B")) == [])
        // The rows shown still carry their tags, sources and grades.
        let row = try #require(try f.replica.articleList(ArticleFilter(source: "Reuters")).articles.first)
        #expect(row.tags == ["azerbaijan"] && row.sources == ["Reuters"] && row.grades == ["C?"] && row.facts == 1)
        try await Self.app(f.server()).test(.router) { client in
            let page = try await text(client.get("/?tag=azerbaijan&grade=C"))
            #expect(page.contains("/articles/\(cited)") && !page.contains("/articles/\(f.article)") && !page.contains("/articles/\(bare)"))
        }
    }

    @Test func hostileNoteAndArticleTextRendersInert() async throws {
        let f = try WebFixture("hostile")
        defer { f.remove() }
        let hostile = "<script>alert(1)</script> \"'><img src=x onerror=alert(2)> <a href=\"javascript:alert(3)\">x</a> abc\u{202E}fed\u{2066}"
        let big = String(repeating: "A", count: 1_000_000) + "<script>alert(4)</script>"
        let hostileArticle = try f.replica.ingest(bytes: Array(("date 2021-07-01 \u{202E}EVIL\u{202C} – " + hostile + "\n\nThe end.").utf8), filename: "<b>x</b>.txt").id
        _ = try f.replica.annotate(article: hostileArticle, quote: "onerror=alert(2)", comment: hostile, tags: [])
        let n1 = try f.replica.addNote(on: f.article, body: hostile).id
        let n2 = try f.replica.addNote(on: hostileArticle, body: big).id
        _ = try f.replica.addNote(on: n1, body: "reply: " + hostile)
        try await Self.app(f.server()).test(.router) { client in
            for uri in ["/", "/articles/\(f.article)", "/articles/\(hostileArticle)", "/notes/\(n1)", "/notes/\(n2)", "/facts", "/?q=alert"] {
                let r = try await client.get(uri)
                #expect(r.status == .ok, "\(uri)")
                let html = text(r)
                #expect(!withoutOwnScript(html).contains("<script"), "\(uri)")
                #expect(!html.contains("<img"), "\(uri)")
                #expect(!html.contains("<a href=\"javascript"), "\(uri)")
                #expect(!html.unicodeScalars.contains { [0x202E, 0x2066, 0x202C].contains($0.value) }, "\(uri): bidi controls are shown, not obeyed")
            }
            let page = try await text(client.get("/articles/\(hostileArticle)"))
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.contains("&quot;&#39;&gt;&lt;img"))
            #expect(page.contains("⟦U+202E⟧"))
            let clock = ContinuousClock()
            var bigPage = ""
            let took = try await clock.measure { bigPage = try await text(client.get("/notes/\(n2)")) }
            #expect(bigPage.contains(String(repeating: "A", count: 1_000_000) + "&lt;script&gt;"))
            print("[web] /notes with a 1 MB note: \(bigPage.utf8.count) bytes in \(took)")
        }
    }

    @Test func formsWithoutTheSessionsCSRFTokenAreRefused() async throws {
        let f = try WebFixture("csrf")
        defer { f.remove() }
        try await Self.app(f.server()).test(.router) { client in
            let form: [(String, String)] = [("on", f.article), ("body", "sneaky")]
            // No cookie, no token.
            let a = try await client.execute(uri: "/notes", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: formBody(form))
            #expect(a.status == .forbidden)
            // A cookie, and the token of another session.
            let s1 = try await client.get("/articles/\(f.article)"), s2 = try await client.get("/articles/\(f.article)")
            let c1 = try #require(sessionCookie(s1)), t2 = try #require(csrfToken(text(s2)))
            let b = try await client.execute(uri: "/notes", method: .post, headers: [.cookie: c1, .contentType: "application/x-www-form-urlencoded"],
                                             body: formBody(form + [("csrf", t2)]))
            #expect(b.status == .forbidden)
            #expect(try f.replica.notes(on: f.article).allSatisfy { $0.body != "sneaky" })
            // The right one.
            let ok = try await client.postForm("/notes", from: "/articles/\(f.article)", [("on", f.article), ("body", "line 1\r\nline 2")])
            #expect(ok.status == .seeOther)
            let added = try #require(try f.replica.notes(on: f.article).first { $0.body == "line 1\nline 2" })
            #expect(added.author == "ana")
            // A reply to it, from its page.
            let reply = try await client.postForm("/notes", from: "/notes/\(added.id)", [("on", added.id), ("body", "a reply")])
            #expect(reply.status == .seeOther)
            #expect(try f.replica.noteDetail(added.id).replies.map(\.body) == ["a reply"])
            // An annotation on a selected span.
            let ann = try await client.postForm("/articles/\(f.article)/annotate", from: "/articles/\(f.article)",
                                                [("quote", "Zakir Hasanov"), ("occurrence", ""), ("comment", "the minister")])
            #expect(ann.status == .seeOther)
            #expect(try f.replica.annotations(article: f.article).contains { $0.selector.exact == "Zakir Hasanov" && $0.comment == "the minister" })
            // Refusals from the engine come back as pages with the status.
            let empty = try await client.postForm("/notes", from: "/articles/\(f.article)", [("on", f.article), ("body", "   ")])
            #expect(empty.status == .badRequest)
            // Bodies are bounded.
            let s = try await client.get("/")
            let huge = try await client.execute(uri: "/notes", method: .post,
                                                headers: [.cookie: try #require(sessionCookie(s)), .contentType: "application/x-www-form-urlencoded"],
                                                body: ByteBuffer(string: "body=" + String(repeating: "x", count: WebSecurity.maxBodyBytes + 1)))
            #expect(huge.status == .contentTooLarge)
        }
    }

    @Test func factNoteSearchAndFilterPages() async throws {
        let f = try WebFixture("facts")
        defer { f.remove() }
        _ = try f.replica.editNote(f.note, body: "Exercises in September 2021.")
        _ = try f.replica.gradeFact(f.fact, credibility: .possiblyTrue, reason: "second look")
        let second = try f.replica.ingest(bytes: Array("date 2021-08-02 ANKARA – Another story about zanzibarian spices.\n".utf8), filename: "b.txt").id
        try await Self.app(f.server()).test(.router) { client in
            let facts = try await text(client.get("/facts"))
            #expect(facts.contains(f.fact) && facts.contains("B3"))
            let fact = try await text(client.get("/facts/\(f.fact)"))
            #expect(fact.contains("Credibility history") && fact.contains("second look"))
            #expect(fact.contains("long record"), "the source's reliability history")
            #expect(fact.contains("/facts/\(f.otherFact)"), "corroborated by the other fact")
            let note = try await text(client.get("/notes/\(f.note)"))
            #expect(note.contains("Check the exercise date.") && note.contains("Exercises in September 2021."))
            #expect(note.contains(">edit<"))

            func listed(_ query: String) async throws -> Set<String> {
                let html = try await text(client.get("/?" + query))
                return Set([f.article, second].filter { html.contains("/articles/\($0)") })
            }
            #expect(try await listed("") == [f.article, second])
            #expect(try await listed("q=September") == [f.article])
            #expect(try await listed("q=zanzibarian") == [second])
            #expect(try await listed("tag=azerbaijan") == [f.article])
            #expect(try await listed("source=dawn") == [f.article])
            #expect(try await listed("source=Nobody") == [])
            #expect(try await listed("grade=B3") == [f.article])
            #expect(try await listed("grade=C") == [])
            #expect(try await listed("grade=b3") == [f.article], "either case")
            // A grade that cannot be one says so (it showed an empty list; an audit, 2026-12-06).
            for bad in ["Z9", "B7", "B33", "%3F%3F%3F"] {
                let page = try await client.get("/?grade=" + bad)
                #expect(page.status == .badRequest && String(buffer: page.body).contains("is not a grade"), "grade=\(bad): \(page.status)")
            }
            #expect(try await listed("from=2021-07-01") == [second])
            #expect(try await listed("to=2021-06") == [f.article])
            #expect(try await listed("from=2021") == [f.article, second])
            #expect(try await listed("from=2024-02-29") == [], "a leap day is a date")
            // A bound that is no date says so (it matched nothing, or everything; an audit, 2026-12-07).
            for bad in ["from=banana", "from=2021-13-45", "to=zzz", "to=2021-02-29", "from=2021-6", "to=20210601", "from=2021-06-01T00:00"] {
                let page = try await client.get("/?" + bad)
                #expect(page.status == .badRequest && String(buffer: page.body).contains("is not a date"), "\(bad): \(page.status)")
            }
            let search = try await text(client.get("/?q=September"))
            #expect(search.contains("Matches") && search.contains("/notes/\(f.note)"))
            // /objects/ID sends to the object's page.
            let r = try await client.get("/objects/\(f.fact.prefix(12))")
            #expect(r.status == .seeOther && r.headers[.location] == "/facts/\(f.fact)")
            // An annotation's page is its article's, at the annotation.
            let a = try await client.get("/objects/\(f.annotation.prefix(12))")
            #expect(a.status == .seeOther && a.headers[.location] == "/articles/\(f.article)#annotation-\(f.annotation)")
        }
    }

    @Test func asOfShowsAnyPageAsItWasAndRevisionsDiff() async throws {
        let f = try WebFixture("asof")
        defer { f.remove() }
        let before = try #require(try f.replica.noteDetail(f.note).history.last?.event)
        _ = try f.replica.editNote(f.note, body: "Exercises in September 2021.")
        try await Self.app(f.server()).test(.router) { client in
            let now = try await text(client.get("/notes/\(f.note)"))
            #expect(now.contains("Exercises in September 2021.") && now.contains("name=\"csrf\""))
            let past = try await text(client.get("/notes/\(f.note)?asof=\(before)"))
            #expect(past.contains("As the team saw it"))
            #expect(!past.contains(">edit<"), "the edit came later")
            #expect(!past.contains("<form method=\"post\""), "no writes to the past")
            let article = try await text(client.get("/articles/\(f.article)?asof=\(before.prefix(16))"))
            #expect(article.contains("Check the exercise date.") && !article.contains("Exercises in September 2021."))
            #expect(article.contains("asof=\(before.prefix(16))"), "links keep the point")
            // Before anything: an RFC 3339 time.
            let empty = try await client.get("/?asof=2001-01-01T00:00:00Z")
            #expect(empty.status == .ok && text(empty).contains("0 of 0 articles"))
            #expect(try await client.get("/?asof=/etc/passwd").status == .badRequest, "a point is never a file on the server")
            // Revision diff.
            let d = try f.replica.articleDetail(f.article)
            #expect(d.revisions.count == 2)
            let diff = try await client.get("/articles/\(f.article)/diff?from=\(d.revisions[0].sha256)&to=\(d.revisions[1].sha256.prefix(12))")
            #expect(diff.status == .ok)
            #expect(text(diff).contains("<ins>+ ") && text(diff).contains("(Updated.) The statement made"))
            #expect(text(diff).contains("<del>- "))
        }
    }

    /// Another site's page may not use the view (found by a hostile-input audit, 2026-12-06): an
    /// image pointing at `/?asof=POINT` made the server replay the log at each load of that page.
    /// Cross-site subresources and cross-site `?asof=` are refused; a link from elsewhere still
    /// opens a page, and tools that send no `Sec-Fetch-Site` are served as before.
    @Test func pagesOfOtherSitesCannotUseTheView() async throws {
        let f = try WebFixture("cross-site")
        defer { f.remove() }
        try await Self.app(f.server()).test(.router) { client in
            let site = HTTPField.Name("Sec-Fetch-Site")!, mode = HTTPField.Name("Sec-Fetch-Mode")!
            let asOf = "/?asof=2030-01-01T00:00:00Z", page = "/articles/\(f.article)"
            let cases: [(String, String?, String?, HTTPResponse.Status)] = [
                (asOf, "cross-site", "no-cors", .forbidden), (asOf, "cross-site", "navigate", .forbidden),
                (page, "cross-site", "cors", .forbidden), (page, "cross-site", "navigate", .ok),
                (asOf, "same-origin", "navigate", .ok), (asOf, nil, nil, .ok),
            ]
            for (uri, from, how, status) in cases {
                var headers = HTTPFields()
                if let from { headers[site] = from }
                if let how { headers[mode] = how }
                let response = try await client.execute(uri: uri, method: .get, headers: headers)
                #expect(response.status == status, "\(uri) \(from ?? "-") \(how ?? "-"): \(response.status)")
            }
        }
    }

    @Test func anAccessTokenIsRequiredWhenConfigured() async throws {
        let f = try WebFixture("token")
        defer { f.remove() }
        let token = "0123456789abcdef-token"
        try await Self.app(f.server(token: token)).test(.router) { client in
            #expect(try await client.get("/").status == .unauthorized)
            #expect(try await client.get("/articles/\(f.article)").status == .unauthorized)
            #expect(try await client.get("/", headers: [.authorization: "Bearer wrong-token-0123456"]).status == .unauthorized)
            #expect(try await client.get("/", headers: [.authorization: "Bearer \(token)"]).status == .ok)
            #expect(try await client.get("/", headers: [.authorization: "bearer \(token)"]).status == .ok, "the scheme in any case")
            #expect(try await client.get("/", headers: [.authorization: "Basic \(token)"]).status == .unauthorized)
            #expect(try await client.get("/login?token=nope").status == .unauthorized)
            let login = try await client.get("/login?token=\(token)")
            #expect(login.status == .seeOther)
            let auth = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("gloss_auth=") })
            #expect(!auth.contains(token), "the cookie is not the token itself")
            #expect(auth.contains("HttpOnly") && auth.contains("SameSite=Strict"))
            let cookie = String(auth.split(separator: ";")[0])
            #expect(try await client.get("/", cookie: cookie).status == .ok)
        }
    }
}

/// A page without its one script element (`/select.js`, from this origin): what is left must hold none.
func withoutOwnScript(_ html: String) -> String {
    html.replacingOccurrences(of: "<script src=\"/select.js\" defer></script>", with: "")
}
