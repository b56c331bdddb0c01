// MulDivTests: MUL, IMUL (one, two, three operands), DIV, IDIV and #DE (divide by zero, quotient overflow).
import XCTest
import X86CPU

final class MulDivTests: XCTestCase {
    // MUL r/m32: EDX:EAX = EAX * src; CF = OF = (EDX != 0).
    func testMul32() {
        let m = TestMachine()
        m.set(.eax, 0x8000_0000); m.set(.ebx, 4)
        XCTAssertNil(m.step([0xF7, 0xE3]))                          // mul ebx
        XCTAssertEqual(m.reg(.eax), 0); XCTAssertEqual(m.reg(.edx), 2)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.CF | F.OF)
        m.set(.eax, 3); m.set(.ebx, 5)
        XCTAssertNil(m.step([0xF7, 0xE3]))
        XCTAssertEqual(m.reg(.eax), 15); XCTAssertEqual(m.reg(.edx), 0)
        XCTAssertEqual(m.flags & (F.CF | F.OF), 0)
    }

    // MUL r/m8: AX = AL * src; the upper half of EAX is untouched; CF = OF = (AH != 0).
    func testMul8() {
        let m = TestMachine()
        m.set(.eax, 0xAABB_0010); m.set(.ebx, 0x10)
        XCTAssertNil(m.step([0xF6, 0xE3]))                          // mul bl
        XCTAssertEqual(m.reg(.eax), 0xAABB_0100)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.CF | F.OF)
        m.set(.eax, 0x1234_FF02); m.set(.ebx, 3)
        XCTAssertNil(m.step([0xF6, 0xE3]))
        XCTAssertEqual(m.reg(.eax), 0x1234_0006)
        XCTAssertEqual(m.flags & (F.CF | F.OF), 0)
    }

    // MUL r/m16: DX:AX = AX * src; upper halves of EAX and EDX are untouched.
    func testMul16() {
        let m = TestMachine()
        m.set(.eax, 0x1111_FFFF); m.set(.ebx, 0x2222_FFFF); m.set(.edx, 0x3333_0000)
        XCTAssertNil(m.step([0x66, 0xF7, 0xE3]))                    // mul bx
        XCTAssertEqual(m.reg(.eax), 0x1111_0001); XCTAssertEqual(m.reg(.edx), 0x3333_FFFE)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.CF | F.OF)
    }

    // IMUL r/m: signed; CF = OF = the product does not fit the low half (sign-extended).
    func testImulOneOperand() {
        let m = TestMachine()
        m.set(.eax, 0xFFFF_FFFE); m.set(.ebx, 3)                    // -2 * 3
        XCTAssertNil(m.step([0xF7, 0xEB]))                          // imul ebx
        XCTAssertEqual(m.reg(.eax), 0xFFFF_FFFA); XCTAssertEqual(m.reg(.edx), 0xFFFF_FFFF)
        XCTAssertEqual(m.flags & (F.CF | F.OF), 0)
        m.set(.eax, 0x4000_0000); m.set(.ebx, 4)
        XCTAssertNil(m.step([0xF7, 0xEB]))
        XCTAssertEqual(m.reg(.eax), 0); XCTAssertEqual(m.reg(.edx), 1)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.CF | F.OF)
        m.set(.eax, 0x0000_0080); m.set(.ebx, 0xFF)                 // -128 * -1 = 128: not an int8
        XCTAssertNil(m.step([0xF6, 0xEB]))                          // imul bl
        XCTAssertEqual(m.reg(.eax), 0x0000_0080)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.CF | F.OF)
    }

    // IMUL r, r/m: truncated product; CF = OF on signed overflow.
    func testImulTwoOperand() {
        let m = TestMachine()
        m.set(.eax, 0x10000); m.set(.ebx, 0x10000)
        XCTAssertNil(m.step([0x0F, 0xAF, 0xC3]))                    // imul eax, ebx
        XCTAssertEqual(m.reg(.eax), 0)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.CF | F.OF)
        m.set(.eax, 0xFFFF_FFFD); m.set(.ebx, 7)                    // -3 * 7
        XCTAssertNil(m.step([0x0F, 0xAF, 0xC3]))
        XCTAssertEqual(m.reg(.eax), 0xFFFF_FFEB)
        XCTAssertEqual(m.flags & (F.CF | F.OF), 0)
    }

    // IMUL r, r/m, imm: imm8 sign-extended; 0x8000 * 0x10000 = 2^31 overflows int32; 16-bit form.
    func testImulThreeOperand() {
        let m = TestMachine()
        m.set(.ebx, 5)
        XCTAssertNil(m.step([0x6B, 0xC3, 0xFD]))                    // imul eax, ebx, -3
        XCTAssertEqual(m.reg(.eax), 0xFFFF_FFF1)
        XCTAssertEqual(m.flags & (F.CF | F.OF), 0)
        m.set(.ebx, 0x8000)
        XCTAssertNil(m.step([0x69, 0xC3, 0x00, 0x00, 0x01, 0x00]))  // imul eax, ebx, 0x10000
        XCTAssertEqual(m.reg(.eax), 0x8000_0000)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.CF | F.OF)
        m.set(.eax, 0x5555_5555); m.set(.ebx, 0x4000)
        XCTAssertNil(m.step([0x66, 0x6B, 0xC3, 0x02]))              // imul ax, bx, 2
        XCTAssertEqual(m.reg(.eax), 0x5555_8000)
        XCTAssertEqual(m.flags & (F.CF | F.OF), F.CF | F.OF)
    }

    // DIV r/m32: EDX:EAX / src -> EAX quotient, EDX remainder.
    func testDiv32() {
        let m = TestMachine()
        m.set(.edx, 1); m.set(.eax, 5); m.set(.ebx, 2)
        XCTAssertNil(m.step([0xF7, 0xF3]))                          // div ebx
        XCTAssertEqual(m.reg(.eax), 0x8000_0002); XCTAssertEqual(m.reg(.edx), 1)
    }

    // DIV r/m8: AX / src -> AL quotient, AH remainder.
    func testDiv8() {
        let m = TestMachine()
        m.set(.eax, 0xCCCC_0107); m.set(.ebx, 0x10)               // 263 / 16
        XCTAssertNil(m.step([0xF6, 0xF3]))                          // div bl
        XCTAssertEqual(m.reg(.eax), 0xCCCC_0710)
    }

    // DIV r/m16: DX:AX / src; upper halves untouched.
    func testDiv16() {
        let m = TestMachine()
        m.set(.edx, 0xAAAA_0001); m.set(.eax, 0xBBBB_0000); m.set(.ebx, 0x0100)
        XCTAssertNil(m.step([0x66, 0xF7, 0xF3]))                    // div bx
        XCTAssertEqual(m.reg(.eax), 0xBBBB_0100); XCTAssertEqual(m.reg(.edx), 0xAAAA_0000)
    }

    // IDIV truncates toward zero; the remainder has the sign of the dividend.
    func testIdiv() {
        let m = TestMachine()
        m.set(.edx, 0xFFFF_FFFF); m.set(.eax, 0xFFFF_FFF9); m.set(.ebx, 2)   // -7 / 2
        XCTAssertNil(m.step([0xF7, 0xFB]))                          // idiv ebx
        XCTAssertEqual(m.reg(.eax), 0xFFFF_FFFD); XCTAssertEqual(m.reg(.edx), 0xFFFF_FFFF)
        m.set(.eax, 0x0000_FF80); m.set(.ebx, 2)                    // -128 / 2
        XCTAssertNil(m.step([0xF6, 0xFB]))                          // idiv bl
        XCTAssertEqual(m.reg(.eax), 0x0000_00C0)
        m.set(.edx, 0x7777_FFFF); m.set(.eax, 0x6666_FC18); m.set(.ebx, 7)   // -1000 / 7
        XCTAssertNil(m.step([0x66, 0xF7, 0xFB]))                    // idiv bx
        XCTAssertEqual(m.reg(.eax), 0x6666_FF72); XCTAssertEqual(m.reg(.edx), 0x7777_FFFA)
    }

    // IDIV quotients at the negative limit are representable: -256 / 2 = -128, -2^32 / 2 = -2^31.
    func testIdivNegativeLimit() {
        let m = TestMachine()
        m.set(.eax, 0xFF00); m.set(.ebx, 2)
        XCTAssertNil(m.step([0xF6, 0xFB]))                          // idiv bl
        XCTAssertEqual(m.reg(.eax) & 0xFFFF, 0x0080)
        m.set(.edx, 0xFFFF_FFFF); m.set(.eax, 0); m.set(.ebx, 2)
        XCTAssertNil(m.step([0xF7, 0xFB]))                          // idiv ebx
        XCTAssertEqual(m.reg(.eax), 0x8000_0000); XCTAssertEqual(m.reg(.edx), 0)
    }

    /// Run `bytes` expecting #DE with EIP, EAX, EDX and flags unchanged.
    func expectDE(_ m: TestMachine, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let eax = m.reg(.eax), edx = m.reg(.edx), fl = m.cpu.eflags
        let f = m.step(bytes)
        XCTAssertEqual(f?.vector, 0, "#DE expected", file: file, line: line)
        XCTAssertNil(f?.errorCode, "#DE has no error code", file: file, line: line)
        XCTAssertEqual(m.cpu.eip, 0x1000, file: file, line: line)
        XCTAssertEqual(m.reg(.eax), eax, file: file, line: line)
        XCTAssertEqual(m.reg(.edx), edx, file: file, line: line)
        XCTAssertEqual(m.cpu.eflags, fl, file: file, line: line)
    }

    // DIV/IDIV by zero raise #DE (a fault: EIP at the instruction, registers unchanged).
    func testDivideByZero() {
        let m = TestMachine()
        m.set(.eax, 1234); m.set(.edx, 0); m.set(.ebx, 0); m.setFlags(F.ZF)
        expectDE(m, [0xF7, 0xF3])                                   // div ebx
        expectDE(m, [0xF6, 0xF3])                                   // div bl
        expectDE(m, [0xF7, 0xFB])                                   // idiv ebx
        m.write32(0, at: 0x5000)
        expectDE(m, [0xF7, 0x35, 0x00, 0x50, 0x00, 0x00])           // div dword [0x5000]
    }

    // A quotient too large for the destination raises #DE and changes nothing.
    func testQuotientOverflow() {
        let m = TestMachine()
        m.set(.edx, 2); m.set(.eax, 0); m.set(.ebx, 2)              // 2^33 / 2 = 2^32
        expectDE(m, [0xF7, 0xF3])                                   // div ebx
        m.set(.eax, 0x1000); m.set(.ebx, 0x10)                      // 4096 / 16 = 256 > 255
        expectDE(m, [0xF6, 0xF3])                                   // div bl
        m.set(.edx, 0xFFFF_FFFF); m.set(.eax, 0x8000_0000); m.set(.ebx, 0xFFFF_FFFF)   // -2^31 / -1
        expectDE(m, [0xF7, 0xFB])                                   // idiv ebx
        m.set(.edx, 0); m.set(.eax, 0xFF80); m.set(.ebx, 0xFF)     // -128 / -1 = 128
        expectDE(m, [0xF6, 0xFB])                                   // idiv bl
        m.set(.edx, 0); m.set(.eax, 0x8000_0000); m.set(.ebx, 1)    // +2^31 / 1 does not fit int32
        expectDE(m, [0xF7, 0xFB])                                   // idiv ebx
    }
}
