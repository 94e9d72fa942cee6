/// Size limits of the protocol (Protocol/01-event.md §Limits). They are the same in every build:
/// a decoder refuses anything larger before allocating for it.
public enum ProtocolLimits {
    /// Envelope format version written by this build.
    public static let envelopeFormat: UInt8 = 1
    /// Largest encoded envelope (signature included), in bytes.
    public static let maxEnvelopeBytes = 4 * 1024 * 1024
    /// Largest number of entries in an event's deps.
    public static let maxDepsEntries = 100_000
    /// Largest payload, in bytes.
    public static let maxPayloadBytes = 8 * 1024 * 1024
    /// Largest article text, in bytes of UTF-8 (after NFC normalisation).
    public static let maxArticleBytes = 4 * 1024 * 1024
    /// Largest note body or other free text field, in bytes of UTF-8.
    public static let maxTextBytes = 1024 * 1024
    /// Longest author (analyst) name, in bytes of UTF-8.
    public static let maxAuthorBytes = 64
    /// Longest event type name, in bytes of ASCII.
    public static let maxTypeBytes = 64
    /// Deepest nesting of arrays and maps in a payload.
    /// Longest map key in a payload, in bytes (keys are field names).
    public static let maxPayloadKeyBytes = 256
    public static let maxPayloadDepth = 32
    /// Largest version vector in a vector file, bundle header or hello (entries).
    public static let maxVectorEntries = 1_000_000
    /// Most feeds (replica keys with events) a replica holds (Protocol/03-store.md §Feeds): its
    /// whole vector must fit one sync frame (a hello of 400,000 entries is 16,000,152 bytes, under
    /// the 16 MiB frame limit). An event of a new feed past it is refused, not stored.
    public static let maxFeeds = 400_000
    /// Largest seq anywhere (an event's seq, a deps or vector entry): 2^63 − 1, so every seq fits a
    /// signed 64-bit SQLite INTEGER. A larger value is malformed input, never converted.
    public static let maxSeq: UInt64 = UInt64(Int64.max)
    /// Largest hybrid time of an event: 2^63 − 1 (the wall part ends in the year 6429), so times
    /// order the same as signed 64-bit SQLite INTEGERs.
    public static let maxTime: UInt64 = UInt64(Int64.max)
    /// How far ahead of the receiver's wall clock an event's time may be and still apply now
    /// (Protocol/01-event.md §Time): one hour. A later event waits in pending until the receiver's
    /// clock is within this bound of it, so no received time drags the local clock further ahead.
    public static let maxClockAheadMilliseconds: UInt64 = 60 * 60 * 1000
}
