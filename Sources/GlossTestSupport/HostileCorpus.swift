import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossSync

/// A small genuine multi-replica history and the bundles derived from it, for the hostile corpus:
/// `base` is what the target replica already holds, `genuine` the events above it (in the source's
/// causal order), `keys` every genuine replica's key (so hostile input can be validly signed).
public final class HostileWorld {
    public let sim: Simulation
    public let seed: UInt64
    public var source: Replica { sim.replicas[0] }
    public let base: VersionVector
    public let full: VersionVector
    public let baseEvents: [SignedEvent]
    public let genuine: [SignedEvent]
    public let keys: [ReplicaID: ReplicaKey]
    public let baseBundle: URL
    public let genuineBundle: URL
    public let genuineBytes: [UInt8]
    public let baseBytes: [UInt8]
    /// The genuine feeds' heads in `full`: (replica, seq, id).
    public let heads: [(replica: ReplicaID, seq: UInt64, id: EventID)]

    /// ~`events` events over 3 replicas with syncs in between, split about half into `base`.
    public init(seed: UInt64, events: Int = 50, inMemory: Bool = true) throws {
        self.seed = seed
        let sim = try Simulation(replicas: 3, seed: seed, label: "hostile", deterministicKeys: true, tmpBase: inMemory ? memoryTempBase : nil)
        self.sim = sim
        func phase(_ n: Int) throws {
            var written = 0
            while written < n {
                if Int.random(in: 0..<4, using: &sim.rng) == 0 {
                    let a = Int.random(in: 0..<3, using: &sim.rng), b = Int.random(in: 0..<3, using: &sim.rng)
                    if a != b { try sim.sync(a, b) }
                } else {
                    let i = Int.random(in: 0..<3, using: &sim.rng)
                    let before = try sim.replicas[i].vector[sim.replicas[i].replicaID]
                    try sim.randomOperation(on: i)
                    if try sim.replicas[i].vector[sim.replicas[i].replicaID] > before { written += 1 }
                }
            }
            try sim.sync(1, 0); try sim.sync(2, 0)
        }
        try phase(events / 2)
        let base = try sim.replicas[0].vector
        self.base = base
        try phase(events - events / 2)
        full = try sim.replicas[0].vector
        var k: [ReplicaID: ReplicaKey] = [:]
        for r in sim.replicas { k[r.replicaID] = r.key }
        keys = k
        let src = sim.replicas[0]
        var be: [SignedEvent] = [], ge: [SignedEvent] = []
        try src.store.read { db in
            try src.store.forEachEvent(db) { e in
                let s = SignedEvent(envelope: e.envelope, payload: e.payload)
                if base.contains(replica: e.envelope.replica, seq: e.envelope.seq) { be.append(s) } else { ge.append(s) }
                return true
            }
        }
        baseEvents = be; genuine = ge
        baseBundle = sim.tmp.sub("base.glossb")
        genuineBundle = sim.tmp.sub("genuine.glossb")
        // The base as the source held it then (this writer reproduces the exporter's bytes, which
        // a test checks), and the genuine events above it as exported now.
        baseBytes = RawBundle(sender: src.replicaID, senderVector: base, baseVector: VersionVector(), records: be.map(RawRecord.init)).encoded(signedBy: src.key)
        try Data(baseBytes).write(to: baseBundle)
        try src.exportBundle(to: genuineBundle, base: base)
        genuineBytes = Array(try Data(contentsOf: genuineBundle))
        heads = try src.store.read { db in
            try Row.fetchAll(db, sql: "SELECT replica, head_seq, head_id FROM feeds WHERE head_seq > 0").map {
                (ReplicaID(Bytes32(exactly: Array($0[0] as Data))!), UInt64($0[1] as Int64), EventID(Bytes32(exactly: Array($0[2] as Data))!))
            }
        }
    }

