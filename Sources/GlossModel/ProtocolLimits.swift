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
    public static let maxPayloadDepth = 32
    /// Largest version vector in a vector file, bundle header or hello (entries).
    public static let maxVectorEntries = 1_000_000
}
