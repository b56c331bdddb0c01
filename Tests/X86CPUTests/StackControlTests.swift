// StackControlTests: PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE, CALL/RET, PUSH/POP ESP, LAHF/SAHF, XLAT, CBW/CWDE/CWD/CDQ.
import XCTest
import X86CPU

final class StackControlTests: XCTestCase {
    // PUSHA pushes EAX, ECX, EDX, EBX, the original ESP, EBP, ESI, EDI.
    func testPusha() {
        let m = TestMachine()
        let regs: [Reg32] = [.eax, .ecx, .edx, .ebx, .esp, .ebp, .esi, .edi]
        for (i, r) in regs.enumerated() where r != .esp { m.set(r, UInt32(i + 1) * 0x1111) }
        XCTAssertNil(m.step([0x60]))                                // pusha
        XCTAssertEqual(m.reg(.esp), 0x8FE0)
        for (i, r) in regs.enumerated() {
            let want: UInt32 = r == .esp ? 0x9000 : UInt32(i + 1) * 0x1111
            XCTAssertEqual(m.read32(0x8FFC - UInt32(4 * i)), want, "\(r)")
        }
    }

    // POPA pops EDI ... EAX and skips the saved ESP slot; ESP ends 32 bytes higher.
    func testPopa() {
        let m = TestMachine()
        m.set(.esp, 0x8FE0)
        for i in 0..<8 { m.write32(0xA0 + UInt32(i), at: 0x8FE0 + UInt32(4 * i)) }   // EDI first
        XCTAssertNil(m.step([0x61]))                                // popa
        XCTAssertEqual(m.reg(.edi), 0xA0); XCTAssertEqual(m.reg(.esi), 0xA1); XCTAssertEqual(m.reg(.ebp), 0xA2)
        XCTAssertEqual(m.reg(.ebx), 0xA4); XCTAssertEqual(m.reg(.edx), 0xA5); XCTAssertEqual(m.reg(.ecx), 0xA6)
        XCTAssertEqual(m.reg(.eax), 0xA7); XCTAssertEqual(m.reg(.esp), 0x9000)
    }

    // PUSHF pushes EFLAGS (computed flags included).
    func testPushf() {
        let m = TestMachine()
        m.cpu.eflags = 0x2 | F.DF
        m.set(.eax, 0); m.set(.ebx, 0)
        XCTAssertNil(m.step([0x39, 0xD8]))                          // cmp eax, ebx: ZF PF
        XCTAssertNil(m.step([0x9C]))                                // pushf
        XCTAssertEqual(m.reg(.esp), 0x8FFC)
        XCTAssertEqual(m.read32(0x8FFC), 0x2 | F.DF | F.ZF | F.PF)
    }

    // POPF at CPL 0: loads IOPL, IF, NT, AC and the status flags; VM is unaffected.
    func testPopfCPL0() {
        let m = TestMachine()
        m.set(.esp, 0x8FFC); m.write32(0x0006_7ED5, at: 0x8FFC)    // AC VM NT IOPL=3 OF DF IF SF ZF AF PF CF
        XCTAssertNil(m.step([0x9D]))                                // popf
        XCTAssertEqual(String(m.cpu.eflags, radix: 16), String(0x0004_7ED7, radix: 16))
        XCTAssertEqual(m.reg(.esp), 0x9000)
    }

    // POPF clears RF whatever the popped image holds (SDM POPF: "RF is cleared"), unlike IRET.
    func testPopfClearsRF() {
        let m = TestMachine()
        m.set(.esp, 0x8FFC); m.write32(0x0001_0001, at: 0x8FFC)    // RF CF
        XCTAssertNil(m.step([0x9D]))                                // popf
        XCTAssertEqual(String(m.cpu.eflags, radix: 16), String(0x0000_0003, radix: 16))
    }

    // 16-bit POPF changes only the low word of EFLAGS.
    func testPopf16() {
        let m = TestMachine()
        m.cpu.eflags = 0x0004_0002                                  // AC
        m.set(.esp, 0x8FFE); m.write32(0x0000_08C1, at: 0x8FFE)     // OF SF ZF CF
        XCTAssertNil(m.step([0x66, 0x9D]))                          // popfw
        XCTAssertEqual(m.cpu.eflags, 0x0004_08C3)
        XCTAssertEqual(m.reg(.esp), 0x9000)
    }

    // ENTER 16, 0: push EBP, EBP = frame, ESP = frame - 16.
    func testEnterLevel0() {
        let m = TestMachine()
        m.set(.ebp, 0x1234)
        XCTAssertNil(m.step([0xC8, 0x10, 0x00, 0x00]))              // enter 16, 0
        XCTAssertEqual(m.read32(0x8FFC), 0x1234)
        XCTAssertEqual(m.reg(.ebp), 0x8FFC); XCTAssertEqual(m.reg(.esp), 0x8FEC)
    }

