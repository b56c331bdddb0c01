// GDBRemoteTests: packet framing and the command set of the GDB remote protocol.
import XCTest
@testable import GDBRemote

/// Framing, checksums, escaping, run-length decoding and the byte-stream parser.
final class PacketFramingTests: XCTestCase {
    func testChecksumAndFrame() {
        XCTAssertEqual(GDBPacket.checksum(Array("OK".utf8)), 0x9a)
        XCTAssertEqual(String(decoding: GDBPacket.frame(Array("OK".utf8)), as: UTF8.self), "$OK#9a")
        XCTAssertEqual(String(decoding: GDBPacket.frame([]), as: UTF8.self), "$#00")
        XCTAssertEqual(String(decoding: GDBPacket.frame(Array("qSupported".utf8)), as: UTF8.self), "$qSupported#37")
    }

    func testEscapeRoundTrip() {
        let data: [UInt8] = [0x24, 0x23, 0x7d, 0x2a, 0x00, 0x03, 0xff, 0x41]
        let escaped = GDBPacket.escape(data)
        XCTAssertEqual(escaped, [0x7d, 0x04, 0x7d, 0x03, 0x7d, 0x5d, 0x7d, 0x0a, 0x00, 0x03, 0xff, 0x41])
        XCTAssertEqual(GDBPacket.unescape(escaped), data)
        XCTAssertEqual(GDBPacket.unescape([0x41, 0x7d]), [0x41])       // dangling escape: dropped
        for b in UInt8.min...UInt8.max {
            XCTAssertEqual(GDBPacket.unescape(GDBPacket.escape([b, b])), [b, b])
        }
    }

    func testRunLengthDecoding() {
        // "0* " = '0' plus (32 - 29) = 3 more copies.
        XCTAssertEqual(String(decoding: GDBPacket.decodeRunLength(Array("0* ".utf8)), as: UTF8.self), "0000")
        XCTAssertEqual(String(decoding: GDBPacket.decodeRunLength(Array("ab*\"c".utf8)), as: UTF8.self), "abbbbbbc")
        XCTAssertEqual(GDBPacket.decodeRunLength(Array("x}]*!".utf8)), Array("x}]}]}]}]}]".utf8))   // escape pair repeated whole (4 more)
        XCTAssertEqual(GDBPacket.decodeRunLength(Array("*a".utf8)), Array("*a".utf8))          // nothing to repeat
        XCTAssertEqual(GDBPacket.decodeRunLength(Array("ab".utf8)), Array("ab".utf8))
    }

    func testHex() {
        XCTAssertEqual(String(decoding: GDBPacket.hex([0x00, 0xab, 0x7f]), as: UTF8.self), "00ab7f")
        XCTAssertEqual(GDBPacket.unhex(Array("00AbfF".utf8)), [0x00, 0xab, 0xff])
        XCTAssertNil(GDBPacket.unhex(Array("abc".utf8)))
        XCTAssertNil(GDBPacket.unhex(Array("zz".utf8)))
    }

    func testParserEvents() {
        var p = GDBPacketParser()
        let events = p.feed(Array("+$g#67-".utf8) + [0x03] + Array("$m0,4#fd$OK#00".utf8))
        XCTAssertEqual(events, [.ack, .packet(Array("g".utf8)), .nack, .interrupt,
                                .packet(Array("m0,4".utf8)), .badChecksum(Array("OK".utf8))])
        XCTAssertFalse(p.inPacket)
    }

    func testParserSplitAcrossFeedsAndBinaryBody() {
        var p = GDBPacketParser()
        let body: [UInt8] = Array("X10,3:".utf8) + GDBPacket.escape([0x03, 0x23, 0x2b])
        let framed = GDBPacket.frame(body)
        var events: [GDBInputEvent] = []
        for b in framed { if let e = p.feed(b) { events.append(e) } }   // byte by byte
        XCTAssertEqual(events, [.packet(body)])
    }

    func testParserRunLengthAndUppercaseChecksum() {
        var p = GDBPacketParser()
        let body = Array("0* ".utf8)
        let cs = GDBPacket.checksum(body)
        let framed = [UInt8(ascii: "$")] + body + [UInt8(ascii: "#")] + Array(String(format: "%02X", cs).utf8)
        XCTAssertEqual(p.feed(framed), [.packet(Array("0000".utf8))])
    }

