// ALUTests: ADD/ADC/SUB/SBB/CMP/AND/OR/XOR/INC/DEC/NEG/NOT, SETcc and CMOVcc, with hand-checked flags.
import XCTest
import X86CPU

/// Assert the arithmetic flags selected by `mask` (all six by default) are exactly `expected`.
func assertFlags(_ m: TestMachine, _ expected: UInt32, mask: UInt32 = F.arith,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(F.names(m.flags & mask), F.names(expected & mask), "flags", file: file, line: line)
}

final class ALUTests: XCTestCase {
    // ADD: 0x7FFFFFFF + 1 overflows signed (OF), no unsigned carry; AF from bit 3; PF of low byte 0x00.
    func testAddSignedOverflow() {
        let m = TestMachine()
        m.set(.eax, 0x7FFF_FFFF); m.set(.ebx, 1)
        XCTAssertNil(m.step([0x01, 0xD8]))                          // add eax, ebx
        XCTAssertEqual(m.reg(.eax), 0x8000_0000)
        assertFlags(m, F.PF | F.AF | F.SF | F.OF)
        XCTAssertEqual(m.cpu.eip, 0x1002)
    }

    // ADD: 0xFFFFFFFF + 1 = 0 with carry out (CF), ZF, no signed overflow.
    func testAddUnsignedCarry() {
        let m = TestMachine()
        m.set(.eax, 0xFFFF_FFFF); m.set(.ebx, 1)
        XCTAssertNil(m.step([0x01, 0xD8]))                          // add eax, ebx
        XCTAssertEqual(m.reg(.eax), 0)
        assertFlags(m, F.CF | F.PF | F.AF | F.ZF)
    }

    // SUB: 0 - 1 borrows (CF), result 0xFFFFFFFF (SF, PF of 0xFF), borrow out of bit 3 (AF).
    func testSubBorrow() {
        let m = TestMachine()
        m.set(.eax, 0); m.set(.ebx, 1)
        XCTAssertNil(m.step([0x29, 0xD8]))                          // sub eax, ebx
        XCTAssertEqual(m.reg(.eax), 0xFFFF_FFFF)
        assertFlags(m, F.CF | F.PF | F.AF | F.SF)
    }

    // SUB: 0x80000000 - 1 = 0x7FFFFFFF overflows signed (OF), no borrow.
    func testSubSignedOverflow() {
        let m = TestMachine()
        m.set(.eax, 0x8000_0000); m.set(.ebx, 1)
        XCTAssertNil(m.step([0x29, 0xD8]))                          // sub eax, ebx
        XCTAssertEqual(m.reg(.eax), 0x7FFF_FFFF)
        assertFlags(m, F.PF | F.AF | F.OF)
    }

    // CMP sets flags as SUB but does not write the destination.
    func testCmpLeavesDestination() {
        let m = TestMachine()
        m.set(.eax, 3); m.set(.ebx, 5)
        XCTAssertNil(m.step([0x39, 0xD8]))                          // cmp eax, ebx
        XCTAssertEqual(m.reg(.eax), 3)
        assertFlags(m, F.CF | F.AF | F.SF)                          // 3-5 = 0xFFFFFFFE: PF odd (7 bits)
    }

    // ADD then ADC: a 64-bit addition carries from the low dword into the high dword.
    func testAdcCarryChain() {
        let m = TestMachine()
        m.set(.eax, 0xFFFF_FFFF); m.set(.edx, 1)                    // 0x00000001_FFFFFFFF
        m.set(.ebx, 1); m.set(.ecx, 2)                              // 0x00000002_00000001
        XCTAssertNil(m.step([0x01, 0xD8]))                          // add eax, ebx
        XCTAssertNil(m.step([0x11, 0xCA]))                          // adc edx, ecx
        XCTAssertEqual(m.reg(.eax), 0)
        XCTAssertEqual(m.reg(.edx), 4)
        assertFlags(m, 0)                                           // 4: PF odd, AF (1^2^4) bit 4 clear
    }

