// IOBusTests: port dispatch, absent ports, log-once, debug exit, byte splitting.
import XCTest
#if canImport(Glibc)
import Glibc
#endif
import X86CPU
@testable import PCMachine

final class IOBusTests: XCTestCase {
    var com1: [UInt8] = []
    var console: [UInt8] = []
    var logLines: [String] = []
    var now: UInt64 = 0

    func makeBus() -> IOBus {
        let bus = IOBus(com1Output: { [unowned self] in self.com1.append($0) },
                        debugConsole: { [unowned self] in self.console.append($0) },
                        log: { [unowned self] in self.logLines.append($0) })
        bus.clock = { [unowned self] in self.now }
        return bus
    }

    func testUnknownPortsReadAllOnesAndLogOnce() {
        let bus = makeBus()
        XCTAssertEqual(bus.portRead(0x1234, size: 1), 0xFF)
        XCTAssertTrue(logLines.isEmpty)                      // logging off
        bus.logUnknownPorts = true
        XCTAssertEqual(bus.portRead(0x1234, size: 1), 0xFF)
        XCTAssertEqual(bus.portRead(0x1234, size: 2), 0xFFFF)
        XCTAssertEqual(bus.portRead(0x1234, size: 4), 0xFFFF_FFFF)
        bus.portWrite(0x1234, size: 1, value: 0)
        XCTAssertEqual(logLines, ["ioport: unknown read of port 0x1234 (size 1)"])
        bus.portWrite(0xCF8, size: 4, value: 0x8000_0000)
        XCTAssertEqual(logLines.last, "ioport: unknown write of port 0x0cf8 (size 4)")
        XCTAssertEqual(logLines.count, 2)
    }

    func testCOM2ToCOM4Absent() {
        let bus = makeBus()
        for base: UInt16 in [0x2F8, 0x3E8, 0x2E8] {
            XCTAssertEqual(bus.portRead(base + 5, size: 1), 0xFF)
        }
        XCTAssertEqual(bus.portRead(0x3FD, size: 1), 0x60)   // COM1 LSR
    }