    func testParserGarbageNeverTraps() {
        var p = GDBPacketParser(maxPacket: 8)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            _ = p.feed(UInt8.random(in: 0...255, using: &rng))
        }
        _ = p.feed(Array("$0123456789abcdef#zz".utf8))
        XCTAssertEqual(p.feed(Array("$g#67".utf8)), [.packet(Array("g".utf8))])
    }
}

/// The packet handler against `FakeTarget`.
final class SessionTests: XCTestCase {
    var target: FakeTarget!
    var session: GDBSession!

    override func setUp() {
        target = FakeTarget()
        session = GDBSession(target: target)
    }

    func reply(_ packet: String) -> String {
        let r = session.handle(packet)
        XCTAssertEqual(r.count, 1, "\(packet) → \(r)")
        return r.first ?? "<none>"
    }

    func testStopReasonAndThreads() {
        XCTAssertEqual(reply("?"), "T0508:00100000;thread:01;")
        XCTAssertEqual(reply("qC"), "QC1")
        XCTAssertEqual(reply("qfThreadInfo"), "m1")
        XCTAssertEqual(reply("qsThreadInfo"), "l")
        XCTAssertEqual(reply("qAttached"), "1")
        XCTAssertEqual(reply("qAttached:1"), "1")
        XCTAssertEqual(reply("Hg0"), "OK")
        XCTAssertEqual(reply("Hc-1"), "OK")
        XCTAssertEqual(reply("T1"), "OK")
        XCTAssertEqual(reply("qOffsets"), "Text=0;Data=0;Bss=0")
    }

    func testSupportedAndUnknown() {
        let s = reply("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;xmlRegisters=i386")
        XCTAssertTrue(s.contains("PacketSize=4000"))
        XCTAssertTrue(s.contains("qXfer:features:read+"))
        XCTAssertTrue(s.contains("swbreak+"))
        XCTAssertTrue(s.contains("hwbreak+"))
        XCTAssertTrue(s.contains("QStartNoAckMode+"))
        XCTAssertEqual(reply("vMustReplyEmpty"), "")
        XCTAssertEqual(reply("qTStatus"), "")
        XCTAssertEqual(reply("vFile:open:abc"), "")
        XCTAssertEqual(reply("!"), "")
        XCTAssertEqual(session.handle([]), [[]])
        XCTAssertFalse(session.noAckMode)
        XCTAssertEqual(reply("QStartNoAckMode"), "OK")
        XCTAssertTrue(session.noAckMode)
    }

    func testRegisters() {
        let g = reply("g")
        XCTAssertEqual(g.count, 16 * 8)
        XCTAssertEqual(String(g.dropFirst(8 * 8).prefix(8)), "00100000")      // eip = 0x1000, little-endian
        XCTAssertEqual(reply("p8"), "00100000")
        XCTAssertEqual(reply("p9"), "02020000")
        XCTAssertEqual(reply("p10"), String(repeating: "x", count: 20))         // st0: unavailable
        XCTAssertEqual(reply("p1f"), String(repeating: "x", count: 8))          // fop
        XCTAssertEqual(reply("p20"), String(repeating: "x", count: 8))          // cr0: the fake target has none
        XCTAssertEqual(reply("p24"), "E01")                                     // past the description
        XCTAssertEqual(reply("P0=78563412"), "OK")
        XCTAssertEqual(target.registers[0], 0x1234_5678)
        XCTAssertEqual(reply("P10=00000000"), "E01")
        XCTAssertEqual(reply("P0=123"), "E01")
        XCTAssertEqual(reply("Pzz=00000000"), "E01")
        var regs = Array(g)
        regs.replaceSubrange(8..<16, with: "efbeadde")   // ecx
        XCTAssertEqual(reply("G" + String(regs) + String(repeating: "0", count: 200)), "OK")
        XCTAssertEqual(target.registers[1], 0xdead_beef)
        XCTAssertEqual(reply("G123"), "E01")
    }

    func testShortRegisterFileIsUnavailable() {
        final class Short: GDBTarget {
            func readRegisters() -> [UInt32] { [1, 2] }
            func writeRegister(_ index: Int, _ value: UInt32) -> Bool { false }
            func readMemory(_ address: UInt32, count: Int) -> [UInt8]? { nil }
            func writeMemory(_ address: UInt32, _ bytes: [UInt8]) -> Bool { false }
            func step() -> GDBStopReason { .signal(5) }
            func resume(interrupt: () -> Bool) -> GDBStopReason { .signal(5) }
            func insertBreakpoint(_ kind: GDBBreakpointKind, address: UInt32, length: Int) -> Bool { false }
            func removeBreakpoint(_ kind: GDBBreakpointKind, address: UInt32, length: Int) -> Bool { false }
            func monitor(_ command: String) -> String { "" }
        }
        let s = GDBSession(target: Short())
        XCTAssertEqual(s.handle("g"), ["01000000" + "02000000" + String(repeating: "x", count: 14 * 8)])
        XCTAssertEqual(s.handle("p8"), ["xxxxxxxx"])
        XCTAssertEqual(s.handle("?"), ["T05thread:01;"])
        XCTAssertEqual(s.handle("P0=00000000"), ["E01"])
        XCTAssertEqual(s.handle("Z0,1000,1"), ["E01"])
        XCTAssertEqual(s.handle("qRcmd,"), ["OK"])
    }

