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

    /// Parses RFC 3339 strictly (`2026-11-29T12:00:00Z`; `T` or `t` or a space, fractions of a
    /// second, `Z`/`z` or an offset ±HH:MM): years 0001–9999, real calendar days (no February 30),
    /// hours 00–23, minutes 00–59, seconds 00–60 (a leap second counts as :59.999), offsets up to
    /// ±23:59. nil for anything else (a lenient parser turned 2026-02-30 into March 2nd).
    static func parseTime(_ s: String) -> UInt64? {
        let b = Array(s.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var v = 0
            for k in 0..<width {
                let c = b[i + k]
                guard (0x30...0x39).contains(c) else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += width
            return v
        }
        func expect(_ chars: Set<UInt8>) -> Bool {
            guard i < b.count, chars.contains(b[i]) else { return false }
            i += 1
            return true
        }
        guard let year = number(4), year >= 1, expect([0x2D]), let month = number(2), (1...12).contains(month), expect([0x2D]),
              let day = number(2), day >= 1, day <= CivilTime.daysIn(year: year, month: month),
              expect([0x54, 0x74, 0x20]), let hour = number(2), hour <= 23, expect([0x3A]),
              let minute = number(2), minute <= 59, expect([0x3A]), let second = number(2), second <= 60 else { return nil }
        var millis = 0
        if i < b.count, b[i] == 0x2E {
            i += 1
            var digits = 0, scale = 100
            while i < b.count, (0x30...0x39).contains(b[i]) {
                if digits < 3 { millis += Int(b[i] - 0x30) * scale; scale /= 10 }
                digits += 1; i += 1   // any number of digits (RFC 3339's `1*DIGIT`); the first three count
            }
            guard digits > 0 else { return nil }
        }
        var offsetMinutes = 0
        if expect([0x5A, 0x7A]) {
            offsetMinutes = 0
        } else {
            guard i < b.count, b[i] == 0x2B || b[i] == 0x2D else { return nil }
            let sign = b[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = number(2), oh <= 23, expect([0x3A]), let om = number(2), om <= 59 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        }
        guard i == b.count else { return nil }
        let sec = second == 60 ? 59 : second, ms = second == 60 ? 999 : millis
        let days = CivilTime.days(year: Int64(year), month: month, day: day)
        let total = ((days * 24 + Int64(hour)) * 60 + Int64(minute) - Int64(offsetMinutes)) * 60_000 + Int64(sec) * 1000 + Int64(ms)
        return UInt64(max(0, total))
    }
}

extension Replica {
    /// Resolves POINT text, in this order, so that what is in the current folder never changes
    /// what a time or an id means (a file named like an id prefix was read as a vector file, and one
    /// named like a time refused the time; an audit, 2026-12-06):
    /// 1. a text that reads as an RFC 3339 time is that time;
    /// 2. hex digits are an event id (or unique prefix): that event's causal past, itself included —
    ///    refused as ambiguous (exit 6) when a file of that name exists too (`./NAME` is the file);
    /// 3. anything else is the path of a version-vector file (a folder, pipe or device is refused).
    public func point(_ text: String) throws -> Point {
        if let ms = Point.parseTime(text) { return .time(milliseconds: ms) }
        let type = (try? FileManager.default.attributesOfItem(atPath: text))?[.type] as? FileAttributeType
        if Hex.isHexPrefix(text) {
            if let type, type != .typeDirectory {
                throw GlossError(.ambiguous, "\(text) is both an event id prefix and a file in this folder; write ./\(text) for the vector file, or the event's id")
            }
            return try eventPoint(text)
        }
        if type != nil {
            let v = try VectorFile.read(path: text)
            try checkCausallyClosed(v)
            return .vector(v)
        }
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
