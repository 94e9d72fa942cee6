import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarness.wireFrame(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
