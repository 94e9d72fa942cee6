import GlossCommandLine
import GlossEngine
import GlossJSON
import GlossModel

// The JSON forms of the engine's typed results (keys and their order are the contract in
// README §Commands). Formatting happens here, at the edge; the engine returns values.

extension Created {
    var json: JSON {
        // `existing` always (false when something was written): scripts read it as documented.
        .object([("id", .string(id)), ("event", event.map { .string($0.hex) } ?? .null), ("existing", .bool(existing))])
    }
}

extension ConflictInfo {
    var json: JSON {
        .object([
            ("id", .string(id)), ("object", .string(object)), ("objectKind", .string(objectKind)), ("field", .string(field)),
            ("state", .string(state.rawValue)),
            ("candidates", .array(candidates.map { c in
                .object([("event", .string(c.event)), ("author", .string(c.author)), ("time", .string(c.at)),
                         ("value", c.value.map(JSON.string) ?? .null), ("deleted", .bool(c.value == nil))])
            })),
            ("resolution", resolution.map(JSON.string) ?? .null),
        ])
    }
}

extension GlossEngine.Status {
    var json: JSON {
        .object([
            ("analyst", .string(analyst)), ("replica", .string(replica.hex)),
            ("versionVector", JSON(versionVector)), ("events", .int(Int64(events))),
            ("articles", .int(Int64(articles))), ("notes", .int(Int64(notes))),
            ("notUnderstood", .int(Int64(notUnderstood))), ("pending", .int(Int64(pending))),
            ("quarantined", .int(Int64(quarantined))), ("openConflicts", .int(Int64(openConflicts))),
            ("digest", .string(digest)),
            ("feeds", .array(feedProblems.map { .object([("replica", .string($0.replica.hex)), ("state", .string($0.state.rawValue)), ("reason", .string($0.reason))]) })),
            ("team", teamMode.team == .none ? .null : .string(teamMode.team.hex)),
            ("teamMode", .string({ switch teamMode { case .none: "none"; case .joining: "joining"; case .member: "member" } }())),
            ("role", role.map { .string($0.rawValue) } ?? .null),
        ])
    }
}

extension VerifyReport {
    var json: JSON {
        .object([("checked", .int(Int64(checked))), ("ok", .bool(faults.isEmpty)),
                 ("faults", .array(faults.map { .object([("event", .string($0.event)), ("replica", .string($0.replica)),
                                                        ("seq", .int(Int64($0.seq))), ("reason", .string($0.reason))]) })),
                 ("forks", .array(forks.map { .object([("replica", .string($0.replica)), ("seq", .int(Int64($0.seq))),
                                                      ("evidence", .int(Int64($0.evidence))), ("verified", .int(Int64($0.verified)))]) }))])
    }
}

extension PendingFeed {
    var json: JSON {
        .object([("replica", .string(replica.hex)), ("events", .int(Int64(events))),
                 ("lowestSeq", .int(Int64(lowestSeq))), ("highestSeq", .int(Int64(highestSeq))), ("reason", .string(reason)),
                 ("oldestReceivedAt", .string(CivilTime.rfc3339(milliseconds: oldestReceivedAt))),
                 ("expiresAt", .string(CivilTime.rfc3339(milliseconds: expiresAt)))])
    }
}

extension ImportReport {
    var json: JSON {
        .object([
            ("file", .string(file)), ("sender", sender.map { .string($0.hex) } ?? .null),
            ("encrypted", .bool(encrypted)),
            ("received", .int(Int64(summary.received))), ("applied", .int(Int64(summary.applied))),
            ("duplicate", .int(Int64(summary.duplicate))), ("pending", .int(Int64(summary.pending))),
            ("rejected", .int(Int64(summary.rejected))), ("forks", .int(Int64(summary.forks))),
            ("appliedFromPending", .int(Int64(summary.appliedFromPending))),
            ("newConflicts", .int(Int64(newConflicts))),
            ("truncated", .bool(truncated)), ("checksumOK", checksumOK.map(JSON.bool) ?? .null),
            ("error", error.map(JSON.string) ?? .null),
            ("restored", .int(Int64(summary.restored))),
            ("header", .object([("ok", .bool(headerProblemCount == 0)), ("problems", .array(headerProblems.map(JSON.string))),
                                ("problemCount", .int(Int64(headerProblemCount))), ("acknowledgementRecorded", .bool(acknowledgementRecorded))])),
            ("rejections", .array(summary.rejections.map {
                .object([("event", .string($0.event.hex)), ("replica", .string($0.replica.hex)), ("seq", .int(Int64($0.seq))), ("reason", .string($0.reason))])
            })),
        ])
    }
}

