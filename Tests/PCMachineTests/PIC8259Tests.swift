// PIC8259Tests: hand-checked vectors for the cascaded 8259A pair.
import XCTest
@testable import PCMachine

final class PIC8259Tests: XCTestCase {
    /// The usual Linux/xv6 initialization: vectors 0x20 and 0x28, slave on IRQ 2, 8086 mode.
    func initialized(masterMask: UInt8 = 0x00, slaveMask: UInt8 = 0x00) -> PIC8259Pair {
        let pic = PIC8259Pair()
        for (port, v) in [(0x20, 0x11), (0xA0, 0x11), (0x21, 0x20), (0xA1, 0x28),
                          (0x21, 0x04), (0xA1, 0x02), (0x21, 0x01), (0xA1, 0x01)] {
            pic.write(port: UInt16(port), value: UInt8(v))
        }
        pic.write(port: 0x21, value: masterMask)
        pic.write(port: 0xA1, value: slaveMask)
        return pic
    }

    func testInitSequenceSetsBasesAndMasks() {
        let pic = initialized(masterMask: 0xFB, slaveMask: 0xFF)
        XCTAssertEqual(pic.registers(slave: false).base, 0x20)
        XCTAssertEqual(pic.registers(slave: true).base, 0x28)
        XCTAssertEqual(pic.read(port: 0x21), 0xFB)
        XCTAssertEqual(pic.read(port: 0xA1), 0xFF)
        XCTAssertFalse(pic.interruptPending)
    }

