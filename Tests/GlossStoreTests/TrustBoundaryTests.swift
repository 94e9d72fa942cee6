import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossSync
import GlossTestSupport
import Testing

/// The observed failures of the trust-boundary issue, each as a named regression test: what a
/// damaged file or a hostile peer sends is never believed, never stored before it is proven, and
/// never crashes the replica.
@Suite struct TrustBoundaryTests {
    // MARK: Crafting hostile input (bytes written by hand, so no precondition of the encoder applies)

    /// An envelope with any field values, signed by `key` (Protocol/01-event.md §Layout).
    static func rawEnvelope(key: ReplicaKey, seq: UInt64, prev: EventID, time: UInt64, deps: [(ReplicaID, UInt64)] = [],
                            payload: [UInt8], author: String = "mallory", type: String = NoteAdded.type, schema: UInt16 = NoteAdded.schema) -> [UInt8] {
        var w = ByteWriter()
        w.u8(1); w.b32(TeamID.none.raw); w.b32(key.replicaID.raw); w.u64(seq); w.b32(prev.raw); w.u64(time)
        w.u32(UInt32(deps.count))
        for (r, s) in deps.sorted(by: { $0.0 < $1.0 }) { w.b32(r.raw); w.u64(s) }
        w.u8(UInt8(author.utf8.count)); w.raw(author.utf8)
        w.u8(UInt8(type.utf8.count)); w.raw(type.utf8)
        w.u16(schema); w.u32(UInt32(payload.count)); w.b32(Bytes32.sha256(payload))
        w.raw(key.sign(EventEnvelope.signingContext + w.bytes))
        return w.bytes
    }

    /// A feed of `n` valid note events by `key`, with times from `start` (its own article id as target).
    static func feed(_ key: ReplicaKey, _ n: Int, start: UInt64 = HybridTime(milliseconds: 1_624_700_000_000).raw,
                     deps: [Int: [(ReplicaID, UInt64)]] = [:]) throws -> [SignedEvent] {
        var out: [SignedEvent] = []
        var prev = EventID.zero
        for i in 1...n {
            let e = try signed(key, seq: UInt64(i), prev: prev, time: start + UInt64(i) * 1000, deps: deps[i] ?? [],
                               NoteAdded(on: String(repeating: "a", count: 64), body: "note \(i) by \(key.replicaID.short)"))
            out.append(e)
            prev = e.id
        }
        return out
    }

