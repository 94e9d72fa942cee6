import GlossSync
import NIOConcurrencyHelpers
import NIOCore

/// Splits the byte stream into frames: u32 big-endian length, then that many bytes
/// (Protocol/07-wire.md §Framing). A length over the limit is an error that ends the connection
/// before anything is buffered for it.
///
/// Before the peer is authenticated its frames are held to what the handshake needs: the first
/// frame (the key exchange, 75 bytes) to `WireLimits.maxKeyExchangeFrameBytes`, and on a server the
/// second (the initiator's hello, up to the frame limit for a vector of 400,000 feeds) draws its
/// length from a server-wide `HandshakeBudget`. A frame's buffer is reserved at its length once that
/// is known, not grown by doubling. (An audit, 2026-12-07: 60 connections that each announced a
/// 16 MiB first frame and sent it held 1.7 GB of a server for the 10 s handshake timeout, before
/// any key exchange.)
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrameBytes: Int
    /// The server's budget for unauthenticated hellos (nil on a client: it reads one server).
    let budget: HandshakeBudget?
    /// Frames decoded so far: a first length over the key exchange's limit means the peer is not
    /// speaking this protocol at all (an HTTP server answers "HTTP/1.1 …": a length of 1,213,486,160).
    var frames = 0
    /// Budget bytes this connection holds for the frame being received.
    var held = 0

    init(maxFrameBytes: Int, budget: HandshakeBudget? = nil) {
        self.maxFrameBytes = maxFrameBytes
        self.budget = budget
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        if frames == 0, Int(length) > WireLimits.maxKeyExchangeFrameBytes {
            throw SyncError(.io, "the peer does not speak the Gloss sync protocol (its first bytes are not a key exchange: another program, an HTTP server or a web view's port?); check the address and the port of `gloss serve`")
        }
        guard Int(length) <= maxFrameBytes else {
            throw SyncError(.protocolViolation, "frame of \(length) bytes is over the \(maxFrameBytes)-byte limit")
        }
        if frames == 1, held == 0, let budget, Int(length) > HandshakeBudget.unbudgeted {
            guard budget.take(Int(length)) else {
                throw SyncError(.refused, "the server is busy: hellos of \(HandshakeBudget.totalBytes >> 20) MiB in all are being received from peers not yet authenticated; retry in a few seconds")
            }
            held = Int(length)
        }
        guard buffer.readableBytes >= 4 + Int(length) else {
            buffer.reserveCapacity(minimumWritableBytes: 4 + Int(length) - buffer.readableBytes)
            return .needMoreData
        }
        frames += 1
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readSlice(length: Int(length))!
        giveBack()
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decoderRemoved(context: ChannelHandlerContext) { giveBack() }

    private mutating func giveBack() {
        if held > 0 { budget?.give(held); held = 0 }
    }
}

/// Bytes a server lets peers not yet authenticated hold in hellos being received, all connections
/// together: a connection whose hello would go over it is closed (Protocol/07-wire.md §Timeouts and
/// limits). Hellos up to `unbudgeted` bytes (a vector of ~1,600 feeds) take nothing from it.
final class HandshakeBudget: Sendable {
    static let totalBytes = 64 << 20
    static let unbudgeted = 64 << 10
    private let left = NIOLockedValueBox(HandshakeBudget.totalBytes)

    func take(_ n: Int) -> Bool { left.withLockedValue { l in l >= n ? (l -= n, true).1 : false } }
    func give(_ n: Int) { left.withLockedValue { $0 += n } }
}

/// Prefixes each outgoing frame with its u32 length.
struct FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer
    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes))
        var d = data
        out.writeBuffer(&d)
    }
}