    // ADC with CF=1: 0 + 0xFFFFFFFF + 1 = 0 carries (CF=1) although result == first operand.
    func testAdcWithCarryInWrapsToSame() {
        let m = TestMachine()
        m.set(.eax, 0); m.set(.ebx, 0xFFFF_FFFF); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x11, 0xD8]))                          // adc eax, ebx
        XCTAssertEqual(m.reg(.eax), 0)
        assertFlags(m, F.CF | F.PF | F.AF | F.ZF)
    }

    // SUB then SBB: a 64-bit subtraction borrows from the high dword.
    func testSbbBorrowChain() {
        let m = TestMachine()
        m.set(.eax, 0); m.set(.edx, 1)                              // 0x00000001_00000000
        m.set(.ebx, 1); m.set(.ecx, 0)                              // - 1
        XCTAssertNil(m.step([0x29, 0xD8]))                          // sub eax, ebx
        XCTAssertNil(m.step([0x19, 0xCA]))                          // sbb edx, ecx
        XCTAssertEqual(m.reg(.eax), 0xFFFF_FFFF)
        XCTAssertEqual(m.reg(.edx), 0)
        assertFlags(m, F.PF | F.ZF)
    }

    // SBB with CF=1: 0 - 0xFFFFFFFF - 1 = 0 borrows (CF=1) although the operands' difference wraps to 0.
    func testSbbWithBorrowInWrapsToZero() {
        let m = TestMachine()
        m.set(.eax, 0); m.set(.ebx, 0xFFFF_FFFF); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x19, 0xD8]))                          // sbb eax, ebx
        XCTAssertEqual(m.reg(.eax), 0)
        assertFlags(m, F.CF | F.PF | F.AF | F.ZF)
    }

    // ADC AH, BH: 8-bit high registers; 0x80 + 0x80 + 1 = 0x101 -> AH = 0x01, CF, OF; other bytes intact.
    func testAdcHighByteRegisters() {
        let m = TestMachine()
        m.set(.eax, 0x1122_8033); m.set(.ebx, 0x5566_8044); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x10, 0xFC]))                          // adc ah, bh
        XCTAssertEqual(m.reg(.eax), 0x1122_0133)
        XCTAssertEqual(m.reg(.ebx), 0x5566_8044)
        assertFlags(m, F.CF | F.OF)
    }

    // SBB BH, AH: 8-bit high registers as destination; 0x10 - 0x20 - 1 = 0xEF with borrow.
    func testSbbHighByteDestination() {
        let m = TestMachine()
        m.set(.eax, 0x0000_2000); m.set(.ebx, 0xAAAA_10BB); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x18, 0xE7]))                          // sbb bh, ah
        XCTAssertEqual(m.reg(.ebx), 0xAAAA_EFBB)
        assertFlags(m, F.CF | F.AF | F.SF)                          // 0xEF: 7 bits set -> PF clear; 0-0-1 nibble borrow
    }

    // 16-bit ADD (0x66): flags from bit 15/16; the upper half of EAX is untouched.
    func testAdd16KeepsUpperHalf() {
        let m = TestMachine()
        m.set(.eax, 0x1234_FFFF); m.set(.ebx, 0xABCD_0001)
        XCTAssertNil(m.step([0x66, 0x01, 0xD8]))                    // add ax, bx
        XCTAssertEqual(m.reg(.eax), 0x1234_0000)
        assertFlags(m, F.CF | F.PF | F.AF | F.ZF)
        XCTAssertEqual(m.cpu.eip, 0x1003)
    }

    // ADD to a memory destination: 0x80000000 + 0x80000000 = 0, CF and OF.
    func testAddMemoryDestination() {
        let m = TestMachine()
        m.write32(0x8000_0000, at: 0x5000); m.set(.eax, 0x8000_0000)
        XCTAssertNil(m.step([0x01, 0x05, 0x00, 0x50, 0x00, 0x00]))  // add [0x5000], eax
        XCTAssertEqual(m.read32(0x5000), 0)
        XCTAssertEqual(m.reg(.eax), 0x8000_0000)
        assertFlags(m, F.CF | F.PF | F.ZF | F.OF)
    }

    // ADC word to memory: 0x7FFF + 0 + CF = 0x8000 (OF, SF, AF); the byte after the word is untouched.
    func testAdc16MemoryDestination() {
        let m = TestMachine()
        m.write32(0x5A5A_7FFF, at: 0x5000); m.set(.eax, 0xFFFF_0000); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x66, 0x11, 0x05, 0x00, 0x50, 0x00, 0x00]))  // adc [0x5000], ax
        XCTAssertEqual(m.read32(0x5000), 0x5A5A_8000)
        assertFlags(m, F.PF | F.AF | F.SF | F.OF)
    }

    // SUB word [mem], imm8 sign-extended: 0 - 1 = 0xFFFF with borrow.
    func testSub16MemoryImm8() {
        let m = TestMachine()
        m.write32(0x1234_0000, at: 0x5000)
        XCTAssertNil(m.step([0x66, 0x83, 0x2D, 0x00, 0x50, 0x00, 0x00, 0x01]))  // sub word [0x5000], 1
        XCTAssertEqual(m.read32(0x5000), 0x1234_FFFF)
        assertFlags(m, F.CF | F.PF | F.AF | F.SF)
    }

    // ADD r/m32, imm8 sign-extends the immediate: 1 + (-1) = 0 with carry.
    func testAddSignExtendedImm8() {
        let m = TestMachine()
        m.set(.eax, 1)
        XCTAssertNil(m.step([0x83, 0xC0, 0xFF]))                    // add eax, -1
        XCTAssertEqual(m.reg(.eax), 0)
        assertFlags(m, F.CF | F.PF | F.AF | F.ZF)
    }

    // Logical instructions clear CF and OF and set SF/ZF/PF from the result (AF undefined).
    func testLogicalClearsCFandOF() {
        let m = TestMachine()
        m.set(.eax, 0x1234_5678); m.setFlags(F.CF | F.OF | F.SF)
        XCTAssertNil(m.step([0x31, 0xC0]))                          // xor eax, eax
        XCTAssertEqual(m.reg(.eax), 0)
        assertFlags(m, F.ZF | F.PF, mask: F.arith & ~F.AF)

        m.set(.ebx, 0x8765_4321); m.setFlags(F.CF | F.OF)
        XCTAssertNil(m.step([0x81, 0xE3, 0x00, 0xFF, 0x00, 0xFF]))  // and ebx, 0xFF00FF00
        XCTAssertEqual(m.reg(.ebx), 0x8700_4300)
        assertFlags(m, F.SF | F.PF, mask: F.arith & ~F.AF)          // low byte 0x00: even parity

        m.write32(0x0000_0001, at: 0x5000)
        XCTAssertNil(m.step([0x80, 0x0D, 0x00, 0x50, 0x00, 0x00, 0x80]))  // or byte [0x5000], 0x80
        XCTAssertEqual(m.read32(0x5000), 0x81)
        assertFlags(m, F.SF | F.PF, mask: F.arith & ~F.AF)
    }

    // TEST is AND without writing: ZF when no common bits.
    func testTestDoesNotWrite() {
        let m = TestMachine()
        m.set(.eax, 0xF0F0_F0F0); m.set(.ebx, 0x0F0F_0F0F); m.setFlags(F.CF | F.OF)
        XCTAssertNil(m.step([0x85, 0xD8]))                          // test eax, ebx
        XCTAssertEqual(m.reg(.eax), 0xF0F0_F0F0)
        assertFlags(m, F.ZF | F.PF, mask: F.arith & ~F.AF)
    }

    // INC/DEC do not affect CF (SDM: "The CF flag is not affected").
    func testIncDecPreserveCF() {
        let m = TestMachine()
        m.set(.eax, 0xFFFF_FFFF); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x40]))                                // inc eax
        XCTAssertEqual(m.reg(.eax), 0)
        assertFlags(m, F.CF | F.PF | F.AF | F.ZF)

        m.set(.eax, 0x7FFF_FFFF); m.setFlags(0)
        XCTAssertNil(m.step([0x40]))                                // inc eax
        XCTAssertEqual(m.reg(.eax), 0x8000_0000)
        assertFlags(m, F.PF | F.AF | F.SF | F.OF)

        m.set(.ecx, 0); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x49]))                                // dec ecx
        XCTAssertEqual(m.reg(.ecx), 0xFFFF_FFFF)
        assertFlags(m, F.CF | F.PF | F.AF | F.SF)

        m.set(.ecx, 0x8000_0000); m.setFlags(0)
        XCTAssertNil(m.step([0x49]))                                // dec ecx
        XCTAssertEqual(m.reg(.ecx), 0x7FFF_FFFF)
        assertFlags(m, F.PF | F.AF | F.OF)
    }

    // INC byte [mem]: 0x7F -> 0x80 sets OF, SF, AF; CF (set before) is preserved.
    func testIncByteMemory() {
        let m = TestMachine()
        m.write32(0x1111_117F, at: 0x5000); m.setFlags(F.CF)
        XCTAssertNil(m.step([0xFE, 0x05, 0x00, 0x50, 0x00, 0x00]))  // inc byte [0x5000]
        XCTAssertEqual(m.read32(0x5000), 0x1111_1180)
        assertFlags(m, F.CF | F.AF | F.SF | F.OF)
    }

    // NEG: CF = (source != 0); NEG of the most negative value overflows.
    func testNeg() {
        let m = TestMachine()
        m.set(.eax, 0); m.setFlags(F.CF)
        XCTAssertNil(m.step([0xF7, 0xD8]))                          // neg eax
        XCTAssertEqual(m.reg(.eax), 0)
        assertFlags(m, F.PF | F.ZF)

        m.set(.eax, 5)
        XCTAssertNil(m.step([0xF7, 0xD8]))                          // neg eax
        XCTAssertEqual(m.reg(.eax), 0xFFFF_FFFB)
        assertFlags(m, F.CF | F.AF | F.SF)                          // 0xFB: 7 bits -> PF clear

        m.set(.eax, 0x8000_0000)
        XCTAssertNil(m.step([0xF7, 0xD8]))                          // neg eax
        XCTAssertEqual(m.reg(.eax), 0x8000_0000)
        assertFlags(m, F.CF | F.PF | F.SF | F.OF)

        m.set(.eax, 0x1234_5680)
        XCTAssertNil(m.step([0xF6, 0xD8]))                          // neg al
        XCTAssertEqual(m.reg(.eax), 0x1234_5680)
        assertFlags(m, F.CF | F.SF | F.OF)                          // 0x80: one bit -> PF clear
    }

    // NOT affects no flags.
    func testNotLeavesFlags() {
        let m = TestMachine()
        m.set(.eax, 0x0F0F_0000); m.setFlags(F.CF | F.ZF | F.OF)
        XCTAssertNil(m.step([0xF7, 0xD0]))                          // not eax
        XCTAssertEqual(m.reg(.eax), 0xF0F0_FFFF)
        assertFlags(m, F.CF | F.ZF | F.OF)
    }

    // CMP AL, imm8: 3 - 5 borrows.
    func testCmpALImm8() {
        let m = TestMachine()
        m.set(.eax, 0xFFFF_FF03)
        XCTAssertNil(m.step([0x3C, 0x05]))                          // cmp al, 5
        assertFlags(m, F.CF | F.AF | F.SF)                          // 0xFE: 7 bits -> PF clear
    }

    // SETcc after a 32-bit CMP of 1 and 2: below and less.
    func testSetccAfterCmpSmall() {
        let m = TestMachine()
        m.set(.eax, 1); m.set(.ebx, 2)
        XCTAssertNil(m.step([0x39, 0xD8]))                          // cmp eax, ebx
        let cases: [([UInt8], UInt32)] = [
            ([0x0F, 0x9C, 0xC1], 1),   // setl cl
            ([0x0F, 0x9F, 0xC1], 0),   // setg cl
            ([0x0F, 0x92, 0xC1], 1),   // setb cl
            ([0x0F, 0x97, 0xC1], 0),   // seta cl
            ([0x0F, 0x9E, 0xC1], 1),   // setle cl
        ]
        for (bytes, want) in cases {
            m.set(.ecx, 0xAAAA_AAAA)
            XCTAssertNil(m.step(bytes))
            XCTAssertEqual(m.reg(.ecx), 0xAAAA_AA00 | want, "\(bytes)")
        }
    }

    // SETcc after CMP 0x80000000, 1: signed less (SF != OF), unsigned above.
    func testSetccSignedVsUnsigned() {
        let m = TestMachine()
        m.set(.eax, 0x8000_0000); m.set(.ebx, 1)
        XCTAssertNil(m.step([0x39, 0xD8]))                          // cmp eax, ebx
        let cases: [([UInt8], UInt32)] = [
            ([0x0F, 0x9C, 0xC1], 1), ([0x0F, 0x9F, 0xC1], 0),      // setl, setg
            ([0x0F, 0x92, 0xC1], 0), ([0x0F, 0x97, 0xC1], 1),      // setb, seta
        ]
        for (bytes, want) in cases {
            XCTAssertNil(m.step(bytes))
            XCTAssertEqual(m.reg(.ecx) & 0xFF, want, "\(bytes)")
        }
        // 8-bit compare 0x80 vs 0x01: 0x7F, OF set -> less; unsigned not below.
        m.set(.eax, 0x80); m.set(.ebx, 0x01)
        XCTAssertNil(m.step([0x38, 0xD8]))                          // cmp al, bl
        XCTAssertNil(m.step([0x0F, 0x9C, 0xC1])); XCTAssertEqual(m.reg(.ecx) & 0xFF, 1)   // setl cl
        XCTAssertNil(m.step([0x0F, 0x92, 0xC1])); XCTAssertEqual(m.reg(.ecx) & 0xFF, 0)   // setb cl
        XCTAssertNil(m.step([0x0F, 0x9A, 0xC2])); XCTAssertEqual(m.reg(.edx) & 0xFF, 0)   // setp dl: 0x7F has 7 bits
    }

    // SETcc to memory writes exactly one byte.
    func testSetccMemory() {
        let m = TestMachine()
        m.write32(0xFFFF_FFFF, at: 0x5000)
        m.setFlags(F.ZF)
        XCTAssertNil(m.step([0x0F, 0x94, 0x05, 0x00, 0x50, 0x00, 0x00]))  // sete [0x5000]
        XCTAssertEqual(m.read32(0x5000), 0xFFFF_FF01)
    }

    // CMOVcc moves only when the condition holds; the 16-bit form touches only the low word.
    func testCmov() {
        let m = TestMachine()
        m.set(.eax, 1); m.set(.ebx, 2); m.setFlags(0)
        XCTAssertNil(m.step([0x0F, 0x44, 0xC3]))                    // cmove eax, ebx (ZF=0)
        XCTAssertEqual(m.reg(.eax), 1)
        XCTAssertNil(m.step([0x0F, 0x45, 0xC3]))                    // cmovne eax, ebx
        XCTAssertEqual(m.reg(.eax), 2)

        m.set(.eax, 0x1111_1111); m.set(.ebx, 0x2222_3333); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x66, 0x0F, 0x46, 0xC3]))              // cmovbe ax, bx
        XCTAssertEqual(m.reg(.eax), 0x1111_3333)

        m.write32(0xCAFE_F00D, at: 0x5000); m.setFlags(F.SF)        // SF != OF: less
        XCTAssertNil(m.step([0x0F, 0x4C, 0x05, 0x00, 0x50, 0x00, 0x00]))  // cmovl eax, [0x5000]
        XCTAssertEqual(m.reg(.eax), 0xCAFE_F00D)
        m.set(.ecx, 7); m.setFlags(F.SF)
        XCTAssertNil(m.step([0x0F, 0x4F, 0xC1]))                    // cmovg eax, ecx (not greater)
        XCTAssertEqual(m.reg(.eax), 0xCAFE_F00D)
    }
}
