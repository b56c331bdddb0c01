// ShiftRotateTests: SHL/SHR/SAR, ROL/ROR, RCL/RCR through CF, SHLD/SHRD; count masking and count 0.
import XCTest
import X86CPU

final class ShiftRotateTests: XCTestCase {
    // SHL by 1: CF = last bit out (bit 31), OF = MSB(result) XOR CF.
    func testShlByOne() {
        let m = TestMachine()
        m.set(.eax, 0x8000_0001)
        XCTAssertNil(m.step([0xD1, 0xE0]))                          // shl eax, 1
        XCTAssertEqual(m.reg(.eax), 2)
        assertFlags(m, F.CF | F.OF, mask: F.arith & ~F.AF)
    }

    // A masked count of 0 (imm 0, CL = 0, CL = 32) changes neither the operand nor any flag.
    func testCountZeroChangesNothing() {
        let m = TestMachine()
        let flags = F.CF | F.ZF | F.SF | F.OF | F.PF | F.AF
        for (bytes, cl) in [([UInt8]([0xC1, 0xE0, 0x00]), UInt32(5)),  // shl eax, 0
                            ([0xD3, 0xE0], 0),                          // shl eax, cl (0)
                            ([0xD3, 0xE0], 32),                         // shl eax, cl (32 & 31 = 0)
                            ([0xD3, 0xE8], 0x60),                       // shr eax, cl (0x60 & 31 = 0)
                            ([0xD3, 0xD0], 32),                         // rcl eax, cl (32 & 31 = 0)
                            ([0x0F, 0xA4, 0xD8, 0x00], 0),              // shld eax, ebx, 0
                            ([0x0F, 0xAD, 0xD8], 32)] {                 // shrd eax, ebx, cl (32)
            m.set(.eax, 0x1234_5678); m.set(.ebx, 0xFFFF_FFFF); m.set(.ecx, cl); m.setFlags(flags)
            XCTAssertNil(m.step(bytes), "\(bytes)")
            XCTAssertEqual(m.reg(.eax), 0x1234_5678, "\(bytes)")
            assertFlags(m, flags)
        }
    }

    // The count is masked to 5 bits: SHR by CL = 33 shifts by 1; OF = MSB of the original.
    func testShrCountMasked() {
        let m = TestMachine()
        m.set(.eax, 0x8000_0003); m.set(.ecx, 33)
        XCTAssertNil(m.step([0xD3, 0xE8]))                          // shr eax, cl
        XCTAssertEqual(m.reg(.eax), 0x4000_0001)
        assertFlags(m, F.CF | F.OF, mask: F.arith & ~F.AF)
    }

    // SAR keeps the sign: 0x80000010 >> 4 = 0xF8000001, CF = bit 3 of the source (0); SAR by 1 clears OF.
    func testSar() {
        let m = TestMachine()
        m.set(.eax, 0x8000_0010)
        XCTAssertNil(m.step([0xC1, 0xF8, 0x04]))                    // sar eax, 4
        XCTAssertEqual(m.reg(.eax), 0xF800_0001)
        XCTAssertEqual(m.flags & (F.CF | F.SF | F.ZF | F.PF), F.SF)
        m.set(.eax, 0xFFFF_FFFF); m.setFlags(F.OF)
        XCTAssertNil(m.step([0xD1, 0xF8]))                          // sar eax, 1
        XCTAssertEqual(m.reg(.eax), 0xFFFF_FFFF)
        assertFlags(m, F.CF | F.SF | F.PF, mask: F.arith & ~F.AF)
    }

    // SAR AL by 9 (count not masked below 32 for 8-bit operands): all sign bits, CF = sign.
    func testSar8ByMoreThanSize() {
        let m = TestMachine()
        m.set(.eax, 0x1234_5680); m.set(.ecx, 9)
        XCTAssertNil(m.step([0xD2, 0xF8]))                          // sar al, cl
        XCTAssertEqual(m.reg(.eax), 0x1234_56FF)
        XCTAssertEqual(m.flags & (F.CF | F.SF | F.ZF | F.PF), F.CF | F.SF | F.PF)
    }

