// BitTests: BT/BTS/BTR/BTC (register, immediate, memory bit strings), BSF/BSR, BSWAP, XADD, CMPXCHG, CMPXCHG8B.
import XCTest
import X86CPU

final class BitTests: XCTestCase {
    // BT with a register base: the offset is taken modulo 32; CF = the selected bit.
    func testBtRegister() {
        let m = TestMachine()
        m.set(.eax, 0x10); m.set(.ebx, 4)
        XCTAssertNil(m.step([0x0F, 0xA3, 0xD8]))                    // bt eax, ebx
        XCTAssertEqual(m.flags & F.CF, F.CF)
        m.set(.ebx, 36)
        XCTAssertNil(m.step([0x0F, 0xA3, 0xD8]))                    // bit 36 mod 32 = 4
        XCTAssertEqual(m.flags & F.CF, F.CF)
        m.set(.ebx, 5)
        XCTAssertNil(m.step([0x0F, 0xA3, 0xD8]))
        XCTAssertEqual(m.flags & F.CF, 0)
        XCTAssertEqual(m.reg(.eax), 0x10)
    }

    // BTS/BTR/BTC store the old bit in CF and set/clear/complement it.
    func testBtsBtrBtc() {
        let m = TestMachine()
        m.set(.ecx, 0); m.setFlags(F.CF)
        XCTAssertNil(m.step([0x0F, 0xBA, 0xE9, 0x1F]))              // bts ecx, 31
        XCTAssertEqual(m.reg(.ecx), 0x8000_0000); XCTAssertEqual(m.flags & F.CF, 0)
        m.set(.ecx, 1)
        XCTAssertNil(m.step([0x0F, 0xBA, 0xF1, 0x00]))              // btr ecx, 0
        XCTAssertEqual(m.reg(.ecx), 0); XCTAssertEqual(m.flags & F.CF, F.CF)
        m.set(.ecx, 8); m.set(.ebx, 3)
        XCTAssertNil(m.step([0x0F, 0xBB, 0xD9]))                    // btc ecx, ebx
        XCTAssertEqual(m.reg(.ecx), 0); XCTAssertEqual(m.flags & F.CF, F.CF)
        XCTAssertNil(m.step([0x0F, 0xBB, 0xD9]))                    // btc again sets it
        XCTAssertEqual(m.reg(.ecx), 8); XCTAssertEqual(m.flags & F.CF, 0)
    }

    // BT m32, r32 addresses a bit string: offset -1 is bit 31 of the dword before the operand.
    func testBitStringNegativeOffset() {
        let m = TestMachine()
        m.write32(0x8000_0000, at: 0x500C)
        m.set(.eax, 0xFFFF_FFFF)                                    // -1
        XCTAssertNil(m.step([0x0F, 0xA3, 0x05, 0x10, 0x50, 0x00, 0x00]))  // bt [0x5010], eax
        XCTAssertEqual(m.flags & F.CF, F.CF)

        // -33: dword at 0x5010 + 4 * floor(-33 / 32) = 0x5008, bit (-33 & 31) = 31
        m.set(.eax, UInt32(bitPattern: -33))
        XCTAssertNil(m.step([0x0F, 0xAB, 0x05, 0x10, 0x50, 0x00, 0x00]))  // bts [0x5010], eax
        XCTAssertEqual(m.flags & F.CF, 0)
        XCTAssertEqual(m.read32(0x5008), 0x8000_0000)
        XCTAssertEqual(m.read32(0x500C), 0x8000_0000)
        XCTAssertEqual(m.read32(0x5010), 0)
    }

    // A large positive register offset reaches past the operand: 100 = dword +3 (0x500C), bit 4.
    func testBitStringPositiveOffset() {
        let m = TestMachine()
        m.write32(0xFFFF_FFFF, at: 0x500C); m.write32(0xFFFF_FFFF, at: 0x5000)
        m.set(.eax, 100)
        XCTAssertNil(m.step([0x0F, 0xB3, 0x05, 0x00, 0x50, 0x00, 0x00]))  // btr [0x5000], eax
        XCTAssertEqual(m.flags & F.CF, F.CF)
        XCTAssertEqual(m.read32(0x500C), 0xFFFF_FFEF)
        XCTAssertEqual(m.read32(0x5000), 0xFFFF_FFFF)
    }

