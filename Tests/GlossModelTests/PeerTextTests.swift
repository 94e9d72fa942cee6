import GlossSync
import Testing

/// Text a peer chose (an `error`'s reason) is shown and logged as one line: a line feed in it wrote
/// a forged entry into a server's log and whole lines into a client's output.
@Suite struct PeerTextTests {
    @Test func controlsAndLineBreaksAreWrittenOutNotObeyed() {
        #expect(PeerText.oneLine("bye\n2026-12-07T23:59:59+0000 info gloss.serve: session done") == "bye\\u{A}2026-12-07T23:59:59+0000 info gloss.serve: session done")
        #expect(PeerText.oneLine("a\r\nb\u{1B}[31mc\u{7}\u{7F}\u{85}d\te") == "a\\u{D}\\u{A}b\\u{1B}[31mc\\u{7}\\u{7F}\\u{85}d\\u{9}e")
        #expect(PeerText.oneLine("plain text, ünïcödé, 日本 🇫🇷") == "plain text, ünïcödé, 日本 🇫🇷")
        #expect(!PeerText.oneLine(String(repeating: "x\n", count: 500)).contains("\n"))
    }
}