    func testMemory() {
        XCTAssertEqual(reply("m1000,4"), "00010203")
        XCTAssertEqual(reply("mfffe,2"), "feff")
        XCTAssertEqual(reply("mffff,2"), "ff")            // runs off the end of memory: the readable prefix
        let partial = reply("mefff,1100")                  // crosses 0xf000, stops at 0x10000
        XCTAssertEqual(partial.count, 0x1001 * 2)
        XCTAssertTrue(partial == String(decoding: GDBPacket.hex(target.memory[0xefff...]), as: UTF8.self))
        XCTAssertEqual(reply("m10000,1"), "E14")
        XCTAssertEqual(reply("m1000,0"), "")
        XCTAssertEqual(reply("m1000"), "E01")
        XCTAssertEqual(reply("m1000,fffffff"), "E01")     // larger than a packet
        XCTAssertEqual(reply("mzz,1"), "E01")
        XCTAssertEqual(reply("M100,3:aabbcc"), "OK")
        XCTAssertEqual(Array(target.memory[0x100..<0x103]), [0xaa, 0xbb, 0xcc])
        XCTAssertEqual(reply("M100,3:aabb"), "E01")       // length mismatch
        XCTAssertEqual(reply("M100,1:zz"), "E01")
        XCTAssertEqual(reply("M20000,1:00"), "E14")
        XCTAssertEqual(reply("X100,0:"), "OK")             // gdb's probe
        let binary: [UInt8] = [0x24, 0x23, 0x7d, 0x2a, 0x03]
        let packet = Array("X200,5:".utf8) + GDBPacket.escape(binary)
        XCTAssertEqual(session.handle(packet), [Array("OK".utf8)])
        XCTAssertEqual(Array(target.memory[0x200..<0x205]), binary)
    }

    func testStepAndContinue() {
        XCTAssertEqual(reply("s"), "T0508:01100000;thread:01;")
        XCTAssertEqual(target.registers[8], 0x1001)
        XCTAssertEqual(reply("vCont?"), "vCont;c;C;s;S;r")
        XCTAssertEqual(reply("vCont;s:1"), "T0508:02100000;thread:01;")
        XCTAssertEqual(reply("vCont;s:p1.1;c"), "T0508:03100000;thread:01;")
        XCTAssertEqual(reply("Z0,1010,1"), "OK")
        XCTAssertEqual(reply("vCont;c"), "T05swbreak:;08:10100000;thread:01;")
        XCTAssertEqual(reply("?"), "T05swbreak:;08:10100000;thread:01;")
        XCTAssertEqual(reply("z0,1010,1"), "OK")
        XCTAssertEqual(reply("z0,1010,1"), "E01")
        XCTAssertEqual(reply("Z1,1020,1"), "OK")
        XCTAssertEqual(reply("c"), "T05hwbreak:;08:20100000;thread:01;")
        XCTAssertEqual(reply("z1,1020,1"), "OK")
        XCTAssertEqual(reply("s1100"), "T0508:01110000;thread:01;")       // resume address
        XCTAssertEqual(reply("S05;1200"), "T0508:01120000;thread:01;")
        XCTAssertEqual(reply("C05"), "W07")                                // ran to the exit address
        XCTAssertEqual(reply("vCont;x"), "E01")
        XCTAssertEqual(reply("vCont;c:2"), "E01")                          // no such thread
    }

    func testRangeStep() {
        XCTAssertEqual(reply("vCont;r1000,1005:1"), "T0508:05100000;thread:01;")
        XCTAssertEqual(target.steps, 5)
        XCTAssertEqual(reply("vCont;r1000"), "E01")
    }

