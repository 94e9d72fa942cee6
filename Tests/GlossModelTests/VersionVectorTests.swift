import GlossModel
import GlossTestSupport
import Testing

@Suite struct VersionVectorTests {
    static func randomVector(_ rng: inout SplitMix64, replicas: [ReplicaID]) -> VersionVector {
        var v = VersionVector()
        for r in replicas where Bool.random(using: &rng) { v[r] = UInt64.random(in: 0...4, using: &rng) }
        return v
    }

    @Test func lawsHoldOverRandomVectors() {
        var rng = SplitMix64(seed: testSeed("vector-laws"))
        let replicas = (0..<5).map { fixedKey("vv\($0)").replicaID }
        for _ in 0..<3000 {
            let a = Self.randomVector(&rng, replicas: replicas)
            let b = Self.randomVector(&rng, replicas: replicas)
            let c = Self.randomVector(&rng, replicas: replicas)
            // Merge: commutative, associative, idempotent; an upper bound of both.
            #expect(a.merged(with: b) == b.merged(with: a))
            #expect(a.merged(with: b).merged(with: c) == a.merged(with: b.merged(with: c)))
            #expect(a.merged(with: a) == a)
            #expect(a.isIncluded(in: a.merged(with: b)) && b.isIncluded(in: a.merged(with: b)))
            // Meet: a lower bound of both.
            #expect(a.meet(b).isIncluded(in: a) && a.meet(b).isIncluded(in: b))
            #expect(a.meet(b) == b.meet(a))
            // Partial order: reflexive, antisymmetric, transitive.
            #expect(a.isIncluded(in: a))
            if a.isIncluded(in: b) && b.isIncluded(in: a) { #expect(a == b) }
            if a.isIncluded(in: b) && b.isIncluded(in: c) { #expect(a.isIncluded(in: c)) }
            // Concurrency is exactly incomparability.
            #expect(a.isConcurrent(with: b) == (!a.isIncluded(in: b) && !b.isIncluded(in: a)))
            // The difference counts exactly the events one holds that the other lacks.
            #expect(a.eventsMissing(from: b) == a.merged(with: b).eventCount - b.eventCount)
        }
    }

    @Test func zeroEntriesAreAbsent() {
        let r = fixedKey("z").replicaID
        var v = VersionVector()
        v[r] = 0
        #expect(v.isEmpty)
        #expect(v == VersionVector([r: 0]))
        #expect(v.contains(replica: r, seq: 0))
        #expect(!v.contains(replica: r, seq: 1))
    }
}

@Suite struct HybridClockTests {
    @Test func timesStrictlyIncreaseWhenTheWallClockJumpsBack() {
        var rng = SplitMix64(seed: testSeed("hlc"))
        var wall: UInt64 = 1_700_000_000_000
        var last = HybridTime.zero
        for _ in 0..<10_000 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: wall -= UInt64.random(in: 0...100_000, using: &rng)   // clock steps back
            case 1: break                                                  // clock stands still
            default: wall += UInt64.random(in: 0...50, using: &rng)
            }
            let t = HybridClock.tick(last: last, wallMilliseconds: wall)
            #expect(t > last)
            #expect(t.milliseconds >= min(wall, last.milliseconds))
            last = t
            if Int.random(in: 0..<5, using: &rng) == 0 {
                // A remote event from a clock far ahead moves local time past it.
                let remote = HybridTime(milliseconds: wall + UInt64.random(in: 0...10_000, using: &rng))
                last = HybridClock.observe(last: last, remote: remote)
                #expect(last >= remote)
                let next = HybridClock.tick(last: last, wallMilliseconds: wall)
                #expect(next > remote)
            }
        }
    }

    @Test func rfc3339OfKnownInstants() {
        #expect(HybridTime(milliseconds: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(HybridTime(milliseconds: 1_624_708_800_123).rfc3339 == "2021-06-26T12:00:00.123Z")
        #expect(CivilTime.days(year: 2021, month: 6, day: 26) == 18804)
        #expect(CivilTime.civil(fromDays: 18804) == (2021, 6, 26))
    }
}

@Suite struct CBORTests {
    static func randomValue(_ rng: inout SplitMix64, depth: Int = 0) -> CBOR {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...63, using: &rng))
        case 3: return .bytes((0..<Int.random(in: 0..<40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case 4: return .text(String((0..<Int.random(in: 0..<30, using: &rng)).map { _ in
            ["a", "é", "✓", "😀", "e\u{301}", "\n", "\""].randomElement(using: &rng)! }.joined()))
        case 5: return .array((0..<Int.random(in: 0..<5, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var m: [String: CBOR] = [:]
            for _ in 0..<Int.random(in: 0..<5, using: &rng) { m["k\(Int.random(in: 0..<300, using: &rng))"] = randomValue(&rng, depth: depth + 1) }
            return .map(m)
        }
    }

    @Test func roundTripsAndEncodesDeterministically() throws {
        var rng = SplitMix64(seed: testSeed("cbor"))
        for _ in 0..<5000 {
            let v = Self.randomValue(&rng)
            let bytes = v.encoded
            let back = try CBOR(decoding: bytes)
            #expect(back == v)
            #expect(back.encoded == bytes)
        }
    }

    @Test func knownEncodings() {
        // RFC 8949 Appendix A examples.
        #expect(CBOR.int(0).encoded == [0x00])
        #expect(CBOR.int(23).encoded == [0x17])
        #expect(CBOR.int(24).encoded == [0x18, 0x18])
        #expect(CBOR.int(1000).encoded == [0x19, 0x03, 0xE8])
        #expect(CBOR.int(-1).encoded == [0x20])
        #expect(CBOR.int(-1000).encoded == [0x39, 0x03, 0xE7])
        #expect(CBOR.text("IETF").encoded == [0x64, 0x49, 0x45, 0x54, 0x46])
        #expect(CBOR.map(["b": .int(1), "a": .int(2), "aa": .int(3)]).encoded == [0xA3, 0x61, 0x61, 0x02, 0x61, 0x62, 0x01, 0x62, 0x61, 0x61, 0x03])
    }

    @Test func refusesWhatItDoesNotSupport() {
        for bad: [UInt8] in [[0xF9, 0, 0], [0xC0, 0], [0x5F], [0x9F], [0xA1, 0x01, 0x01], [0x62, 0xFF, 0xFE], [0xA2, 0x61, 0x61, 0, 0x61, 0x61, 0], [0x9A, 0xFF, 0xFF, 0xFF, 0xFF], [0x00, 0x00]] {
            #expect(throws: DecodeError.self) { try CBOR(decoding: bad) }
        }
        // Nesting past the limit.
        #expect(throws: DecodeError.self) { try CBOR(decoding: [UInt8](repeating: 0x81, count: 40) + [0]) }
    }
}
