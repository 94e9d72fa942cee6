import GlossStore

/// Where each kind of addressable object lives: the `objects` view (Protocol/04-projections.md) and
/// the reads that find an object by id are written from this one list.
enum ObjectTables {
    struct Entry {
        var table: String
        var id: String
        var kind: String
        /// The column naming the event that created it.
        var event: String
        /// Whether the id is indexed by `ShortID` rather than whole.
        var short = false
        /// The column a row is stored by when it is its creating event's log position (the row's
        /// id is that event's id): the apply path finds such a row through `events.id`.
        var position: String? = nil
    }

    static let all: [Entry] = [
        Entry(table: "articles", id: "article", kind: "article", event: "first_event"),
        Entry(table: "article_revisions", id: "sha256", kind: "revision", event: "event"),
        Entry(table: "notes", id: "note", kind: "note", event: "note", short: true, position: "note_pos"),
        Entry(table: "candidates", id: "candidate", kind: "candidate", event: "event", short: true),
        Entry(table: "annotations", id: "annotation", kind: "annotation", event: "annotation", short: true, position: "annotation_pos"),
        Entry(table: "facts", id: "fact", kind: "fact", event: "fact"),
        Entry(table: "sources", id: "source", kind: "source", event: "event"),
    ]

    /// The tables stored by their events' positions, with that column.
    static let storedByPosition = Dictionary(uniqueKeysWithValues: all.compactMap { e in e.position.map { (e.table, $0) } })

    /// SQL true for the row of `table` (stored by position) whose id, as bytes, is bound to `parameter`.
    static func atEvent(_ table: String, _ parameter: String) -> String {
        "\(storedByPosition[table]!) = \(Registers.eventPos(parameter))"
    }

    /// The `objects` view's query.
    static let viewSQL: String = {
        all.map { "SELECT \($0.id), '\($0.kind)', \($0.event) FROM \($0.table)" }.joined(separator: "\n    UNION ALL ")
    }()

    /// SQL for the kind of the object whose id is `value` (NULL when none), each table by its index.
    static func kindSQL(of value: String) -> String {
        "coalesce(" + all.map { e in
            "(SELECT '\(e.kind)' FROM \(e.table) WHERE \(e.short ? ShortID.equals(e.id, value) : "\(e.id) = \(value)"))"
        }.joined(separator: ", ") + ")"
    }

    /// SQL selecting `id, kind` of the objects whose id is in [?1, ?2), by id, at most ?3.
    static let rangeSQL: String = {
        all.map { e in
            "SELECT \(e.id) AS id, '\(e.kind)' AS kind FROM \(e.table) WHERE \(e.short ? ShortID.inRange(e.id, "?1", "?2") : "\(e.id) >= ?1 AND \(e.id) < ?2")"
        }.joined(separator: "\nUNION ALL ") + "\nORDER BY id LIMIT ?3"
    }()
}