    func testWatchpoints() {
        XCTAssertEqual(reply("Z2,2000,1"), "OK")
        XCTAssertEqual(reply("s"), "T05watch:2000;08:01100000;thread:01;")
        XCTAssertEqual(reply("z2,2000,1"), "OK")
        XCTAssertEqual(reply("Z4,1ffe,4"), "OK")
        XCTAssertEqual(reply("c"), "T05awatch:1ffe;08:02100000;thread:01;")
        XCTAssertEqual(reply("z4,1ffe,4"), "OK")
        XCTAssertEqual(reply("Z3,2000,1;X2,ab"), "OK")    // condition list ignored
        XCTAssertEqual(session.stopReply(.watchpoint(.readWatch, address: 0x2000)), Array("T05rwatch:2000;08:02100000;thread:01;".utf8))
        XCTAssertEqual(reply("Z5,2000,1"), "")             // unknown kind: unsupported
        XCTAssertEqual(reply("Z0,1000"), "E01")
        XCTAssertEqual(reply("Z"), "E01")
    }

    func testStopReplies() {
        XCTAssertEqual(session.stopReply(.signal(11)), Array("T0b08:00100000;thread:01;".utf8))
        XCTAssertEqual(session.stopReply(.signal(2)), Array("T0208:00100000;thread:01;".utf8))
        XCTAssertEqual(session.stopReply(.exited(0)), Array("W00".utf8))
        XCTAssertEqual(session.stopReply(.terminated(9)), Array("X09".utf8))
    }

    func testTargetDescription() {
        let xml = GDBSession.targetXML
        var assembled = ""
        var offset = 0
        while true {
            let r = reply("qXfer:features:read:target.xml:\(String(offset, radix: 16)),80")
            let kind = r.first
            let chunk = String(decoding: GDBPacket.unescape(Array(r.utf8.dropFirst())), as: UTF8.self)
            assembled += chunk
            offset += chunk.utf8.count
            if kind == "l" { break }
            XCTAssertEqual(kind, "m")
            if offset > 100_000 { XCTFail("no end"); break }
        }
        XCTAssertEqual(assembled, xml)
        XCTAssertTrue(xml.contains("<architecture>i386</architecture>"))
        XCTAssertTrue(xml.contains("org.gnu.gdb.i386.core"))
        XCTAssertEqual(xml.components(separatedBy: "<reg ").count - 1, GDBSession.describedRegisters)
        XCTAssertEqual(reply("qXfer:features:read:target.xml:100000,10"), "l")
        XCTAssertEqual(reply("qXfer:features:read:other.xml:0,10"), "E00")
        XCTAssertEqual(reply("qXfer:features:read:target.xml:zz"), "E01")
    }

    func testMonitor() {
        let hex = String(decoding: GDBPacket.hex(Array("hello".utf8)), as: UTF8.self)
        let r = session.handle("qRcmd," + hex)
        XCTAssertEqual(r.count, 2)
        XCTAssertEqual(r.last, "OK")
        XCTAssertEqual(r.first?.first, "O")
        XCTAssertEqual(GDBPacket.unhex(Array(r[0].utf8.dropFirst())).map { String(decoding: $0, as: UTF8.self) },
                       "hello from the fake target\n")
        XCTAssertEqual(target.monitorLog, ["hello"])
        XCTAssertEqual(session.handle("qRcmd,zz"), ["E01"])
    }

    func testDetachAndKill() {
        XCTAssertNil(session.end)
        XCTAssertEqual(session.handle("D"), ["OK"])
        XCTAssertEqual(session.end, .detached)
        let s2 = GDBSession(target: target)
        XCTAssertEqual(s2.handle("k"), [])
        XCTAssertEqual(s2.end, .killed)
        let s3 = GDBSession(target: target)
        XCTAssertEqual(s3.handle("vKill;1"), ["OK"])
        XCTAssertEqual(s3.end, .killed)
    }

    func testMalformedPacketsNeverTrap() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("gGpPmMXcsCSZzqQvHTD?:,;=0123456789abcdefx}-".utf8)
        for _ in 0..<1500 {
            let n = Int.random(in: 0...24, using: &rng)
            var packet = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
            if Bool.random(using: &rng) { packet.append(UInt8.random(in: 0...255, using: &rng)) }
            if packet.first == UInt8(ascii: "k") || packet.first == UInt8(ascii: "D") { continue }
            let s = GDBSession(target: FakeTarget())
            _ = s.handle(packet)
        }
        XCTAssertEqual(reply("p" + String(repeating: "f", count: 40)), "E01")
        XCTAssertEqual(reply("m" + String(repeating: "1", count: 40) + ",1"), "E01")
    }
}
