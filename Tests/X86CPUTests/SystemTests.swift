// SystemTests: CPUID, RDTSC, x87 #UD/#NM, LOCK and length rules, UD2, control-register checks, HLT.
import XCTest
import X86CPU

final class SystemTests: XCTestCase {
    // CPUID 0: max leaf in EAX, vendor "GenuineIntel" in EBX, EDX, ECX.
    func testCpuidVendor() {
        let m = TestMachine()
        m.set(.eax, 0)
        XCTAssertNil(m.step([0x0F, 0xA2]))                          // cpuid
        XCTAssertGreaterThanOrEqual(m.reg(.eax), 1)
        var bytes: [UInt8] = []
        for r in [Reg32.ebx, .edx, .ecx] { withUnsafeBytes(of: m.reg(r).littleEndian) { bytes += $0 } }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "GenuineIntel")
    }

    // CPUID 1 EDX: TSC(4) MSR(5) PSE(3) CX8(8) PGE(13) CMOV(15), and no FPU (bit 0).
    func testCpuidFeatures() {
        let m = TestMachine()
        m.set(.eax, 1)
        XCTAssertNil(m.step([0x0F, 0xA2]))
        let edx = m.reg(.edx)
        for bit in [3, 4, 5, 8, 13, 15] { XCTAssertEqual(edx >> UInt32(bit) & 1, 1, "bit \(bit)") }
        XCTAssertEqual(edx & 1, 0, "no x87 FPU")
    }

    // RDTSC reads the instruction count (the TSC of this deterministic machine): 3 NOPs before it.
    func testRdtscIsInstructionCount() {
        let m = TestMachine()
        XCTAssertEqual(m.run([0x90, 0x90, 0x90, 0x0F, 0x31]), .halted)   // nop x3; rdtsc
        XCTAssertEqual(m.reg(.eax), 3); XCTAssertEqual(m.reg(.edx), 0)
    }

    // An x87 instruction (D9 C0, FLD ST0): #UD with no FPU and CR0.EM = TS = 0; #NM when CR0.TS = 1 or CR0.EM = 1.
    func testX87Faults() {
        let m = TestMachine()
        let fld: [UInt8] = [0xD9, 0xC0]
        XCTAssertEqual(m.step(fld)?.vector, Fault.ud)
        let cr0 = m.cpu.cr0
        XCTAssertNil(m.writeCR(0, cr0 | 0x8))                       // TS
        XCTAssertEqual(m.step(fld)?.vector, Fault.nm)
        XCTAssertNil(m.writeCR(0, (cr0 & ~0x8) | 0x4))              // EM
        XCTAssertEqual(m.step(fld)?.vector, Fault.nm)
        XCTAssertEqual(m.cpu.eip, 0x1000)
    }

    // LOCK is #UD with a register destination or a non-lockable instruction; fine on ADD to memory.
    func testLockPrefixRules() {
        let m = TestMachine()
        m.set(.eax, 5)
        XCTAssertEqual(m.step([0xF0, 0x01, 0xD8])?.vector, Fault.ud)                    // lock add eax, ebx
        XCTAssertEqual(m.step([0xF0, 0xA3, 0x00, 0x50, 0x00, 0x00])?.vector, Fault.ud)  // lock mov [0x5000], eax
        XCTAssertEqual(m.read32(0x5000), 0)
        XCTAssertNil(m.step([0xF0, 0x01, 0x05, 0x00, 0x50, 0x00, 0x00]))              // lock add [0x5000], eax
        XCTAssertEqual(m.read32(0x5000), 5)
    }

    // An instruction longer than 15 bytes is #GP(0); exactly 15 bytes is fine.
    func testInstructionLengthLimit() {
        let m = TestMachine()
        XCTAssertNil(m.step([UInt8](repeating: 0x66, count: 14) + [0x90]))   // 15 bytes
        XCTAssertEqual(m.cpu.eip, 0x100F)
        m.cpu.eip = 0x1000
        let f = m.step([UInt8](repeating: 0x66, count: 16) + [0x90])          // 16 prefixes
        XCTAssertEqual(f?.vector, Fault.gp); XCTAssertEqual(f?.errorCode, 0)
        XCTAssertEqual(m.cpu.eip, 0x1000)
        let f2 = m.step([UInt8](repeating: 0x66, count: 15) + [0x90])         // 16 bytes
        XCTAssertEqual(f2?.vector, Fault.gp); XCTAssertEqual(f2?.errorCode, 0)
    }

    // UD2 raises #UD (no error code), EIP unchanged.
    func testUD2() {
        let m = TestMachine()
        let f = m.step([0x0F, 0x0B])
        XCTAssertEqual(f?.vector, Fault.ud); XCTAssertNil(f?.errorCode)
        XCTAssertEqual(m.cpu.eip, 0x1000)
    }

    // MOV CR0 with PG = 1 and PE = 0 is #GP(0); MOV CR4 with a reserved bit is #GP(0).
    func testControlRegisterChecks() {
        let m = TestMachine()
        XCTAssertEqual(m.writeCR(0, 0x8000_0000)?.vector, Fault.gp)
        XCTAssertEqual(m.cpu.cr0 & 0x8000_0001, 1)
        XCTAssertEqual(m.writeCR(4, 0x8000_0000)?.vector, Fault.gp)
        XCTAssertEqual(m.cpu.cr4, 0)
    }

    // MOV r32, CR3 reads back what MOV CR3 wrote.
    func testMovFromCR3() {
        let m = TestMachine()
        XCTAssertNil(m.writeCR(3, 0x0001_0000))
        XCTAssertNil(m.step([0x0F, 0x20, 0xD9]))                    // mov ecx, cr3
        XCTAssertEqual(m.reg(.ecx), 0x0001_0000)
    }

    // HLT at CPL 0 halts: run returns .halted with EIP after the HLT.
    func testHlt() {
        let m = TestMachine()
        XCTAssertEqual(m.run([]), .halted)
        XCTAssertTrue(m.cpu.halted)
        XCTAssertEqual(m.cpu.eip, 0x1001)
    }

    // OUT to a port reaches the bus with the operand size.
    func testOutReachesBus() {
        let m = TestMachine()
        m.set(.eax, 0x1234_5678); m.set(.edx, 0x3F8)
        XCTAssertNil(m.step([0xEE]))                                // out dx, al
        XCTAssertNil(m.step([0x66, 0xEF]))                          // out dx, ax
        XCTAssertEqual(m.bus.writes.map { $0.port }, [0x3F8, 0x3F8])
        XCTAssertEqual(m.bus.writes.map { $0.size }, [1, 2])
        XCTAssertEqual(m.bus.writes.map { $0.value }, [0x78, 0x5678])
    }
}