    /// Writes a bundle whose header says exactly what it is given, records as given (envelope bytes, payload or nil).
    static func writeBundle(_ url: URL, sender: ReplicaKey, senderVector: VersionVector, base: VersionVector = VersionVector(),
                            eventCount: UInt64? = nil, records: [([UInt8], [UInt8]?)]) throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        let header = BundleHeader(sender: sender.replicaID, senderVector: senderVector, baseVector: base, eventCount: eventCount ?? UInt64(records.count))
        var w = try BundleWriter(handle: handle, header: header, key: sender)
        for (env, payload) in records { try w.append(envelope: env, payload: payload) }
        try w.finish()
    }

    static func vector(of events: [SignedEvent]) -> VersionVector {
        var v = VersionVector()
        for e in events { v[e.envelope.replica] = max(v[e.envelope.replica], e.envelope.seq) }
        return v
    }

    static func counts(_ r: Replica) throws -> (events: Int, pending: Int, quarantine: Int, feeds: Int) {
        try r.store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM events")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM pending")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM feeds")!)
        }
    }

    let tmp = TempDir("gloss-trust")
    let clock = MockClock(start: 1_624_800_000_000, step: 1)
    func replica(_ name: String) throws -> Replica { try Replica.create(in: tmp.sub(name), analyst: name, key: ReplicaKey(), clock: clock.function) }

    // MARK: 1. A bad signature never crashes an import

    @Test func aFeedWhoseOnlyEventHasABadSignatureIsRejectedWithoutACrash() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let key = ReplicaKey()
        let events = try Self.feed(key, 3)
        var bad = events[0].envelope.bytes
        bad[bad.count - 1] ^= 0x01
        let before = try Self.counts(r)
        let lone = try r.store.applyRemote([SignedEvent(envelope: try EventEnvelope(decoding: bad), payload: events[0].payload)], now: clock.read())
        #expect(lone.rejected == 1 && lone.applied == 0)
        #expect(lone.rejections.first?.reason.contains("signature") == true)
        // Every signature of a chain bad: nothing verifies, nothing is stored, nothing traps.
        let allBad = try events.map { e -> SignedEvent in
            var b = e.envelope.bytes; b[b.count - 5] ^= 0x40
            return SignedEvent(envelope: try EventEnvelope(decoding: b), payload: e.payload)
        }
        let chain = try r.store.applyRemote(allBad, now: clock.read())
        #expect(chain.rejected == 3 && chain.pending == 0)
        let after = try Self.counts(r)
        #expect(after.events == before.events && after.pending == 0 && after.quarantine == 0 && after.feeds == before.feeds,
                "unproven bytes leave no row anywhere: \(after)")
        // The genuine feed still applies.
        #expect(try r.store.applyRemote(events, now: clock.read()).applied == 3)
    }

    @Test func aBadSignatureInTheMiddleOfAChainAppliesTheValidPrefix() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let events = try Self.feed(ReplicaKey(), 6)
        var damaged = events
        var b = events[3].envelope.bytes; b[b.count - 10] ^= 0x08
        damaged[3] = SignedEvent(envelope: try EventEnvelope(decoding: b), payload: events[3].payload)
        let s = try r.store.applyRemote(damaged, now: clock.read())
        // 1–3 apply; the forged 4 is rejected; 5 and 6 are proven by 6's signature and wait for the genuine 4.
        #expect(s.applied == 3 && s.rejected == 1 && s.pending == 2, "\(s)")
        let fix = try r.store.applyRemote([events[3]], now: clock.read())
        #expect(fix.applied == 3 && fix.appliedFromPending == 2)
        #expect(try Self.counts(r).pending == 0)
    }

    // MARK: 2. u64 values at or above 2^63

    @Test func u64ExtremesAreRefusedWithAReasonNeverTrapped() throws {
        defer { tmp.remove() }
        let key = ReplicaKey()
        let payload = NoteAdded(on: String(repeating: "b", count: 64), body: "x").encoded
        for seq in [UInt64(1) << 63, UInt64.max] {
            let bytes = Self.rawEnvelope(key: key, seq: seq, prev: EventID(Bytes32.sha256([1])), time: 5 << 16, payload: payload)
            #expect(throws: DecodeError.self) { try EventEnvelope(decoding: bytes) }
        }
        let hugeTime = Self.rawEnvelope(key: key, seq: 1, prev: .zero, time: 1 << 63, payload: payload)
        #expect(throws: DecodeError.self) { try EventEnvelope(decoding: hugeTime) }
        let hugeDep = Self.rawEnvelope(key: key, seq: 1, prev: .zero, time: 5 << 16, deps: [(ReplicaKey().replicaID, .max)], payload: payload)
        #expect(throws: DecodeError.self) { try EventEnvelope(decoding: hugeDep) }
        // Vector entries in a header or hello.
        var w = ByteWriter()
        VectorCodec.encode(VersionVector([key.replicaID: 1 << 63]), into: &w)
        var reader = ByteReader(w.bytes)
        #expect(throws: DecodeError.self) { try VectorCodec.decode(&reader) }
        // Sums of entries saturate instead of overflowing.
        let big = VersionVector([key.replicaID: ProtocolLimits.maxSeq, ReplicaKey().replicaID: ProtocolLimits.maxSeq, ReplicaKey().replicaID: ProtocolLimits.maxSeq])
        #expect(big.eventCount == .max && big.eventsMissing(from: VersionVector()) == .max)

        // Through the importer: a record with seq 2^63 ends the read with a reason; a header with
        // event_count 2^64 − 1 or a vector entry of 2^63 is reported or refused, never a trap.
        let r = try replica("r")
        let genuine = try Self.feed(key, 2)
        let url = tmp.sub("seq.glossb")
        let seqBytes = Self.rawEnvelope(key: key, seq: 1 << 63, prev: genuine[1].id, time: 9 << 32, payload: payload)
        try Self.writeBundle(url, sender: key, senderVector: Self.vector(of: genuine),
                             records: genuine.map { ($0.envelope.bytes, $0.payload) } + [(seqBytes, payload)])
        let rep = try r.importBundle(at: url)
        #expect(rep.summary.applied == 2 && rep.error?.contains("2^63") == true, "\(rep)")
        try Self.writeBundle(url, sender: key, senderVector: Self.vector(of: genuine), eventCount: .max,
                             records: genuine.map { ($0.envelope.bytes, $0.payload) })
        let count = try r.importBundle(at: url)
        #expect(!count.headerProblems.isEmpty && !count.clean && !count.acknowledgementRecorded)
        try Self.writeBundle(url, sender: key, senderVector: VersionVector([key.replicaID: 1 << 63]), records: [])
        #expect(throws: GlossError.self) { try r.importBundle(at: url) }
    }

    // MARK: 3. Stripped payloads are restored

    @Test func strippedPayloadsAreRestoredFromTheGenuineCopy() throws {
        defer { tmp.remove() }
        let sim = try Simulation(replicas: 2, seed: 1301, label: "strip")
        for i in 0..<12 { try sim.randomOperation(on: i % 2); if i % 3 == 0 { try sim.sync(0, 1); try sim.sync(1, 0) } }
        try sim.sync(0, 1); try sim.sync(1, 0)
        let source = sim.replicas[0]
        let events = try sim.missing(from: source, to: try sim.addReplica("empty"))
        let receiver = try sim.addReplica("receiver")
        let stripped = sim.tmp.sub("stripped.glossb")
        try Self.writeBundle(stripped, sender: source.key, senderVector: try source.vector, records: events.map { ($0.envelope.bytes, nil) })
        let first = try receiver.importBundle(at: stripped)
        #expect(first.summary.applied == events.count)
        #expect(try receiver.digest() != (try source.digest()))
        let genuine = sim.tmp.sub("genuine.glossb")
        try source.exportBundle(to: genuine, base: VersionVector())
        let second = try receiver.importBundle(at: genuine)
        #expect(second.summary.restored == events.count && second.summary.duplicate == events.count)
        #expect(try receiver.digest() == (try source.digest()), "equal events and payloads, equal digests")
        #expect(try receiver.verify().faults.isEmpty)
        // A third copy changes nothing.
        #expect(try receiver.importBundle(at: genuine).summary.restored == 0)
    }

    // MARK: 4. Unproven data is neither kept nor believed

    @Test func aCorruptedCopyIsNeverStoredAndNeverBlocksTheGenuineEvent() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let other = ReplicaKey()
        let base = try Self.feed(other, 2)
        let key = ReplicaKey()
        let events = try Self.feed(key, 4, deps: [3: [(other.replicaID, 2)]])
        _ = try r.store.applyRemote(base, now: clock.read())
        let feedsBefore = try Self.counts(r).feeds
        // A flipped bit in seq (byte 65 + 7): the copy claims seq 6, nothing proves it.
        var seqFlip = events[2].envelope.bytes; seqFlip[72] ^= 0x04
        // A flipped bit in the deps replica id: a phantom feed if believed.
        var depFlip = events[2].envelope.bytes; depFlip[117 + 3] ^= 0x10
        for bytes in [seqFlip, depFlip] {
            let s = try r.store.applyRemote([SignedEvent(envelope: try EventEnvelope(decoding: bytes), payload: events[2].payload)], now: clock.read())
            #expect(s.rejected == 1 && s.pending == 0)
        }
        #expect(try Self.counts(r).pending == 0)
        #expect(try Self.counts(r).feeds == feedsBefore, "no phantom feed")
        // A damaged payload: not stored, and the genuine copy applies after it.
        var payloadFlip = events[0].payload!; payloadFlip[payloadFlip.count - 1] ^= 0x01
        let damaged = try r.store.applyRemote([SignedEvent(envelope: events[0].envelope, payload: payloadFlip)], now: clock.read())
        #expect(damaged.rejected == 1 && damaged.rejections[0].reason.contains("payload"))
        let url = tmp.sub("genuine.glossb")
        try Self.writeBundle(url, sender: key, senderVector: Self.vector(of: events), records: events.map { ($0.envelope.bytes, $0.payload) })
        let rep = try r.importBundle(at: url)
        #expect(rep.clean && rep.summary.applied == 4, "\(rep)")
        #expect(try Self.counts(r).pending == 0 && (try r.quarantined()).isEmpty)
    }

    /// Payload hashes are checked on the import's reading thread: a bit-flipped copy and the genuine
    /// copy of the same event (same id) in one window must still be told apart, copy by copy.
    @Test func aDamagedAndAGenuineCopyInOneImportedWindowAreToldApart() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let key = ReplicaKey()
        let events = try Self.feed(key, 3)
        var flipped = events[0].payload!; flipped[flipped.count - 1] ^= 0x01
        let url = tmp.sub("both.glossb")
        try Self.writeBundle(url, sender: key, senderVector: Self.vector(of: events),
                             eventCount: 4, records: [(events[0].envelope.bytes, flipped)] + events.map { ($0.envelope.bytes, $0.payload) })
        let rep = try r.importBundle(at: url)
        #expect(rep.summary.applied == 3 && rep.summary.rejected == 1, "\(rep.summary)")
        #expect(rep.summary.rejections.first?.reason.contains("payload") == true)
        let stored = try r.store.read { db in try Data.fetchAll(db, sql: "SELECT payload FROM events ORDER BY pos").map { Array($0) } }
        #expect(stored == events.map { $0.payload! }, "only the genuine payloads are stored")
    }

    @Test func aLyingHeaderIsReportedAndNeverRecordedAsAnAcknowledgement() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let key = ReplicaKey()
        let events = try Self.feed(key, 3)
        let records = events.map { ($0.envelope.bytes, $0.payload) }
        let url = tmp.sub("lie.glossb")
        // The sender vector claims 10 events, the records hold 3 (event_count agrees with the records).
        try Self.writeBundle(url, sender: key, senderVector: VersionVector([key.replicaID: 10]), eventCount: 3, records: records)
        let rep = try r.importBundle(at: url)
        #expect(rep.summary.applied == 3, "each record is verified on its own")
        #expect(rep.headerProblemCount >= 1 && !rep.clean && !rep.acknowledgementRecorded)
        #expect(try r.acknowledged(by: key.replicaID).isEmpty)
        // Records of one feed with a gap.
        try Self.writeBundle(url, sender: key, senderVector: Self.vector(of: events), records: [records[0], records[2]])
        let gap = try r.importBundle(at: url)
        #expect(gap.headerProblems.contains { $0.contains("expected seq 2") }, "\(gap.headerProblems)")
        // A truthful header is recorded, capped at what this replica holds.
        try Self.writeBundle(url, sender: key, senderVector: Self.vector(of: events), records: records)
        let ok = try r.importBundle(at: url)
        #expect(ok.clean && ok.acknowledgementRecorded)
        #expect(try r.acknowledged(by: key.replicaID) == VersionVector([key.replicaID: 3]))
    }

    @Test func aHugeClaimedVectorStoresNoMoreThanTheReplicaHolds() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        _ = try r.addNote(on: try r.ingest(bytes: Array("date 2021-06-26 BAKU – text.\n".utf8), filename: "a.txt").id, body: "n")
        var claim: [ReplicaID: UInt64] = [r.replicaID: ProtocolLimits.maxSeq]
        var rng = SplitMix64(seed: 7)
        for _ in 0..<50_000 { claim[ReplicaID(Bytes32((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: 0))] = 9 }
        let peer = ReplicaKey().replicaID
        try r.recordAcknowledged(peer, vector: VersionVector(claim))
        #expect(try r.acknowledged(by: peer) == (try r.vector), "capped at this replica's own vector")
        let rows = try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM peer_acks")! }
        #expect(rows == 1)
    }

    /// A fork found after a peer's acknowledgement was recorded: the frozen part of the feed is
    /// evidence, no longer held, and the acknowledgement comes down with the feed's head (it named
    /// events this replica no longer holds; `bundle export --peer` must not count on them). Found
    /// by the hostile corpus (forks, seed 7953513815337116712), whose oracle checks every peer's
    /// acknowledgement against the vector.
    @Test func aForkLowersWhatPeersAcknowledgedOfTheFrozenFeed() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let forked = ReplicaKey()
        let a = try Self.feed(forked, 5)
        _ = try r.store.applyRemote(a, now: clock.read())
        let peer = ReplicaKey().replicaID
        try r.recordAcknowledged(peer, vector: VersionVector([forked.replicaID: 5]))
        try r.recordAcknowledged(forked.replicaID, vector: VersionVector([forked.replicaID: 5]))
        #expect(try r.acknowledged(by: peer)[forked.replicaID] == 5)
        // Another event signed at seq 3.
        let other = try Self.signed(forked, seq: 3, prev: a[1].id, time: a[2].envelope.time.raw + 7,
                                    NoteAdded(on: String(repeating: "c", count: 64), body: "the other branch"))
        let s = try r.store.applyRemote([other], now: clock.read())
        #expect(s.forks == 1, "\(s)")
        #expect(try r.vector[forked.replicaID] == 2)
        #expect(try r.acknowledged(by: peer)[forked.replicaID] == 2)
        #expect(try r.acknowledged(by: forked.replicaID)[forked.replicaID] == 2)
        // A later claim is capped as before.
        try r.recordAcknowledged(peer, vector: VersionVector([forked.replicaID: 5]))
        #expect(try r.acknowledged(by: peer)[forked.replicaID] == 2)
    }

    // MARK: 5. Times

    @Test func timesMustExceedTheCausalPastAndFarFutureTimesWait() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let key = ReplicaKey()
        let payload = NoteAdded(on: String(repeating: "c", count: 64), body: "t").encoded
        let t0 = HybridTime(milliseconds: 1_624_700_000_000).raw
        let e1 = try EventEnvelope(decoding: Self.rawEnvelope(key: key, seq: 1, prev: .zero, time: t0, payload: payload))
        // seq 2 no later than seq 1: the signer broke its own clock rule.
        let back = try EventEnvelope(decoding: Self.rawEnvelope(key: key, seq: 2, prev: e1.id, time: t0, payload: payload))
        let s = try r.store.applyRemote([SignedEvent(envelope: e1, payload: payload), SignedEvent(envelope: back, payload: payload)], now: clock.read())
        #expect(s.applied == 1 && s.rejected == 1 && s.rejections[0].reason.contains("not later than its feed predecessor"))
        // Earlier than a dependency of another feed: it waits (the receiver may hold the other branch
        // of a fork of that feed it has not found yet, 01 §Verification step 8), never quarantined.
        let other = ReplicaKey()
        let dep = try EventEnvelope(decoding: Self.rawEnvelope(key: other, seq: 1, prev: .zero, time: t0 - 5, deps: [(key.replicaID, 1)], payload: payload))
        let d = try r.store.applyRemote([SignedEvent(envelope: dep, payload: payload)], now: clock.read())
        #expect(d.pending == 1 && d.rejected == 0, "\(d)")
        #expect(try r.pending().contains { $0.reason.contains("dependency") })

        // A time of 2^63 − 1 waits instead of dragging the clock; the next local event keeps a sane time.
        let farKey = ReplicaKey()
        let far = try EventEnvelope(decoding: Self.rawEnvelope(key: farKey, seq: 1, prev: .zero, time: ProtocolLimits.maxTime, payload: payload))
        let f = try r.store.applyRemote([SignedEvent(envelope: far, payload: payload)], now: clock.read())
        #expect(f.pending == 1)
        #expect(try r.pending().contains { $0.reason.contains("ahead") })
        let local = try r.addNote(on: try r.ingest(bytes: Array("date 2021-06-26 BAKU – time.\n".utf8), filename: "t.txt").id, body: "after")
        let t = try r.store.read { try Int64.fetchOne($0, sql: "SELECT max(time) FROM events")! }
        #expect(t > 0 && UInt64(t) >> 16 < clock.read() + 3_600_000, "\(local)")
        // An event a little ahead (30 min) applies at once; one 2 h ahead applies once the clock is there.
        let soonKey = ReplicaKey(), laterKey = ReplicaKey()
        let now = clock.read()
        let soon = try EventEnvelope(decoding: Self.rawEnvelope(key: soonKey, seq: 1, prev: .zero, time: HybridTime(milliseconds: now + 1_800_000).raw, payload: payload))
        let later = try EventEnvelope(decoding: Self.rawEnvelope(key: laterKey, seq: 1, prev: .zero, time: HybridTime(milliseconds: now + 7_200_000).raw, payload: payload))
        let a = try r.store.applyRemote([SignedEvent(envelope: soon, payload: payload), SignedEvent(envelope: later, payload: payload)], now: now)
        #expect(a.applied == 1 && a.pending == 1)
        let drained = try r.store.drainPending(now: now + 7_200_000)
        #expect(drained.appliedFromPending == 1)
    }

    // MARK: 6. Forks: the same received set gives the same replica, whatever the order

    @Test(arguments: [1306, 1307, 1308, 1309])
    func forksGiveTheSameStoredEventsPendingAndDigestInEveryArrivalOrder(seed: UInt64) throws {
        defer { tmp.remove() }
        print("forks: seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let forked = try Self.seededKey(&rng), honest = try Self.seededKey(&rng)
        let common = try Self.feed(forked, 2)
        // Two branches at seq 3 and 4 (a copied replica folder): same key, different events.
        func branch(_ tag: String, _ times: UInt64) throws -> [SignedEvent] {
            var prev = common[1].id
            return try (3...4).map { i -> SignedEvent in
                let e = try Self.signed(forked, seq: UInt64(i), prev: prev, time: common[1].envelope.time.raw + times * UInt64(i),
                                        NoteAdded(on: String(repeating: "a", count: 64), body: "\(tag) \(i)"))
                prev = e.id
                return e
            }
        }
        let a = try branch("A", 1000), b = try branch("B", 1001)
        // An honest feed that saw branch A up to seq 4, and one more event after.
        let h = try Self.feed(honest, 2, start: a[1].envelope.time.raw + 10, deps: [1: [(forked.replicaID, 4)]])
        let all = common + a + b + h
        var results: [(ids: [String], feeds: [String], pending: Int, digest: String)] = []
        for round in 0..<10 {
            let r = try replica("r\(seed)-\(round)")
            let order = try deliverShuffled(all, to: r, maxWindow: 4, &rng)
            let (ids, feeds, pending) = try r.store.read { db in
                (try Data.fetchAll(db, sql: "SELECT id FROM events WHERE feed != (SELECT feed FROM feeds WHERE replica = (SELECT value FROM meta WHERE key = 'replica')) ORDER BY id").map { Hex.encode($0) },
                 try Row.fetchAll(db, sql: "SELECT replica, head_seq, state, fork_seq FROM feeds WHERE head_seq > 0 OR fork_seq IS NOT NULL ORDER BY replica").map { "\(Hex.encode($0[0] as Data).prefix(8)) \($0[1] as Int64) \($0[2] as String) \(($0[3] as Int64?) ?? 0)" },
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM pending")!)
            }
            results.append((ids, feeds, pending, try r.digest()))
            let v = try r.verify()
            #expect(v.faults.isEmpty && v.forks.count == 1 && v.forks[0].seq == 3 && v.forks[0].evidence == 4, "round \(round): \(v) \(order.map { "\($0.envelope.replica.short):\($0.envelope.seq)" })")
        }
        for x in results.dropFirst() {
            #expect(x.ids == results[0].ids && x.feeds == results[0].feeds && x.digest == results[0].digest)
        }
        #expect(results[0].pending == 0, "the honest feed depending on the forked part is not stranded")
        #expect(results[0].ids.count == 2 + 2, "the forked feed's prefix and the honest feed")
        #expect(results[0].feeds.contains { $0.contains("forked 3") })
    }

    /// A long forked branch is kept as evidence in time linear in its length: each piece of
    /// evidence is matched with the other events at its (replica, seq) through an index. Without it
    /// every one scanned the table (envelopes and payloads): 5,000 events of a copied replica's
    /// feed took over ten minutes to import.
    @Test func aLongForkedBranchIsKeptAsEvidenceThroughAnIndex() throws {
        defer { tmp.remove() }
        let forked = ReplicaKey()
        let n = 600
        let a = try Self.feed(forked, n)
        // The copy: the same key and seq 1 on, other bodies and times.
        var b: [SignedEvent] = []
        var prev = EventID.zero
        for i in 1...n {
            let e = try Self.signed(forked, seq: UInt64(i), prev: prev, time: a[0].envelope.time.raw + 1 + UInt64(i) * 1000,
                                    NoteAdded(on: String(repeating: "b", count: 64), body: "copy \(i)"))
            b.append(e); prev = e.id
        }
        let r = try replica("long-fork")
        _ = try r.store.applyRemote(a, now: clock.read())
        let s = try r.store.applyRemote(b, now: clock.read())
        #expect(s.applied == 0 && s.forks == n, "\(s)")
        let v = try r.verify()
        // Both branches from the fork on: the one held leaves the log for the evidence too.
        #expect(v.forks.count == 1 && v.forks[0].seq == 1 && v.forks[0].evidence == 2 * n, "\(v.forks)")
        let plan = try r.store.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT o.id FROM forks o WHERE o.replica = ? AND o.seq = ? AND o.id != ? ORDER BY o.id LIMIT 1",
                             arguments: [Data(forked.replicaID.raw.bytes), 1, Data(count: 32)]).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("INDEX forks_feed") }, "\(plan)")
    }

    /// A key signing many events at one seq: the smallest ids are kept as evidence (a bounded
    /// number), each naming the smallest other id, the same whatever the arrival order; each
    /// arrival touches only that seq's few rows (it rewrote all of them, sorting each time: cubic).
    @Test func manyEventsAtOneSeqKeepTheSmallestIdsWhateverTheOrder() throws {
        defer { tmp.remove() }
        let forked = ReplicaKey()
        let copies = try Self.copiesAtSeqOne(forked, 40)
        let smallest = copies.map { Data($0.id.raw.bytes) }.sorted { $0.lexicographicallyPrecedes($1) }.prefix(ReplicaStore.evidencePerSeq)
        var tables: [[String]] = []
        for (round, order) in [copies, copies.reversed(), copies.sorted { $0.id.hex < $1.id.hex }, copies.sorted { $0.id.hex > $1.id.hex }].enumerated() {
            let r = try replica("many-copies-\(round)")
            // One at a time and in windows of 7.
            if round % 2 == 0 { for e in order { _ = try r.store.applyRemote([e], now: clock.read()) } }
            else { for w in stride(from: 0, to: order.count, by: 7) { _ = try r.store.applyRemote(Array(order[w..<min(w + 7, order.count)]), now: clock.read()) } }
            let rows = try r.store.read { db in
                try Row.fetchAll(db, sql: "SELECT id, seq, other_id FROM forks ORDER BY id").map { row -> String in
                    "\(Hex.encode(row[0] as Data)) \(row[1] as Int64) \(Hex.encode(row[2] as Data))"
                }
            }
            tables.append(rows)
            #expect(rows.count == ReplicaStore.evidencePerSeq, "round \(round): \(rows.count) rows")
            #expect(rows.map { String($0.prefix(64)) } == smallest.map { Hex.encode($0) }, "round \(round)")
            // Each row names the smallest other id (the smallest names the second smallest).
            for row in rows {
                let other = String(row.suffix(64)), own = String(row.prefix(64))
                #expect(other == (own == Hex.encode(smallest[0]) ? Hex.encode(smallest[1]) : Hex.encode(smallest[0])), "round \(round): \(row)")
            }
            let v = try r.verify()
            #expect(v.forks.count == 1 && v.forks[0].seq == 1 && v.forks[0].evidence == ReplicaStore.evidencePerSeq, "\(v.forks)")
        }
        #expect(Set(tables).count == 1, "arrival orders keep different evidence")
    }

    /// Without a team nobody is an admin (found by an independent client written from Protocol/,
    /// 2026-12-06): any key could redact any event, and the purge is for good — a stranger erased
    /// analysts' payloads on every replica it reached. Now only the key that wrote an event may
    /// redact it there: a stranger's redaction is denied (quarantined, the payload kept), and
    /// `gloss redact` of another key's event is refused. The author's second redaction of one event
    /// purges nothing and does not rebuild the projections. (Concurrent redactions by two admins,
    /// in every arrival order: `TeamTests.concurrentRedactionsOfOneEventGiveOneRowInEveryOrder`.)
    @Test func withoutATeamOnlyTheAuthorRedactsAndASecondRedactionCostsNoRebuild() throws {
        defer { tmp.remove() }
        let author = ReplicaKey(), stranger = ReplicaKey()
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        let note = try Self.signed(author, seq: 1, prev: .zero, time: t, NoteAdded(on: String(repeating: "a", count: 64), body: "a secret"))
        let forged = try Self.signed(stranger, seq: 1, prev: .zero, time: t + 500, deps: [(author.replicaID, 1)], PayloadRedacted(event: note.id, reason: "mine now"))
        let r1 = try Self.signed(author, seq: 2, prev: note.id, time: t + 1000, PayloadRedacted(event: note.id, reason: "first"))
        let r2 = try Self.signed(author, seq: 3, prev: r1.id, time: t + 2000, PayloadRedacted(event: note.id, reason: "second"))
        let held = try replica("redact-stranger")
        _ = try held.store.applyRemote([note, forged], now: clock.read())
        let payload = try held.store.read { db in try Data.fetchOne(db, sql: "SELECT payload FROM events WHERE id = ?", arguments: [Data(note.id.raw.bytes)]) }
        #expect(payload != nil, "a stranger's redaction purged the payload")
        #expect(try held.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine WHERE id = ?", arguments: [Data(forged.id.raw.bytes)]) } == 1)
        #expect { try held.redact(note.id.hex, reason: "not mine") } throws: { "\($0)".contains("only the key that wrote an event may redact it") }
        // The author's redaction applies; beside 300 other notes it rebuilds them all, a second purges nothing.
        let r = try replica("redact-cost")
        _ = try r.store.applyRemote([note] + Self.feed(ReplicaKey(), 300), now: clock.read())
        var applied: [Int] = []
        let firstCost = try ScalingTests.vmSteps(r.store) { applied.append(try r.store.applyRemote([r1], now: clock.read()).applied) }
        let secondCost = try ScalingTests.vmSteps(r.store) { applied.append(try r.store.applyRemote([r2], now: clock.read()).applied) }
        #expect(applied == [1, 1])
        #expect(try r.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM redactions") } == 1)
        #expect(secondCost * 10 < firstCost, "a second redaction cost \(secondCost)k VM steps, the first \(firstCost)k")
    }

    // MARK: 7. Pending is bounded and drains or expires

    /// A fork found in a window can remove from the log the event a note's stored head names (its
    /// single head lives on the notes row); a later event of the same window that edits the note
    /// must not fail the window, and every arrival order ends in the same projections.
    @Test func anEditOfANoteWhoseHeadAForkJustRemovedAppliesInEveryOrder() throws {
        defer { tmp.remove() }
        let creator = ReplicaKey(), forked = ReplicaKey(), editor = ReplicaKey()
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        func event(_ key: ReplicaKey, time: UInt64, deps: [(ReplicaID, UInt64)] = [], _ payload: some EventPayload) throws -> SignedEvent {
            try Self.signed(key, seq: 1, prev: .zero, time: time, deps: deps, payload)
        }
        let added = try event(creator, time: t, NoteAdded(on: String(repeating: "a", count: 64), body: "the note"))
        let note = added.id.hex
        // Two signed events at the forked feed's seq 1, both editing the note.
        let branchA = try event(forked, time: t + 1000, deps: [(creator.replicaID, 1)], NoteEdited(note: note, body: "branch A"))
        let branchB = try event(forked, time: t + 1001, deps: [(creator.replicaID, 1)], NoteEdited(note: note, body: "branch B"))
        // An honest edit that saw branch A.
        let edit = try event(editor, time: t + 2000, deps: [(creator.replicaID, 1), (forked.replicaID, 1)], NoteEdited(note: note, body: "the editor's text"))
        let orders: [[[SignedEvent]]] = [
            [[added, branchA], [branchB, edit]],   // branch A is the stored head when the fork is found
            [[added, branchA, branchB, edit]],
            [[added], [branchB], [branchA], [edit]],
            [[edit, branchB, added, branchA]],
        ]
        var digests: [String] = []
        for (i, windows) in orders.enumerated() {
            let r = try replica("fork-edit-\(i)")
            for w in windows { _ = try r.store.applyRemote(w, now: clock.read()) }
            let shown = try r.store.read { try Row.fetchOne($0, sql: "SELECT body, body_state FROM notes WHERE note = ?", arguments: [note]) }
            #expect(shown?[0] as String? == "the editor's text" && shown?[1] as String? == "single", "order \(i): \(String(describing: shown))")
            #expect(try r.digest(recompute: true) == r.digest(), "order \(i)")
            digests.append(try r.digest())
        }
        #expect(Set(digests).count == 1, "arrival orders give different projections")
    }

    /// Delivers `events` shuffled, in windows of 1…`maxWindow` events (a random size each); returns the order.
    @discardableResult
    func deliverShuffled(_ events: [SignedEvent], to r: Replica, maxWindow: Int, _ rng: inout SplitMix64) throws -> [SignedEvent] {
        var order = events
        order.shuffle(using: &rng)
        var i = 0
        while i < order.count {
            let n = maxWindow >= order.count ? order.count : Int.random(in: 1...maxWindow, using: &rng)
            let now = clock.read()
            _ = try r.store.applyRemote(Array(order[i..<min(order.count, i + n)]), now: now)
            let ended = try PendingWaitTests.endedWaits(r.store, now: now)
            #expect(ended.isEmpty, "\(ended.prefix(5))")
            i += n
        }
        return order
    }

    /// A key drawn from a seeded generator (reproducible runs).
    static func seededKey(_ rng: inout SplitMix64) throws -> ReplicaKey {
        try ReplicaKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// A validly signed event of any payload type.
    /// `count` different validly signed events of `key` at seq 1 (a fork `count` ways): notes "copy i".
    static func copiesAtSeqOne(_ key: ReplicaKey, _ count: Int) throws -> [SignedEvent] {
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        return try (0..<count).map { i in
            try signed(key, seq: 1, prev: .zero, time: t + UInt64(i), NoteAdded(on: String(repeating: "c", count: 64), body: "copy \(i)"))
        }
    }

    static func signed(_ key: ReplicaKey, seq: UInt64, prev: EventID, time: UInt64, deps: [(ReplicaID, UInt64)] = [],
                       _ payload: some EventPayload) throws -> SignedEvent {
        let bytes = payload.encoded
        let p = type(of: payload)
        return SignedEvent(envelope: try EventEnvelope(decoding: rawEnvelope(key: key, seq: seq, prev: prev, time: time, deps: deps, payload: bytes,
                                                                            type: p.type, schema: p.schema)), payload: bytes)
    }

    /// Forks among note edits: a forked feed's two branches edit and add notes, an honest feed edits
    /// notes of the common prefix and of one branch; delivered shuffled in windows of random size,
    /// every order gives the same log, feeds and projections (the heads of a note are read from its
    /// history, and a fork can remove the event a stored head names in the middle of a window).
    @Test(arguments: [2201, 2202, 2203, 2204])
    func forksAmongNoteEditsGiveOneDigestInEveryArrivalOrder(seed: UInt64) throws {
        defer { tmp.remove() }
        print("forks-edits: seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let forked = try Self.seededKey(&rng), honest = try Self.seededKey(&rng)
        let F = forked.replicaID
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        let f1 = try Self.signed(forked, seq: 1, prev: .zero, time: t + 1000, NoteAdded(on: String(repeating: "a", count: 64), body: "x\none\ntwo"))
        let x = f1.id.hex
        let f2 = try Self.signed(forked, seq: 2, prev: f1.id, time: t + 2000, NoteEdited(note: x, body: "x\none\ntwo\nthree"))
        func branch(_ tag: String, _ skew: UInt64, _ fourth: (EventID) throws -> SignedEvent) throws -> [SignedEvent] {
            let e3 = try Self.signed(forked, seq: 3, prev: f2.id, time: t + 3000 + skew, NoteEdited(note: x, body: "x\n\(tag)\ntwo\nthree"))
            return [e3, try fourth(e3.id)]
        }
        let a = try branch("A", 0) { try Self.signed(forked, seq: 4, prev: $0, time: t + 4000, NoteAdded(on: String(repeating: "a", count: 64), body: "z")) }
        let b = try branch("B", 1) { try Self.signed(forked, seq: 4, prev: $0, time: t + 4001, NoteEdited(note: x, body: "x\nB again")) }
        let z = a[1].id.hex
        // The honest feed: an edit concurrent with the branches, one that saw branch A (beyond the
        // fork: satisfied), a note of its own, an edit of branch A's note (never understood).
        let h1 = try Self.signed(honest, seq: 1, prev: .zero, time: t + 2500, deps: [(F, 2)], NoteEdited(note: x, body: "x\none\ntwo\nhonest"))
        let h2 = try Self.signed(honest, seq: 2, prev: h1.id, time: t + 5000, deps: [(F, 4)], NoteEdited(note: x, body: "x\nhonest after A"))
        let h3 = try Self.signed(honest, seq: 3, prev: h2.id, time: t + 6000, NoteAdded(on: x, body: "w"))
        let h4 = try Self.signed(honest, seq: 4, prev: h3.id, time: t + 7000, NoteEdited(note: z, body: "z edited"))
        let all = [f1, f2] + a + b + [h1, h2, h3, h4]
        var results: [(feeds: [String], digest: String, notes: [String])] = []
        for round in 0..<8 {
            let r = try replica("fe\(seed)-\(round)")
            // Round 0: everything in one window.
            try deliverShuffled(all, to: r, maxWindow: round == 0 ? all.count : 4, &rng)
            let (feeds, notes) = try r.store.read { db in
                (try Row.fetchAll(db, sql: "SELECT replica, head_seq, state, fork_seq FROM feeds WHERE head_seq > 0 OR fork_seq IS NOT NULL ORDER BY replica")
                    .map { "\(Hex.encode($0[0] as Data).prefix(8)) \($0[1] as Int64) \($0[2] as String) \(($0[3] as Int64?) ?? 0)" },
                 try Row.fetchAll(db, sql: "SELECT note, body, body_state, deleted FROM notes ORDER BY note").map { "\($0[0] as String) \($0[1] as String) \($0[2] as String) \($0[3] as Int)" })
            }
            #expect(try r.digest(recompute: true) == r.digest(), "seed \(seed) round \(round)")
            results.append((feeds, try r.digest(), notes))
        }
        for (i, x) in results.enumerated().dropFirst() {
            #expect(x.feeds == results[0].feeds && x.notes == results[0].notes && x.digest == results[0].digest,
                    "seed \(seed) round \(i): \(x.notes) vs \(results[0].notes)")
        }
        #expect(results[0].feeds.contains { $0.contains("forked 3") }, "\(results[0].feeds)")
        #expect(results[0].notes.count == 2, "x (the common prefix's note) and the honest note w: \(results[0].notes)")
    }

    /// One key signs two events at seq 3 (`prev` = its seq 2), a third whose `prev` names no event
    /// (a fork at seq 2 by the `prev` rule), and a seq 4 on one branch; an honest feed writes on the
    /// common prefix. Delivered shuffled in windows of random size, every order freezes the feed at
    /// seq 2 and gives one digest: a frozen feed's fork seq is lowered by a `prev` mismatch found at
    /// it (it stayed at 3 when both seq 3 events came first — an audit, 2026-12-06, found the two
    /// end states in 5 and 15 of 20 orders).
    @Test(arguments: [2301, 2302, 2303])
    func aForkShownByAPrevMismatchBelowTheFrozenSeqGivesOneStateInEveryOrder(seed: UInt64) throws {
        defer { tmp.remove() }
        print("fork-lower: seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let forked = try Self.seededKey(&rng), honest = try Self.seededKey(&rng)
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        let article = String(repeating: "a", count: 64)
        let e1 = try Self.signed(forked, seq: 1, prev: .zero, time: t + 1000, NoteAdded(on: article, body: "one"))
        let e2 = try Self.signed(forked, seq: 2, prev: e1.id, time: t + 2000, NoteEdited(note: e1.id.hex, body: "two"))
        let e3a = try Self.signed(forked, seq: 3, prev: e2.id, time: t + 3000, NoteEdited(note: e1.id.hex, body: "three a"))
        let e3b = try Self.signed(forked, seq: 3, prev: e2.id, time: t + 3001, NoteEdited(note: e1.id.hex, body: "three b"))
        let e3g = try Self.signed(forked, seq: 3, prev: EventID(Bytes32.sha256(Array("no such event".utf8))), time: t + 3002,
                                  NoteEdited(note: e1.id.hex, body: "three g"))
        let e4a = try Self.signed(forked, seq: 4, prev: e3a.id, time: t + 4000, NoteEdited(note: e1.id.hex, body: "four a"))
        let h1 = try Self.signed(honest, seq: 1, prev: .zero, time: t + 2500, deps: [(forked.replicaID, 1)], NoteEdited(note: e1.id.hex, body: "honest"))
        let all = [e1, e2, e3a, e3b, e3g, e4a, h1]
        var results: [(feeds: [String], digest: String)] = []
        for round in 0..<10 {
            let r = try replica("fl\(seed)-\(round)")
            try deliverShuffled(all, to: r, maxWindow: round == 0 ? all.count : 3, &rng)
            let feeds = try r.store.read { db in
                try Row.fetchAll(db, sql: "SELECT replica, head_seq, state, fork_seq FROM feeds WHERE head_seq > 0 OR fork_seq IS NOT NULL ORDER BY replica")
                    .map { "\(Hex.encode($0[0] as Data).prefix(8)) \($0[1] as Int64) \($0[2] as String) \(($0[3] as Int64?) ?? 0)" }
            }
            results.append((feeds, try r.digest()))
        }
        for (i, x) in results.enumerated().dropFirst() {
            #expect(x.feeds == results[0].feeds && x.digest == results[0].digest, "seed \(seed) round \(i): \(x.feeds) vs \(results[0].feeds)")
        }
        #expect(results[0].feeds.contains { $0.contains("forked 2") }, "\(results[0].feeds)")
    }

    /// Keys cost nothing: a flood of throwaway keys each parking one event whose seq 1 never comes
    /// fills `pending` with feeds of one event, which the largest-feed rule cannot evict. An author
    /// whose events the replica holds still finds room: a stranger's event gives way.
    @Test func aFloodOfOneEventStrangersCannotCrowdOutAKnownAuthor() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let limits = PendingLimits(total: 20, perFeed: 10, lifetime: 60_000)
        let known = try Self.feed(ReplicaKey(), 5)
        #expect(try r.store.applyRemote([known[0]], now: clock.read(), limits: limits).applied == 1)
        for _ in 0..<20 {
            let stranger = try Self.feed(ReplicaKey(), 2)
            #expect(try r.store.applyRemote([stranger[1]], now: clock.read(), limits: limits).pending == 1)
        }
        #expect(try Self.counts(r).pending == 20)
        // Another stranger finds no room (every feed waits with one event, as it would).
        let late = try Self.feed(ReplicaKey(), 2)
        #expect(try r.store.applyRemote([late[1]], now: clock.read(), limits: limits).rejected == 1)
        // The known author's out-of-order events wait, each in place of a stranger's, then apply.
        let early = try r.store.applyRemote(Array(known[2...]), now: clock.read(), limits: limits)
        #expect(early.pending == 3 && early.rejected == 0, "\(early)")
        #expect(try Self.counts(r).pending == 20)
        let done = try r.store.applyRemote([known[1]], now: clock.read(), limits: limits)
        #expect(done.applied == 4, "\(done)")
        #expect(try Self.counts(r).pending == 17)
        // Full again: another known author's events still find room, a stranger's still does not.
        for _ in 0..<3 { _ = try r.store.applyRemote([try Self.feed(ReplicaKey(), 2)[1]], now: clock.read(), limits: limits) }
        #expect(try Self.counts(r).pending == 20)
        let second = try Self.feed(ReplicaKey(), 4)
        #expect(try r.store.applyRemote([second[0]], now: clock.read(), limits: limits).applied == 1)
        let parked = try r.store.applyRemote(Array(second[2...]), now: clock.read(), limits: limits)
        #expect(parked.pending == 2 && parked.rejected == 0, "\(parked)")
        #expect(try r.store.applyRemote([try Self.feed(ReplicaKey(), 2)[1]], now: clock.read(), limits: limits).rejected == 1)
        #expect(try Self.counts(r).pending == 20)
    }

    @Test func aFloodOfUnreachableEventsCannotCrowdOutLegitimateOnes() throws {
        defer { tmp.remove() }
        let r = try replica("r")
        let limits = PendingLimits(total: 30, perFeed: 10, lifetime: 60_000)
        // Four throwaway keys whose seq 1 never comes, 20 events each.
        for _ in 0..<4 {
            let flood = try Self.feed(ReplicaKey(), 21)
            let s = try r.store.applyRemote(Array(flood.dropFirst()), now: clock.read(), limits: limits)
            #expect(s.pending <= 10 && s.rejected >= 10)
        }
        #expect(try Self.counts(r).pending == 30)
        // A legitimate feed arriving out of order still finds room (the largest feed gives way).
        let legit = try Self.feed(ReplicaKey(), 4)
        let early = try r.store.applyRemote(Array(legit.dropFirst()), now: clock.read(), limits: limits)
        #expect(early.pending == 3 && early.rejected == 0, "\(early)")
        let done = try r.store.applyRemote([legit[0]], now: clock.read(), limits: limits)
        #expect(done.applied == 4)
        #expect(try Self.counts(r).pending == 27)
        // The listing says what waits and why; dropping one feed, then expiry, clears the rest.
        let listed = try r.pending(limits: limits)
        #expect(listed.count == 4 && listed.map(\.events).reduce(0, +) == 27 && listed.allSatisfy { $0.reason.contains("waiting for seq 1") })
        #expect(try r.dropPending(feed: listed[0].replica) == listed[0].events)
        clock.set(clock.read() + 61_000)
        _ = try r.store.drainPending(now: clock.read(), limits: limits)
        #expect(try Self.counts(r).pending == 0)
    }
}

