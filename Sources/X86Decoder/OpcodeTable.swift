// OpcodeTable: the one instruction table that drives the decoder, the disassembler and tests.
//
// Legend (Intel SDM Vol. 2, Appendix A):
//   E  ModRM r/m: register or memory        G  ModRM.reg register
//   M  ModRM memory only (mod = 3 is #UD)   R  ModRM r/m register only
//   S  segment register in ModRM.reg        C/D control/debug register in ModRM.reg
//   I  immediate   J  relative offset       A  direct far pointer
//   O  moffs: offset only (no ModRM)        X/Y string source DS:eSI / destination ES:eDI
//   Z  register in the opcode's low 3 bits
//   size letters: b byte, w word, d dword, v word/dword by operand size,
//                 z word/dword immediate (never 8 bytes), s (Ibs) byte sign-extended,
//                 p far pointer, q quadword (CMPXCHG8B), s (Ms) pseudo-descriptor.
//
// Attributes: L = LOCK allowed (with a memory destination), B = ends a basic block.

/// One row of the opcode table.
public struct OpcodeEntry: Sendable {
    /// AT&T mnemonic without size suffix ("add", "j" + condition for jcc, "" for a group row).
    public let mnemonic: String
    public let op: Op
    public let operands: (Operand, Operand, Operand)
    public let attrs: UInt8
    /// Index + 1 of the ModRM.reg group table this opcode dispatches to, or 0.
    public let group: UInt8

    public static let lockable: UInt8 = 1
    public static let endsBlock: UInt8 = 2
    /// The instruction takes a ModRM byte even though no operand says so (x87 escapes, NOP Ev).
    public static let needsModRM: UInt8 = 4
    /// Mnemonic depends on operand size: (mnemonic16, mnemonic32) in `alt` rows (cbw/cwde...).
    public static let sizeNamed: UInt8 = 8

    public init(_ mnemonic: String, _ op: Op, _ a: Operand = .none, _ b: Operand = .none,
                _ c: Operand = .none, attrs: UInt8 = 0, group: UInt8 = 0) {
        self.mnemonic = mnemonic; self.op = op; operands = (a, b, c); self.attrs = attrs; self.group = group
    }

    static let invalid = OpcodeEntry("(bad)", .ud, attrs: endsBlock)

    /// True when this row consumes a ModRM byte.
    public var hasModRM: Bool {
        if attrs & Self.needsModRM != 0 || group != 0 { return true }
        for o in [operands.0, operands.1, operands.2] {
            switch o {
            case .Eb, .Ev, .Ew, .Ed, .Gb, .Gv, .Gw, .Gd, .M, .Mp, .Mq, .Ms, .Rd, .Cd, .Dd, .Sw: return true
            default: continue
            }
        }
        return false
    }
}

/// The opcode maps: one-byte, two-byte (0F xx), and the ModRM.reg group tables.
public enum OpcodeTable {
    public static let conditionNames = ["o", "no", "b", "ae", "e", "ne", "be", "a",
                                        "s", "ns", "p", "np", "l", "ge", "le", "g"]

    static let L = OpcodeEntry.lockable
    static let B = OpcodeEntry.endsBlock

    /// Group tables, indexed by `OpcodeEntry.group - 1`, each with 8 rows by ModRM.reg.
    public static let groups: [[OpcodeEntry]] = makeGroups()

    static let g80 = 1, g81 = 2, g83 = 3, gC0 = 4, gC1 = 5, gD0 = 6, gD1 = 7, gD2 = 8, gD3 = 9
    static let gF6 = 10, gF7 = 11, gFE = 12, gFF = 13, g8F = 14, gC6 = 15, gC7 = 16
    static let g0F00 = 17, g0F01 = 18, g0FBA = 19, g0FC7 = 20