    // ENTER 8, 2: push EBP; copy one display pointer from [EBP-4]; push the new frame pointer.
    func testEnterLevel2() {
        let m = TestMachine()
        m.set(.ebp, 0x8800); m.write32(0xAAAA, at: 0x87FC)
        XCTAssertNil(m.step([0xC8, 0x08, 0x00, 0x02]))              // enter 8, 2
        XCTAssertEqual(m.read32(0x8FFC), 0x8800)                    // old EBP
        XCTAssertEqual(m.read32(0x8FF8), 0xAAAA)                    // display entry copied from [old EBP - 4]
        XCTAssertEqual(m.read32(0x8FF4), 0x8FFC)                    // the new frame pointer
        XCTAssertEqual(m.reg(.ebp), 0x8FFC); XCTAssertEqual(m.reg(.esp), 0x8FEC)
    }

    // LEAVE: ESP = EBP, then pop EBP.
    func testLeave() {
        let m = TestMachine()
        m.set(.ebp, 0x8FFC); m.set(.esp, 0x8F00); m.write32(0x8800, at: 0x8FFC)
        XCTAssertNil(m.step([0xC9]))                                // leave
        XCTAssertEqual(m.reg(.esp), 0x9000); XCTAssertEqual(m.reg(.ebp), 0x8800)
    }

    // CALL rel32 pushes the next EIP; RET imm16 pops it and releases imm16 more bytes.
    func testCallRet() {
        let m = TestMachine()
        XCTAssertNil(m.step([0xE8, 0x05, 0x00, 0x00, 0x00]))        // call 0x100A
        XCTAssertEqual(m.cpu.eip, 0x100A); XCTAssertEqual(m.reg(.esp), 0x8FFC)
        XCTAssertEqual(m.read32(0x8FFC), 0x1005)
        XCTAssertNil(m.step([0xC2, 0x08, 0x00]))                    // ret 8
        XCTAssertEqual(m.cpu.eip, 0x1005); XCTAssertEqual(m.reg(.esp), 0x9008)
    }

    // PUSH ESP pushes the value before the push; POP ESP loads ESP with the popped value.
    func testPushPopESP() {
        let m = TestMachine()
        XCTAssertNil(m.step([0x54]))                                // push esp
        XCTAssertEqual(m.read32(0x8FFC), 0x9000)
        m.write32(0x7000, at: 0x8FFC)
        XCTAssertNil(m.step([0x5C]))                                // pop esp
        XCTAssertEqual(m.reg(.esp), 0x7000)
    }

    // POP m32 with an ESP base: the address is computed after ESP is incremented.
    func testPopToESPRelativeMemory() {
        let m = TestMachine()
        m.set(.esp, 0x8FF8); m.write32(0x1111_1111, at: 0x8FF8); m.write32(0, at: 0x8FFC)
        XCTAssertNil(m.step([0x8F, 0x04, 0x24]))                    // pop dword [esp]
        XCTAssertEqual(m.reg(.esp), 0x8FFC)
        XCTAssertEqual(m.read32(0x8FFC), 0x1111_1111)
    }

    // SAHF loads SF ZF AF PF CF from AH (OF unaffected); LAHF stores them with bit 1 set.
    func testSahfLahf() {
        let m = TestMachine()
        m.setFlags(F.OF); m.set(.eax, 0x0000_FF00)
        XCTAssertNil(m.step([0x9E]))                                // sahf
        assertFlags(m, F.OF | F.SF | F.ZF | F.AF | F.PF | F.CF)
        m.setFlags(F.CF | F.ZF); m.set(.eax, 0x1234_0078)
        XCTAssertNil(m.step([0x9F]))                                // lahf
        XCTAssertEqual(m.reg(.eax), 0x1234_4378)
    }

    // XLAT: AL = [EBX + zero-extended AL].
    func testXlat() {
        let m = TestMachine()
        m.write([0x10, 0x20, 0x30, 0x99], at: 0x5000); m.write([0x77], at: 0x5083)
        m.set(.ebx, 0x5000); m.set(.eax, 0xAABB_CC03)
        XCTAssertNil(m.step([0xD7]))                                // xlatb
        XCTAssertEqual(m.reg(.eax), 0xAABB_CC99)
        m.set(.eax, 0x83)                                           // AL is unsigned: 0x83, not -125
        XCTAssertNil(m.step([0xD7]))
        XCTAssertEqual(m.reg(.eax), 0x77)
    }

    // CBW, CWDE, CWD, CDQ sign-extend.
    func testSignExtensions() {
        let m = TestMachine()
        m.set(.eax, 0x1234_5680)
        XCTAssertNil(m.step([0x66, 0x98]))                          // cbw
        XCTAssertEqual(m.reg(.eax), 0x1234_FF80)
        m.set(.eax, 0x1234_8000)
        XCTAssertNil(m.step([0x98]))                                // cwde
        XCTAssertEqual(m.reg(.eax), 0xFFFF_8000)
        m.set(.eax, 0x0000_8000); m.set(.edx, 0x5555_0000)
        XCTAssertNil(m.step([0x66, 0x99]))                          // cwd
        XCTAssertEqual(m.reg(.edx), 0x5555_FFFF)
        m.set(.eax, 0x8000_0000)
        XCTAssertNil(m.step([0x99]))                                // cdq
        XCTAssertEqual(m.reg(.edx), 0xFFFF_FFFF)
        m.set(.eax, 0x7FFF_FFFF)
        XCTAssertNil(m.step([0x99]))
        XCTAssertEqual(m.reg(.edx), 0)
    }
}
