// DecoderTests: hand-checked decoder vectors (limits, #UD encodings, addressing forms, segments).

import Foundation
import XCTest
@testable import X86Decoder
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes placed flush against an inaccessible guard page: a decoder that reads past
/// `count` crashes the test instead of passing by luck.
final class GuardedBuffer {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let base: UnsafeMutableRawPointer

    init() {
        let p = mmap(nil, page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        precondition(p != MAP_FAILED, "GuardedBuffer: mmap failed")
        base = p!
        precondition(mprotect(base + page, page, PROT_NONE) == 0, "GuardedBuffer: mprotect failed")
    }
    deinit { munmap(base, page * 2) }

    /// Decodes `bytes` (at most one page) that end exactly at the guard page.
    func decode(_ bytes: [UInt8], code32: Bool) -> (Decoder.Status, DecodedInstruction) {
        precondition(bytes.count <= page)
        let start = (base + page - bytes.count).assumingMemoryBound(to: UInt8.self)
        for (i, b) in bytes.enumerated() { start[i] = b }
        var insn = DecodedInstruction()
        let status = Decoder.decode(UnsafePointer(start), count: bytes.count, code32: code32, into: &insn)
        return (status, insn)
    }
}

final class DecoderTests: XCTestCase {
    let buffer = GuardedBuffer()
    let none = DecodedInstruction.noRegister

    /// Decodes `bytes` (which must be complete) and checks every shorter prefix of them
    /// answers `.needMoreBytes` without reading past its end.
    func decode(_ bytes: [UInt8], code32: Bool = true, file: StaticString = #filePath, line: UInt = #line) -> DecodedInstruction {
        let (status, insn) = buffer.decode(bytes, code32: code32)
        XCTAssertEqual(status, .ok, file: file, line: line)
        if status == .ok && insn.op != .tooLong {
            for k in 0..<Int(insn.length) where k < 15 {
                XCTAssertEqual(buffer.decode(Array(bytes[..<k]), code32: code32).0, .needMoreBytes,
                               "cut to \(k) bytes", file: file, line: line)
            }
        }
        return insn
    }

    // MARK: - length limit and truncation

    func testFifteenByteLimit() {
        // 16 prefixes then NOP: longer than 15 bytes → #GP(0), reported as .tooLong, length 15.
        let insn = decode(Array(repeating: 0x66, count: 16) + [0x90])
        XCTAssertEqual(insn.op, .tooLong)
        XCTAssertEqual(insn.length, 15)
        XCTAssertTrue(insn.endsBlock)
        // Exactly 15 bytes: 3E 3E F0 64 81 84 98 disp32 imm32 is fine.
        let ok = decode([0x3E, 0x3E, 0xF0, 0x64, 0x81, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12])
        XCTAssertEqual(ok.op, .addEvIv)
        XCTAssertEqual(ok.length, 15)
        XCTAssertEqual(ok.seg, 4)
        XCTAssertEqual(ok.flags & DecodedInstruction.flagLock, DecodedInstruction.flagLock)
        // One more prefix makes it 16 bytes: too long, even with exactly 15 bytes available.
        let long: [UInt8] = [0x3E] + [0x3E, 0x3E, 0xF0, 0x64, 0x81, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12]
        XCTAssertEqual(buffer.decode(long, code32: true).1.op, .tooLong)
        XCTAssertEqual(buffer.decode(Array(long[..<15]), code32: true).1.op, .tooLong)
        XCTAssertEqual(buffer.decode(Array(long[..<14]), code32: true).0, .needMoreBytes)
    }