    /// A fresh replica holding exactly the base.
    public func makeTarget(_ name: String) throws -> Replica {
        let r = try sim.addReplica(name)
        let rep = try r.importBundle(at: baseBundle)
        precondition(rep.clean && rep.summary.applied == baseEvents.count, "the base bundle did not import cleanly: \(rep)")
        return r
    }

    /// The genuine bundle as this test's own writer encodes it (equal to the exported file).
    public var genuineRaw: RawBundle {
        RawBundle(sender: source.replicaID, senderVector: full, baseVector: base, records: genuine.map(RawRecord.init))
    }
    public var sourceKey: ReplicaKey { source.key }
    public func key(_ r: ReplicaID) -> ReplicaKey { keys[r]! }
}

/// The kinds of hostile bundle whose correct handling leaves no lasting trace: once the genuine
/// bundle is imported, the replica equals one that only ever saw genuine data.
public enum HostileKind: String, CaseIterable, Sendable, Codable {
    case bitflipAnywhere, bitflipEnvelope, bitflipPayload, truncate, truncateAtRecord, spliceRecords, spliceBytes
    case hugeLengths, hugeVectorCounts, headerU64, headerLies, gaps, badSignatureAt, badSignatures
    case stripped, payloadSwapped, forgedHeader, forgedEvents, unsignedU64Fields, unsignedDeps
    case garbage, trailer, reordered, duplicated, evidenceLies
}

/// Kinds whose correct handling may legitimately change the replica for good (validly signed
/// events with lying fields, forks, floods): judged by weaker, still independent properties.
public enum StatefulKind: String, CaseIterable, Sendable, Codable {
    case signedHugeSeq, signedTimes, signedDeps, forks, flood
}

public struct HostileCase: Sendable {
    public var index: Int
    public var kind: String
    public var detail: String
    public var bytes: [UInt8]
    /// The header certainly breaks an invariant of Protocol/05-bundle.md §Reading (event_count =
    /// Σ max(0, S − b); each feed's records run b + 1 … S without gaps): the import must report it
    /// and must not record the sender's vector as acknowledged.
    public var headerViolation = false
}

/// Builds hostile bundles from a `HostileWorld`, deterministically from (seed, index).
public struct HostileCorpus {
    public let world: HostileWorld
    public init(world: HostileWorld) { self.world = world }

