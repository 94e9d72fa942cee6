/// Ids indexed by their first eight hex digits only (Protocol/04-projections.md §Indexes): the ids
/// of `candidates`, `notes` and `annotations` (the last two stored by the position of their event,
/// `note_pos`, `annotation_pos`) and the objects notes are on; and the log's `events.id` by its
/// first eight bytes (Protocol/03-store.md, migration `v9-events-short-id`). Ids are SHA-256
/// hashes, so a window's new rows land on random pages of an id index; a short entry is a fraction
/// of a whole id's, so the index has that fraction of the pages for each window to rewrite. A
/// lookup names the short key, then the whole id.
public enum ShortID {
    /// The indexed expression for `column`.
    public static func key(_ column: String) -> String { "substr(\(column), 1, 8)" }

    /// SQL true when `column` equals `value` (a parameter such as `?1`, or a column), through the
    /// short index. (`+column`: SQLite would otherwise propagate `column = ?1` into the other term,
    /// making it `substr(?1, 1, 8) = substr(?1, 1, 8)`, which no index serves.)
    public static func equals(_ column: String, _ value: String) -> String {
        "\(key(column)) = \(key(value)) AND +\(column) = \(value)"
    }

    /// SQL true when `column` lies in [`low`, `high`), through the short index.
    public static func inRange(_ column: String, _ low: String, _ high: String) -> String {
        "\(key(column)) BETWEEN \(key(low)) AND \(key(high)) AND \(column) >= \(low) AND \(column) < \(high)"
    }
}