    func testNeedMoreBytes() {
        XCTAssertEqual(buffer.decode([], code32: true).0, .needMoreBytes)
        // Every cut of these is checked by decode(): prefix, 0F, ModRM, SIB, disp, immediate.
        XCTAssertEqual(decode([0x66, 0x0F, 0xB7, 0x44, 0x24, 0x08]).length, 6)                     // movzww 0x8(%esp), %ax
        XCTAssertEqual(decode([0x81, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12, 0x01, 0x00, 0x00, 0x00]).length, 11)
        XCTAssertEqual(decode([0xEA, 0x20, 0x00, 0x10, 0x00, 0x08, 0x00]).length, 7)
        XCTAssertEqual(decode([0xC8, 0x10, 0x00, 0x01]).length, 4)
        XCTAssertEqual(decode([0x67, 0x8B, 0x06, 0x34, 0x12]).length, 5)
    }

    // MARK: - #UD encodings

    func testLockRules() {
        XCTAssertEqual(decode([0xF0, 0x01, 0xC0]).op, .ud)                 // lock add %eax, %eax: register destination
        XCTAssertEqual(decode([0xF0, 0x89, 0x00]).op, .ud)                 // lock mov
        XCTAssertEqual(decode([0xF0, 0x3B, 0x00]).op, .ud)                 // lock cmp (never lockable)
        XCTAssertEqual(decode([0xF0, 0x0F, 0xA3, 0x03]).op, .ud)           // lock bt
        XCTAssertEqual(decode([0xF0, 0x90]).op, .ud)                       // lock nop
        XCTAssertEqual(decode([0xF0, 0x01, 0x00]).op, .addEvGv)            // lock add %eax, (%eax)
        XCTAssertEqual(decode([0xF0, 0x0F, 0xC7, 0x08]).op, .cmpxchg8b)
        XCTAssertEqual(decode([0xF0, 0x87, 0x03]).op, .xchgEvGv)
        XCTAssertEqual(decode([0xF0, 0x0F, 0xBA, 0x28, 0x01]).op, .btsEvIb)
        let ud = decode([0xF0, 0x89, 0x00])
        XCTAssertTrue(ud.endsBlock)
        XCTAssertEqual(ud.length, 3)
    }

    func testInvalidOperandForms() {
        XCTAssertEqual(decode([0x8D, 0xC1]).op, .ud)                       // lea with a register source
        XCTAssertEqual(decode([0x8D, 0x01]).op, .leaGvM)
        XCTAssertEqual(decode([0x8E, 0xC8]).op, .ud)                       // mov %eax, %cs
        XCTAssertEqual(decode([0x8E, 0x08]).op, .ud)                       // mov (%eax), %cs
        XCTAssertEqual(decode([0x8E, 0xF0]).op, .ud)                       // segment register 6
        XCTAssertEqual(decode([0x8C, 0xF8]).op, .ud)                       // segment register 7
        XCTAssertEqual(decode([0x8E, 0xD0]).op, .movSwEw)                  // mov %eax, %ss
        XCTAssertEqual(decode([0x8C, 0xC8]).op, .movEvSw)                  // mov %cs, %eax is fine
        for cr: UInt8 in [1, 5, 6, 7] {
            XCTAssertEqual(decode([0x0F, 0x20, 0xC0 | cr << 3]).op, .ud, "mov %cr\(cr), %eax")
            XCTAssertEqual(decode([0x0F, 0x22, 0xC0 | cr << 3]).op, .ud, "mov %eax, %cr\(cr)")
        }
        for cr: UInt8 in [0, 2, 3, 4] { XCTAssertEqual(decode([0x0F, 0x22, 0xC0 | cr << 3]).op, .movCdRd) }
        // MOV CR/DR ignore ModRM.mod: 0F 20 00 is mov %cr0, %eax, three bytes, no displacement.
        let m = decode([0x0F, 0x20, 0x00])
        XCTAssertEqual(m.op, .movRdCd)
        XCTAssertEqual(m.length, 3)
        XCTAssertFalse(m.isMem)
        XCTAssertEqual(decode([0x0F, 0x01, 0xD0]).op, .ud)                 // lgdt with a register
        XCTAssertEqual(decode([0x0F, 0xC7, 0xC8]).op, .ud)                 // cmpxchg8b with a register
        XCTAssertEqual(decode([0xC4, 0xC0]).op, .ud)                       // les with a register
        XCTAssertEqual(decode([0xFF, 0xD8]).op, .ud)                       // lcall *%eax
        XCTAssertEqual(decode([0xFE, 0x10]).op, .ud)                       // FE /2
        XCTAssertEqual(decode([0x0F, 0xFF]).op, .ud)
    }

