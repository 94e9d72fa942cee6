/// An error from bundle or wire input: what was wrong with it (never its content) and what to do.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case unusable, truncated, io, protocolViolation, refused, timeout }
    public var code: Code
    public var message: String
    /// What the peer is told, when it must not learn `message` (a refused stranger); nil: `message`.
    public var toPeer: String?
    public init(_ code: Code, _ message: String, toPeer: String? = nil) { self.code = code; self.message = message; self.toPeer = toPeer }
    public var description: String { message }
}