extension Replica.Peer {
    var json: JSON {
        .object([("replica", .string(replica.hex)), ("alias", alias.map(JSON.string) ?? .null),
                 ("acknowledged", JSON(acknowledged)), ("behind", .int(Int64(behind))),
                 ("lastSeen", lastSeen.map { .string(CivilTime.rfc3339(milliseconds: $0)) } ?? .null)])
    }
}

extension SyncReport {
    var json: JSON {
        .object([
            ("peer", peer.map { .string($0.hex) } ?? .null),
            ("received", .int(Int64(summary.received))), ("applied", .int(Int64(summary.applied))),
            ("duplicate", .int(Int64(summary.duplicate))), ("pending", .int(Int64(summary.pending))),
            ("rejected", .int(Int64(summary.rejected))), ("forks", .int(Int64(summary.forks))), ("restored", .int(Int64(summary.restored))),
            ("sent", .int(Int64(sent))), ("newConflicts", .int(Int64(newConflicts))),
            ("roundTripsAfterHandshake", .int(Int64(extraRoundTrips))),
            ("bytesSent", .int(Int64(bytesSent))), ("bytesReceived", .int(Int64(bytesReceived))),
            ("error", error.map(JSON.string) ?? .null),
        ])
    }
}

extension ExportSummary {
    var json: JSON {
        .object([("out", .string(out)), ("objects", .int(Int64(objects))),
                 ("counts", .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
                 ("skipped", .array(skipped.map(JSON.string)))])
    }
}

extension QuarantinedEvent {
    var json: JSON {
        .object([("event", .string(event)), ("replica", .string(replica)), ("seq", .int(seq)), ("reason", .string(reason)),
                 ("receivedAt", .string(CivilTime.rfc3339(milliseconds: receivedAt)))])
    }
}

extension DiffEntry {
    var json: JSON {
        .object([("id", .string(id.hex)), ("replica", .string(replica.hex)), ("seq", .int(Int64(seq))),
                 ("author", .string(author)), ("time", .string(time.rfc3339)), ("type", .string(type)), ("summary", .string(summary))])
    }
}

extension SearchHit {
    var json: JSON {
        .object([("kind", .string(kind)), ("id", .string(id)), ("article", article.map(JSON.string) ?? .null), ("snippet", .string(snippet))])
    }
}

extension QueryValue {
    /// Blobs as hex.
    var json: JSON {
        switch self {
        case .null: .null
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .text(let s): .string(s)
        case .blob(let b): .string(Hex.encode(b))
        }
    }
}

extension TableRow {
    /// An object keyed by the row's columns, in their order.
    var json: JSON { .object(zip(columns, values.map(\.json)).map { ($0, $1) }) }
}

extension SpanSelector {
    var json: JSON {
        .object([("exact", .string(exact)), ("prefix", .string(prefix)), ("suffix", .string(suffix)),
                 ("start", .int(Int64(start))), ("end", .int(Int64(end)))])
    }
}

extension CandidateRecord {
    /// Every documented key, `null` where a kind has no such value.
    var json: JSON {
        func text(_ v: String?) -> JSON { v.map(JSON.string) ?? .null }
        return .object([("id", .string(candidate)), ("kind", .string(kind)), ("value", .string(value)), ("precision", text(precision)),
                        ("rule", .string(rule)), ("selector", selector.json), ("speaker", text(speaker)), ("role", text(role)),
                        ("saidOn", text(saidOn)), ("affiliation", text(affiliation)), ("rulesVersion", .int(rulesVersion))])
    }
}

extension AnchorRecord {
    var json: JSON {
        func span(_ s: Span?) -> JSON {
            guard let s else { return .null }
            return .object([("start", .int(s.start)), ("end", .int(s.end)), ("exact", .string(s.exact))])
        }
        let old: JSON = .object([("revision", .string(baseRevision)), ("start", .int(base.start)), ("end", .int(base.end)), ("exact", .string(base.exact))])
        return .object([("id", .string(object)), ("kind", .string(objectKind)), ("status", .string(status)), ("score", .int(score)),
                        ("revision", .string(revision)), ("old", old), ("new", span(anchored)), ("candidate", span(candidate)),
                        ("decision", decision.map(JSON.string) ?? .null), ("anchoringVersion", .int(anchoringVersion))])
    }
}

extension FactSummary {
    var json: JSON { .object(jsonFields) }

