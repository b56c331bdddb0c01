// UART16550Tests: registers, loopback, FIFO, LSR bits and IIR priorities of the 16550A model.
import XCTest
@testable import PCMachine

final class UART16550Tests: XCTestCase {
    var sent: [UInt8] = []

    func makeUART(pic: PIC8259Pair? = nil) -> UART16550 {
        UART16550(base: 0x3F8, irq: 4, pic: pic) { [unowned self] b in self.sent.append(b) }
    }

    func testResetValues() {
        let u = makeUART()
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x60)     // THRE | TEMT
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x01)     // no interrupt, FIFOs off
        XCTAssertEqual(u.read(offset: 4, now: 0), 0x08)     // OUT2
        XCTAssertEqual(u.read(offset: 6, now: 0), 0xB0)     // DCD DSR CTS
        XCTAssertEqual(u.read(offset: 1, now: 0), 0x00)
    }

    func testDivisorLatchAndScratch() {
        let u = makeUART()
        u.write(offset: 3, value: 0x83, now: 0)             // DLAB, 8N1
        u.write(offset: 0, value: 0x01, now: 0)
        u.write(offset: 1, value: 0x02, now: 0)
        XCTAssertEqual(u.read(offset: 0, now: 0), 0x01)
        XCTAssertEqual(u.read(offset: 1, now: 0), 0x02)
        XCTAssertEqual(u.divisor, 0x0201)
        u.write(offset: 3, value: 0x03, now: 0)
        XCTAssertEqual(u.read(offset: 1, now: 0), 0x00)     // IER again
        XCTAssertTrue(sent.isEmpty)                          // DLL write did not transmit
        u.write(offset: 7, value: 0x5A, now: 0)
        XCTAssertEqual(u.read(offset: 7, now: 0), 0x5A)
        u.write(offset: 3, value: 0x80, now: 0)
        u.write(offset: 0, value: 0x01, now: 0); u.write(offset: 1, value: 0, now: 0)
        u.write(offset: 3, value: 0x03, now: 0)
        XCTAssertEqual(u.charTime, 86_800)                  // 115200 baud 8N1: 8680 ns × 10
    }

    func testTransmitIsInstantaneous() {
        let u = makeUART()
        for b in "hi\n".utf8 { u.write(offset: 0, value: b, now: 0) }
        XCTAssertEqual(sent, Array("hi\n".utf8))
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x60)
    }

    func testLoopback() {
        let u = makeUART()
        u.write(offset: 4, value: 0x1A, now: 0)              // LOOP | OUT2 | RTS
        XCTAssertEqual(u.read(offset: 6, now: 0), 0x90)      // DCD | CTS (Linux's probe)
        u.write(offset: 0, value: 0xAE, now: 0)
        XCTAssertTrue(sent.isEmpty)
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x61)
        XCTAssertEqual(u.read(offset: 0, now: 0), 0xAE)
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x60)
        XCTAssertEqual(u.receiveSpace, 0)
        u.receive([1, 2, 3], now: 0)                         // host input ignored in loopback
        XCTAssertEqual(u.read(offset: 5, now: 0) & 1, 0)
    }

    func testFIFOOrderOverrunAndLSR() {
        let u = makeUART()
        u.write(offset: 2, value: 0x07, now: 0)              // enable + reset FIFOs, trigger 1
        XCTAssertEqual(u.read(offset: 2, now: 0), 0xC1)
        XCTAssertEqual(u.receiveSpace, 16)
        u.receive(Array(0..<17), now: 0)                     // the 17th byte overruns
        XCTAssertEqual(u.receiveSpace, 0)
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x63)      // DR | OE | THRE | TEMT
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x61)      // OE cleared by the read
        var got: [UInt8] = []
        for _ in 0..<16 { got.append(u.read(offset: 0, now: 0)) }
        XCTAssertEqual(got, Array(0..<16))
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x60)
        XCTAssertEqual(u.read(offset: 0, now: 0), 0x00)      // empty FIFO reads 0
    }

    func test16450ModeOverrun() {
        let u = makeUART()
        XCTAssertEqual(u.receiveSpace, 1)
        u.receive([0x41, 0x42], now: 0)
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x63)
        XCTAssertEqual(u.read(offset: 0, now: 0), 0x42)      // RBR overwritten
    }

    func testIIRPriorities() {
        let pic = PIC8259Pair()
        let u = makeUART(pic: pic)
        u.write(offset: 1, value: 0x07, now: 0)              // RLS, THRE, RDA
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x02)      // THR empty; reading acknowledges it
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x01)
        u.write(offset: 0, value: 0x33, now: 0)              // re-arms THRE
        u.receive([0x41], now: 0)
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x04)      // RDA beats THRE
        u.receive([0x42], now: 0)                            // overrun in 16450 mode
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x06)      // line status beats RDA
        XCTAssertEqual(pic.registers(slave: false).irr & 0x10, 0x10)
        _ = u.read(offset: 5, now: 0)
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x04)
        XCTAssertEqual(u.read(offset: 0, now: 0), 0x42)
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x02)
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x01)
        XCTAssertFalse(u.interruptAsserted)
        u.write(offset: 1, value: 0x00, now: 0)
        u.write(offset: 1, value: 0x02, now: 0)              // enabling THRI with THR empty fires
        XCTAssertEqual(u.read(offset: 2, now: 0), 0x02)
    }

    func testTriggerLevelAndCharacterTimeout() {
        let u = makeUART()
        u.write(offset: 2, value: 0xC7, now: 0)              // FIFOs on, trigger 14
        u.write(offset: 1, value: 0x01, now: 0)
        u.receive([1, 2, 3], now: 1000)
        XCTAssertEqual(u.read(offset: 2, now: 1000), 0xC1)   // below trigger: nothing yet
        XCTAssertEqual(u.nextDeadline, 1000 + 4 * 1_041_660)
        u.advance(to: 1000 + 4 * 1_041_660 - 1)
        XCTAssertEqual(u.read(offset: 2, now: 0), 0xC1)
        u.advance(to: 1000 + 4 * 1_041_660)
        XCTAssertEqual(u.read(offset: 2, now: 0), 0xCC)      // character timeout
        XCTAssertEqual(u.read(offset: 0, now: 5_000_000), 1)
        XCTAssertEqual(u.read(offset: 2, now: 0), 0xC1)      // cleared by the RBR read
        XCTAssertEqual(u.nextDeadline, 5_000_000 + 4 * 1_041_660)
        u.receive(Array(4...14), now: 5_000_001)             // 13 bytes: still below 14
        XCTAssertEqual(u.read(offset: 2, now: 0), 0xC1)
        u.receive([15], now: 5_000_002)
        XCTAssertEqual(u.read(offset: 2, now: 0), 0xC4)
        u.write(offset: 2, value: 0xC3, now: 0)              // receive FIFO reset
        XCTAssertEqual(u.read(offset: 5, now: 0), 0x60)
        XCTAssertEqual(u.nextDeadline, .max)
    }

    func testAnyValueIsSafe() {
        let u = makeUART(pic: PIC8259Pair())
        for v in 0...255 {
            for r in 0..<8 { u.write(offset: r, value: UInt8(v), now: UInt64(v)); _ = u.read(offset: r, now: UInt64(v)) }
            u.receive([UInt8(v)], now: UInt64(v))
            u.advance(to: UInt64.max)
        }
        u.write(offset: 3, value: 0x80, now: 0)
        u.write(offset: 0, value: 0, now: 0); u.write(offset: 1, value: 0, now: 0)   // divisor 0
        u.write(offset: 0, value: 0xFF, now: 0); u.write(offset: 1, value: 0xFF, now: 0)
        u.write(offset: 3, value: 0x03, now: 0)
        u.write(offset: 2, value: 0x01, now: .max - 1)
        u.receive([1], now: .max - 1)                        // deadline saturates
    }
}