    func testEdgeAckEOIAndPriority() {
        let pic = initialized()
        pic.raise(irq: 3)
        pic.raise(irq: 1)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x21)             // IRQ 1 beats IRQ 3
        XCTAssertEqual(pic.registers(slave: false).isr, 0x02)
        XCTAssertEqual(pic.registers(slave: false).irr, 0x08)
        XCTAssertFalse(pic.interruptPending)                 // IRQ 3 waits behind IRQ 1
        pic.raise(irq: 0)                                    // higher priority nests
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x20)
        XCTAssertEqual(pic.registers(slave: false).isr, 0x03)
        pic.write(port: 0x20, value: 0x20)                   // non-specific EOI: IRQ 0
        XCTAssertEqual(pic.registers(slave: false).isr, 0x02)
        XCTAssertFalse(pic.interruptPending)
        pic.write(port: 0x20, value: 0x61)                   // specific EOI: IRQ 1
        XCTAssertEqual(pic.registers(slave: false).isr, 0x00)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x23)
    }

    func testEdgeTriggeringNeedsLowToHigh() {
        let pic = initialized()
        pic.raise(irq: 0)
        XCTAssertEqual(pic.acknowledge(), 0x20)
        pic.write(port: 0x20, value: 0x20)
        pic.raise(irq: 0)                                    // still high: no new edge
        XCTAssertFalse(pic.interruptPending)
        pic.lower(irq: 0)
        pic.raise(irq: 0)
        XCTAssertTrue(pic.interruptPending)
    }

    func testMaskHoldsRequestUntilUnmasked() {
        let pic = initialized(masterMask: 0x10)
        pic.raise(irq: 4)
        XCTAssertFalse(pic.interruptPending)
        XCTAssertEqual(pic.registers(slave: false).irr, 0x10)
        pic.write(port: 0x21, value: 0x00)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x24)
    }

    func testCascadeThroughIRQ2() {
        let pic = initialized()
        pic.raise(irq: 12)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x2C)
        XCTAssertEqual(pic.registers(slave: true).isr, 0x10)
        XCTAssertEqual(pic.registers(slave: false).isr, 0x04)
        pic.raise(irq: 1)                                    // master IRQ 1 outranks IRQ 2
        XCTAssertTrue(pic.interruptPending)
        pic.lower(irq: 1)
        XCTAssertEqual(pic.acknowledge(), 0x21)
        pic.write(port: 0x20, value: 0x20)                   // EOI IRQ 1
        pic.write(port: 0xA0, value: 0x20)                   // EOI slave IRQ 4
        pic.write(port: 0x20, value: 0x20)                   // EOI cascade
        XCTAssertEqual(pic.registers(slave: true).isr, 0)
        XCTAssertEqual(pic.registers(slave: false).isr, 0)
        XCTAssertFalse(pic.interruptPending)
    }

    func testSpuriousMasterIRQ7() {
        let pic = initialized()
        pic.raise(irq: 5)
        XCTAssertTrue(pic.interruptPending)
        pic.write(port: 0x21, value: 0x20)                   // request vanishes before INTA
        XCTAssertFalse(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x27)
        XCTAssertEqual(pic.registers(slave: false).isr, 0)   // spurious: no ISR bit
    }

    func testSpuriousSlaveIRQ15() {
        let pic = initialized()
        pic.raise(irq: 10)
        pic.write(port: 0xA1, value: 0x04)                   // slave masks its IRQ 2 (IRQ 10)
        XCTAssertTrue(pic.interruptPending)                  // master latched the cascade edge
        XCTAssertEqual(pic.acknowledge(), 0x2F)
        XCTAssertEqual(pic.registers(slave: true).isr, 0)
        XCTAssertEqual(pic.registers(slave: false).isr, 0x04) // the master still needs its EOI
    }

    func testOCW3ReadsIRRAndISR() {
        let pic = initialized(masterMask: 0xFF)
        pic.raise(irq: 6)
        pic.write(port: 0x20, value: 0x0A)
        XCTAssertEqual(pic.read(port: 0x20), 0x40)
        pic.write(port: 0x21, value: 0x00)
        _ = pic.acknowledge()
        pic.write(port: 0x20, value: 0x0B)
        XCTAssertEqual(pic.read(port: 0x20), 0x40)
        pic.write(port: 0x20, value: 0x0A)
        XCTAssertEqual(pic.read(port: 0x20), 0x00)
    }

    func testPollMode() {
        let pic = initialized()
        pic.raise(irq: 3)
        pic.write(port: 0x20, value: 0x0C)
        XCTAssertEqual(pic.read(port: 0x20), 0x83)
        XCTAssertEqual(pic.registers(slave: false).isr, 0x08)
        pic.write(port: 0x20, value: 0x0C)
        XCTAssertEqual(pic.read(port: 0x20), 0x00)
    }

    func testAutoEOI() {
        let pic = PIC8259Pair()
        for v: UInt8 in [0x11] { pic.write(port: 0x20, value: v) }
        for v: UInt8 in [0x40, 0x04, 0x03] { pic.write(port: 0x21, value: v) }
        pic.raise(irq: 2 + 1)
        XCTAssertEqual(pic.acknowledge(), 0x43)
        XCTAssertEqual(pic.registers(slave: false).isr, 0)
    }

    func testELCRLevelTriggered() {
        let pic = initialized()
        pic.write(port: 0x4D0, value: 0xFF)
        pic.write(port: 0x4D1, value: 0xFF)
        XCTAssertEqual(pic.read(port: 0x4D0), 0xF8)
        XCTAssertEqual(pic.read(port: 0x4D1), 0xDE)
        pic.raise(irq: 5)
        XCTAssertTrue(pic.interruptPending)
        pic.lower(irq: 5)                                    // level: request withdrawn
        XCTAssertFalse(pic.interruptPending)
        pic.raise(irq: 5)
        XCTAssertEqual(pic.acknowledge(), 0x25)
        XCTAssertEqual(pic.registers(slave: false).irr & 0x20, 0x20) // level stays requested
        pic.write(port: 0x20, value: 0x20)
        XCTAssertTrue(pic.interruptPending)                  // still high: fires again
    }

    func testRotateCommandsDoNotBreak() {
        let pic = initialized()
        pic.write(port: 0x20, value: 0xC4)                   // set priority: IRQ 5 lowest
        pic.raise(irq: 1)
        pic.raise(irq: 6)
        XCTAssertEqual(pic.acknowledge(), 0x26)              // 6 is now highest
        pic.write(port: 0x20, value: 0xA0)                   // rotate on non-specific EOI
        XCTAssertEqual(pic.acknowledge(), 0x21)
        for v: UInt8 in [0x00, 0x80, 0x40, 0xE1, 0xFF] { pic.write(port: 0x20, value: v) }
        for v in 0...255 { pic.write(port: 0xA0, value: UInt8(v)); _ = pic.read(port: 0xA0) }
        _ = pic.acknowledge()
    }
}
