import GlossModel

extension TextSelector {
    public var cbor: CBOR {
        .map(["exact": .text(exact), "prefix": .text(prefix), "suffix": .text(suffix), "start": .int(Int64(start)), "end": .int(Int64(end))])
    }

    public init(cbor: CBOR) throws {
        let f = try CBORFields(cbor)
        let start = try f.int("start"), end = try f.int("end")
        guard start >= 0, end >= start, end <= Int64(ProtocolLimits.maxArticleBytes) else { throw DecodeError("selector positions out of range") }
        self.init(exact: try f.text("exact"), prefix: try f.text("prefix"), suffix: try f.text("suffix"), start: Int(start), end: Int(end))
    }
}

extension Candidate {
    /// The candidate as stored in a `CandidatesExtracted` payload (absent optionals are left out).
    public var cbor: CBOR {
        var m: [String: CBOR] = ["kind": .text(kind), "value": .text(value), "rule": .text(rule), "selector": selector.cbor]
        if let precision { m["precision"] = .text(precision) }
        if let speaker { m["speaker"] = .text(speaker) }
        if let role { m["role"] = .text(role) }
        if let saidOn { m["saidOn"] = .text(saidOn) }
        if let affiliation { m["affiliation"] = .text(affiliation) }
        if let attribution { m["attribution"] = attribution.cbor }
        return .map(m)
    }

    public init(cbor: CBOR) throws {
        let f = try CBORFields(cbor)
        guard let sel = f.map["selector"] else { throw DecodeError("candidate without selector") }
        self.init(kind: try f.text("kind"), value: try f.text("value"), precision: try f.optionalText("precision"), rule: try f.text("rule"),
                  selector: try TextSelector(cbor: sel))
        speaker = try f.optionalText("speaker"); role = try f.optionalText("role"); saidOn = try f.optionalText("saidOn")
        affiliation = try f.optionalText("affiliation")
        if let a = f.map["attribution"] { attribution = try TextSelector(cbor: a) }
    }
}