    // 8-bit shifts, including a high-byte register.
    func testByteShifts() {
        let m = TestMachine()
        m.set(.eax, 0xAAAA_AA9C)
        XCTAssertNil(m.step([0xC0, 0xE8, 0x03]))                    // shr al, 3: 0x9C -> 0x13, CF = bit 2
        XCTAssertEqual(m.reg(.eax), 0xAAAA_AA13)
        XCTAssertEqual(m.flags & (F.CF | F.SF | F.ZF | F.PF), F.CF)
        m.set(.eax, 0x0000_4000)
        XCTAssertNil(m.step([0xD0, 0xE4]))                          // shl ah, 1: 0x40 -> 0x80
        XCTAssertEqual(m.reg(.eax), 0x0000_8000)
        assertFlags(m, F.SF | F.OF, mask: F.arith & ~F.AF)          // CF 0, OF = 1 ^ 0
    }

    // SHL of a memory dword.
    func testShlMemory() {
        let m = TestMachine()
        m.write32(0xC000_0000, at: 0x5000)
        XCTAssertNil(m.step([0xD1, 0x25, 0x00, 0x50, 0x00, 0x00]))  // shl dword [0x5000], 1
        XCTAssertEqual(m.read32(0x5000), 0x8000_0000)
        assertFlags(m, F.CF | F.SF | F.PF, mask: F.arith & ~F.AF)   // OF = 1 ^ 1 = 0
    }

    // ROL/ROR change only CF and OF (SF, ZF, AF, PF are unaffected); CF = LSB (ROL) / MSB (ROR).
    func testRotatesPreserveSZAP() {
        let m = TestMachine()
        m.set(.eax, 0x1234_5678); m.setFlags(F.ZF | F.SF | F.PF | F.AF)
        XCTAssertNil(m.step([0xC1, 0xC0, 0x04]))                    // rol eax, 4
        XCTAssertEqual(m.reg(.eax), 0x2345_6781)
        assertFlags(m, F.CF | F.ZF | F.SF | F.PF | F.AF, mask: F.arith & ~F.OF)

        m.set(.eax, 1); m.setFlags(F.ZF)
        XCTAssertNil(m.step([0xD1, 0xC8]))                          // ror eax, 1
        XCTAssertEqual(m.reg(.eax), 0x8000_0000)
        assertFlags(m, F.CF | F.OF | F.ZF)                          // OF = bit31 ^ bit30 = 1
    }

    // ROL AL, 8: the rotation is by 8 mod 8 = 0, but the masked count is not 0, so CF = LSB.
    func testRolByOperandSize() {
        let m = TestMachine()
        m.set(.eax, 0x81); m.setFlags(0)
        XCTAssertNil(m.step([0xC0, 0xC0, 0x08]))                    // rol al, 8
        XCTAssertEqual(m.reg(.eax), 0x81)
        XCTAssertEqual(m.flags & F.CF, F.CF)
    }

