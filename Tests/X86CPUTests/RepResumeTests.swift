// RepResumeTests: a REP string instruction stopped by the run limit resumes exactly, and
// the instructions after it in the same decoded block run with the right EIP.
import XCTest
import X86CPU

final class RepResumeTests: XCTestCase {
    /// Regression: with a run limit falling inside `rep movsb`, the interpreter used to
    /// reset EIP to the REP instruction and then go on with the rest of the block, so the
    /// following relative CALL landed 2 bytes early (found by the guest's fork loop).
    func testRepStoppedByTheLimitThenTheBlockGoesOnCorrectly() throws {
        let mem = try PhysicalMemory(size: 2 << 20)
        let cpu = CPU(memory: mem, bus: RandomBus())
        cpu.resetToFlatProtectedMode()
        // 0x1000: mov esi,0x10000 ; mov edi,0x20000 ; mov ecx,0x1000 ; rep movsb ; call +5 ; hlt ; (call target) mov eax,0x1234 ; hlt
        let code: [UInt8] = [0xBE, 0, 0, 1, 0, 0xBF, 0, 0, 2, 0, 0xB9, 0, 0x10, 0, 0, 0xF3, 0xA4,
                             0xE8, 0x01, 0, 0, 0, 0xF4, 0xB8, 0x34, 0x12, 0, 0, 0xF4]
        mem.write(code, at: 0x1000)
        mem.write([UInt8](repeating: 0xAB, count: 0x1000), at: 0x10000)
        cpu.eip = 0x1000
        cpu.setReg32(.esp, 0x8000)
        var limit: UInt64 = 1000   // inside the copy
        while !cpu.halted && limit < 100_000 {
            _ = cpu.run(until: limit)
            limit += 777
        }
        XCTAssertTrue(cpu.halted)
        XCTAssertEqual(cpu.reg32(.eax), 0x1234, "the CALL after the REP reached its target")
        XCTAssertEqual(cpu.eip, 0x101D)
        XCTAssertEqual(cpu.reg32(.ecx), 0)
        XCTAssertEqual(mem.read(at: 0x20FFF, count: 1), [0xAB])
        XCTAssertEqual(cpu.icount, 3 + 0x1000 + 3, "each iteration counts once")
    }
}
