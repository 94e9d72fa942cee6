import Foundation
import GRDB
import GlossModel

extension ReplicaStore {
    /// Records in `meta` the point a database written by `gloss as-of` holds (`meta.as_of`,
    /// Protocol/04-projections.md), inside the caller's transaction.
    public func recordAsOf(_ point: String, _ db: Transaction) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('as_of', ?)", arguments: [point])
    }

    /// Stores in this new store (no events yet) the events of `source` that `include` accepts, in
    /// the source's local order, each projected as it is stored, all in one transaction: the
    /// projections are a replay of exactly those events (`gloss as-of`). A thread of its own reads
    /// the source in one read transaction (a consistent snapshot) and decodes each event while this
    /// one writes. `finish` runs last in the same transaction. Returns the number of events stored.
    public func replay(from source: ReplicaStore, include: @escaping @Sendable (EventEnvelope) -> Bool,
                       finish: (Database) throws -> Void) throws -> Int {
        struct Copy: Sendable { var envelope: EventEnvelope; var payload: [UInt8]?; var decoded: DecodedPayload }
        let channel = BatchChannel<[Copy]>()
        let thread = Thread {
            defer { channel.finish() }
            do {
                try source.read { db in
                    var batch: [Copy] = []
                    try source.forEachEvent(db) { e in
                        guard include(e.envelope) else { return true }
                        batch.append(Copy(envelope: e.envelope, payload: e.payload,
                                          decoded: DecodedPayload(type: e.envelope.type, schema: e.envelope.schema, payload: e.payload)))
                        guard batch.count >= ReplicaStore.rebuildBatch else { return true }
                        defer { batch.removeAll(keepingCapacity: true) }
                        return channel.put(.batch(batch))
                    }
                    if !batch.isEmpty { _ = channel.put(.batch(batch)) }
                }
            } catch {
                _ = channel.put(.failed(UncheckedBox(error)))
            }
        }
        thread.stackSize = 4 << 20
        thread.start()
        // The reading thread is done with the source before this returns, whatever happens here.
        defer { channel.cancel(); channel.waitFinished() }
        return try write { db in
            var feeds: [ReplicaID: Int64] = [:]
            var heads: [Int64: (seq: UInt64, id: EventID)] = [:]
            func feed(_ r: ReplicaID) throws -> Int64 {
                if let f = feeds[r] { return f }
                let f = try feedNumber(for: r, db)
                feeds[r] = f
                return f
            }
            var stored = 0
            while let item = channel.take() {
                switch item {
                case .batch(let copies):
                    for c in copies {
                        let env = c.envelope
                        let f = try feed(env.replica)
                        let deps = try env.depsDelta.map { (try feed($0.replica), $0.seq) }
                        try insert(env, payload: c.payload, decoded: c.decoded, feed: f, depFeeds: deps, updateHead: false, db)
                        heads[f] = (env.seq, env.id)
                        stored += 1
                    }
                case .failed(let box):
                    throw box.value
                }
            }
            for (f, h) in heads { try setHead(feed: f, seq: h.seq, id: h.id, db) }
            try finish(db)
            return stored
        }
    }
}