    // MARK: - 16-bit addressing

    func testSixteenBitAddressing() {
        // 67 8B 00: mov (%bx,%si), %eax — DS
        var i = decode([0x67, 0x8B, 0x00])
        XCTAssertEqual([i.base, i.index, i.seg], [3, 6, 3])
        XCTAssertEqual(i.disp, 0)
        XCTAssertTrue(i.a16 && i.isMem)
        // 67 8B 43 FC: mov -4(%bp,%di), %eax — SS by default
        i = decode([0x67, 0x8B, 0x43, 0xFC])
        XCTAssertEqual([i.base, i.index, i.seg], [5, 7, 2])
        XCTAssertEqual(i.disp, 0xFFFF_FFFC)
        XCTAssertEqual(i.length, 4)
        // 67 8B 06 34 12: mov 0x1234, %eax — disp16 only, DS
        i = decode([0x67, 0x8B, 0x06, 0x34, 0x12])
        XCTAssertEqual([i.base, i.index, i.seg], [none, none, 3])
        XCTAssertEqual(i.disp, 0x1234)
        // 67 8B 46 00: mov 0(%bp), %eax — SS; 67 8B 86 00 80: disp16 sign-extended
        i = decode([0x67, 0x8B, 0x46, 0x00])
        XCTAssertEqual([i.base, i.index, i.seg], [5, none, 2])
        i = decode([0x67, 0x8B, 0x87, 0x00, 0x80])
        XCTAssertEqual([i.base, i.index, i.seg], [3, none, 3])
        XCTAssertEqual(i.disp, 0xFFFF_8000)
        // [bp+si] and [bp+di] default to SS, [bx+di], [si], [di] to DS
        XCTAssertEqual(decode([0x67, 0x8B, 0x02]).seg, 2)
        XCTAssertEqual(decode([0x67, 0x8B, 0x03]).seg, 2)
        XCTAssertEqual(decode([0x67, 0x8B, 0x01]).seg, 3)
        XCTAssertEqual(decode([0x67, 0x8B, 0x04]).base, 6)
        XCTAssertEqual(decode([0x67, 0x8B, 0x05]).base, 7)
        // In 16-bit code no prefix is needed; 0x67 selects 32-bit addressing there.
        i = decode([0x8B, 0x42, 0x10], code32: false)
        XCTAssertEqual([i.base, i.index, i.seg], [5, 6, 2])
        XCTAssertTrue(i.o16 && i.a16)
        i = decode([0x67, 0x8B, 0x45, 0x10], code32: false)
        XCTAssertEqual([i.base, i.index, i.seg], [5, none, 2])
        XCTAssertFalse(i.a16)
        XCTAssertTrue(i.o16)
    }

    // MARK: - 32-bit ModRM/SIB

