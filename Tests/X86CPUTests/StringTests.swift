// StringTests: MOVS/CMPS/SCAS/STOS/LODS with REP prefixes, DF = 1, 16-bit addressing, and a #PF part-way through REP STOSD.
import XCTest
import X86CPU

final class StringTests: XCTestCase {
    // REP MOVSB copies ECX bytes forward; ESI/EDI advance, ECX ends at 0.
    func testRepMovsbForward() {
        let m = TestMachine()
        m.write([1, 2, 3, 4, 5, 6], at: 0x5000); m.write([0, 0, 0, 0, 0, 0xEE], at: 0x6000)
        m.set(.esi, 0x5000); m.set(.edi, 0x6000); m.set(.ecx, 5)
        XCTAssertEqual(m.run([0xF3, 0xA4]), .halted)                // rep movsb
        XCTAssertEqual(m.mem.read(at: 0x6000, count: 6), [1, 2, 3, 4, 5, 0xEE])
        XCTAssertEqual(m.reg(.esi), 0x5005); XCTAssertEqual(m.reg(.edi), 0x6005); XCTAssertEqual(m.reg(.ecx), 0)
    }

    // With DF = 1 the pointers decrement by the element size.
    func testRepMovsdBackward() {
        let m = TestMachine()
        for i in 0..<4 { m.write32(0x1111_1111 &* UInt32(i + 1), at: 0x5000 + UInt32(4 * i)) }
        m.set(.esi, 0x500C); m.set(.edi, 0x600C); m.set(.ecx, 4)
        XCTAssertEqual(m.run([0xFD, 0xF3, 0xA5, 0xFC]), .halted)   // std; rep movsd; cld
        for i in 0..<4 { XCTAssertEqual(m.read32(0x6000 + UInt32(4 * i)), 0x1111_1111 &* UInt32(i + 1)) }
        XCTAssertEqual(m.reg(.esi), 0x4FFC); XCTAssertEqual(m.reg(.edi), 0x5FFC); XCTAssertEqual(m.reg(.ecx), 0)
    }

    // LODSB with DF = 1 loads AL and decrements ESI by 1.
    func testLodsbBackward() {
        let m = TestMachine()
        m.write([0x5A], at: 0x5000)
        m.set(.esi, 0x5000); m.set(.eax, 0x1234_5678); m.cpu.eflags = 0x2 | F.DF
        XCTAssertNil(m.step([0xAC]))                                // lodsb
        XCTAssertEqual(m.reg(.eax), 0x1234_565A); XCTAssertEqual(m.reg(.esi), 0x4FFF)
    }

    // REPE CMPSB stops after the first differing byte; ECX counts the compared bytes; flags of that compare.
    func testRepeCmpsbStopsAtDifference() {
        let m = TestMachine()
        m.write(Array("abcdXfgh".utf8), at: 0x5000); m.write(Array("abcdYfgh".utf8), at: 0x6000)
        m.set(.esi, 0x5000); m.set(.edi, 0x6000); m.set(.ecx, 10)
        XCTAssertEqual(m.run([0xF3, 0xA6]), .halted)                // repe cmpsb
        XCTAssertEqual(m.reg(.ecx), 5); XCTAssertEqual(m.reg(.esi), 0x5005); XCTAssertEqual(m.reg(.edi), 0x6005)
        assertFlags(m, F.CF | F.PF | F.AF | F.SF)                   // 'X' - 'Y' = 0xFF
    }

    // REPE CMPSB over equal strings runs ECX out with ZF = 1.
    func testRepeCmpsbEqual() {
        let m = TestMachine()
        m.write(Array("same".utf8), at: 0x5000); m.write(Array("same".utf8), at: 0x6000)
        m.set(.esi, 0x5000); m.set(.edi, 0x6000); m.set(.ecx, 4)
        XCTAssertEqual(m.run([0xF3, 0xA6]), .halted)
        XCTAssertEqual(m.reg(.ecx), 0); XCTAssertEqual(m.flags & F.ZF, F.ZF)
    }

    // REPNE SCASB finds the terminating zero: EDI one past it, ECX decremented per byte scanned.
    func testRepneScasb() {
        let m = TestMachine()
        m.write(Array("hello".utf8) + [0, 7], at: 0x5000)
        m.set(.edi, 0x5000); m.set(.eax, 0xFFFF_FF00); m.set(.ecx, 0xFFFF_FFFF)
        XCTAssertEqual(m.run([0xF2, 0xAE]), .halted)                // repne scasb
        XCTAssertEqual(m.reg(.edi), 0x5006); XCTAssertEqual(m.reg(.ecx), 0xFFFF_FFF9)
        XCTAssertEqual(m.flags & F.ZF, F.ZF)
    }

    // REP with ECX = 0 does nothing.
    func testRepWithZeroCount() {
        let m = TestMachine()
        m.set(.edi, 0x5000); m.set(.ecx, 0); m.set(.eax, 0xFFFF_FFFF); m.setFlags(F.CF)
        XCTAssertEqual(m.run([0xF3, 0xAB]), .halted)                // rep stosd
        XCTAssertEqual(m.read32(0x5000), 0); XCTAssertEqual(m.reg(.edi), 0x5000)
        assertFlags(m, F.CF)
    }

    // With a 0x67 prefix the string uses CX/SI/DI and leaves the upper halves alone.
    func testAddressSize16UsesCXSIDI() {
        let m = TestMachine()
        m.write([9, 8, 7], at: 0x5000)
        m.set(.esi, 0xABCD_5000); m.set(.edi, 0x1234_6000); m.set(.ecx, 0x0001_0002)
        XCTAssertEqual(m.run([0xF3, 0x67, 0xA4]), .halted)          // rep a16 movsb
        XCTAssertEqual(m.mem.read(at: 0x6000, count: 3), [9, 8, 0])
        XCTAssertEqual(m.reg(.ecx), 0x0001_0000)
        XCTAssertEqual(m.reg(.esi), 0xABCD_5002); XCTAssertEqual(m.reg(.edi), 0x1234_6002)
    }

    // REP STOSD faulting on the third dword (#PF, not-present page): the two completed iterations
    // stay done, ECX/EDI describe the faulting iteration, CR2 = its address, the saved EIP is the
    // REP STOSD (so it resumes), error code = W (not present, supervisor).
    func testRepStosdPageFaultPartWay() {
        let m = TestMachine.paged()
        m.setPTE(0x41000, 0)                                        // 0x41000 not present
        m.set(.edi, 0x40FF8); m.set(.ecx, 4); m.set(.eax, 0xDEAD_BEEF)
        XCTAssertEqual(m.run([0xF3, 0xAB]), .halted)                // rep stosd
        XCTAssertEqual(m.handledVector, Fault.pf)
        XCTAssertEqual(m.reg(.ecx), 2); XCTAssertEqual(m.reg(.edi), 0x41000)
        XCTAssertEqual(m.cpu.cr2, 0x41000)
        XCTAssertEqual(m.stack(0), 2)                               // error code: W
        XCTAssertEqual(m.stack(1), 0x1000)                          // EIP of REP STOSD
        XCTAssertEqual(m.read32(0x40FF8), 0xDEAD_BEEF); XCTAssertEqual(m.read32(0x40FFC), 0xDEAD_BEEF)
    }
}