    func testDebugExit() {
        let bus = makeBus()
        XCTAssertNil(bus.exitRequest)
        bus.portWrite(0xF4, size: 1, value: 0x31)
        XCTAssertEqual(bus.exitRequest, 0x63)
        bus.portWrite(0xF4, size: 4, value: 0x0000_0100)
        XCTAssertEqual(bus.exitRequest, 0x201)               // shell sees 0x01
        bus.portWrite(0xF4, size: 2, value: 0xFFFF_0000)
        XCTAssertEqual(bus.exitRequest, 1)                   // only the low 16 bits are written
        bus.portWrite(0xF4, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(bus.exitRequest, 0xFFFF_FFFF)         // wraps, never traps
    }

    func testDebugConsoleAndCOM1Output() {
        let bus = makeBus()
        for b in "ok".utf8 { bus.portWrite(0xE9, size: 1, value: UInt32(b)) }
        XCTAssertEqual(console, Array("ok".utf8))
        XCTAssertEqual(bus.portRead(0xE9, size: 1), 0xE9)
        bus.portWrite(0x3F8, size: 1, value: 0x141)          // only the low byte
        XCTAssertEqual(com1, [0x41])
    }

    func testWordAccessesSplitIntoBytes() {
        let bus = makeBus()
        bus.portWrite(0x3FB, size: 1, value: 0x80)           // DLAB
        bus.portWrite(0x3F8, size: 2, value: 0x0201)         // DLL = 1, DLM = 2
        XCTAssertEqual(bus.portRead(0x3F8, size: 2), 0x0201)
        XCTAssertEqual(bus.serial[0].divisor, 0x0201)
        bus.portWrite(0x3FB, size: 1, value: 0x03)
        bus.portWrite(0x3FF, size: 1, value: 0x5A)           // scratch
        XCTAssertEqual(bus.portRead(0x3FF, size: 2), 0xFF5A) // 0x400 is absent
        bus.portWrite(0x4D0, size: 2, value: 0xFFFF)         // both ELCRs at once
        XCTAssertEqual(bus.portRead(0x4D0, size: 2), 0xDEF8)
        XCTAssertEqual(bus.portRead(0xFFFF, size: 4), 0xFFFF_FFFF) // wraps around, no trap
    }

    func testPort92() {
        let bus = makeBus()
        XCTAssertEqual(bus.portRead(0x92, size: 1), 0x02)
        bus.portWrite(0x92, size: 1, value: 0x00)
        XCTAssertEqual(bus.portRead(0x92, size: 1), 0x00)
        XCTAssertFalse(bus.resetRequest)
        bus.portWrite(0x92, size: 1, value: 0x03)
        XCTAssertTrue(bus.resetRequest)
    }

    func testTimerInterruptThroughTheBus() {
        let bus = makeBus()
        let mb: MachineBus = bus
        for (p, v) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xFE)] {
            mb.portWrite(UInt16(p), size: 1, value: UInt32(v))
        }
        now = 1000
        mb.portWrite(0x43, size: 1, value: 0x34)
        mb.portWrite(0x40, size: 1, value: 0xA9)
        mb.portWrite(0x40, size: 1, value: 0x04)
        XCTAssertEqual(bus.nextDeadline, 1_000_686)
        XCTAssertFalse(mb.interruptPending)
        now = 1_000_686
        bus.advance(to: now)
        XCTAssertTrue(mb.interruptPending)
        XCTAssertEqual(mb.acknowledgeInterrupt(), 0x20)
        mb.portWrite(0x20, size: 1, value: 0x20)
        now = 500_000 + 1_000_686
        mb.portWrite(0x43, size: 1, value: 0x00)             // latch channel 0
        let lo = mb.portRead(0x40, size: 1), hi = mb.portRead(0x40, size: 1)
        XCTAssertEqual(lo | hi << 8, UInt32(1193 - (PIT8254.tick(at: now) - 1) % 1193))
    }

    func testSerialInterruptThroughTheBus() {
        let bus = makeBus()
        for (p, v) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xEF)] {
            bus.portWrite(UInt16(p), size: 1, value: UInt32(v))
        }
        bus.portWrite(0x3F9, size: 1, value: 0x01)
        bus.serial[0].receive([0x61], now: 0)
        XCTAssertTrue(bus.interruptPending)
        XCTAssertEqual(bus.acknowledgeInterrupt(), 0x24)
        XCTAssertEqual(bus.portRead(0x3F8, size: 1), 0x61)
        bus.portWrite(0x20, size: 1, value: 0x20)
        XCTAssertFalse(bus.interruptPending)
    }

    // MARK: the host side of the console (HostTerminal over pipes and a file)

    /// A pipe as (read end, write end).
    func makePipe() -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        return (fds[0], fds[1])
    }

    func testHostInputEscapesAndEndOfInput() {
        let (r, w) = makePipe()
        let (outR, outW) = makePipe()
        defer { close(r); close(outR); close(outW) }
        let term = HostTerminal(inputFD: r, outputFD: outW, escapes: true)
        XCTAssertFalse(term.inputIsTerminal)
        XCTAssertEqual(term.pollInput(), HostTerminal.Input())   // nothing yet, not ended
        let input: [UInt8] = [0x61, 0x01, 0x01, 0x62, 0x01, 0x63, 0x64, 0x01, 0x7A, 0x65, 0x01, 0x78, 0x66]
        XCTAssertEqual(input.withUnsafeBytes { write(w, $0.baseAddress, $0.count) }, input.count)
        var a = term.pollInput()
        XCTAssertEqual(a.bytes, [0x61, 0x01, 0x62])              // C-a C-a is a literal C-a
        XCTAssertEqual(a.event, .monitor)
        a = term.pollInput()
        XCTAssertEqual(a.bytes, [0x64, 0x65])                    // C-a z swallowed
        XCTAssertEqual(a.event, .quit)
        close(w)
        a = term.pollInput()
        XCTAssertEqual(a.bytes, [0x66])
        XCTAssertNil(a.event)
        a = term.pollInput()
        XCTAssertTrue(a.endOfInput)
        XCTAssertFalse(term.waitForInput(milliseconds: 0))
    }

    func testHostOutputBufferingAndFileSink() throws {
        let (outR, outW) = makePipe()
        defer { close(outR); close(outW) }
        let term = HostTerminal(inputFD: -1, outputFD: outW)
        term.write(bytes: Array("hello\n".utf8))
        term.flush()
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { read(outR, $0.baseAddress, $0.count) }
        XCTAssertEqual(Array(buf[0..<max(n, 0)]), Array("hello\n".utf8))
        XCTAssertTrue(term.pollInput().endOfInput)               // no input at all

        let path = "/tmp/swift86-serial-test-\(getpid()).txt"
        defer { unlink(path) }
        do {
            let sink = try HostTerminal.fileSink(path: path)
            sink.write(bytes: Array("to file".utf8))
        }                                                        // deinit flushes and closes
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let m = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        close(fd)
        XCTAssertEqual(Array(buf[0..<max(m, 0)]), Array("to file".utf8))
        XCTAssertThrowsError(try HostTerminal.fileSink(path: "/nonexistent-dir/x"))
    }

    func testResetRestoresPowerOnState() {
        let bus = makeBus()
        bus.portWrite(0x3FB, size: 1, value: 0x83)
        bus.portWrite(0x21, size: 1, value: 0xFF)
        bus.portWrite(0x92, size: 1, value: 0x03)
        now = 2_000_000
        bus.reset(now: now)
        XCTAssertEqual(bus.portRead(0x3FB, size: 1), 0x00)
        XCTAssertEqual(bus.portRead(0x21, size: 1), 0x00)
        XCTAssertEqual(bus.portRead(0x92, size: 1), 0x02)
        XCTAssertFalse(bus.resetRequest)
        XCTAssertEqual(bus.nextDeadline, PIT8254.time(ofTick: PIT8254.tick(at: now) + 65536))
    }
}