    func testSIBForms() {
        // 8B 04 85 10 00 00 00: mov 0x10(,%eax,4), %eax — SIB, no base (mod 0, base 5): disp32, DS
        var i = decode([0x8B, 0x04, 0x85, 0x10, 0x00, 0x00, 0x00])
        XCTAssertEqual([i.base, i.index, i.scale, i.seg], [none, 0, 2, 3])
        XCTAssertEqual(i.disp, 0x10)
        // 8B 04 2D ...: index EBP, no base: still DS (the default follows the base only)
        i = decode([0x8B, 0x04, 0x2D, 0x00, 0x10, 0x00, 0x00])
        XCTAssertEqual([i.base, i.index, i.seg], [none, 5, 3])
        // 8B 44 25 08: base EBP with disp8 (mod 1), no index (index 4): SS
        i = decode([0x8B, 0x44, 0x25, 0x08])
        XCTAssertEqual([i.base, i.index, i.seg], [5, none, 2])
        XCTAssertEqual(i.disp, 8)
        // 8B 04 24: (%esp) — SS; 8B 04 20: (%eax) via SIB with no index — DS
        i = decode([0x8B, 0x04, 0x24])
        XCTAssertEqual([i.base, i.index, i.seg], [4, none, 2])
        i = decode([0x8B, 0x04, 0xE0])                                     // index 4 with scale 8: still none
        XCTAssertEqual([i.base, i.index, i.seg], [0, none, 3])
        // 8B 05 disp32: absolute, DS; 8B 45 FC: -4(%ebp), SS; 8B 40 FC: -4(%eax), DS
        i = decode([0x8B, 0x05, 0x78, 0x56, 0x34, 0x12])
        XCTAssertEqual([i.base, i.index, i.seg], [none, none, 3])
        XCTAssertEqual(i.disp, 0x1234_5678)
        i = decode([0x8B, 0x45, 0xFC])
        XCTAssertEqual([i.base, i.seg], [5, 2])
        XCTAssertEqual(i.disp, 0xFFFF_FFFC)
        XCTAssertEqual(decode([0x8B, 0x40, 0xFC]).seg, 3)
        // 8B 84 98 disp32: 0x12345678(%eax,%ebx,4)
        i = decode([0x8B, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12])
        XCTAssertEqual([i.base, i.index, i.scale], [0, 3, 2])
        XCTAssertEqual(i.length, 7)
        // mod 3: register, no memory
        i = decode([0x8B, 0xC1])
        XCTAssertFalse(i.isMem)
        XCTAssertEqual([i.reg, i.rm], [0, 1])
    }

    func testSegmentOverrides() {
        // An override beats the SS default of EBP/ESP bases.
        XCTAssertEqual(decode([0x3E, 0x8B, 0x45, 0x00]).seg, 3)
        XCTAssertEqual(decode([0x26, 0x8B, 0x04, 0x24]).seg, 0)
        XCTAssertEqual(decode([0x64, 0x67, 0x8B, 0x02]).seg, 4)
        // Several overrides: the last one wins.
        XCTAssertEqual(decode([0x26, 0x64, 0x8B, 0x00]).seg, 4)
        XCTAssertEqual(decode([0x65, 0x2E, 0x36, 0x8B, 0x00]).seg, 2)
        let i = decode([0x2E, 0x8B, 0x00])
        XCTAssertEqual(i.seg, 1)
        XCTAssertNotEqual(i.flags & DecodedInstruction.flagSegOverride, 0)
        XCTAssertEqual(decode([0x8B, 0x00]).flags & DecodedInstruction.flagSegOverride, 0)
        // String source follows the override; no override: DS.
        XCTAssertEqual(decode([0x64, 0xA4]).seg, 4)
        XCTAssertEqual(decode([0xA4]).seg, 3)
    }

    func testMoffs() {
        // A1 disp32: mov 0x12345678, %eax
        var i = decode([0xA1, 0x78, 0x56, 0x34, 0x12])
        XCTAssertEqual(i.op, .movGvEv)
        XCTAssertEqual([i.base, i.index, i.reg, i.seg], [none, none, 0, 3])
        XCTAssertEqual(i.disp, 0x1234_5678)
        XCTAssertEqual(i.length, 5)
        XCTAssertTrue(i.isMem)
        // 67 A1 disp16: two-byte offset, zero-extended
        i = decode([0x67, 0xA1, 0xFC, 0xFF])
        XCTAssertEqual(i.length, 4)
        XCTAssertEqual(i.disp, 0xFFFC)
        XCTAssertEqual([i.base, i.index], [none, none])
        // 64 67 A2 34 12: mov %al, %fs:0x1234
        i = decode([0x64, 0x67, 0xA2, 0x34, 0x12])
        XCTAssertEqual(i.op, .movEbGb)
        XCTAssertEqual(i.seg, 4)
        XCTAssertEqual(i.length, 5)
        // In 16-bit code A1 takes disp16, and 0x67 makes it disp32.
        XCTAssertEqual(decode([0xA1, 0x34, 0x12], code32: false).length, 3)
        XCTAssertEqual(decode([0x67, 0xA1, 0x78, 0x56, 0x34, 0x12], code32: false).length, 6)
    }

