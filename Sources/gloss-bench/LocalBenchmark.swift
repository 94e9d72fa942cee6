import Foundation
import GlossEngine
import GlossJSON
import GlossModel

/// Times local appends (sign + append + project) and a projection rebuild on a fresh replica.
public enum LocalBenchmark {
    public struct Result: Sendable {
        public var events: Int
        public var appendPerSecond: Double
        public var rebuildPerSecond: Double
        public var json: JSON {
            .object([("events", .int(Int64(events))), ("bulkAppendEventsPerSecond", .double(appendPerSecond.rounded())),
                     ("rebuildEventsPerSecond", .double(rebuildPerSecond.rounded()))])
        }
    }

    public static func run(events: Int, folder: URL) throws -> Result {
        let r = try Replica.create(in: folder, analyst: "bench")
        let t0 = DispatchTime.now().uptimeNanoseconds
        let article = try r.ingest(bytes: Array("date 2021-06-26 BAKU – bench article.\n".utf8), filename: "bench.txt").id
        var done = 1
        var lastNote: String?
        while done < events {
            let n = min(5000, events - done)
            try r.store.write { db in
                for i in 0..<n {
                    let k = done + i
                    if k % 3 == 0, let note = lastNote {
                        _ = try r.store.appendLocal(key: r.key, author: r.analyst, payload: NoteEdited(note: note, body: "edited body \(k) of a note about the exercise"), wallMilliseconds: r.clock(), db)
                    } else {
                        lastNote = try r.store.appendLocal(key: r.key, author: r.analyst, payload: NoteAdded(on: article, body: "note \(k): the special forces exercise in September"), wallMilliseconds: r.clock(), db).id.hex
                    }
                }
            }
            done += n
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        _ = try r.rebuild()
        let t2 = DispatchTime.now().uptimeNanoseconds
        return Result(events: events, appendPerSecond: Double(events) / (Double(t1 - t0) / 1e9),
                      rebuildPerSecond: Double(events) / (Double(t2 - t1) / 1e9))
    }
}