/// A received payload's texts are checked for runs of more than 255 combining marks before any is
/// hashed or compared (found by an audit written from Protocol/ alone, 2026-12-06): one signed event
/// whose payload map had a 1 MB key of alternating U+0316 U+0301 (classes 220 and 230) held a
/// server's apply for 93 s and every later `gloss log` of it — Swift hashes and compares strings by
/// canonical equivalence, reordering the run in quadratic time — and the event was forwarded on.
@Suite struct CombiningRunOnReceiptTests {
    let tmp = TempDir("gloss-runs")
    let clock = MockClock(start: 1_624_800_000_000, step: 1)

    static func event(_ key: ReplicaKey, extraKey: String, body: String = "hi") throws -> SignedEvent {
        // Written item by item: a Swift dictionary holding the long key would hash it (the very cost).
        let payload: [UInt8] = [0xA3] + ["on", String(repeating: "a", count: 64), "body", body, extraKey, "x"].flatMap { CBOR.text($0).encoded }
        let bytes = TrustBoundaryTests.rawEnvelope(key: key, seq: 1, prev: .zero, time: HybridTime(milliseconds: 1_624_700_000_000).raw, payload: payload)
        return SignedEvent(envelope: try EventEnvelope(decoding: bytes), payload: payload)
    }

    @Test func aLongRunInAMapKeyOrATextIsNotUnderstoodInLinearTime() throws {
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.sub("r"), analyst: "r", key: ReplicaKey(), clock: clock.function)
        let pairs = String(repeating: "\u{316}\u{301}", count: 200_000)   // 800 KB of marks
        #expect(throws: DecodeError.self) { try CBOR(decoding: [0xA1] + CBOR.text(pairs).encoded + CBOR.int(1).encoded) }
        #expect(throws: DecodeError.self) { try CBOR(decoding: CBOR.text("a" + String(repeating: "\u{301}", count: 256)).encoded) }
        #expect((try? CBOR(decoding: CBOR.text("a" + String(repeating: "\u{301}", count: 255)).encoded)) != nil)
        // Short runs are linear to hash, but a long key of them still cost ~0.2 s per MB at every
        // decode: keys are field names, at most 256 bytes.
        let shortRuns = String(repeating: "a" + String(repeating: "\u{316}\u{301}", count: 127), count: 1_000)
        #expect(throws: DecodeError.self) { try CBOR(decoding: [0xA1] + CBOR.text(shortRuns).encoded + CBOR.int(1).encoded) }
        #expect((try? CBOR(decoding: [0xA1] + CBOR.text(String(repeating: "k", count: 256)).encoded + CBOR.int(1).encoded)) != nil)
        #expect(throws: DecodeError.self) { try CBOR(decoding: [0xA1] + CBOR.text(String(repeating: "k", count: 257)).encoded + CBOR.int(1).encoded) }
        let started = Date()
        let s = try r.store.applyRemote([try Self.event(ReplicaKey(), extraKey: "k" + pairs),
                                         try Self.event(ReplicaKey(), extraKey: "note", body: "b" + pairs)], now: clock.read())
        let seconds = Date().timeIntervalSince(started)
        #expect(s.applied == 2, "\(s)")
        let reasons = try r.store.read { db in try String.fetchAll(db, sql: "SELECT reason FROM events_not_understood") }
        #expect(reasons.count == 2 && reasons.allSatisfy { $0.contains("combining marks") }, "\(reasons)")
        #expect(seconds < 20, "took \(seconds) s (quadratic: minutes)")
        // The log reads them back as fast.
        let listed = Date()
        var entries = 0
        try r.log(limit: 10) { _ in entries += 1 }
        #expect(entries == 2)
        #expect(Date().timeIntervalSince(listed) < 20)
    }
}
