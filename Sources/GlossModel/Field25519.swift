/// Arithmetic modulo p = 2^255 − 19, just enough to map an Ed25519 public key to its X25519
/// (Montgomery) form: u = (1 + y) / (1 − y) (Protocol/05-bundle.md §Encrypted bundles). Not
/// constant time: it only ever handles public keys.
struct Field25519: Equatable, Sendable {
    /// Little-endian 64-bit limbs, always reduced below p.
    private(set) var limbs: [UInt64]

    static let p = Field25519(unchecked: [0xFFFF_FFFF_FFFF_FFED, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF])
    static let zero = Field25519(0)
    static let one = Field25519(1)

    private init(unchecked limbs: [UInt64]) { self.limbs = limbs }

    init(_ small: UInt64) { limbs = [small, 0, 0, 0] }

    /// The element encoded by 32 little-endian bytes, or nil when the value is not below p.
    init?(canonical bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        var l = [UInt64](repeating: 0, count: 4)
        for i in 0..<32 { l[i / 8] |= UInt64(bytes[i]) << (8 * UInt64(i % 8)) }
        guard Field25519.less(l, Field25519.p.limbs) else { return nil }
        limbs = l
    }

    /// 32 little-endian bytes.
    var bytes: [UInt8] {
        (0..<32).map { UInt8(truncatingIfNeeded: limbs[$0 / 8] >> (8 * UInt64($0 % 8))) }
    }

    var isZero: Bool { limbs == [0, 0, 0, 0] }

    private static func less(_ a: [UInt64], _ b: [UInt64]) -> Bool {
        for i in stride(from: 3, through: 0, by: -1) where a[i] != b[i] { return a[i] < b[i] }
        return false
    }

    /// a − b over 256 bits, with the borrow out.
    private static func subtract(_ a: [UInt64], _ b: [UInt64]) -> ([UInt64], Bool) {
        var r = [UInt64](repeating: 0, count: 4)
        var borrow = false
        for i in 0..<4 {
            let (d1, o1) = a[i].subtractingReportingOverflow(b[i])
            let (d2, o2) = d1.subtractingReportingOverflow(borrow ? 1 : 0)
            r[i] = d2; borrow = o1 || o2
        }
        return (r, borrow)
    }

    /// a + b over 256 bits, with the carry out.
    private static func add(_ a: [UInt64], _ b: [UInt64]) -> ([UInt64], Bool) {
        var r = [UInt64](repeating: 0, count: 4)
        var carry = false
        for i in 0..<4 {
            let (s1, o1) = a[i].addingReportingOverflow(b[i])
            let (s2, o2) = s1.addingReportingOverflow(carry ? 1 : 0)
            r[i] = s2; carry = o1 || o2
        }
        return (r, carry)
    }

    /// Reduces any 256-bit value below p (2^256 = 2p + 38, so at most two subtractions).
    private static func canonical(_ x: [UInt64]) -> Field25519 {
        var v = x
        while !less(v, p.limbs) { v = subtract(v, p.limbs).0 }
        return Field25519(unchecked: v)
    }

    static func + (a: Field25519, b: Field25519) -> Field25519 {
        // Both are below p < 2^255: the sum fits 256 bits.
        canonical(add(a.limbs, b.limbs).0)
    }

    static func - (a: Field25519, b: Field25519) -> Field25519 {
        let (d, borrow) = subtract(a.limbs, b.limbs)
        // a − b + 2^256 wrapped: adding p (mod 2^256) gives a − b + p, in [0, p).
        return borrow ? Field25519(unchecked: add(d, p.limbs).0) : Field25519(unchecked: d)
    }

    static func * (a: Field25519, b: Field25519) -> Field25519 {
        // Schoolbook 4×4 limbs into 8; each step a·b + t + c ≤ 2^128 − 1, so no carry is lost.
        var t = [UInt64](repeating: 0, count: 8)
        for i in 0..<4 {
            var carry: UInt64 = 0
            for j in 0..<4 {
                let (hi, lo) = a.limbs[i].multipliedFullWidth(by: b.limbs[j])
                let (s1, o1) = t[i + j].addingReportingOverflow(lo)
                let (s2, o2) = s1.addingReportingOverflow(carry)
                t[i + j] = s2
                carry = hi &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
            }
            t[i + 4] = carry
        }
        // 2^256 ≡ 38 (mod p): fold the high half in, then the carry that leaves.
        var r = [UInt64](repeating: 0, count: 4)
        var carry: UInt64 = 0
        for i in 0..<4 {
            let (hi, lo) = t[i + 4].multipliedFullWidth(by: 38)
            let (s1, o1) = t[i].addingReportingOverflow(lo)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            r[i] = s2
            carry = hi &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
        }
        // carry ≤ 38: carry·2^256 ≡ carry·38.
        var (folded, over) = add(r, [carry &* 38, 0, 0, 0])
        if over { (folded, over) = add(folded, [38, 0, 0, 0]) }
        return canonical(folded)
    }

    /// self^e, e as four little-endian limbs.
    func power(_ e: [UInt64]) -> Field25519 {
        var result = Field25519.one
        for i in stride(from: 255, through: 0, by: -1) {
            result = result * result
            if (e[i / 64] >> UInt64(i % 64)) & 1 == 1 { result = result * self }
        }
        return result
    }

    /// The multiplicative inverse (Fermat: self^(p − 2)); zero for zero.
    var inverse: Field25519 { power(Field25519.subtract(Field25519.p.limbs, [2, 0, 0, 0]).0) }

    /// Whether self is a square mod p (Euler's criterion; zero counts as a square).
    var isSquare: Bool {
        // (p − 1) / 2 = 2^254 − 10
        let e: [UInt64] = [0xFFFF_FFFF_FFFF_FFF6, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0x3FFF_FFFF_FFFF_FFFF]
        let l = power(e)
        return l == .one || l == .zero
    }

    /// The Edwards25519 curve constant d = −121665 / 121666.
    static let d: Field25519 = zero - Field25519(121_665) * Field25519(121_666).inverse
}
