import Foundation
import GlossModel
import GlossStore

/// A point in a replica's history (`gloss as-of`, `gloss diff`): an RFC 3339 time, a version-vector
/// file, or an event id. Each names a causally closed set of events.
public enum Point: Sendable, Equatable {
    /// The events whose hybrid time is at or before this wall-clock millisecond (causally closed by
    /// the clock rule, Protocol/01-event.md §Time).
    case time(milliseconds: UInt64)
    /// The events the vector names (must be causally closed).
    case vector(VersionVector)

    /// True when the event (replica, seq, time) belongs to the point's set.
    func contains(replica: ReplicaID, seq: UInt64, time: HybridTime) -> Bool {
        switch self {
        case .time(let ms): time.milliseconds <= ms
        case .vector(let v): v[replica] >= seq
        }
    }

    public var description: String {
        switch self {
        case .time(let ms): CivilTime.rfc3339(milliseconds: ms)
        case .vector(let v): "vector of \(v.count) feeds, \(v.eventCount) events"
        }
    }

    /// Parses RFC 3339 (`2026-11-29T12:00:00Z`, fractions and offsets allowed).
    static func parseTime(_ s: String) -> UInt64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return UInt64(max(0, (d.timeIntervalSince1970 * 1000).rounded())) }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return UInt64(max(0, d.timeIntervalSince1970 * 1000)) }
        return nil
    }
}

extension Replica {
    /// Resolves POINT text: an existing file is a vector file; hex is an event id (or unique prefix),
    /// naming that event's causal past including itself; otherwise an RFC 3339 time.
    public func point(_ text: String) throws -> Point {
        if FileManager.default.fileExists(atPath: text) {
            let v = try VectorFile.read(path: text)
            try checkCausallyClosed(v)
            return .vector(v)
        }
        if let ms = Point.parseTime(text) { return .time(milliseconds: ms) }
        if Hex.isHexPrefix(text) { return try eventPoint(text) }
        throw GlossError(.badInput, "\"\(text.prefix(80))\" is not a point: give an RFC 3339 time (2026-11-29T12:00:00Z), a version-vector file, or an event id")
    }

    /// Refuses a vector that names events this replica lacks, or one that is not causally closed
    /// (an event in it depends on an event outside it).
    public func checkCausallyClosed(_ v: VersionVector) throws {
        try read { db in
            let held = try store.vector(db)
            for (r, seq) in v.sorted where seq > 0 {
                guard held[r] >= seq else {
                    throw GlossError(.badInput, "the vector names \(r.short):\(seq) but this replica holds \(r.short) only up to \(held[r]); sync first or use an earlier point")
                }
                let feed = try store.feedNumber(for: r, db)
                let deps = try store.fullDeps(feed: feed, seq: seq, db)
                for (d, dseq) in deps.sorted where v[d] < dseq {
                    throw GlossError(.badInput, "the vector is not causally closed: event \(r.short):\(seq) depends on \(d.short):\(dseq), but the vector stops \(d.short) at \(v[d]). Raise \(d.short) to \(dseq) or lower \(r.short).")
                }
            }
        }
    }
}

extension Replica {
    /// The point of an event id (or unique prefix): that event's causal past, itself included.
    func eventPoint(_ text: String) throws -> Point {
        guard case .event(let id) = try resolve(text, kinds: [], events: true, what: "event") else {
            throw GlossError(.notFound, "\(text) is not an event id")
        }
        return try read { db in
            guard let e = try store.event(id, db) else { throw GlossError(.notFound, "no event \(id.short)") }
            var v = try store.fullDeps(feed: e.feed, seq: e.envelope.seq, db)
            v[e.envelope.replica] = e.envelope.seq
            return .vector(v)
        }
    }
}
