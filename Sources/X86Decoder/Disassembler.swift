// Disassembler: AT&T-syntax text for decoded instructions, spelled the way `llvm-objdump -d` spells them.

/// Turns `DecodedInstruction`s back into AT&T assembly text, driven by the same opcode table
/// row the decoder used (mnemonic + operand kinds), with LLVM's suffix and operand rules:
///
///     pushl %ebp      movl 0x8(%ebp), %eax     calll 0x100123 <kmain>     retl
///     rep movsb (%esi), %es:(%edi)      lock cmpxchgl %ecx, (%edx)     ljmpl $0x8, $0x100020
///
/// Differences from llvm-objdump that are intentional: a LOCK prefix is printed on the same
/// line as its instruction (llvm-objdump prints a lone `lock` line), `F1` prints as `int1`,
/// `D0–D3 /6` as `sal`, `F6/F7 /1` as `test`, `0F 19–1F` as `nop`, x87 escapes as `(x87)`,
/// instructions that raise #UD by construction (LOCK misuse, LEA with a register, …)
/// as `(bad)`, and relative branches with a 16-bit operand size show the target the CPU
/// really reaches (EIP wraps at 64 KiB; llvm-objdump does not wrap).
public enum Disassembler {
    /// One disassembled instruction (or one undecodable byte).
    public struct Line: Sendable, Equatable {
        /// Address of the first byte.
        public let address: UInt32
        /// Number of bytes the instruction occupies (1 for an undecodable byte).
        public let length: Int
        /// The instruction's bytes (`length` of them).
        public let bytes: [UInt8]
        /// AT&T text, e.g. `movl %esp, %ebp`, or `(bad)`.
        public let text: String

        public init(address: UInt32, length: Int, bytes: [UInt8], text: String) {
            self.address = address; self.length = length; self.bytes = bytes; self.text = text
        }
    }

    /// Disassemble `bytes` that live at `address` in a code segment of default size 32
    /// (`code32`) or 16 bits. Every byte is covered by exactly one line: undecodable bytes
    /// (invalid opcodes, instructions longer than 15 bytes, an instruction cut off by the
    /// end of `bytes`) give `(bad)` lines of length 1. Never traps.
    /// `symbolize` maps a branch target to a name, printed as `calll 0x100123 <kmain>`.
    public static func disassemble(_ bytes: [UInt8], at address: UInt32, code32: Bool = true,
                                   symbolize: ((UInt32) -> String?)? = nil) -> [Line] {
        var lines: [Line] = []
        var offset = 0
        var insn = DecodedInstruction()
        bytes.withUnsafeBufferPointer { buf in
            while offset < buf.count {
                let here = address &+ UInt32(truncatingIfNeeded: offset)
                let status = Decoder.decode(buf.baseAddress! + offset, count: buf.count - offset,
                                            code32: code32, into: &insn)
                if status == .ok && insn.op != .tooLong && !Decoder.entry(for: insn).isInvalidRow {
                    let n = Int(insn.length)
                    lines.append(Line(address: here, length: n, bytes: Array(buf[offset..<offset + n]),
                                      text: text(of: insn, at: here, code32: code32, symbolize: symbolize)))
                    offset += n
                } else {
                    lines.append(Line(address: here, length: 1, bytes: [buf[offset]], text: "(bad)"))
                    offset += 1
                }
            }
        }
        return lines
    }

    /// The AT&T text of `insn`, which was decoded at `address` in a code segment of default
    /// size 32 (`code32`) or 16 bits. Relative branches print their absolute target (and
    /// ` <name>` when `symbolize` knows it). `.ud`/`.tooLong` instructions print `(bad)`.
    public static func text(of insn: DecodedInstruction, at address: UInt32, code32: Bool = true,
                            symbolize: ((UInt32) -> String?)? = nil) -> String {
        if insn.op == .ud || insn.op == .tooLong { return "(bad)" }
        let entry = Decoder.entry(for: insn)
        if insn.op == .fpu { return "(x87)" }
        let r = Renderer(insn: insn, entry: entry, address: address, code32: code32, symbolize: symbolize)
        return r.render()
    }

    // MARK: - names

