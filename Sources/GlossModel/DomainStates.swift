/// Whether a conflict waits for a resolution (Protocol/04-projections.md, `conflicts.state`).
public enum ConflictState: String, Sendable, CaseIterable, Codable {
    case open, resolved
}

/// A feed's state on this replica (Protocol/03-store.md, `feeds.state`): `stalled` while an
/// authenticated but invalid event of it is quarantined, `forked` once two signed events share a seq.
public enum FeedState: String, Sendable, CaseIterable, Codable {
    case ok, stalled, forked
}

/// What an id names (Protocol/04-projections.md, `objects.kind`).
public enum ObjectKind: String, Sendable, CaseIterable, Codable {
    case article, revision, note, fact, source, annotation, candidate
}

/// A field of a fact's record (`FactRecord.fields`), the one `gloss fact amend --field` changes.
public enum FactField: String, Sendable, CaseIterable, Codable {
    case subject, predicate, object, when, `where`, source
}

/// A source's reliability on the Admiralty scale (`Admiralty.reliability`).
public enum Reliability: String, Sendable, CaseIterable, Codable {
    case completelyReliable = "A", usuallyReliable = "B", fairlyReliable = "C", notUsuallyReliable = "D", unreliable = "E", cannotBeJudged = "F"
}

/// An item of information's credibility on the Admiralty scale (`Admiralty.credibility`).
public enum Credibility: String, Sendable, CaseIterable, Codable {
    case confirmed = "1", probablyTrue = "2", possiblyTrue = "3", doubtful = "4", improbable = "5", cannotBeJudged = "6"
}

/// How a fact stands for readers (`gloss facts`, `state`): its record in conflict, else retracted or active.
public enum FactState: String, Sendable, CaseIterable, Codable {
    case active, retracted, conflict
}
