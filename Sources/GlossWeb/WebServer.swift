import Foundation
import GlossEngine
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The request context: the session id the page's forms are bound to.
public struct WebContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The session of this request (from its cookie, or new: then set on the response).
    public var session = ""
    /// True when the session came from the request's cookie (a POST needs one).
    public var sessionFromCookie = false

    public init(source: Source) { coreContext = .init(source: source) }
}

/// The web view of one replica (`gloss serve --http`): pages rendered on the server from the
/// engine's typed reads; forms write ordinary signed events of the replica's key.
///
/// Every request reads the replica's database afresh (a new read transaction), so what another
/// process wrote — a `gloss sync`, a command — shows on the next page load. SQLite work runs on a
/// dispatch queue, never on an event loop.
public struct WebServer: Sendable {
    public let replica: Replica
    public let security: WebSecurity
    let snapshots: SnapshotCache

    public init(replica: Replica, security: WebSecurity) {
        self.replica = replica
        self.security = security
        self.snapshots = SnapshotCache()
    }

    static let sqliteQueue = DispatchQueue(label: "gloss.web.sqlite", attributes: .concurrent)
    /// How long a connection may send nothing while a request is incomplete or between requests.
    public var requestIdleTimeout = TimeAmount.seconds(30)

    /// Runs blocking SQLite work on a dispatch queue, never on an event loop or the cooperative pool.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in sqliteQueue.async { c.resume(with: Result { try body() }) } }
    }

    /// The router with every page and form (in-process tests drive it directly).
    public func router() -> Router<WebContext> {
        let router = Router(context: WebContext.self)
        router.add(middleware: WebMiddleware(security: security))
        router.get("/style.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: Page.stylesheet)))
        }
        router.get("/select.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: Page.selectionScript)))
        }
        router.get("/login") { request, _ in try self.login(request) }
        router.get("/") { request, context in try await self.articles(request, context) }
        router.get("/articles/:id") { request, context in try await self.article(request, context) }
        router.get("/articles/:id/diff") { request, context in try await self.revisionDiff(request, context) }
        router.post("/articles/:id/annotate") { request, context in try await self.annotate(request, context) }
        router.get("/facts") { request, context in try await self.facts(request, context) }
        router.get("/facts/:id") { request, context in try await self.fact(request, context) }
        router.get("/notes/:id") { request, context in try await self.note(request, context) }
        router.post("/notes") { request, context in try await self.addNote(request, context) }
        router.get("/objects/:id") { request, context in try await self.object(request, context) }
        router.get("/conflicts") { request, context in try await self.conflicts(request, context) }
        router.get("/conflicts/:id") { request, context in try await self.conflict(request, context) }
        router.post("/conflicts/:id/resolve") { request, context in try await self.resolve(request, context) }
        return router
    }

    /// Serves on `host:port` until `stop` returns (or the task is cancelled); `ready` gets the bound port.
    public func run(host: String, port: Int, logger: Logger, ready: @escaping @Sendable (Int) -> Void,
                    stop: @escaping @Sendable () async -> Void) async throws {
        try WebSecurity.check(host: host, token: security.token)
        // A connection that sends nothing for `requestIdleTimeout` — a request left half sent — is
        // closed: such connections were held for good, and 20,000 of them took every file
        // descriptor of the process (an audit, 2026-12-07). A request being answered is never cut.
        let app = Application(router: router(), server: .http1(configuration: .init(idleTimeout: requestIdleTimeout)),
                              configuration: .init(address: .hostname(host, port: port), serverName: nil),
                              onServerRunning: { channel in ready(channel.localAddress?.port ?? port) }, logger: logger)
        defer { snapshots.removeAll() }
        // A graceful shutdown (not a cancellation) lets requests in flight finish.
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        // Not a child task: when the server fails first (a port in use) nothing waits for `stop`.
        let stopper = Task {
            await stop()
            await services.triggerGracefulShutdown()
        }
        defer { stopper.cancel() }
        do { try await services.run() } catch let e as IOError where e.errnoCode == EADDRINUSE {
            throw GlossError(.refused, "cannot serve the web view on \(host):\(port): the address is in use; choose another port (port 0 picks a free one)")
        }
    }

    // MARK: Reading at a point

    /// The query of a request as a form (empty when none).
    static func query(_ request: Request) throws -> [String: String] {
        guard let q = request.uri.query, !q.isEmpty else { return [:] }
        guard q.utf8.count <= 64 * 1024 else { throw WebError(.tooLarge, "the query is over 64 KiB") }
        return try FormData.parse(q)
    }

    /// The replica to read for this request: the present one, or a snapshot at `?asof=POINT`.
    func reader(_ q: [String: String], path: String, title: String, _ context: WebContext) async throws -> (Replica, Page.Frame) {
        var frame = Page.Frame(title: title, path: path, csrf: security.csrf(session: context.session))
        guard let asOf = q["asof"]?.trimmingCharacters(in: .whitespaces), !asOf.isEmpty else { return (replica, frame) }
        let (base, cache) = (replica, snapshots)
        let (snapshot, point) = try await Self.offload { () -> (Replica, Point) in
            let point = try base.point(web: asOf)
            return (try cache.snapshot(of: base, at: point), point)
        }
        frame.asOf = asOf
        frame.asOfDescription = point.description
        return (snapshot, frame)
    }

    static func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func id(_ context: WebContext) throws -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty, id.utf8.count <= 64, id.allSatisfy(\.isHexDigit) else {
            throw WebError(.notFound, "ids are hexadecimal (a unique prefix is enough)")
        }
        return id.lowercased()
    }

    // MARK: Pages

    func articles(_ request: Request, _ context: WebContext) async throws -> Response {
        let q = try Self.query(request)
        let (r, frame) = try await reader(q, path: "/", title: "Articles", context)
        let filter = ArticleFilter(text: q["q"], tag: q["tag"], source: q["source"], grade: q["grade"], from: q["from"], to: q["to"])
        let pageNumber = max(1, min(1_000_000, Int(q["page"] ?? "") ?? 1))
        let list = try await Self.offload { try r.articleList(filter, limit: ArticlePages.pageSize, offset: (pageNumber - 1) * ArticlePages.pageSize) }
        return Self.html(ArticlePages.list(list, filter: filter, frame: frame))
    }

    func article(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try Self.id(context)
        let (r, frame) = try await reader(try Self.query(request), path: "/articles/\(id)", title: "Article \(id.prefix(12))", context)
        let detail = try await Self.offload { try r.articleDetail(id) }
        return Self.html(ArticlePages.article(detail, frame: frame))
    }

    func revisionDiff(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try Self.id(context)
        let q = try Self.query(request)
        guard let from = q["from"], let to = q["to"] else { throw WebError(.badRequest, "choose two revisions (from and to)") }
        let (r, frame) = try await reader(q, path: "/articles/\(id)/diff", title: "Revisions of \(id.prefix(12))", context)
        let (a, b) = try await Self.offload { (try r.revisionText(article: id, revision: from), try r.revisionText(article: id, revision: to)) }
        return Self.html(ArticlePages.diff(article: id, from: a, to: b, frame: frame))
    }

    func facts(_ request: Request, _ context: WebContext) async throws -> Response {
        let (r, frame) = try await reader(try Self.query(request), path: "/facts", title: "Facts", context)
        let facts = try await Self.offload { try r.facts(article: nil) }
        return Self.html(FactPages.list(facts, frame: frame))
    }

    func fact(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try Self.id(context)
        let (r, frame) = try await reader(try Self.query(request), path: "/facts/\(id)", title: "Fact \(id.prefix(12))", context)
        let (detail, notes) = try await Self.offload { () -> (FactDetail, [NoteNode]) in
            let d = try r.fact(id)
            return (d, try r.notes(on: d.fact.id))
        }
        return Self.html(FactPages.detail(detail, notes: notes, frame: frame))
    }

    func note(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try Self.id(context)
        let (r, frame) = try await reader(try Self.query(request), path: "/notes/\(id)", title: "Note \(id.prefix(12))", context)
        let detail = try await Self.offload { try r.noteDetail(id) }
        return Self.html(NotePages.detail(detail, frame: frame))
    }

    /// Any object id: to the page that shows it.
    func object(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try Self.id(context)
        let q = try Self.query(request)
        let keep = q["asof"].map { "?asof=" + HTML.urlComponent($0) } ?? ""
        let r = replica
        let (full, kind) = try await Self.offload { () -> (String, ObjectKind?) in
            let full = try r.resolve(id).hex
            return (full, try r.kind(of: full))
        }
        switch kind {
        case .article?: return Self.redirect("/articles/\(full)\(keep)")
        case .fact?: return Self.redirect("/facts/\(full)\(keep)")
        case .note?: return Self.redirect("/notes/\(full)\(keep)")
        case .annotation?:
            let article = try await Self.offload { try r.article(of: full) }
            if let article { return Self.redirect("/articles/\(article)\(keep)#annotation-\(full)") }
            throw WebError(.notFound, "no annotation \(full.prefix(12))")
        default: throw WebError(.notFound, "\(full.prefix(12)) has no page of its own")
        }
    }

    func conflicts(_ request: Request, _ context: WebContext) async throws -> Response {
        let q = try Self.query(request)
        let all = q["all"] == "1"
        let (r, frame) = try await reader(q, path: "/conflicts", title: "Conflicts", context)
        let list = try await Self.offload { try r.conflicts(all: all) }
        return Self.html(ConflictPages.list(list, all: all, frame: frame))
    }

    func conflict(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try Self.id(context)
        let (r, frame) = try await reader(try Self.query(request), path: "/conflicts/\(id)", title: "Conflict \(id.prefix(12))", context)
        let c = try await Self.offload { try r.conflict(id) }
        return Self.html(ConflictPages.detail(c, frame: frame))
    }

    // MARK: Forms

    /// The form of a POST, after the CSRF check (the token must be the one of the session cookie).
    func form(_ request: Request, _ context: WebContext) async throws -> [String: String] {
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            throw WebError(.badRequest, "forms are sent as application/x-www-form-urlencoded")
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: WebSecurity.maxBodyBytes) } catch {
            throw WebError(.tooLarge, "the form is over \(WebSecurity.maxBodyBytes) bytes")
        }
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) else {
            throw WebError(.badRequest, "the form is not UTF-8")
        }
        let form = try FormData.parse(text)
        guard context.sessionFromCookie, security.csrfMatches(session: context.session, token: form["csrf"]) else {
            throw WebError(.forbidden, "the form's CSRF token is missing or does not match this session; reload the page and try again")
        }
        return form
    }

    func resolve(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try Self.id(context)
        let form = try await form(request, context)
        let pick = form["pick"].flatMap { $0.isEmpty ? nil : $0 }
        // Both is not a choice the page offers (a crafted form): refused, as `gloss resolve` refuses
        // --pick with --text, rather than the text dropped unsaid (found by an audit, 2026-12-06).
        if pick != nil, let t = form["text"], !t.isEmpty {
            throw WebError(.badRequest, "a resolution picks one candidate or gives a new text, not both; use one of the page's forms")
        }
        let text = pick == nil ? form["text"] : nil
        let reason = form["reason"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        let r = replica
        let created = try await Self.offload { try r.resolve(id, pick: pick, value: text, reason: reason) }
        return Self.redirect("/conflicts/\(created.id)")
    }

    func addNote(_ request: Request, _ context: WebContext) async throws -> Response {
        let form = try await form(request, context)
        guard let on = form["on"], let body = form["body"] else { throw WebError(.badRequest, "a note needs the object it is on and a text") }
        let r = replica
        let (created, kind) = try await Self.offload { () -> (Created, ObjectKind?) in
            let c = try r.addNote(on: on, body: body)
            return (c, try r.kind(of: on))
        }
        switch kind {
        case .article?: return Self.redirect("/articles/\(on.lowercased())#note-\(created.id)")
        case .fact?: return Self.redirect("/facts/\(on.lowercased())#note-\(created.id)")
        default: return Self.redirect("/notes/\(created.id)")
        }
    }

    func annotate(_ request: Request, _ context: WebContext) async throws -> Response {
        let id = try Self.id(context)
        let form = try await form(request, context)
        guard let quote = form["quote"], !quote.isEmpty else { throw WebError(.badRequest, "give the quote to annotate") }
        var choice = QuoteChoice()
        if let o = form["occurrence"]?.trimmingCharacters(in: .whitespaces), !o.isEmpty {
            guard let n = Int(o), (1...100_000).contains(n) else { throw WebError(.badRequest, "the occurrence is a number from 1") }
            choice.occurrence = n
        }
        let comment = form["comment"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        let (r, picked) = (replica, choice)
        let created = try await Self.offload { try r.annotate(article: id, quote: quote, choice: picked, comment: comment, tags: []) }
        return Self.redirect("/articles/\(id)#annotation-\(created.id)")
    }

    func login(_ request: Request) throws -> Response {
        let q = try Self.query(request)
        guard let value = security.authCookieValue else { return Self.redirect("/") }
        guard security.tokenMatches(q["token"]) else { throw WebError(.unauthorized, "wrong or missing token") }
        var response = Self.redirect("/")
        response.setCookie(Cookie(name: WebSecurity.authCookie, value: value, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }
}

/// Every response: authentication, the session cookie, errors as pages, and the security headers.
struct WebMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let security: WebSecurity

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        var response: Response
        var newSession: String?
        do {
            try checkAccess(request)
            if let s = request.cookies[WebSecurity.sessionCookie]?.value, WebSecurity.isSession(s) {
                context.session = s; context.sessionFromCookie = true
            } else {
                let s = WebSecurity.newSession()
                context.session = s; newSession = s
            }
            response = try await next(request, context)
        } catch {
            response = Self.errorResponse(error, logger: context.logger)
        }
        if let newSession {
            response.setCookie(Cookie(name: WebSecurity.sessionCookie, value: newSession, path: "/", httpOnly: true, sameSite: .strict))
        }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return response
    }

    /// With a token: the request must carry it (bearer header or the `/login` cookie). Without one
    /// (loopback only): the Host must name loopback, so a page elsewhere cannot reach the view
    /// through DNS rebinding.
    func checkAccess(_ request: Request) throws {
        // A page of another site may not use the view: no subresource (an image pointing at
        // `/?asof=…` made the server replay the log at each load of that page), and a link from
        // elsewhere opens no as-of replay. Browsers say where a request comes from in
        // `Sec-Fetch-Site`; a tool that sends none (curl, scripts) is not a browser page.
        if request.headers[HTTPField.Name("Sec-Fetch-Site")!] == "cross-site" {
            let navigation = request.headers[HTTPField.Name("Sec-Fetch-Mode")!] == "navigate" && request.method == .get
            if !navigation || (request.uri.query ?? "").contains("asof=") {
                throw WebError(.forbidden, "this web view does not answer requests made by pages of other sites; open it directly")
            }
        }
        if security.token != nil {
            if request.uri.path == "/login" { return }
            // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` was refused.
            if let auth = request.headers[.authorization], auth.count > 7, auth.prefix(7).lowercased() == "bearer ", security.tokenMatches(String(auth.dropFirst(7))) { return }
            if let c = request.cookies[WebSecurity.authCookie]?.value, let expected = security.authCookieValue, security.constantTimeEqual(c, expected) { return }
            throw WebError(.unauthorized, "this web view needs its access token: open /login?token=TOKEN once, or send Authorization: Bearer TOKEN")
        }
        if let authority = request.head.authority {
            var host = authority
            if host.hasPrefix("["), let close = host.firstIndex(of: "]") { host = String(host[host.index(after: host.startIndex)..<close]) }
            else if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
            guard WebSecurity.isLoopback(host) else {
                throw WebError(.forbidden, "this web view answers only to loopback host names (127.0.0.1, localhost, [::1]); serve it with --http-token to reach it otherwise")
            }
        }
    }

    static func errorResponse(_ error: any Error, logger: Logger) -> Response {
        let (status, message): (Int, String)
        switch error {
        case let e as WebError: (status, message) = (e.code.rawValue, e.message)
        case let e as GlossError:
            switch e.code {
            case .badInput, .ambiguous: status = 400
            case .notFound, .notAReplica: status = 404
            case .refused, .alreadyExists: status = 409
            case .diskFull: status = 507
            default: status = 500
            }
            message = e.message
        case let e as HTTPError:
            status = Int(e.status.code); message = e.body ?? e.status.reasonPhrase
        default:
            logger.error("web request failed", metadata: ["error": "\(error)"])
            (status, message) = (500, "internal error; the server log has the cause")
        }
        return WebServer.html(Page.error(status: status, message: message), status: HTTPResponse.Status(code: status))
    }
}

/// As-of snapshots (`?asof=POINT`), kept while the set of events they show is unchanged: each is a
/// database written by `Replica.asOf` in a private temporary folder, removed when the server stops.
final class SnapshotCache: @unchecked Sendable {
    // @unchecked: `entries` and `order` are touched only under `lock`.
    private let lock = NSLock()
    private var entries: [String: Replica] = [:]
    private var order: [String] = []
    private let directory: URL
    static let capacity = 8

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gloss-web-\(UUID().uuidString)")
    }

    /// The snapshot of `base` at `point`: cached, or written now (under the lock: two requests for
    /// one point write it once). Blocking: call it off the event loops.
    func snapshot(of base: Replica, at point: Point) throws -> Replica {
        let key = try base.snapshotKey(point)
        lock.lock(); defer { lock.unlock() }
        if let r = entries[key] { return r }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = directory.appendingPathComponent("asof-\(UUID().uuidString).db")
        let r = try base.snapshot(at: point, file: file)
        entries[key] = r
        order.append(key)
        if order.count > Self.capacity {
            // A request still reading the dropped one fails (a reload writes it again); disk use stays bounded.
            let old = order.removeFirst()
            if let gone = entries.removeValue(forKey: old) {
                try? gone.close()
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: gone.store.path + suffix) }
            }
        }
        return r
    }

    func removeAll() {
        lock.lock(); defer { lock.unlock() }
        for r in entries.values { try? r.close() }
        entries.removeAll(); order.removeAll()
        try? FileManager.default.removeItem(at: directory)
    }
}