    // ROR word [mem], CL: 0x1234 by 4 -> 0x4123, CF = MSB = 0.
    func testRor16Memory() {
        let m = TestMachine()
        m.write32(0xEEEE_1234, at: 0x5000); m.set(.ecx, 4); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x66, 0xD3, 0x0D, 0x00, 0x50, 0x00, 0x00]))  // ror word [0x5000], cl
        XCTAssertEqual(m.read32(0x5000), 0xEEEE_4123)
        XCTAssertEqual(m.flags & F.CF, 0)
    }

    // RCL/RCR rotate through CF (a 33/17/9-bit rotation).
    func testRclRcrThroughCarry() {
        let m = TestMachine()
        m.set(.eax, 0x8000_0000); m.setFlags(F.CF)
        XCTAssertNil(m.step([0xD1, 0xD0]))                          // rcl eax, 1
        XCTAssertEqual(m.reg(.eax), 1)
        assertFlags(m, F.CF | F.OF)                                 // OF = MSB(0) ^ CF(1)

        m.set(.eax, 0x01); m.setFlags(F.CF)
        XCTAssertNil(m.step([0xD0, 0xD8]))                          // rcr al, 1
        XCTAssertEqual(m.reg(.eax), 0x80)
        assertFlags(m, F.CF | F.OF)                                 // OF = MSB(orig 0) ^ CF(1)
    }

    // RCL r/m8 rotates by (count & 31) mod 9: by 9 is the identity, by 10 is by 1.
    func testRcl8CountModNine() {
        let m = TestMachine()
        m.set(.eax, 0xA5); m.setFlags(F.CF)
        XCTAssertNil(m.step([0xC0, 0xD0, 0x09]))                    // rcl al, 9
        XCTAssertEqual(m.reg(.eax), 0xA5)
        XCTAssertEqual(m.flags & F.CF, F.CF)

        m.set(.eax, 0x80); m.setFlags(0)
        XCTAssertNil(m.step([0xC0, 0xD0, 0x0A]))                    // rcl al, 10 == rcl al, 1
        XCTAssertEqual(m.reg(.eax), 0x00)
        XCTAssertEqual(m.flags & F.CF, F.CF)
    }

    // RCR r/m16 rotates by (count & 31) mod 17: by 17 is the identity, by 18 is by 1.
    func testRcr16CountModSeventeen() {
        let m = TestMachine()
        m.set(.eax, 0xFFFF_8001); m.setFlags(0)
        XCTAssertNil(m.step([0x66, 0xC1, 0xD8, 0x11]))              // rcr ax, 17
        XCTAssertEqual(m.reg(.eax), 0xFFFF_8001)
        XCTAssertEqual(m.flags & F.CF, 0)
        XCTAssertNil(m.step([0x66, 0xC1, 0xD8, 0x12]))              // rcr ax, 18 == rcr ax, 1
        XCTAssertEqual(m.reg(.eax), 0xFFFF_4000)
        XCTAssertEqual(m.flags & F.CF, F.CF)
    }

    // RCL r/m32 by CL = 33: masked to 1.
    func testRcl32CountMasked() {
        let m = TestMachine()
        m.set(.eax, 0x4000_0000); m.set(.ecx, 33); m.setFlags(F.CF)
        XCTAssertNil(m.step([0xD3, 0xD0]))                          // rcl eax, cl
        XCTAssertEqual(m.reg(.eax), 0x8000_0001)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.OF)               // OF = MSB(1) ^ CF(0)
    }

    // SHLD: bits from the source fill from the right; CF = last bit shifted out of the destination.
    func testShld() {
        let m = TestMachine()
        m.set(.eax, 0x1234_5678); m.set(.ebx, 0x9ABC_DEF0)
        XCTAssertNil(m.step([0x0F, 0xA4, 0xD8, 0x04]))              // shld eax, ebx, 4
        XCTAssertEqual(m.reg(.eax), 0x2345_6789)
        XCTAssertEqual(m.reg(.ebx), 0x9ABC_DEF0)
        XCTAssertEqual(m.flags & (F.CF | F.SF | F.ZF | F.PF), F.CF)  // bit 28 of 0x12345678 is 1; 0x89 odd

        m.set(.eax, 0x4000_0000); m.set(.ebx, 0)
        XCTAssertNil(m.step([0x0F, 0xA4, 0xD8, 0x01]))              // shld eax, ebx, 1: sign change -> OF
        XCTAssertEqual(m.reg(.eax), 0x8000_0000)
        XCTAssertEqual(m.flags & (F.CF | F.OF | F.SF), F.OF | F.SF)
    }

    // SHRD by CL: bits from the source fill from the left; CF = bit (count-1) of the destination.
    func testShrd() {
        let m = TestMachine()
        m.set(.eax, 0x1234_5678); m.set(.ebx, 0x9ABC_DEF0); m.set(.ecx, 8)
        XCTAssertNil(m.step([0x0F, 0xAD, 0xD8]))                    // shrd eax, ebx, cl
        XCTAssertEqual(m.reg(.eax), 0xF012_3456)
        XCTAssertEqual(m.flags & (F.CF | F.SF | F.ZF | F.PF), F.SF | F.PF)  // bit 7 of 0x78 is 0; 0x56 even

        m.set(.eax, 0xFFFF_1234); m.set(.ebx, 0x0000_ABCD)
        XCTAssertNil(m.step([0x66, 0x0F, 0xAC, 0xD8, 0x04]))        // shrd ax, bx, 4
        XCTAssertEqual(m.reg(.eax), 0xFFFF_D123)
        XCTAssertEqual(m.flags & (F.CF | F.SF | F.ZF | F.PF), F.SF)
    }
}
