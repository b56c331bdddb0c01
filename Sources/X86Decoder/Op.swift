// Op: the interpreter's handlers, one per SDM operand form, and the operand kinds of the table.

/// The handler of a decoded instruction, named after the Intel SDM operand notation:
///
///     E  ModRM r/m (register or memory)      G  ModRM reg      I  immediate
///     b  byte   w  word   d  doubleword   v  word or doubleword by operand size
///     S  segment register   C/D  control/debug register   M  memory only
///     p  far pointer (offset + selector)   J  relative branch   X/Y  string DS:eSI / ES:eDI
///
/// Forms that differ only in where an operand comes from are folded at decode time:
/// `04 ib` (add AL, Ib) decodes as `addEbIb` with r/m = AL, `40+r` as `incEv` with r/m = r,
/// `83 /0 ib` as `addEvIv` with the immediate already sign-extended, and the moffs forms
/// `A0–A3` as `mov` with a displacement-only memory operand.
public enum Op: UInt16, Sendable {
    case ud, tooLong, fpu, fwait
    // ALU family: kind × form
    case addEbGb, addEvGv, addGbEb, addGvEv, addEbIb, addEvIv
    case orEbGb, orEvGv, orGbEb, orGvEv, orEbIb, orEvIv
    case adcEbGb, adcEvGv, adcGbEb, adcGvEv, adcEbIb, adcEvIv
    case sbbEbGb, sbbEvGv, sbbGbEb, sbbGvEv, sbbEbIb, sbbEvIv
    case andEbGb, andEvGv, andGbEb, andGvEv, andEbIb, andEvIv
    case subEbGb, subEvGv, subGbEb, subGvEv, subEbIb, subEvIv
    case xorEbGb, xorEvGv, xorGbEb, xorGvEv, xorEbIb, xorEvIv
    case cmpEbGb, cmpEvGv, cmpGbEb, cmpGvEv, cmpEbIb, cmpEvIv
    case testEbGb, testEvGv, testEbIb, testEvIv
    case incEb, incEv, decEb, decEv, notEb, notEv, negEb, negEv
    case mulEb, mulEv, imulEb, imulEv, divEb, divEv, idivEb, idivEv
    case imulGvEv, imulGvEvIv
    /// Group 2 shifts/rotates; ModRM.reg selects rol ror rcl rcr shl shr sal sar;
    /// the count is `imm`, or CL when `imm2` = 1.
    case grp2Eb, grp2Ev
    case shldEvGv, shrdEvGv            // count: imm, or CL when imm2 = 1
    case btEvGv, btsEvGv, btrEvGv, btcEvGv, btEvIb, btsEvIb, btrEvIb, btcEvIb
    case bsfGvEv, bsrGvEv, bswap
    case xaddEbGb, xaddEvGv, cmpxchgEbGb, cmpxchgEvGv, cmpxchg8b
    // moves
    case movEbGb, movEvGv, movGbEb, movGvEv, movEbIb, movEvIv, movEvSw, movSwEw
    case leaGvM, movzxGvEb, movzxGvEw, movsxGvEb, movsxGvEw
    case xchgEbGb, xchgEvGv, cmovcc, setcc
    /// LES/LDS/LSS/LFS/LGS: the segment register number is in `imm2`.
    case lfpGvMp
    // stack
    case pushEv, popEv, pushIv, pushSeg, popSeg, pusha, popa, pushf, popf, enter, leave
    // conversions, flags, BCD
    case cbw, cwd, sahf, lahf, cmc, clc, stc, cli, sti, cld, std, salc
    case daa, das, aaa, aas, aam, aad, xlat
    // control transfer
    case jcc, jmpJ, jmpEv, jmpAp, jmpMp, callJ, callEv, callAp, callMp
    case ret, retIw, retf, retfIw, iret, int3, intIb, into, int1
    case loop, loope, loopne, jcxz, hlt, nop, bound, arpl
    // strings (size from the opcode: b = byte, v = word/dword by operand size)
    case movsb, movsv, cmpsb, cmpsv, stosb, stosv, lodsb, lodsv, scasb, scasv
    case insb, insv, outsb, outsv
    // port I/O
    case inALIb, ineAXIb, outIbAL, outIbeAX, inALDX, ineAXDX, outDXAL, outDXeAX
    // system
    case sldt, str, lldt, ltr, verr, verw, sgdt, sidt, lgdt, lidt, smsw, lmsw, invlpg
    case lar, lsl, clts, invd, wbinvd, ud2, movRdCd, movCdRd, movRdDd, movDdRd
    case wrmsr, rdtsc, rdmsr, rdpmc, cpuid
}

/// Operand kinds of the opcode table (SDM Appendix A notation); they drive both the
/// decoder (which bytes follow) and the disassembler (how operands print).
public enum Operand: UInt8, Sendable {
    case none
    case Eb, Ev, Ew, Ed, Gb, Gv, Gw, Gd, M, Mp, Mq, Ms, Rd, Cd, Dd, Sw
    case Ib, Ibs, Iw, Iz, Jb, Jz, Ap, Ob, Ov
    case AL, eAX, CL, DX, one
    /// Register number in the opcode's low three bits (byte or word/dword).
    case Zb, Zv
    case Xb, Xv, Yb, Yv
    case ES, CS, SS, DS, FS, GS
}