    static let extremes: [UInt64] = [0, 1, UInt64(Int64.max), 1 << 63, (1 << 63) + 1, UInt64.max - 1, UInt64.max]
    static let extremes32: [UInt32] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF, 4 * 1024 * 1024 + 1, 8 * 1024 * 1024 + 1, 1_000_001]

    func rng(_ index: Int, salt: UInt64 = 0) -> SplitMix64 {
        SplitMix64(seed: world.seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03) ^ salt)
    }

    /// The genuine file with its trailer resealed after records were changed.
    func file(_ b: RawBundle, key: ReplicaKey? = nil) -> [UInt8] { b.encoded(signedBy: key ?? world.sourceKey) }

    public func make(_ kind: HostileKind, index: Int) -> HostileCase {
        var g = rng(index, salt: UInt64(HostileKind.allCases.firstIndex(of: kind)!))
        var detail = ""
        var violation = false
        let genuine = world.genuine
        let gb = world.genuineBytes
        var raw = world.genuineRaw
        let n = genuine.count
        func pick<T>(_ a: [T]) -> T { a[Int.random(in: 0..<a.count, using: &g)] }
        func throwaway() -> ReplicaKey { try! ReplicaKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }) }
        let bytes: [UInt8]
        switch kind {
        case .bitflipAnywhere:
            var b = gb
            let flips = Int.random(in: 1...3, using: &g)
            var at: [Int] = []
            for _ in 0..<flips { let i = Int.random(in: 0..<b.count, using: &g); at.append(i); b[i] ^= 1 << UInt8.random(in: 0...7, using: &g) }
            detail = "bits flipped at \(at)"; bytes = b
        case .bitflipEnvelope:
            let i = Int.random(in: 0..<n, using: &g)
            var env = raw.records[i].envelope
            let o = Int.random(in: 0..<env.count, using: &g)
            env[o] ^= 1 << UInt8.random(in: 0...7, using: &g)
            raw.records[i].envelope = env
            detail = "record \(i) envelope byte \(o)"; bytes = file(raw)
        case .bitflipPayload:
            let withPayload = (0..<n).filter { (raw.records[$0].payload?.count ?? 0) > 0 }
            let i = pick(withPayload)
            let o = Int.random(in: 0..<raw.records[i].payload!.count, using: &g)
            raw.records[i].payload![o] ^= 1 << UInt8.random(in: 0...7, using: &g)
            detail = "record \(i) payload byte \(o)"; bytes = file(raw)
        case .truncate:
            let cut = Int.random(in: 0..<gb.count, using: &g)
            detail = "cut at \(cut) of \(gb.count)"; bytes = Array(gb.prefix(cut))
        case .truncateAtRecord:
            let offsets = raw.recordOffsets()
            let cut = max(0, min(gb.count - 1, pick(offsets) + Int.random(in: -9...9, using: &g)))
            detail = "cut at \(cut) near a record boundary"; bytes = Array(gb.prefix(cut))
        case .spliceRecords:
            // A random sequence of genuine records (drops, repeats, reorders).
            let m = Int.random(in: 1...(2 * n), using: &g)
            raw.records = (0..<m).map { _ in RawRecord(pick(genuine)) }
            let keepCount = Bool.random(using: &g)
            if keepCount { raw.eventCount = UInt64(n) }
            detail = "\(m) spliced records, header count \(keepCount ? "of the original" : "re-signed to \(m)")"; bytes = file(raw)
        case .spliceBytes:
            let other = Bool.random(using: &g) ? world.baseBytes : gb
            let a = Int.random(in: 0...gb.count, using: &g), b = Int.random(in: 0...other.count, using: &g)
            detail = "genuine[0..<\(a)] + \(other == gb ? "genuine" : "base")[\(b)...]"; bytes = Array(gb[0..<a]) + Array(other[b...])
        case .hugeLengths:
            let i = Int.random(in: 0..<n, using: &g)
            let v = pick(Self.extremes32 + [UInt32(raw.records[i].envelope.count + 1), UInt32(raw.records[i].envelope.count - 1)])
            if Bool.random(using: &g) {
                raw.records[i].envelopeLength = v; detail = "record \(i) envelope_len \(v)"
            } else {
                let p = raw.records[i].payload?.count ?? 0
                let pv = pick([v, UInt32(p + 1), UInt32(max(0, p - 1))])
                if raw.records[i].payload == nil { raw.records[i].payload = [] }
                raw.records[i].payloadLength = pv; detail = "record \(i) payload_len \(pv)"
            }
            bytes = file(raw)
        case .hugeVectorCounts:
            let v = pick([UInt32(1_000_000), 1_000_001, 0xFFFF_FFFF, 0x8000_0000, UInt32(raw.senderVector.count + 1), 999_999])
            if Bool.random(using: &g) { raw.senderVectorCount = v; detail = "sender vector count \(v)" } else { raw.baseVectorCount = v; detail = "base vector count \(v)" }
            let signed = Bool.random(using: &g)
            detail += signed ? " (validly signed)" : " (signature stale)"
            if signed { bytes = file(raw) } else {
                // The genuine signature over the true header: no longer verifies.
                var b = file(raw); let sigAt = raw.headerBytes.count
                b.replaceSubrange(sigAt..<sigAt + 64, with: gb[world.genuineRaw.headerBytes.count..<world.genuineRaw.headerBytes.count + 64])
                bytes = b
            }
        case .headerU64:
            let x = pick(Self.extremes)
            switch Int.random(in: 0..<4, using: &g) {
            case 0: raw.eventCount = x; detail = "event_count \(x)"; violation = x != UInt64(n)
            case 1:
                let j = Int.random(in: 0..<raw.senderVector.count, using: &g)
                // A feed with nothing above the base (S = b) claimed lower than its base lies
                // undetectably: no record and no count tells (a sender may hold less than the base).
                let s = raw.senderVector[j].seq
                let b = raw.baseVector.first { $0.replica == raw.senderVector[j].replica }?.seq ?? 0
                violation = x != s && (s > b || x > b)
                raw.senderVector[j].seq = x; detail = "sender_vector[\(j)] = \(x)"
            case 2:
                if raw.baseVector.isEmpty || Bool.random(using: &g) {
                    raw.baseVector.append((throwaway().replicaID.raw.bytes, x)); raw.baseVector.sort { $0.replica.lexicographicallyPrecedes($1.replica) }
                    detail = "base_vector extra entry \(x)"
                } else {
                    let j = Int.random(in: 0..<raw.baseVector.count, using: &g)
                    raw.baseVector[j].seq = x; detail = "base_vector[\(j)] = \(x)"
                }
            default: raw.trailerCount = x; detail = "trailer count \(x)"
            }
            detail += " (validly signed)"
            bytes = file(raw)
        case .headerLies:
            violation = true
            switch Int.random(in: 0..<4, using: &g) {
            case 0:
                // The sender claims more than the records carry.
                let j = Int.random(in: 0..<raw.senderVector.count, using: &g)
                let extra = UInt64(pick([1, 2, 1000, 1 << 40]))
                raw.senderVector[j].seq += extra
                raw.eventCount = UInt64(n) + (Bool.random(using: &g) ? extra : 0)
                detail = "sender_vector[\(j)] +\(extra), event_count \(raw.eventCount!)"
            case 1:
                // A feed the records never mention.
                raw.senderVector.append((throwaway().replicaID.raw.bytes, UInt64(pick([1, 5, 1 << 32]))))
                raw.senderVector.sort { $0.replica.lexicographicallyPrecedes($1.replica) }
                detail = "sender_vector names an absent feed"
            case 2:
                // The base claims less than the records start from (count still the records').
                raw.baseVector = []
                detail = "base_vector empty"
            default:
                // The base claims more than the records skip.
                raw.baseVector = RawBundle.entries(world.full)
                detail = "base_vector = sender_vector while records follow"
            }
            bytes = file(raw)
        case .gaps:
            let feeds = Array(Set(genuine.map(\.envelope.replica)))
            let feed = pick(feeds.sorted())
            let idx = (0..<n).filter { genuine[$0].envelope.replica == feed }
            let drop = Set((0..<Int.random(in: 1...max(1, min(3, idx.count - 1)), using: &g)).map { _ in pick(idx) })
            raw.records = (0..<n).filter { !drop.contains($0) }.map { RawRecord(genuine[$0]) }
            let resign = Bool.random(using: &g)
            if !resign { raw.eventCount = UInt64(n) }
            violation = true
            detail = "records \(drop.sorted()) of one feed dropped, count \(resign ? "re-signed" : "original")"
            bytes = file(raw)
        case .badSignatureAt:
            // A lone bad signature, at every position of the chain in turn.
            let i = (index / HostileKind.allCases.count) % n
            var env = raw.records[i].envelope
            env[env.count - 1 - Int.random(in: 0..<64, using: &g)] ^= 0x01
            raw.records[i].envelope = env
            detail = "bad signature at record \(i) (seq \(genuine[i].envelope.seq))"
            bytes = file(raw)
        case .badSignatures:
            let k = Int.random(in: 2...max(2, n / 3), using: &g)
            var at: [Int] = []
            for _ in 0..<k {
                let i = Int.random(in: 0..<n, using: &g); at.append(i)
                raw.records[i].envelope[raw.records[i].envelope.count - 1 - Int.random(in: 0..<64, using: &g)] ^= 0x80
            }
            detail = "bad signatures at \(at.sorted())"
            bytes = file(raw)
        case .stripped:
            let all = Int.random(in: 0..<4, using: &g) == 0
            var at: [Int] = []
            for i in 0..<n where all || Bool.random(using: &g) { raw.records[i].payload = nil; at.append(i) }
            detail = all ? "every payload stripped" : "payloads stripped at \(at)"
            bytes = file(raw)
        case .payloadSwapped:
            let i = Int.random(in: 0..<n, using: &g)
            switch Int.random(in: 0..<3, using: &g) {
            case 0:
                var j = Int.random(in: 0..<n, using: &g)
                if raw.records[j].payload == raw.records[i].payload { j = (i + 1) % n }
                (raw.records[i].payload, raw.records[j].payload) = (raw.records[j].payload, raw.records[i].payload)
                detail = "payloads of \(i) and \(j) swapped"
            case 1:
                let len = raw.records[i].payload?.count ?? 8
                raw.records[i].payload = (0..<len).map { _ in UInt8.random(in: 0...255, using: &g) }
                detail = "payload of \(i) replaced by \(len) random bytes"
            default:
                raw.records[i].payload = (raw.records[i].payload ?? []) + [0]
                detail = "payload of \(i) one byte longer"
            }
            bytes = file(raw)
        case .forgedHeader:
            let fake = throwaway()
            switch Int.random(in: 0..<3, using: &g) {
            case 0:
                // Claims a genuine sender, signed by another key.
                raw.sender = pick(world.heads.map(\.replica)).raw.bytes
                detail = "sender is a genuine replica, header signed by a throwaway key"
                bytes = raw.encoded(signedBy: fake)
            case 1:
                // A throwaway sender whose (valid) header claims it holds far more of every feed.
                raw.sender = fake.replicaID.raw.bytes
                raw.senderVector = raw.senderVector.map { ($0.replica, $0.seq + 1_000_000) }
                raw.eventCount = UInt64(n) + UInt64(raw.senderVector.count) * 1_000_000
                detail = "throwaway sender claiming +1,000,000 on every feed"
                bytes = raw.encoded(signedBy: fake)
            default:
                detail = "header signature of zeros"
                var b = gb; let at = world.genuineRaw.headerBytes.count
                for k in at..<at + 64 { b[k] = 0 }
                bytes = b
            }
        case .forgedEvents:
            // Events that claim a genuine replica's id but are signed by a throwaway key.
            let fake = throwaway()
            let head = pick(world.heads)
            let payload = Array("forged \(index)".utf8)
            var forged: [RawRecord] = []
            let mode = Int.random(in: 0..<3, using: &g)
            let count = Int.random(in: 1...4, using: &g)
            var prev = head.id, seq = head.seq + 1
            if mode == 1 {
                // At a seq the feed already holds (not a fork: the signature is not the feed's).
                let held = genuine.filter { $0.envelope.replica == head.replica }
                if let e = held.randomElement(using: &g) { seq = e.envelope.seq; prev = e.envelope.prev }
            } else if mode == 2 { seq = 1; prev = .zero }
            for _ in 0..<count {
                let env = RawEnvelope(replica: head.replica, seq: seq, prev: prev, time: UInt64.random(in: 0...UInt64.max, using: &g), payload: payload)
                let bytes = env.encoded(signedBy: fake)
                forged.append(RawRecord(envelope: bytes, payload: payload))
                prev = eventID(of: bytes); seq += 1
            }
            let at = Int.random(in: 0...n, using: &g)
            raw.records.insert(contentsOf: forged, at: at)
            detail = "\(count) forged events of \(head.replica.short) (\(["after its head", "at held seqs", "from seq 1"][mode])) inserted at \(at)"
            bytes = file(raw)
        case .unsignedU64Fields:
            // A genuine envelope with one integer field at an extreme, its signature left stale.
            let i = Int.random(in: 0..<n, using: &g)
            var e = RawEnvelope(genuine[i].envelope)
            let old = Array(genuine[i].envelope.signature)
            let x = pick(Self.extremes)
            switch Int.random(in: 0..<9, using: &g) {
            case 0: e.seq = x; detail = "seq \(x)"
            case 1: e.time = x; detail = "time \(x)"
            case 2:
                if e.deps.isEmpty { e.deps = [(throwaway().replicaID.raw.bytes, x)] } else { e.deps[0].seq = x }
                detail = "deps seq \(x)"
            case 3: e.depsCount = pick(Self.extremes32 + [100_000, 100_001]); detail = "deps_count \(e.depsCount!)"
            case 4: e.payloadLength = pick(Self.extremes32); detail = "payload_len \(e.payloadLength)"
            case 5: e.authorLength = pick([0, 65, 255, UInt8(e.author.count + 1)]); detail = "author_len \(e.authorLength!)"
            case 6: e.typeLength = pick([0, 65, 255, UInt8(e.type.count + 1)]); detail = "type_len \(e.typeLength!)"
            case 7: e.schema = pick([0, 0xFFFF, 0x8000]); detail = "schema \(e.schema)"
            default: e.format = pick([0, 2, 0xFF]); detail = "format \(e.format)"
            }
            raw.records[i].envelope = e.unsignedBytes + old
            detail = "record \(i): \(detail), signature stale"
            bytes = file(raw)
        case .unsignedDeps:
            let i = Int.random(in: 0..<n, using: &g)
            var e = RawEnvelope(genuine[i].envelope)
            let old = Array(genuine[i].envelope.signature)
            let unknown = throwaway().replicaID.raw.bytes
            switch Int.random(in: 0..<3, using: &g) {
            case 0: e.deps.append((unknown, 1)); detail = "deps names an unknown feed"
            case 1: e.deps.append((unknown, pick(Self.extremes.filter { $0 > 0 }))); detail = "deps names an unknown feed at a huge seq"
            default:
                let other = pick(world.heads.filter { $0.replica != genuine[i].envelope.replica }).replica.raw.bytes
                e.deps.removeAll { $0.replica == other }
                e.deps.append((other, pick([UInt64(1) << 63, UInt64.max, 1 << 40]))); detail = "deps names a genuine feed at a huge seq"
            }
            e.deps.sort { $0.replica.lexicographicallyPrecedes($1.replica) }
            raw.records[i].envelope = e.unsignedBytes + old
            detail = "record \(i): \(detail), signature stale"
            bytes = file(raw)
        case .garbage:
            let len = Int.random(in: 0...4096, using: &g)
            var b = (0..<len).map { _ in UInt8.random(in: 0...255, using: &g) }
            switch Int.random(in: 0..<3, using: &g) {
            case 0: detail = "\(len) random bytes"
            case 1: b = Array("GLOSSBDL".utf8) + b; detail = "magic + \(len) random bytes"
            default:
                let h = world.genuineRaw.headerBytes.count + 64
                b = Array(gb.prefix(h)) + b; detail = "genuine header + \(len) random bytes"
            }
            bytes = b
        case .trailer:
            switch Int.random(in: 0..<5, using: &g) {
            case 0: raw.omitTrailer = true; detail = "no trailer"
            case 1: raw.trailerMagic = Array("GLOSSBAD".utf8); detail = "bad trailer magic"
            case 2: raw.trailerChecksum = [UInt8](repeating: 0, count: 32); detail = "zero checksum"
            case 3: raw.trailing = (0..<Int.random(in: 1...300, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }; detail = "bytes after the trailer"
            default: raw.trailerCount = UInt64(n - 1); detail = "trailer count off by one"
            }
            bytes = file(raw)
        case .reordered:
            raw.records.shuffle(using: &g)
            detail = "genuine records shuffled"
            bytes = file(raw)
        case .duplicated:
            var recs: [RawRecord] = []
            for r in raw.records { recs.append(r); if Int.random(in: 0..<4, using: &g) == 0 { recs.append(contentsOf: Array(repeating: r, count: Int.random(in: 1...5, using: &g))) } }
            raw.records = recs
            let resign = Bool.random(using: &g)
            if !resign { raw.eventCount = UInt64(n) }
            detail = "\(recs.count - n) duplicate records, count \(resign ? "re-signed" : "original")"
            bytes = file(raw)
        case .evidenceLies:
            // Format 2 headers, validly signed, whose evidence (05 §Fork evidence) lies.
            raw.format = 2
            raw.eventCount = UInt64(n)
            violation = true
            switch Int.random(in: 0..<5, using: &g) {
            case 4:
                // A forged fork: two events at the seq after a genuine feed's head, in order, signed
                // by a throwaway key — the header holds; each event is refused, nothing is frozen.
                violation = false
                let fake = throwaway()
                let head = pick(world.heads)
                let forged = (0..<2).map { i -> RawRecord in
                    let payload = Array("forged evidence \(index) \(i)".utf8)
                    return RawRecord(envelope: RawEnvelope(replica: head.replica, seq: head.seq + 1, prev: head.id,
                                                           time: UInt64.random(in: 0...UInt64.max, using: &g), payload: payload).encoded(signedBy: fake),
                                     payload: payload)
                }
                raw.records += forged.sorted { eventID(of: $0.envelope) < eventID(of: $1.envelope) }
                raw.evidenceCount = 2
                detail = "two forged events at seq \(head.seq + 1) of \(head.replica.short) as evidence"
            case 0:
                // Genuine records again as "evidence": at or below the sender's head, not above it.
                let k = Int.random(in: 1...min(5, n), using: &g)
                raw.records += (0..<k).map { _ in pick(world.genuineRaw.records) }
                raw.evidenceCount = UInt64(k)
                detail = "\(k) genuine records repeated as evidence"
            case 1:
                // More evidence declared than present: the trailer stands where a record should.
                raw.evidenceCount = pick([1, 2, 1000] + Self.extremes.filter { $0 > 0 })
                detail = "evidence_count \(raw.evidenceCount!) with no evidence records"
            case 2:
                // Format 2 without evidence: unusable.
                raw.evidenceCount = 0
                detail = "format 2, evidence_count 0"
            default:
                // Evidence of a feed at the right height but in descending order.
                let last = Array(world.genuineRaw.records.suffix(2).reversed())
                raw.records += last
                raw.evidenceCount = UInt64(last.count)
                detail = "the last two records again as evidence, reversed"
            }
            bytes = file(raw)
        }
        return HostileCase(index: index, kind: kind.rawValue, detail: detail, bytes: bytes, headerViolation: violation)
    }

    /// The case at `index` of the mixed corpus (kinds round-robin).
    public func make(index: Int) -> HostileCase {
        make(HostileKind.allCases[index % HostileKind.allCases.count], index: index)
    }

    // MARK: Validly signed, stateful cases

    /// Events signed by genuine keys (or fresh ones) with lying fields, as whole bundles (genuine
    /// records first, so that what the lie builds on is held).
    public func makeStateful(_ kind: StatefulKind, index: Int, floodSize: Int = 2000) -> HostileCase {
        var g = rng(index, salt: 0xABCD + UInt64(StatefulKind.allCases.firstIndex(of: kind)!))
        var raw = world.genuineRaw
        let genuine = world.genuine
        func pick<T>(_ a: [T]) -> T { a[Int.random(in: 0..<a.count, using: &g)] }
        let head = pick(world.heads)
        let key = world.key(head.replica)
        let payload = Array("lying \(index)".utf8)
        var detail = ""
        var extra: [RawRecord] = []
        switch kind {
        case .signedHugeSeq:
            let seq: UInt64 = pick([UInt64(Int64.max), UInt64(1) << 63, (1 << 63) + 1, UInt64.max - 1, UInt64.max, head.seq + 2, head.seq + 1_000_000])
            var prev = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
            if Bool.random(using: &g) { prev = head.id.raw.bytes }
            var e = RawEnvelope(replica: head.replica, seq: seq, prev: EventID(Bytes32(exactly: prev)!), time: UInt64.random(in: 0...UInt64.max, using: &g), payload: payload)
            e.author = Array("r".utf8)
            extra = [RawRecord(envelope: e.encoded(signedBy: key), payload: payload)]
            detail = "seq \(seq) of \(head.replica.short), validly signed"
        case .signedTimes:
            let t: UInt64 = pick([UInt64(0), 1, UInt64(Int64.max), 1 << 63, UInt64.max, genuine.first!.envelope.time.raw - 1])
            let e = RawEnvelope(replica: head.replica, seq: head.seq + 1, prev: head.id, time: t, payload: payload)
            extra = [RawRecord(envelope: e.encoded(signedBy: key), payload: payload)]
            detail = "seq \(head.seq + 1) of \(head.replica.short) at time \(t), validly signed"
        case .signedDeps:
            var e = RawEnvelope(replica: head.replica, seq: head.seq + 1, prev: head.id, time: (1 << 62), payload: payload)
            let unknown = try! ReplicaKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }).replicaID.raw.bytes
            let x: UInt64 = pick([UInt64(1), UInt64(1) << 63, UInt64.max, UInt64(Int64.max)])
            if Bool.random(using: &g) {
                e.deps = [(unknown, x)]; detail = "deps names an unknown feed at \(x)"
            } else {
                let other = pick(world.heads.filter { $0.replica != head.replica })
                e.deps = [(other.replica.raw.bytes, max(other.seq + 1, x))]; detail = "deps names \(other.replica.short) at \(max(other.seq + 1, x))"
            }
            extra = [RawRecord(envelope: e.encoded(signedBy: key), payload: payload)]
            detail = "seq \(head.seq + 1) of \(head.replica.short): \(detail), validly signed"
        case .forks:
            // A second validly signed event at a held (replica, seq).
            let held = genuine.filter { $0.envelope.replica == head.replica }
            let victim = held.isEmpty ? world.baseEvents.first { $0.envelope.replica == head.replica }! : pick(held)
            var e = RawEnvelope(victim.envelope)
            e.author = Array("twin".utf8)
            e.payloadLength = UInt32(payload.count); e.payloadHash = Bytes32.sha256(payload).bytes
            extra = [RawRecord(envelope: e.encoded(signedBy: key), payload: payload)]
            detail = "fork of \(head.replica.short) at seq \(victim.envelope.seq)"
        case .flood:
            let fresh = try! ReplicaKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
            var prev = EventID(Bytes32(exactly: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })!)
            var recs: [RawRecord] = []
            for s in 2...UInt64(floodSize + 1) {
                let p = Array("flood \(s)".utf8)
                let env = RawEnvelope(replica: fresh.replicaID, seq: s, prev: prev, time: 1_700_000_000_000 << 16 + s, payload: p).encoded(signedBy: fresh)
                recs.append(RawRecord(envelope: env, payload: p))
                prev = eventID(of: env)
            }
            recs.shuffle(using: &g)
            raw = RawBundle(sender: fresh.replicaID, senderVector: VersionVector([fresh.replicaID: UInt64(floodSize + 1)]),
                            baseVector: VersionVector([fresh.replicaID: 1]), records: recs)
            detail = "\(floodSize) out-of-order events of a fresh key whose seq 1 never comes"
            return HostileCase(index: index, kind: kind.rawValue, detail: detail, bytes: raw.encoded(signedBy: fresh))
        }
        raw.records += extra
        raw.eventCount = UInt64(raw.records.count)
        return HostileCase(index: index, kind: kind.rawValue, detail: detail, bytes: raw.encoded(signedBy: world.sourceKey))
    }
}