    var jsonFields: [(String, JSON)] {
        func opt(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }
        return [("id", .string(id)), ("article", .string(article)), ("revision", .string(revision)),
                ("subject", .string(subject)), ("predicate", .string(predicate)), ("object", .string(object)),
                ("when", opt(when)), ("where", opt(`where`)),
                ("source", opt(source)), ("sourceName", opt(sourceName)),
                ("reliability", opt(reliability)), ("credibility", opt(credibility)), ("grade", opt(grade)),
                ("state", .string(state.rawValue)), ("recordState", .string(recordState)), ("retractReason", opt(retractReason)),
                ("evidence", evidence.json), ("fromCandidate", opt(fromCandidate)),
                ("corroboratedBy", .array(corroboratedBy.map(JSON.string))), ("contradictedBy", .array(contradictedBy.map(JSON.string))),
                ("author", .string(author)), ("createdAt", .string(createdAt)), ("updatedAt", .string(updatedAt))]
    }
}

extension FactDetail {
    var json: JSON {
        .object(fact.jsonFields + [("history", .array(history.map(\.json))),
                                   ("credibilityHistory", .array(credibilityHistory.map(\.json))),
                                   ("reliabilityHistory", .array(reliabilityHistory.map(\.json)))])
    }
}

extension SourceSummary {
    var json: JSON {
        .object([("id", .string(id)), ("name", .string(name)), ("kind", kind.map(JSON.string) ?? .null),
                 ("reliability", reliability.map(JSON.string) ?? .null), ("reliabilityState", reliabilityState.map(JSON.string) ?? .null),
                 ("facts", .int(facts)), ("author", .string(author)), ("createdAt", .string(createdAt))])
    }
}

extension SourceDetail {
    var json: JSON { .object([("source", source.json), ("reliabilityHistory", .array(reliabilityHistory.map(\.json)))]) }
}

extension AnnotationSummary {
    var json: JSON {
        .object([("id", .string(id)), ("article", .string(article)), ("revision", .string(revision)), ("selector", selector.json),
                 ("comment", comment.map(JSON.string) ?? .null), ("tags", .array(tags.map(JSON.string))),
                 ("author", .string(author)), ("createdAt", .string(createdAt))])
    }
}

extension LogEntry {
    /// README §Commands (`gloss log --json`).
    var json: JSON {
        let env = envelope
        return .object([
            ("id", .string(env.id.hex)), ("replica", .string(env.replica.hex)), ("seq", .int(Int64(env.seq))),
            ("prev", env.seq == 1 ? .null : .string(env.prev.hex)),
            ("deps", JSON(deps)),
            // The envelope's own field: the entries that grew since the feed's previous event.
            ("depsDelta", .object(env.depsDelta.map { ($0.replica.hex, .int(Int64(bitPattern: $0.seq))) })),
            ("time", .string(env.time.rfc3339)), ("hlc", .int(Int64(bitPattern: env.time.raw))),
            ("author", .string(env.author)), ("type", .string(env.type)), ("schema", .int(Int64(env.schema))),
            ("payloadHash", .string(env.payloadHash.hex)), ("payload", payload.map(JSON.init) ?? .null),
            ("understood", .bool(understood)), ("reason", reason.map(JSON.string) ?? .null),
            ("summary", .string(summary)),
        ])
    }
}

extension Shown {
    var json: JSON {
        switch self {
        case .event(let e): return .object([("kind", .string("event")), ("event", e.json)])
        case .object(let o): return o.json
        }
    }
}

extension ObjectDetail {
    var json: JSON {
        func row(_ r: TableRow?) -> JSON { r?.json ?? .null }
        func rows(_ rs: [TableRow]) -> JSON { .array(rs.map(\.json)) }
        var kv: [(String, JSON)] = [("kind", .string(kind.rawValue)), ("id", .string(id))]
        switch body {
        case .article(let a, let revisions, let notes): kv += [("article", row(a)), ("revisions", rows(revisions)), ("notes", rows(notes))]
        case .revision(let r): kv.append(("revision", row(r)))
        case .fact(let f): kv.append(("fact", f.json))
        case .source(let s): kv.append(("source", s.json))
        case .annotation(let a): kv.append(("annotation", row(a)))
        case .note(let n, let history, let notes): kv += [("note", row(n)), ("history", rows(history)), ("notes", rows(notes))]
        case .other: break
        }
        kv += [("tags", rows(tags)), ("links", rows(links))]
        return .object(kv)
    }
}

extension TeamView {
    var json: JSON {
        .object([
            ("mode", .string(mode.rawValue)), ("team", team.map { .string($0.hex) } ?? .null), ("name", name.map(JSON.string) ?? .null),
            ("members", .array(members.map { m in
                .object([("analyst", .string(m.analyst)), ("role", .string(m.role.rawValue)), ("present", .bool(m.present)),
                         ("keys", .array(m.keys.map { k in
                             .object([("key", .string(k.key.hex)), ("enrolledBy", .string(k.enrolledBy.hex)),
                                      ("revokedBy", k.revokedBy.map { .string($0.hex) } ?? .null),
                                      ("reason", k.reason.map(JSON.string) ?? .null), ("thisReplica", .bool(k.thisReplica))])
                         }))])
            })),
        ])
    }
}