    // 16-bit bit string: offset -1 is bit 15 of the word before the operand.
    func testBitString16NegativeOffset() {
        let m = TestMachine()
        m.set(.eax, 0x1234_FFFF)
        XCTAssertNil(m.step([0x66, 0x0F, 0xAB, 0x05, 0x10, 0x50, 0x00, 0x00]))  // bts word [0x5010], ax
        XCTAssertEqual(m.read16(0x500E), 0x8000)
        XCTAssertEqual(m.read32(0x5010), 0)
    }

    // BT m, imm8: the immediate is taken modulo the operand size (no bit-string addressing).
    func testBtMemoryImmediateMasked() {
        let m = TestMachine()
        m.write32(0x0000_0010, at: 0x5000); m.write32(0, at: 0x5004)
        XCTAssertNil(m.step([0x0F, 0xBA, 0x25, 0x00, 0x50, 0x00, 0x00, 0x24]))  // bt dword [0x5000], 36
        XCTAssertEqual(m.flags & F.CF, F.CF)
        XCTAssertNil(m.step([0x0F, 0xBA, 0x3D, 0x00, 0x50, 0x00, 0x00, 0x03]))  // btc dword [0x5000], 3
        XCTAssertEqual(m.read32(0x5000), 0x18); XCTAssertEqual(m.flags & F.CF, 0)
    }

    // LOCK BTS m, r is a legal locked read-modify-write.
    func testLockBtsMemory() {
        let m = TestMachine()
        m.set(.eax, 2)
        XCTAssertNil(m.step([0xF0, 0x0F, 0xAB, 0x05, 0x00, 0x50, 0x00, 0x00]))  // lock bts [0x5000], eax
        XCTAssertEqual(m.read32(0x5000), 4)
    }

    // BSF/BSR: index of the lowest/highest set bit, ZF = 0; a zero source sets ZF.
    func testBsfBsr() {
        let m = TestMachine()
        m.set(.ebx, 0x0001_8000)
        XCTAssertNil(m.step([0x0F, 0xBC, 0xC3]))                    // bsf eax, ebx
        XCTAssertEqual(m.reg(.eax), 15); XCTAssertEqual(m.flags & F.ZF, 0)
        XCTAssertNil(m.step([0x0F, 0xBD, 0xC3]))                    // bsr eax, ebx
        XCTAssertEqual(m.reg(.eax), 16); XCTAssertEqual(m.flags & F.ZF, 0)
        m.set(.eax, 0x1234_5678); m.set(.ebx, 0xFFFF_0000)
        XCTAssertNil(m.step([0x66, 0x0F, 0xBC, 0xC3]))              // bsf ax, bx: BX = 0
        XCTAssertEqual(m.flags & F.ZF, F.ZF)
    }

    // BSF/BSR of zero: ZF = 1 (the destination is undefined by the SDM; hardware and this CPU keep it).
    func testBsfBsrZeroSource() {
        let m = TestMachine()
        m.set(.eax, 0xDEAD_BEEF); m.set(.ebx, 0)
        XCTAssertNil(m.step([0x0F, 0xBC, 0xC3]))                    // bsf eax, ebx
        XCTAssertEqual(m.flags & F.ZF, F.ZF)
        XCTAssertEqual(m.reg(.eax), 0xDEAD_BEEF)
        XCTAssertNil(m.step([0x0F, 0xBD, 0xC3]))                    // bsr eax, ebx
        XCTAssertEqual(m.flags & F.ZF, F.ZF)
        XCTAssertEqual(m.reg(.eax), 0xDEAD_BEEF)
    }

    // BSWAP reverses the byte order.
    func testBswap() {
        let m = TestMachine()
        m.set(.eax, 0x1234_5678); m.set(.edi, 0xAABB_CCDD)
        XCTAssertNil(m.step([0x0F, 0xC8]))                          // bswap eax
        XCTAssertNil(m.step([0x0F, 0xCF]))                          // bswap edi
        XCTAssertEqual(m.reg(.eax), 0x7856_3412); XCTAssertEqual(m.reg(.edi), 0xDDCC_BBAA)
    }

    // XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP; flags of the addition.
    func testXadd() {
        let m = TestMachine()
        m.set(.eax, 1); m.set(.ebx, 2)
        XCTAssertNil(m.step([0x0F, 0xC1, 0xD8]))                    // xadd eax, ebx
        XCTAssertEqual(m.reg(.eax), 3); XCTAssertEqual(m.reg(.ebx), 1)
        m.write32(0xFFFF_FFFF, at: 0x5000); m.set(.ebx, 1)
        XCTAssertNil(m.step([0x0F, 0xC1, 0x1D, 0x00, 0x50, 0x00, 0x00]))  // xadd [0x5000], ebx
        XCTAssertEqual(m.read32(0x5000), 0); XCTAssertEqual(m.reg(.ebx), 0xFFFF_FFFF)
        XCTAssertEqual(m.flags & (F.CF | F.ZF), F.CF | F.ZF)
        m.set(.eax, 0x0000_2010)
        XCTAssertNil(m.step([0x0F, 0xC0, 0xE0]))                    // xadd al, ah
        XCTAssertEqual(m.reg(.eax), 0x0000_1030)
    }

    // CMPXCHG: equal -> ZF = 1, DEST = SRC; not equal -> ZF = 0, EAX = DEST (flags as CMP EAX, DEST).
    func testCmpxchg() {
        let m = TestMachine()
        m.write32(5, at: 0x5000); m.set(.eax, 5); m.set(.ebx, 9)
        XCTAssertNil(m.step([0x0F, 0xB1, 0x1D, 0x00, 0x50, 0x00, 0x00]))  // cmpxchg [0x5000], ebx
        XCTAssertEqual(m.read32(0x5000), 9); XCTAssertEqual(m.reg(.eax), 5)
        XCTAssertEqual(m.flags & F.ZF, F.ZF)

        m.write32(7, at: 0x5000)
        XCTAssertNil(m.step([0x0F, 0xB1, 0x1D, 0x00, 0x50, 0x00, 0x00]))
        XCTAssertEqual(m.read32(0x5000), 7); XCTAssertEqual(m.reg(.eax), 7)
        assertFlags(m, F.CF | F.SF | F.AF)                          // 5 - 7 = 0xFFFFFFFE: 0xFE odd parity

        m.set(.eax, 0x11); m.set(.ecx, 0x11); m.set(.ebx, 0x22)
        XCTAssertNil(m.step([0x0F, 0xB1, 0xD9]))                    // cmpxchg ecx, ebx
        XCTAssertEqual(m.reg(.ecx), 0x22); XCTAssertEqual(m.flags & F.ZF, F.ZF)

        m.set(.eax, 0xAAAA_AA01); m.set(.ecx, 0xBBBB_BB02); m.set(.ebx, 0x33)
        XCTAssertNil(m.step([0x0F, 0xB0, 0xD9]))                    // cmpxchg cl, bl: 1 != 2
        XCTAssertEqual(m.reg(.eax), 0xAAAA_AA02); XCTAssertEqual(m.reg(.ecx), 0xBBBB_BB02)
        XCTAssertEqual(m.flags & F.ZF, 0)
    }

    // CMPXCHG8B: EDX:EAX == m64 -> m64 = ECX:EBX, ZF = 1; else EDX:EAX = m64, ZF = 0.
    func testCmpxchg8b() {
        let m = TestMachine()
        m.write32(0x1111_1111, at: 0x5000); m.write32(0x2222_2222, at: 0x5004)
        m.set(.eax, 0x1111_1111); m.set(.edx, 0x2222_2222)
        m.set(.ebx, 0x3333_3333); m.set(.ecx, 0x4444_4444)
        XCTAssertNil(m.step([0x0F, 0xC7, 0x0D, 0x00, 0x50, 0x00, 0x00]))  // cmpxchg8b [0x5000]
        XCTAssertEqual(m.read32(0x5000), 0x3333_3333); XCTAssertEqual(m.read32(0x5004), 0x4444_4444)
        XCTAssertEqual(m.flags & F.ZF, F.ZF)

        m.set(.eax, 0); m.set(.edx, 0)
        XCTAssertNil(m.step([0x0F, 0xC7, 0x0D, 0x00, 0x50, 0x00, 0x00]))
        XCTAssertEqual(m.reg(.eax), 0x3333_3333); XCTAssertEqual(m.reg(.edx), 0x4444_4444)
        XCTAssertEqual(m.read32(0x5000), 0x3333_3333); XCTAssertEqual(m.read32(0x5004), 0x4444_4444)
        XCTAssertEqual(m.flags & F.ZF, 0)
    }

    // CMPXCHG8B with a register operand is #UD.
    func testCmpxchg8bRegisterIsUD() {
        let m = TestMachine()
        XCTAssertEqual(m.step([0x0F, 0xC7, 0xC8])?.vector, Fault.ud)
        XCTAssertEqual(m.cpu.eip, 0x1000)
    }
}
