import GlossModel

/// W3C Web Annotation export (Protocol/10-export.md §3): one `AnnotationCollection` whose first (and
/// only) `AnnotationPage` lists every annotation, each targeting an article revision
/// (`urn:gloss:revision:<sha256>`) with a `TextQuoteSelector` and a `TextPositionSelector`
/// (positions in Unicode scalars = code points, as the W3C model counts them).
public enum WebAnnotationExport {
    public typealias Milliseconds = UInt64

    /// The JSON-LD context every document names.
    public static let context = "http://www.w3.org/ns/anno.jsonld"

    /// A selector into a revision: the payloads' own `SpanSelector` (exact, prefix, suffix, start, end).
    public typealias Quote = SpanSelector

    public struct Annotation: Sendable {
        /// The Gloss annotation (or evidence) id.
        public var id: String
        /// SHA-256 (hex) of the revision text the quote is in (the anchored revision).
        public var revision: String
        public var quote: Quote
        /// Markdown comment, if any (body with purpose `commenting`).
        public var comment: String?
        /// Tags (one body each, purpose `tagging`), exported sorted.
        public var tags: [String]
        public var author: String
        public var authorName: String?
        public var created: Milliseconds
        public var modified: Milliseconds
        public init(id: String, revision: String, quote: Quote, comment: String? = nil, tags: [String] = [],
                    author: String, authorName: String? = nil, created: Milliseconds, modified: Milliseconds) {
            self.id = id; self.revision = revision; self.quote = quote; self.comment = comment; self.tags = tags
            self.author = author; self.authorName = authorName; self.created = created; self.modified = modified
        }
    }

    public static func annotationID(_ id: String) -> String { "urn:gloss:annotation:\(id)" }
    public static func revisionURN(_ sha: String) -> String { "urn:gloss:revision:\(sha)" }
    public static func analystURN(_ id: String) -> String { "urn:gloss:analyst:\(id)" }

    /// One annotation as a JSON-LD object (without `@context`; the collection carries it).
    public static func annotation(_ a: Annotation) -> ExportJSON {
        var bodies: [ExportJSON] = []
        if let c = a.comment, !c.isEmpty {
            bodies.append(.object(["type": .string("TextualBody"), "value": .string(c), "format": .string("text/markdown"),
                                   "purpose": .string("commenting")]))
        }
        for tag in Set(a.tags).sorted() {
            bodies.append(.object(["type": .string("TextualBody"), "value": .string(tag), "purpose": .string("tagging")]))
        }
        var quote: [String: ExportJSON] = ["type": .string("TextQuoteSelector"), "exact": .string(a.quote.exact)]
        if !a.quote.prefix.isEmpty { quote["prefix"] = .string(a.quote.prefix) }
        if !a.quote.suffix.isEmpty { quote["suffix"] = .string(a.quote.suffix) }
        let position: ExportJSON = .object(["type": .string("TextPositionSelector"),
                                            "start": .int(Int64(a.quote.start)), "end": .int(Int64(a.quote.end))])
        var creator: [String: ExportJSON] = ["id": .string(analystURN(a.author)), "type": .string("Person")]
        if let n = a.authorName { creator["name"] = .string(n) }
        var o: [String: ExportJSON] = [
            "id": .string(annotationID(a.id)),
            "type": .string("Annotation"),
            "motivation": .string(a.comment?.isEmpty == false ? "commenting" : a.tags.isEmpty ? "highlighting" : "tagging"),
            "creator": .object(creator),
            "created": .string(exportTimestamp(a.created)),
            "modified": .string(exportTimestamp(max(a.created, a.modified))),
            "target": .object(["source": .string(revisionURN(a.revision)), "selector": .array([.object(quote), position])]),
        ]
        if !bodies.isEmpty { o["body"] = .array(bodies) }
        return .object(o)
    }

    /// The collection of `annotations`, ordered by id. Its id is a UUIDv5 of the annotations' ids and
    /// modification times, so the same content gives the same document.
    public static func collection(_ annotations: [Annotation], label: String = "Gloss annotations") -> ExportJSON {
        let sorted = annotations.sorted { $0.id < $1.id }
        let name = sorted.map { "\($0.id) \(exportTimestamp(max($0.created, $0.modified)))" }.joined(separator: "\n")
        let id = "urn:uuid:\(UUIDv5.gloss("annotation-collection:\(name)"))"
        return .object([
            "@context": .string(context),
            "id": .string(id),
            "type": .string("AnnotationCollection"),
            "label": .string(label),
            "total": .int(Int64(sorted.count)),
            "first": .object([
                "id": .string(id + "#page-1"),
                "type": .string("AnnotationPage"),
                "startIndex": .int(0),
                "items": .array(sorted.map(annotation)),
            ]),
        ])
    }
}