    static let reg8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"]
    static let reg16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
    static let reg32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
    static let segNames = ["es", "cs", "ss", "ds", "fs", "gs", "?6", "?7"]

    /// `0x1f`, `-0x4`, `0x0`: LLVM's `formatImm` in hex.
    static func hex(_ v: Int64) -> String {
        v < 0 ? "-0x" + String(UInt64(bitPattern: 0 &- v), radix: 16) : "0x" + String(v, radix: 16)
    }
}

extension OpcodeEntry {
    /// True for the table's "(bad)" rows: no instruction is defined for these bytes.
    var isInvalidRow: Bool { mnemonic == "(bad)" }
}

/// Builds one instruction's text; a value type so nothing is shared between calls.
private struct Renderer {
    let insn: DecodedInstruction
    let entry: OpcodeEntry
    let address: UInt32
    let code32: Bool
    let symbolize: ((UInt32) -> String?)?

    init(insn: DecodedInstruction, entry: OpcodeEntry, address: UInt32, code32: Bool,
         symbolize: ((UInt32) -> String?)?) {
        self.insn = insn; self.entry = entry; self.address = address; self.code32 = code32
        self.symbolize = symbolize
    }

    var vSuffix: String { insn.o16 ? "w" : "l" }

    /// Register name of number `n` in `size` bytes (1, 2, 4).
    func reg(_ n: UInt8, _ size: Int) -> String {
        let i = Int(n & 7)
        switch size {
        case 1: return "%" + Disassembler.reg8[i]
        case 2: return "%" + Disassembler.reg16[i]
        default: return "%" + Disassembler.reg32[i]
        }
    }
    var vSize: Int { insn.o16 ? 2 : 4 }

    /// The segment-override text of a memory operand (`%fs:`), empty without an explicit prefix.
    var segPrefix: String {
        insn.flags & DecodedInstruction.flagSegOverride != 0 ? "%" + Disassembler.segNames[Int(insn.seg)] + ":" : ""
    }

    /// The ModRM / moffs memory operand: `seg:disp(base,index,scale)`, LLVM style.
    func memory() -> String {
        let none = DecodedInstruction.noRegister
        let disp = insn.disp
        var baseName = "", indexName = ""
        var scale = insn.scale
        if insn.a16 {
            if insn.base != none { baseName = "%" + Disassembler.reg16[Int(insn.base)] }
            if insn.index != none { indexName = "%" + Disassembler.reg16[Int(insn.index)] }
        } else {
            if insn.base != none { baseName = "%" + Disassembler.reg32[Int(insn.base)] }
            if insn.index != none {
                indexName = "%" + Disassembler.reg32[Int(insn.index)]
            } else if entry.hasModRM && insn.modrm & 7 == 4 {
                // A SIB byte without an index: LLVM shows %eiz where the SIB was not needed.
                if scale != 0 || insn.base != 4 { indexName = "%eiz" } else { scale = 0 }
            }
        }
        var s = segPrefix
        let moffs = !entry.hasModRM
        if moffs {
            s += Disassembler.hex(Int64(disp))           // moffs print unsigned
            return s
        }
        let sdisp = insn.a16 ? Int64(Int16(truncatingIfNeeded: disp)) : Int64(Int32(bitPattern: disp))
        if disp != 0 || (baseName.isEmpty && indexName.isEmpty) { s += Disassembler.hex(sdisp) }
        if baseName.isEmpty && indexName.isEmpty { return s }
        s += "(" + baseName
        if !indexName.isEmpty {
            s += "," + indexName
            if scale != 0 { s += "," + String(1 << scale) }
        }
        return s + ")"
    }

    /// r/m operand of `size` bytes: a register when mod = 3, else memory.
    func rm(_ size: Int) -> String { insn.isMem ? memory() : reg(insn.rm, size) }

    /// The string-instruction source `seg:(%esi)` and destination `%es:(%edi)`.
    var srcString: String { segPrefix + (insn.a16 ? "(%si)" : "(%esi)") }
    var dstString: String { insn.a16 ? "%es:(%di)" : "%es:(%edi)" }