    static let aluNames = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]
    static let aluOps: [[Op]] = [
        [.addEbGb, .addEvGv, .addGbEb, .addGvEv, .addEbIb, .addEvIv],
        [.orEbGb, .orEvGv, .orGbEb, .orGvEv, .orEbIb, .orEvIv],
        [.adcEbGb, .adcEvGv, .adcGbEb, .adcGvEv, .adcEbIb, .adcEvIv],
        [.sbbEbGb, .sbbEvGv, .sbbGbEb, .sbbGvEv, .sbbEbIb, .sbbEvIv],
        [.andEbGb, .andEvGv, .andGbEb, .andGvEv, .andEbIb, .andEvIv],
        [.subEbGb, .subEvGv, .subGbEb, .subGvEv, .subEbIb, .subEvIv],
        [.xorEbGb, .xorEvGv, .xorGbEb, .xorGvEv, .xorEbIb, .xorEvIv],
        [.cmpEbGb, .cmpEvGv, .cmpGbEb, .cmpGvEv, .cmpEbIb, .cmpEvIv],
    ]
    static let shiftNames = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"]

    static func makeGroups() -> [[OpcodeEntry]] {
        typealias E = OpcodeEntry
        var g: [[E]] = []
        func alu(_ form: Int, _ a: Operand, _ b: Operand) -> [E] {
            (0..<8).map { k in E(aluNames[k], aluOps[k][form], a, b, attrs: k == 7 ? 0 : L) }
        }
        g.append(alu(4, .Eb, .Ib))                                   // 80 (and 82)
        g.append(alu(5, .Ev, .Iz))                                   // 81
        g.append(alu(5, .Ev, .Ibs))                                  // 83
        func shifts(_ op: Op, _ a: Operand, _ b: Operand) -> [E] {
            (0..<8).map { k in E(shiftNames[k], op, a, b) }
        }
        g.append(shifts(.grp2Eb, .Eb, .Ib))                          // C0
        g.append(shifts(.grp2Ev, .Ev, .Ib))                          // C1
        g.append(shifts(.grp2Eb, .Eb, .one))                         // D0
        g.append(shifts(.grp2Ev, .Ev, .one))                         // D1
        g.append(shifts(.grp2Eb, .Eb, .CL))                          // D2
        g.append(shifts(.grp2Ev, .Ev, .CL))                          // D3
        g.append([E("test", .testEbIb, .Eb, .Ib), E("test", .testEbIb, .Eb, .Ib),     // F6
                  E("not", .notEb, .Eb, attrs: L), E("neg", .negEb, .Eb, attrs: L),
                  E("mul", .mulEb, .Eb), E("imul", .imulEb, .Eb),
                  E("div", .divEb, .Eb), E("idiv", .idivEb, .Eb)])
        g.append([E("test", .testEvIv, .Ev, .Iz), E("test", .testEvIv, .Ev, .Iz),     // F7
                  E("not", .notEv, .Ev, attrs: L), E("neg", .negEv, .Ev, attrs: L),
                  E("mul", .mulEv, .Ev), E("imul", .imulEv, .Ev),
                  E("div", .divEv, .Ev), E("idiv", .idivEv, .Ev)])
        g.append([E("inc", .incEb, .Eb, attrs: L), E("dec", .decEb, .Eb, attrs: L)]   // FE
                 + Array(repeating: OpcodeEntry.invalid, count: 6))
        g.append([E("inc", .incEv, .Ev, attrs: L), E("dec", .decEv, .Ev, attrs: L),   // FF
                  E("call", .callEv, .Ev, attrs: B), E("lcall", .callMp, .Mp, attrs: B),
                  E("jmp", .jmpEv, .Ev, attrs: B), E("ljmp", .jmpMp, .Mp, attrs: B),
                  E("push", .pushEv, .Ev), OpcodeEntry.invalid])
        g.append([E("pop", .popEv, .Ev)] + Array(repeating: OpcodeEntry.invalid, count: 7))      // 8F
        g.append([E("mov", .movEbIb, .Eb, .Ib)] + Array(repeating: OpcodeEntry.invalid, count: 7)) // C6
        g.append([E("mov", .movEvIv, .Ev, .Iz)] + Array(repeating: OpcodeEntry.invalid, count: 7)) // C7
        g.append([E("sldt", .sldt, .Ev), E("str", .str, .Ev), E("lldt", .lldt, .Ew, attrs: B),   // 0F 00
                  E("ltr", .ltr, .Ew), E("verr", .verr, .Ew), E("verw", .verw, .Ew),
                  OpcodeEntry.invalid, OpcodeEntry.invalid])
        g.append([E("sgdt", .sgdt, .Ms), E("sidt", .sidt, .Ms), E("lgdt", .lgdt, .Ms),           // 0F 01
                  E("lidt", .lidt, .Ms), E("smsw", .smsw, .Ew), OpcodeEntry.invalid,
                  E("lmsw", .lmsw, .Ew, attrs: B), E("invlpg", .invlpg, .M, attrs: B)])
        g.append(Array(repeating: OpcodeEntry.invalid, count: 4) +                              // 0F BA
                 [E("bt", .btEvIb, .Ev, .Ib), E("bts", .btsEvIb, .Ev, .Ib, attrs: L),
                  E("btr", .btrEvIb, .Ev, .Ib, attrs: L), E("btc", .btcEvIb, .Ev, .Ib, attrs: L)])
        g.append([OpcodeEntry.invalid, E("cmpxchg8b", .cmpxchg8b, .Mq, attrs: L)]               // 0F C7
                 + Array(repeating: OpcodeEntry.invalid, count: 6))
        return g
    }

    /// The one-byte opcode map.
    public static let oneByte: [OpcodeEntry] = {
        typealias E = OpcodeEntry
        var t = Array(repeating: OpcodeEntry.invalid, count: 256)
        for k in 0..<8 {
            let o = k * 8
            let lk: UInt8 = k == 7 ? 0 : L
            t[o + 0] = E(aluNames[k], aluOps[k][0], .Eb, .Gb, attrs: lk)
            t[o + 1] = E(aluNames[k], aluOps[k][1], .Ev, .Gv, attrs: lk)
            t[o + 2] = E(aluNames[k], aluOps[k][2], .Gb, .Eb)
            t[o + 3] = E(aluNames[k], aluOps[k][3], .Gv, .Ev)
            t[o + 4] = E(aluNames[k], aluOps[k][4], .AL, .Ib)
            t[o + 5] = E(aluNames[k], aluOps[k][5], .eAX, .Iz)
        }
        t[0x06] = E("push", .pushSeg, .ES); t[0x07] = E("pop", .popSeg, .ES)
        t[0x0E] = E("push", .pushSeg, .CS)
        t[0x16] = E("push", .pushSeg, .SS); t[0x17] = E("pop", .popSeg, .SS, attrs: B)
        t[0x1E] = E("push", .pushSeg, .DS); t[0x1F] = E("pop", .popSeg, .DS)
        t[0x27] = E("daa", .daa); t[0x2F] = E("das", .das)
        t[0x37] = E("aaa", .aaa); t[0x3F] = E("aas", .aas)
        for r in 0..<8 {
            t[0x40 + r] = E("inc", .incEv, .Zv); t[0x48 + r] = E("dec", .decEv, .Zv)
            t[0x50 + r] = E("push", .pushEv, .Zv); t[0x58 + r] = E("pop", .popEv, .Zv)
            t[0x91 + r - 1] = r == 0 ? E("nop", .nop) : E("xchg", .xchgEvGv, .Zv, .eAX)
            t[0xB0 + r] = E("mov", .movEbIb, .Zb, .Ib); t[0xB8 + r] = E("mov", .movEvIv, .Zv, .Iz)
        }
        t[0x60] = E("pusha", .pusha); t[0x61] = E("popa", .popa)
        t[0x62] = E("bound", .bound, .Gv, .M); t[0x63] = E("arpl", .arpl, .Ew, .Gw)
        t[0x68] = E("push", .pushIv, .Iz); t[0x69] = E("imul", .imulGvEvIv, .Gv, .Ev, .Iz)
        t[0x6A] = E("push", .pushIv, .Ibs); t[0x6B] = E("imul", .imulGvEvIv, .Gv, .Ev, .Ibs)
        t[0x6C] = E("ins", .insb, .Yb, .DX); t[0x6D] = E("ins", .insv, .Yv, .DX)
        t[0x6E] = E("outs", .outsb, .DX, .Xb); t[0x6F] = E("outs", .outsv, .DX, .Xv)
        for c in 0..<16 { t[0x70 + c] = E("j" + conditionNames[c], .jcc, .Jb, attrs: B) }
        t[0x80] = E("", .ud, group: UInt8(g80)); t[0x81] = E("", .ud, group: UInt8(g81))
        t[0x82] = E("", .ud, group: UInt8(g80)); t[0x83] = E("", .ud, group: UInt8(g83))
        t[0x84] = E("test", .testEbGb, .Eb, .Gb); t[0x85] = E("test", .testEvGv, .Ev, .Gv)
        t[0x86] = E("xchg", .xchgEbGb, .Eb, .Gb, attrs: L); t[0x87] = E("xchg", .xchgEvGv, .Ev, .Gv, attrs: L)
        t[0x88] = E("mov", .movEbGb, .Eb, .Gb); t[0x89] = E("mov", .movEvGv, .Ev, .Gv)
        t[0x8A] = E("mov", .movGbEb, .Gb, .Eb); t[0x8B] = E("mov", .movGvEv, .Gv, .Ev)
        t[0x8C] = E("mov", .movEvSw, .Ev, .Sw); t[0x8D] = E("lea", .leaGvM, .Gv, .M)
        t[0x8E] = E("mov", .movSwEw, .Sw, .Ew, attrs: B); t[0x8F] = E("", .ud, group: UInt8(g8F))
        t[0x98] = E("cbw", .cbw, attrs: OpcodeEntry.sizeNamed); t[0x99] = E("cwd", .cwd, attrs: OpcodeEntry.sizeNamed)
        t[0x9A] = E("lcall", .callAp, .Ap, attrs: B); t[0x9B] = E("wait", .fwait)
        t[0x9C] = E("pushf", .pushf); t[0x9D] = E("popf", .popf, attrs: B)
        t[0x9E] = E("sahf", .sahf); t[0x9F] = E("lahf", .lahf)
        t[0xA0] = E("mov", .movGbEb, .AL, .Ob); t[0xA1] = E("mov", .movGvEv, .eAX, .Ov)
        t[0xA2] = E("mov", .movEbGb, .Ob, .AL); t[0xA3] = E("mov", .movEvGv, .Ov, .eAX)
        t[0xA4] = E("movs", .movsb, .Yb, .Xb); t[0xA5] = E("movs", .movsv, .Yv, .Xv)
        t[0xA6] = E("cmps", .cmpsb, .Xb, .Yb); t[0xA7] = E("cmps", .cmpsv, .Xv, .Yv)
        t[0xA8] = E("test", .testEbIb, .AL, .Ib); t[0xA9] = E("test", .testEvIv, .eAX, .Iz)
        t[0xAA] = E("stos", .stosb, .Yb, .AL); t[0xAB] = E("stos", .stosv, .Yv, .eAX)
        t[0xAC] = E("lods", .lodsb, .AL, .Xb); t[0xAD] = E("lods", .lodsv, .eAX, .Xv)
        t[0xAE] = E("scas", .scasb, .AL, .Yb); t[0xAF] = E("scas", .scasv, .eAX, .Yv)
        t[0xC0] = E("", .ud, group: UInt8(gC0)); t[0xC1] = E("", .ud, group: UInt8(gC1))
        t[0xC2] = E("ret", .retIw, .Iw, attrs: B); t[0xC3] = E("ret", .ret, attrs: B)
        t[0xC4] = E("les", .lfpGvMp, .Gv, .Mp); t[0xC5] = E("lds", .lfpGvMp, .Gv, .Mp)
        t[0xC6] = E("", .ud, group: UInt8(gC6)); t[0xC7] = E("", .ud, group: UInt8(gC7))
        t[0xC8] = E("enter", .enter, .Iw, .Ib); t[0xC9] = E("leave", .leave)
        t[0xCA] = E("lret", .retfIw, .Iw, attrs: B); t[0xCB] = E("lret", .retf, attrs: B)
        t[0xCC] = E("int3", .int3, attrs: B); t[0xCD] = E("int", .intIb, .Ib, attrs: B)
        t[0xCE] = E("into", .into, attrs: B); t[0xCF] = E("iret", .iret, attrs: B)
        t[0xD0] = E("", .ud, group: UInt8(gD0)); t[0xD1] = E("", .ud, group: UInt8(gD1))
        t[0xD2] = E("", .ud, group: UInt8(gD2)); t[0xD3] = E("", .ud, group: UInt8(gD3))
        t[0xD4] = E("aam", .aam, .Ib); t[0xD5] = E("aad", .aad, .Ib)
        t[0xD6] = E("salc", .salc); t[0xD7] = E("xlat", .xlat)
        for x in 0xD8...0xDF { t[x] = E("(x87)", .fpu, attrs: OpcodeEntry.needsModRM | B) }
        t[0xE0] = E("loopne", .loopne, .Jb, attrs: B); t[0xE1] = E("loope", .loope, .Jb, attrs: B)
        t[0xE2] = E("loop", .loop, .Jb, attrs: B); t[0xE3] = E("jecxz", .jcxz, .Jb, attrs: B)
        t[0xE4] = E("in", .inALIb, .AL, .Ib); t[0xE5] = E("in", .ineAXIb, .eAX, .Ib)
        t[0xE6] = E("out", .outIbAL, .Ib, .AL); t[0xE7] = E("out", .outIbeAX, .Ib, .eAX)
        t[0xE8] = E("call", .callJ, .Jz, attrs: B); t[0xE9] = E("jmp", .jmpJ, .Jz, attrs: B)
        t[0xEA] = E("ljmp", .jmpAp, .Ap, attrs: B); t[0xEB] = E("jmp", .jmpJ, .Jb, attrs: B)
        t[0xEC] = E("in", .inALDX, .AL, .DX); t[0xED] = E("in", .ineAXDX, .eAX, .DX)
        t[0xEE] = E("out", .outDXAL, .DX, .AL); t[0xEF] = E("out", .outDXeAX, .DX, .eAX)
        t[0xF1] = E("int1", .int1, attrs: B); t[0xF4] = E("hlt", .hlt, attrs: B)
        t[0xF5] = E("cmc", .cmc)
        t[0xF6] = E("", .ud, group: UInt8(gF6)); t[0xF7] = E("", .ud, group: UInt8(gF7))
        t[0xF8] = E("clc", .clc); t[0xF9] = E("stc", .stc)
        t[0xFA] = E("cli", .cli); t[0xFB] = E("sti", .sti, attrs: B)
        t[0xFC] = E("cld", .cld); t[0xFD] = E("std", .std)
        t[0xFE] = E("", .ud, group: UInt8(gFE)); t[0xFF] = E("", .ud, group: UInt8(gFF))
        return t
    }()

    /// The two-byte opcode map (0F xx).
    public static let twoByte: [OpcodeEntry] = {
        typealias E = OpcodeEntry
        var t = Array(repeating: OpcodeEntry.invalid, count: 256)
        t[0x00] = E("", .ud, group: UInt8(g0F00)); t[0x01] = E("", .ud, group: UInt8(g0F01))
        t[0x02] = E("lar", .lar, .Gv, .Ew); t[0x03] = E("lsl", .lsl, .Gv, .Ew)
        t[0x06] = E("clts", .clts, attrs: B)
        t[0x08] = E("invd", .invd); t[0x09] = E("wbinvd", .wbinvd)
        t[0x0B] = E("ud2", .ud2, attrs: B)
        for x in 0x18...0x1F { t[x] = E("nop", .nop, .Ev) }
        t[0x20] = E("mov", .movRdCd, .Rd, .Cd); t[0x21] = E("mov", .movRdDd, .Rd, .Dd)
        t[0x22] = E("mov", .movCdRd, .Cd, .Rd, attrs: B); t[0x23] = E("mov", .movDdRd, .Dd, .Rd, attrs: B)
        t[0x30] = E("wrmsr", .wrmsr, attrs: B); t[0x31] = E("rdtsc", .rdtsc)
        t[0x32] = E("rdmsr", .rdmsr); t[0x33] = E("rdpmc", .rdpmc)
        for c in 0..<16 {
            t[0x40 + c] = E("cmov" + conditionNames[c], .cmovcc, .Gv, .Ev)
            t[0x80 + c] = E("j" + conditionNames[c], .jcc, .Jz, attrs: B)
            t[0x90 + c] = E("set" + conditionNames[c], .setcc, .Eb)
        }
        t[0xA0] = E("push", .pushSeg, .FS); t[0xA1] = E("pop", .popSeg, .FS)
        t[0xA2] = E("cpuid", .cpuid); t[0xA3] = E("bt", .btEvGv, .Ev, .Gv)
        t[0xA4] = E("shld", .shldEvGv, .Ev, .Gv, .Ib); t[0xA5] = E("shld", .shldEvGv, .Ev, .Gv, .CL)
        t[0xA8] = E("push", .pushSeg, .GS); t[0xA9] = E("pop", .popSeg, .GS)
        t[0xAB] = E("bts", .btsEvGv, .Ev, .Gv, attrs: L)
        t[0xAC] = E("shrd", .shrdEvGv, .Ev, .Gv, .Ib); t[0xAD] = E("shrd", .shrdEvGv, .Ev, .Gv, .CL)
        t[0xAF] = E("imul", .imulGvEv, .Gv, .Ev)
        t[0xB0] = E("cmpxchg", .cmpxchgEbGb, .Eb, .Gb, attrs: L); t[0xB1] = E("cmpxchg", .cmpxchgEvGv, .Ev, .Gv, attrs: L)
        t[0xB2] = E("lss", .lfpGvMp, .Gv, .Mp); t[0xB3] = E("btr", .btrEvGv, .Ev, .Gv, attrs: L)
        t[0xB4] = E("lfs", .lfpGvMp, .Gv, .Mp); t[0xB5] = E("lgs", .lfpGvMp, .Gv, .Mp)
        t[0xB6] = E("movzb", .movzxGvEb, .Gv, .Eb); t[0xB7] = E("movzw", .movzxGvEw, .Gv, .Ew)
        t[0xBA] = E("", .ud, group: UInt8(g0FBA)); t[0xBB] = E("btc", .btcEvGv, .Ev, .Gv, attrs: L)
        t[0xBC] = E("bsf", .bsfGvEv, .Gv, .Ev); t[0xBD] = E("bsr", .bsrGvEv, .Gv, .Ev)
        t[0xBE] = E("movsb", .movsxGvEb, .Gv, .Eb); t[0xBF] = E("movsw", .movsxGvEw, .Gv, .Ew)
        t[0xC0] = E("xadd", .xaddEbGb, .Eb, .Gb, attrs: L); t[0xC1] = E("xadd", .xaddEvGv, .Ev, .Gv, attrs: L)
        t[0xC7] = E("", .ud, group: UInt8(g0FC7))
        for r in 0..<8 { t[0xC8 + r] = E("bswap", .bswap, .Zv) }
        return t
    }()
}
