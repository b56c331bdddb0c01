// PIT8254Tests: tick arithmetic, deadlines and counter readback at given instruction counts.
import XCTest
@testable import PCMachine

final class PIT8254Tests: XCTestCase {
    /// A PIC pair set up with vectors 0x20/0x28 and nothing masked.
    func makePIC() -> PIC8259Pair {
        let pic = PIC8259Pair()
        for (port, v) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01),
                          (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01)] {
            pic.write(port: UInt16(port), value: UInt8(v))
        }
        return pic
    }

    func testTickArithmetic() {
        XCTAssertEqual(PIT8254.tick(at: 1_000_000_000), 1_193_182)
        XCTAssertEqual(PIT8254.tick(at: 838), 0)
        XCTAssertEqual(PIT8254.tick(at: 839), 1)
        XCTAssertEqual(PIT8254.time(ofTick: 1), 839)
        XCTAssertEqual(PIT8254.time(ofTick: 0), 0)
        XCTAssertEqual(PIT8254.tick(at: .max), 22_010_322_987_356_910)  // no overflow
        XCTAssertEqual(PIT8254.time(ofTick: .max), .max)
    }

    func testResetStateFirstDeadline() {
        let pit = PIT8254(pic: nil)
        XCTAssertEqual(pit.nextDeadline, 54_925_402)         // tick 65536 in mode 3
    }

    func testMode2DeadlinesAndIRQ() {
        let pic = makePIC()
        let pit = PIT8254(pic: pic)
        pit.write(port: 0x43, value: 0x34, now: 900)         // ch 0, lohi, mode 2
        pit.write(port: 0x40, value: 0xA9, now: 950)
        pit.write(port: 0x40, value: 0x04, now: 1000)        // count 1193 loaded at n=1000 (tick 1)
        XCTAssertFalse(pic.interruptPending)
        XCTAssertEqual(pit.nextDeadline, 1_000_686)          // tick 1194
        pit.advance(to: 1_000_685)
        XCTAssertFalse(pic.interruptPending)
        pit.advance(to: 1_000_686)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pit.nextDeadline, 2_000_534)          // tick 2387
        XCTAssertEqual(pic.acknowledge(), 0x20)
        pic.write(port: 0x20, value: 0x20)
        pit.advance(to: 2_000_534)
        XCTAssertEqual(pic.acknowledge(), 0x20)              // one more period, one more IRQ
    }

    func testMode2CounterReadback() {
        let pit = PIT8254(pic: nil)
        pit.write(port: 0x43, value: 0x34, now: 0)
        pit.write(port: 0x40, value: 0xA9, now: 0)
        pit.write(port: 0x40, value: 0x04, now: 1000)
        func read(_ n: UInt64) -> UInt16 {
            let lo = pit.read(port: 0x40, now: n), hi = pit.read(port: 0x40, now: n)
            return UInt16(lo) | UInt16(hi) << 8
        }
        XCTAssertEqual(read(1000), 1193)
        XCTAssertEqual(read(5000), 1189)
        XCTAssertEqual(read(1_000_000), 1)
        XCTAssertEqual(read(1_000_685), 1)
        XCTAssertEqual(read(1_000_686), 1193)
        XCTAssertEqual(read(3_000_000), 1)
    }

    func testMode3SquareWave() {
        let pic = makePIC()
        let pit = PIT8254(pic: pic)
        pit.write(port: 0x43, value: 0x36, now: 0)           // ch 0, lohi, mode 3
        pit.write(port: 0x40, value: 10, now: 0)
        pit.write(port: 0x40, value: 0, now: 0)
        XCTAssertEqual(pit.nextDeadline, 8381)               // tick 10
        XCTAssertEqual(pit.counterValue(channel: 0, now: 839), 8)
        XCTAssertEqual(pit.counterValue(channel: 0, now: 1677), 6)
        XCTAssertEqual(pit.counterValue(channel: 0, now: 8000), 2)
        XCTAssertTrue(pit.outLevel(channel: 0, now: 3000))  // tick 3 < 5
        XCTAssertFalse(pit.outLevel(channel: 0, now: 5000)) // tick 5
        _ = pic.acknowledge()                                // the load raised OUT (edge at load)
        pic.write(port: 0x20, value: 0x20)
        pit.advance(to: 8381)
        XCTAssertEqual(pic.acknowledge(), 0x20)
        pic.write(port: 0x20, value: 0x20)
        XCTAssertEqual(pit.nextDeadline, 16762)
    }

    func testSkippedPeriodsRaiseOnce() {
        let pic = makePIC()
        let pit = PIT8254(pic: pic)
        pit.write(port: 0x43, value: 0x34, now: 0)
        pit.write(port: 0x40, value: 100, now: 0)
        pit.write(port: 0x40, value: 0, now: 0)
        pit.advance(to: 10_000_000)                          // ~119 periods late
        XCTAssertEqual(pic.acknowledge(), 0x20)
        pic.write(port: 0x20, value: 0x20)
        XCTAssertFalse(pic.interruptPending)
        XCTAssertGreaterThan(pit.nextDeadline, 10_000_000)
        XCTAssertEqual(pit.nextDeadline, PIT8254.time(ofTick: 12000))
    }

    func testLatchAndReadBack() {
        let pit = PIT8254(pic: nil)
        pit.write(port: 0x43, value: 0xB0, now: 0)           // ch 2, lohi, mode 0
        pit.write(port: 0x42, value: 0xE8, now: 0)
        pit.write(port: 0x42, value: 0x03, now: 0)           // 1000
        pit.write(port: 0x43, value: 0x80, now: 83_900)      // latch ch 2 at tick 100
        XCTAssertEqual(pit.read(port: 0x42, now: 500_000), UInt8(900 & 0xFF))
        XCTAssertEqual(pit.read(port: 0x42, now: 600_000), UInt8(900 >> 8))
        XCTAssertEqual(pit.counterValue(channel: 2, now: 600_000), 1000 - 715)
        pit.write(port: 0x43, value: 0xE8, now: 83_900)      // read-back: status of ch 2
        XCTAssertEqual(pit.read(port: 0x42, now: 83_900), 0x30) // OUT 0, lohi, mode 0
        pit.write(port: 0x43, value: 0xC8, now: 1_000_000)   // status + count of ch 2
        XCTAssertEqual(pit.read(port: 0x42, now: 1_000_000), 0xB0) // OUT 1 (tick 1193 ≥ 1000)
        XCTAssertEqual(pit.read(port: 0x42, now: 2_000_000), UInt8((1000 - 1193) & 0xFF))
    }

    func testPort61GateAndOut() {
        let pit = PIT8254(pic: nil)
        XCTAssertEqual(pit.readPort61(now: 0) & 0x01, 0)     // gate 2 low at reset
        pit.writePort61(value: 0x01, now: 0)
        pit.write(port: 0x43, value: 0xB0, now: 0)
        pit.write(port: 0x42, value: 100, now: 0)
        pit.write(port: 0x42, value: 0, now: 2000)           // loaded at tick 2
        let a = pit.readPort61(now: 85_485), b = pit.readPort61(now: 85_486)
        XCTAssertEqual(a & 0x21, 0x01)                       // tick 101: 99 counted
        XCTAssertEqual(b & 0x21, 0x21)                       // tick 102: OUT high
        XCTAssertNotEqual(a & 0x10, b & 0x10)                // refresh bit toggles
    }

    func testAnyControlValueIsSafe() {
        let pit = PIT8254(pic: makePIC())
        for v in 0...255 {
            for p: UInt16 in 0x40...0x43 {
                pit.write(port: p, value: UInt8(v), now: UInt64(v) * 1000)
                _ = pit.read(port: p, now: UInt64(v) * 1000 + 1)
            }
            pit.advance(to: UInt64(v) * 1000 + 2)
        }
        pit.write(port: 0x43, value: 0x34, now: 300_000)
        pit.write(port: 0x40, value: 0, now: 300_000)
        pit.write(port: 0x40, value: 0, now: 300_000)       // count 0 = 65536
        XCTAssertEqual(pit.counterValue(channel: 0, now: 300_000), 0)
    }
}
