import GlossSync
import NIOCore

/// Splits the byte stream into frames: u32 big-endian length, then that many bytes
/// (Protocol/07-wire.md §Framing). A length over the limit is an error that ends the connection
/// before anything is buffered for it.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrameBytes: Int
    /// Whether a frame has come yet: a first length over the limit means the peer is not speaking
    /// this protocol at all (an HTTP server answers "HTTP/1.1 …": a length of 1,213,486,160).
    var framed = false

    init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maxFrameBytes else {
            if !framed {
                throw SyncError(.io, "the peer does not speak the Gloss sync protocol (its first bytes are not a frame: another program, an HTTP server or a web view's port?); check the address and the port of `gloss serve`")
            }
            throw SyncError(.protocolViolation, "frame of \(length) bytes is over the \(maxFrameBytes)-byte limit")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        framed = true
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
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