    /// Absolute target of a relative branch (wrapping at 64 KiB with a 16-bit operand size).
    var branchTarget: UInt32 {
        let t = address &+ UInt32(insn.length) &+ insn.disp
        return insn.o16 ? t & 0xFFFF : t
    }

    func imm(signed8 signed: Bool) -> String {
        signed ? "$" + Disassembler.hex(Int64(Int8(truncatingIfNeeded: insn.imm))) : "$" + Disassembler.hex(Int64(insn.imm & 0xFF))
    }

    /// Text of operand kind `o`, or nil when the operand is implicit (`one`).
    func operand(_ o: Operand) -> String? {
        switch o {
        case .none, .one: return nil
        case .Eb: return rm(1)
        case .Ev: return rm(vSize)
        case .Ew: return rm(insn.op == .smsw || insn.op == .movSwEw ? vSize : 2)   // LLVM: smswl %eax, movl %eax, %ds
        case .Ed: return rm(4)
        case .Gb: return reg(insn.reg, 1)
        case .Gv: return reg(insn.reg, vSize)
        case .Gw: return reg(insn.reg, 2)
        case .Gd: return reg(insn.reg, 4)
        case .M, .Mp, .Mq, .Ms, .Ob, .Ov: return memory()
        case .Rd: return reg(insn.rm, 4)
        case .Cd: return "%cr\(insn.reg)"
        case .Dd: return "%dr\(insn.reg)"
        case .Sw: return "%" + Disassembler.segNames[Int(insn.reg)]
        case .Ib:
            // Value immediates print signed, counts/ports/vectors/bit numbers unsigned (LLVM).
            switch insn.op {
            case .intIb, .inALIb, .ineAXIb, .outIbAL, .outIbeAX, .grp2Eb, .grp2Ev,
                 .btEvIb, .btsEvIb, .btrEvIb, .btcEvIb, .shldEvGv, .shrdEvGv:
                return imm(signed8: false)
            case .enter:
                return "$" + Disassembler.hex(Int64(Int8(truncatingIfNeeded: insn.imm2)))
            default:
                return imm(signed8: true)
            }
        case .Ibs: return "$" + Disassembler.hex(Int64(Int32(bitPattern: insn.imm)))
        case .Iw:
            // LLVM: RET/LRET imm16 print unsigned with a 16-bit operand size, signed otherwise.
            if insn.o16 && insn.op != .enter { return "$" + Disassembler.hex(Int64(insn.imm & 0xFFFF)) }
            return "$" + Disassembler.hex(Int64(Int16(truncatingIfNeeded: insn.imm)))
        case .Iz: return "$" + Disassembler.hex(Int64(insn.imm))
        case .Jb, .Jz:
            let t = branchTarget
            var s = Disassembler.hex(Int64(t))
            if let name = symbolize?(t) { s += " <" + name + ">" }
            return s
        case .Ap: return "$" + Disassembler.hex(Int64(insn.imm2)) + ", $" + Disassembler.hex(Int64(insn.imm))
        case .AL: return "%al"
        case .eAX: return reg(0, vSize)
        case .CL: return "%cl"
        case .DX: return "%dx"
        case .Zb: return reg(insn.rm, 1)
        case .Zv: return reg(insn.rm, vSize)
        case .Xb, .Xv: return srcString
        case .Yb, .Yv: return dstString
        case .ES: return "%es"
        case .CS: return "%cs"
        case .SS: return "%ss"
        case .DS: return "%ds"
        case .FS: return "%fs"
        case .GS: return "%gs"
        }
    }

