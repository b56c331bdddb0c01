// BCDTests: DAA, DAS, AAA, AAS, AAM, AAD per the SDM pseudocode.
import XCTest
import X86CPU

final class BCDTests: XCTestCase {
    // 79 + 35 = 114 BCD: ADD gives 0xAE, DAA adjusts to 0x14 with CF = AF = 1.
    func testDaa() {
        let m = TestMachine()
        m.set(.eax, 0x79)
        XCTAssertNil(m.step([0x04, 0x35]))                          // add al, 0x35
        XCTAssertNil(m.step([0x27]))                                // daa
        XCTAssertEqual(m.reg(.eax), 0x14)
        XCTAssertEqual(m.flags & (F.CF | F.AF), F.CF | F.AF)
    }

    // 35 - 47 = -12 BCD: SUB gives 0xEE (CF, AF), DAS adjusts to 0x88 with CF = 1.
    func testDas() {
        let m = TestMachine()
        m.set(.eax, 0x35)
        XCTAssertNil(m.step([0x2C, 0x47]))                          // sub al, 0x47
        XCTAssertNil(m.step([0x2F]))                                // das
        XCTAssertEqual(m.reg(.eax), 0x88)
        XCTAssertEqual(m.flags & (F.CF | F.AF), F.CF | F.AF)
    }

    // Unpacked 9 + 8: AL = 0x11 with AF; AAA gives AX = 0x0107, CF = AF = 1.
    func testAaa() {
        let m = TestMachine()
        m.set(.eax, 0x0009)
        XCTAssertNil(m.step([0x04, 0x08]))                          // add al, 8
        XCTAssertNil(m.step([0x37]))                                // aaa
        XCTAssertEqual(m.reg(.eax), 0x0107)
        XCTAssertEqual(m.flags & (F.CF | F.AF), F.CF | F.AF)
    }

    // Unpacked 12 - 5: AX = 0x0102, SUB AL gives 0xFD with AF; AAS gives AX = 0x0007, CF = AF = 1.
    func testAas() {
        let m = TestMachine()
        m.set(.eax, 0x0102)
        XCTAssertNil(m.step([0x2C, 0x05]))                          // sub al, 5
        XCTAssertNil(m.step([0x3F]))                                // aas
        XCTAssertEqual(m.reg(.eax), 0x0007)
        XCTAssertEqual(m.flags & (F.CF | F.AF), F.CF | F.AF)
    }

    // AAM 10: AH = AL / 10, AL = AL mod 10; SF ZF PF from AL. AAD 10: AL = AH * 10 + AL, AH = 0.
    func testAamAad() {
        let m = TestMachine()
        m.set(.eax, 0xFFFF_003F)                                    // 63
        XCTAssertNil(m.step([0xD4, 0x0A]))                          // aam
        XCTAssertEqual(m.reg(.eax), 0xFFFF_0603)
        XCTAssertEqual(m.flags & (F.SF | F.ZF | F.PF), F.PF)
        XCTAssertNil(m.step([0xD5, 0x0A]))                          // aad
        XCTAssertEqual(m.reg(.eax), 0xFFFF_003F)
    }

    // AAM 0 raises #DE.
    func testAamZeroIsDE() {
        let m = TestMachine()
        m.set(.eax, 0x3F)
        XCTAssertEqual(m.step([0xD4, 0x00])?.vector, Fault.de)
        XCTAssertEqual(m.reg(.eax), 0x3F); XCTAssertEqual(m.cpu.eip, 0x1000)
    }
}