    // MARK: - immediates and folded forms

    func testImmediatesAndFoldedForms() {
        var i = decode([0x83, 0xC0, 0xFF])                                 // add $-1, %eax: sign-extended
        XCTAssertEqual(i.op, .addEvIv)
        XCTAssertEqual(i.imm, 0xFFFF_FFFF)
        i = decode([0x04, 0x12])                                           // add $0x12, %al as addEbIb, rm = AL
        XCTAssertEqual(i.op, .addEbIb)
        XCTAssertEqual(i.rm, 0)
        XCTAssertEqual(i.imm, 0x12)
        i = decode([0x66, 0x05, 0x34, 0x12])                               // add $0x1234, %ax
        XCTAssertEqual(i.length, 4)
        XCTAssertEqual(i.imm, 0x1234)
        XCTAssertTrue(i.o16)
        i = decode([0x43])                                                 // inc %ebx
        XCTAssertEqual(i.op, .incEv)
        XCTAssertEqual(i.rm, 3)
        i = decode([0x93])                                                 // xchg %ebx, %eax
        XCTAssertEqual([i.rm, i.reg], [3, 0])
        i = decode([0xC8, 0x10, 0x00, 0x01])                               // enter $0x10, $1
        XCTAssertEqual([i.imm, i.imm2], [0x10, 1])
        i = decode([0xEA, 0x20, 0x00, 0x10, 0x00, 0x08, 0x00])             // ljmp $0x8, $0x100020
        XCTAssertEqual([i.imm, i.imm2], [0x10_0020, 8])
        i = decode([0x66, 0xEA, 0x20, 0x00, 0x08, 0x00])
        XCTAssertEqual([i.imm, i.imm2], [0x20, 8])
        i = decode([0xD3, 0xE0])                                           // shl %cl, %eax
        XCTAssertEqual(i.op, .grp2Ev)
        XCTAssertEqual(i.imm2, 1)
        i = decode([0xD1, 0xE0])                                           // shl %eax (by 1)
        XCTAssertEqual(i.imm, 1)
        i = decode([0xE9, 0xFB, 0xFF, 0xFF, 0xFF])                         // jmp . (rel32 -5)
        XCTAssertEqual(i.disp, 0xFFFF_FFFB)
        XCTAssertTrue(i.endsBlock)
        i = decode([0x66, 0xE9, 0xFD, 0xFF])                               // jmp rel16
        XCTAssertEqual(i.length, 4)
        XCTAssertEqual(i.disp, 0xFFFF_FFFD)
        i = decode([0x0F, 0xCB])                                           // bswap %ebx
        XCTAssertEqual(i.op, .bswap)
        XCTAssertEqual(i.rm, 3)
        XCTAssertEqual(decode([0x0F, 0xB2, 0x00]).imm2, 2)                 // lss: SS
        XCTAssertEqual(decode([0xC5, 0x00]).imm2, 3)                       // lds: DS
        XCTAssertEqual(decode([0xF3, 0xA5]).flags & DecodedInstruction.flagRep, DecodedInstruction.flagRep)
        XCTAssertEqual(decode([0xF2, 0xAE]).flags & DecodedInstruction.flagRepne, DecodedInstruction.flagRepne)
    }
}