    /// Size suffix ("b", "w", "l" or "") after LLVM's AT&T rules.
    func suffix() -> String {
        let (a, b, c) = entry.operands
        let ops = [a, b, c]
        switch insn.op {
        // never suffixed
        case .jcc, .jmpJ, .loop, .loope, .loopne, .jcxz, .intIb, .int3, .into, .int1, .enter,
             .leave, .hlt, .bound, .arpl, .verr, .verw, .invlpg, .cmpxchg8b, .setcc, .aam, .aad,
             .xlat:
            return ""
        case .nop:
            return insn.opcode == 0x90 ? "" : vSuffix
        // size by operand size although no operand says so
        case .pusha, .popa, .pushf, .popf, .iret, .ret, .retIw, .retf, .retfIw, .callJ,
             .pushSeg, .popSeg, .sgdt, .sidt, .lgdt, .lidt, .callAp, .jmpAp, .callMp, .jmpMp,
             .callEv, .jmpEv, .pushIv, .movRdCd, .movCdRd, .movRdDd, .movDdRd:
            if [.movRdCd, .movCdRd, .movRdDd, .movDdRd].contains(insn.op) { return "l" }
            return vSuffix
        // word when memory, operand size when register
        case .sldt, .str, .smsw, .movEvSw, .movSwEw:
            return insn.isMem ? "w" : vSuffix
        case .lldt, .ltr, .lmsw:
            return "w"
        default:
            break
        }
        if ops.contains(where: { [.Ev, .Gv, .Zv, .eAX, .Ov, .Xv, .Yv, .Iz].contains($0) }) { return vSuffix }
        if ops.contains(where: { [.Eb, .Gb, .Zb, .AL, .Ob, .Xb, .Yb].contains($0) }) { return "b" }
        if ops.contains(where: { [.Ew, .Gw].contains($0) }) { return "w" }
        return ""
    }

    /// The mnemonic with its suffix and LLVM's special spellings.
    func mnemonic() -> String {
        switch insn.op {
        case .cbw: return insn.o16 ? "cbtw" : "cwtl"
        case .cwd: return insn.o16 ? "cwtd" : "cltd"
        case .pusha: return insn.o16 ? "pushaw" : "pushal"
        case .popa: return insn.o16 ? "popaw" : "popal"
        case .xlat: return "xlatb"
        case .jcxz: return insn.a16 ? "jcxz" : "jecxz"
        case .nop:
            if insn.opcode == 0x90 { return insn.flags & DecodedInstruction.flagRep != 0 ? "pause" : "nop" }
            if insn.opcode == 0x118 && insn.isMem && insn.reg < 4 {
                return ["prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2"][Int(insn.reg)]
            }
            return "nop" + vSuffix
        case .grp2Eb, .grp2Ev:
            return OpcodeTable.shiftNames[Int(insn.reg)] + suffix()
        default:
            return entry.mnemonic + suffix()
        }
    }

    func render() -> String {
        let (a, b, c) = entry.operands
        var prefix = ""
        if insn.flags & DecodedInstruction.flagLock != 0 { prefix += "lock " }
        let isPause = insn.op == .nop && insn.opcode == 0x90
        if !isPause {
            if insn.flags & DecodedInstruction.flagRep != 0 { prefix += "rep " }
            if insn.flags & DecodedInstruction.flagRepne != 0 { prefix += "repne " }
        }
        // LLVM marks a 0x67 prefix that no operand shows (16-bit registers in a memory operand,
        // a string instruction's %si/%di, a moffs, JCXZ) with `addr16` (`addr32` in 16-bit code).
        if code32 == insn.a16 {
            let ops = [a, b, c]
            let modrmMem = entry.hasModRM && insn.isMem
            let shown = (modrmMem && (insn.base != DecodedInstruction.noRegister || insn.index != DecodedInstruction.noRegister))
                || ops.contains(where: { [.Xb, .Xv, .Yb, .Yv, .Ob, .Ov].contains($0) }) || insn.op == .jcxz
            if !shown { prefix += insn.a16 ? "addr16 " : "addr32 " }
        }

        var intel = [a, b, c].compactMap { operand($0) }
        switch insn.op {
        case .enter, .bound:
            break                                   // LLVM keeps Intel order for these
        case .xchgEbGb where !insn.isMem, .xchgEvGv where !insn.isMem:
            break                                   // register exchange: Intel order
        default:
            intel.reverse()
        }
        if insn.op == .nop && insn.opcode == 0x90 { intel = [] }
        switch insn.op {
        case .callEv, .jmpEv, .callMp, .jmpMp: intel = intel.map { "*" + $0 }
        case .aam, .aad: if insn.imm & 0xFF == 10 { intel = [] }
        default: break
        }
        let m = mnemonic()
        return prefix + (intel.isEmpty ? m : m + " " + intel.joined(separator: ", "))
    }
}
