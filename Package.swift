// swift-tools-version: 6.0
import PackageDescription

// Dependencies point one way:
//   Model ← JSON (the one JSON writer) · Model ← Ingest · Model ← Merge · Model, JSON ← Export
//   Model, Merge, CSQLitePreupdate ← Store (GRDB; every row change seen by SQLite's preupdate hook; owns events, feeds, peers, acknowledgements, pending, quarantine, forks,
//            the team roster it judges every event against)
//   Store, Ingest, Merge, JSON ← Projections (GRDB; owns the read-model tables and their typed reads)
//   Store ← Sync ← Net (the only NIO user)
//   Engine ← all of the above but GRDB (no SQL: it calls the Store's and the Projections' typed reads,
//            passing ReplicaStore.Transaction through, and returns typed values)
//   Engine, Model, Merge ← Web (Hummingbird; the line diff reuses the merge's LCS table; pages rendered on the server from the Engine's typed reads, no SQL)
//   Engine, Store, Projections, Net ← Hub (postgres-nio, the only PostgreSQL user: a hub's shared PostgreSQL store behind a SQLite
//            cache that writes through via ReplicaStore's WriteThrough and the row-change hook; no SQL of the engine's)
//   Engine, JSON, Hub, CStandardOutput ← CommandLine (what both executables share: exit codes, error reports, output, progress, --store)
//   Engine, CommandLine, JSON, Web, Hub ← gloss (parsing, text and JSON output, exit codes)
//   Engine, CommandLine, Hub, Store, Sync, Ingest, Model, JSON ← gloss-bench (GRDB; the benchmarks' own executable: history generator,
//            timed operations against raw SQLite and a PostgreSQL hub; `gloss bench ARGS` runs it, built beside gloss)
let package = Package(
    name: "Gloss",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gloss", targets: ["gloss"]),
        .executable(name: "gloss-bench", targets: ["gloss-bench"]),
        .library(name: "GlossEngine", targets: ["GlossEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "GlossModel", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "GlossIngest", dependencies: ["GlossModel"]),
        // The one JSON writer (ordered keys, deterministic bytes): CLI output, vector files, exports.
        .target(name: "GlossJSON", dependencies: ["GlossModel"]),
        // The merge rules (registers, line merge, the team roster) as pure functions: no storage, no I/O.
        .target(name: "GlossMerge", dependencies: ["GlossModel"]),
        // STIX 2.1 and W3C Web Annotation writers over a plain input model (Crypto for UUIDv5's SHA-1).
        .target(name: "GlossExport", dependencies: [
            "GlossModel", "GlossJSON",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // SQLite's preupdate hook, which <sqlite3.h> declares only on request (Debian's libsqlite3 has it).
        .target(name: "CSQLitePreupdate", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(name: "GlossStore", dependencies: [
            "GlossModel", "GlossMerge", "CSQLitePreupdate",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .target(name: "GlossProjections", dependencies: [
            "GlossModel", "GlossStore", "GlossIngest", "GlossMerge", "GlossJSON",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .target(name: "GlossSync", dependencies: [
            "GlossModel", "GlossStore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The only module that imports NIO: it moves frames; the session logic lives in GlossSync.
        .target(name: "GlossNet", dependencies: [
            "GlossSync",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The façade: composes the store's and the projections' typed reads; no SQL, no GRDB.
        .target(name: "GlossEngine", dependencies: [
            "GlossModel", "GlossStore", "GlossProjections", "GlossIngest", "GlossSync", "GlossNet", "GlossExport", "GlossJSON",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Hub replicas on PostgreSQL (Protocol/12-hub.md): the authoritative shared store behind a local
        // SQLite cache that writes through; the only PostgreSQL user.
        .target(name: "GlossHub", dependencies: [
            "GlossEngine", "GlossStore", "GlossProjections", "GlossModel", "GlossNet",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // C's standard output's error flag, which Swift 6 cannot name (`stdout` is shared mutable state).
        .target(name: "CStandardOutput"),
        // What `gloss` and `gloss-bench` share: exit codes, error reports, output, progress, --store.
        .target(name: "GlossCommandLine", dependencies: [
            "GlossEngine", "GlossJSON", "GlossHub", "GlossSync", "CStandardOutput",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The web view (`gloss serve --http`): pages rendered on the server from the Engine's typed reads.
        .target(name: "GlossWeb", dependencies: [
            "GlossEngine", "GlossModel", "GlossMerge",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "gloss", dependencies: [
            "GlossEngine", "GlossCommandLine", "GlossJSON", "GlossWeb", "GlossHub",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The benchmarks (history generator, timed operations against raw SQLite and a PostgreSQL hub):
        // their own executable, run by `gloss bench`; in no product of the engine.
        .executableTarget(name: "gloss-bench", dependencies: [
            "GlossEngine", "GlossCommandLine", "GlossHub", "GlossJSON", "GlossModel", "GlossIngest", "GlossStore", "GlossSync",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "GlossTestSupport", dependencies: [
            "GlossEngine", "GlossJSON", "GlossModel", "GlossStore", "GlossSync",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "GlossModelTests", dependencies: ["GlossModel", "GlossJSON", "GlossSync", "GlossEngine", "GlossTestSupport"]),
        .testTarget(name: "GlossStoreTests", dependencies: [
            "GlossEngine", "GlossJSON", "GlossStore", "GlossProjections", "GlossSync", "GlossIngest", "GlossMerge", "GlossTestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "GlossEndToEndTests", dependencies: ["GlossJSON", "GlossTestSupport", "GlossHub", "GlossStore"]),
        .testTarget(name: "GlossIngestTests", dependencies: ["GlossIngest", "GlossModel", "GlossTestSupport"]),
        .testTarget(name: "GlossWebTests", dependencies: [
            "GlossWeb", "GlossEngine", "GlossModel", "GlossTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        .testTarget(name: "GlossExportTests", dependencies: ["GlossExport", "GlossModel", "GlossTestSupport"]),
    ]
)
