/// An error from bundle or wire input: what was wrong with it (never its content) and what to do.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case unusable, truncated, io, protocolViolation, refused, timeout }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}
