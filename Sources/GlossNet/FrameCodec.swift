import GlossSync
import NIOCore

/// Splits the byte stream into frames: u32 big-endian length, then that many bytes
/// (Protocol/07-wire.md §Framing). A length over the limit is an error that ends the connection
/// before anything is buffered for it.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maxFrameBytes else {
            throw SyncError(.protocolViolation, "frame of \(length) bytes is over the \(maxFrameBytes)-byte limit")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
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
