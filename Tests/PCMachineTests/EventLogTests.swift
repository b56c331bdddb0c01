// EventLogTests: the JSON Lines fault-event log — guest lines from port 0x402, exceptions, determinism.
import XCTest
import PCMachine
import X86CPU

final class EventLogTests: XCTestCase {
    /// A machine running a tiny program: it writes a guest event line to port 0x402, then
    /// executes UD2 with an empty IDT (#UD → #GP → #DF → triple fault).
    func runProgram() throws -> [String] {
        var config = Machine.Config()
        config.serial = .none
        config.ramSize = 4 << 20
        let m = try Machine(config: config)
        var lines: [String] = []
        let log = EventLog(machine: m) { lines.append($0) }
        let text = Array("kind=cow-copy pid=3 addr=0x0804a000 pfn=4660\n".utf8)
        m.memory.write(text, at: 0x2000)
        // mov esi, 0x2000 ; mov ecx, len ; mov dx, 0x402 ; rep outsb ; ud2
        let code: [UInt8] = [0xBE, 0x00, 0x20, 0, 0, 0xB9, UInt8(text.count), 0, 0, 0,
                             0x66, 0xBA, 0x02, 0x04, 0xF3, 0x6E, 0x0F, 0x0B]
        m.memory.write(code, at: 0x1000)
        m.cpu.resetToFlatProtectedMode()
        m.cpu.eip = 0x1000
        m.cpu.idtrBase = 0x3000; m.cpu.idtrLimit = 0
        var exit: MachineExit?
        for _ in 0..<100 where exit == nil { exit = m.step(maxSlice: 1000) }
        XCTAssertEqual(exit?.status, 4, "triple fault")
        XCTAssertGreaterThan(log.count, 3)
        return lines
    }

    /// The newline is the 45th byte: 3 setup instructions + 44 OUTSB iterations before it.
    func testGuestLinesExceptionsAndDeterminism() throws {
        let a = try runProgram()
        let guest = a.first { $0.contains("\"type\":\"guest\"") }
        XCTAssertEqual(guest, "{\"icount\":47,\"type\":\"guest\",\"kind\":\"cow-copy\",\"pid\":3,\"addr\":\"0x0804a000\",\"pfn\":4660,\"text\":\"kind=cow-copy pid=3 addr=0x0804a000 pfn=4660\"}")
        XCTAssertTrue(a.contains { $0.contains("\"vector\":6") && $0.contains("\"eip\":\"0x00001010\"") }, a.joined(separator: "\n"))
        XCTAssertTrue(a.contains { $0.contains("\"vector\":8") }, "the #GP from the empty IDT becomes #DF")
        XCTAssertEqual(a, try runProgram(), "same inputs, same event log")
    }
}
