// Decoder: turns instruction bytes into a DecodedInstruction using the OpcodeTable.

/// The i686 instruction decoder: prefixes, one- and two-byte opcodes, ModRM/SIB in
/// 16- and 32-bit addressing, displacements and immediates, the 15-byte limit, and the
/// encodings that are #UD (invalid opcodes, LOCK where not allowed, register forms of
/// memory-only operands, bad segment or control register numbers).
public enum Decoder {
    /// Result of one decode attempt.
    public enum Status: Equatable, Sendable {
        /// `insn` holds the instruction (possibly `.ud` or `.tooLong`, which raise #UD / #GP(0)).
        case ok
        /// The bytes given end before the instruction does: call again with more bytes.
        case needMoreBytes
    }

    /// Decode one instruction from `count` bytes at `p` in a code segment whose default
    /// operand and address size is 32 bits when `code32` (CS.D = 1), 16 bits otherwise.
    ///
    /// Never reads past `p + count`. Returns `.needMoreBytes` when `count` < 15 and the
    /// instruction is not complete within the bytes given; with 15 or more bytes the
    /// answer is always `.ok` (an instruction longer than 15 bytes decodes as `.tooLong`).
    public static func decode(_ p: UnsafePointer<UInt8>, count: Int, code32: Bool,
                              into insn: inout DecodedInstruction) -> Status {
        insn = DecodedInstruction()
        let limit = min(count, 15)
        var i = 0
        var short = false
        @inline(__always) func next() -> UInt8 {
            if i >= limit { short = true; return 0 }
            let b = p[i]; i += 1; return b
        }
        @inline(__always) func next16() -> UInt16 { UInt16(next()) | UInt16(next()) << 8 }
        @inline(__always) func next32() -> UInt32 { UInt32(next16()) | UInt32(next16()) << 16 }

        var o16 = !code32, a16 = !code32
        var lock = false, rep: UInt8 = 0, seg: UInt8 = 0xFF
        var b: UInt8
        prefixes: while true {
            b = next()
            if short { break }
            switch b {
            case 0xF0: lock = true
            case 0xF2: rep = DecodedInstruction.flagRepne
            case 0xF3: rep = DecodedInstruction.flagRep
            case 0x26: seg = 0
            case 0x2E: seg = 1
            case 0x36: seg = 2
            case 0x3E: seg = 3
            case 0x64: seg = 4
            case 0x65: seg = 5
            case 0x66: o16 = code32
            case 0x67: a16 = code32
            default: break prefixes
            }
        }
        var entry: OpcodeEntry
        var opcode = UInt16(b)
        if b == 0x0F {
            let b2 = next()
            opcode = 0x100 | UInt16(b2)
            entry = OpcodeTable.twoByte[Int(b2)]
        } else {
            entry = OpcodeTable.oneByte[Int(b)]
        }
        insn.opcode = opcode
        var flags: UInt8 = rep
        if o16 { flags |= DecodedInstruction.flagO16 }
        if a16 { flags |= DecodedInstruction.flagA16 }
        if lock { flags |= DecodedInstruction.flagLock }
        if seg != 0xFF { flags |= DecodedInstruction.flagSegOverride }

        var invalid = false
        var isMem = false
        var defaultSeg: UInt8 = 3
        if entry.hasModRM {
            let modrm = next()
            insn.modrm = modrm
            let mod = modrm >> 6
            insn.reg = (modrm >> 3) & 7
            insn.rm = modrm & 7
            if entry.group != 0 {
                entry = OpcodeTable.groups[Int(entry.group) - 1][Int(insn.reg)]
            }
            let (o0, o1, _) = entry.operands
            let ctlForm = o0 == .Rd || o0 == .Cd || o0 == .Dd || o1 == .Rd
            if mod == 3 || ctlForm {
                // register form (MOV to/from CRn/DRn ignores mod and always means a register)
            } else if a16 {
                isMem = true
                let rm = insn.rm
                let bases: [UInt8] = [3, 3, 5, 5, 6, 7, 5, 3]      // BX BX BP BP SI DI BP BX
                let idx: [UInt8] = [6, 7, 6, 7, 8, 8, 8, 8]        // SI DI SI DI - - - -
                if mod == 0 && rm == 6 {
                    insn.disp = UInt32(bitPattern: Int32(Int16(bitPattern: next16())))
                } else {
                    insn.base = bases[Int(rm)]
                    insn.index = idx[Int(rm)]
                    if rm == 2 || rm == 3 || rm == 6 { defaultSeg = 2 }
                    if mod == 1 { insn.disp = UInt32(bitPattern: Int32(Int8(bitPattern: next()))) }
                    else if mod == 2 { insn.disp = UInt32(bitPattern: Int32(Int16(bitPattern: next16()))) }
                }
            } else {
                isMem = true
                var base = insn.rm
                if insn.rm == 4 {
                    let sib = next()
                    insn.scale = sib >> 6
                    let index = (sib >> 3) & 7
                    insn.index = index == 4 ? DecodedInstruction.noRegister : index
                    base = sib & 7
                    if base == 5 && mod == 0 {
                        base = DecodedInstruction.noRegister
                        insn.disp = next32()
                    }
                } else if insn.rm == 5 && mod == 0 {
                    base = DecodedInstruction.noRegister
                    insn.disp = next32()
                }
                insn.base = base
                if base == 4 || base == 5 { defaultSeg = 2 }
                if mod == 1 { insn.disp = UInt32(bitPattern: Int32(Int8(bitPattern: next()))) }
                else if mod == 2 { insn.disp = next32() }
            }
        }

        // Operands: immediates, fixed registers, validity of register/memory forms.
        let ops = [entry.operands.0, entry.operands.1, entry.operands.2]
        for o in ops {
            switch o {
            case .none: break
            case .M, .Mp, .Mq, .Ms:
                if !isMem { invalid = true }
            case .Sw:
                if insn.reg > 5 || (entry.op == .movSwEw && insn.reg == 1) { invalid = true }
            case .Cd:
                if !(insn.reg == 0 || insn.reg == 2 || insn.reg == 3 || insn.reg == 4) { invalid = true }
            case .Ib: insn.imm = UInt32(next()) ; if entry.op == .enter { insn.imm2 = insn.imm; insn.imm = insn.disp }
            case .Ibs: insn.imm = UInt32(bitPattern: Int32(Int8(bitPattern: next())))
            case .Iw:
                if entry.op == .enter { insn.disp = UInt32(next16()) } else { insn.imm = UInt32(next16()) }
            case .Iz: insn.imm = o16 ? UInt32(next16()) : next32()
            case .Jb: insn.disp = UInt32(bitPattern: Int32(Int8(bitPattern: next())))
            case .Jz: insn.disp = o16 ? UInt32(bitPattern: Int32(Int16(bitPattern: next16()))) : next32()
            case .Ap:
                insn.imm = o16 ? UInt32(next16()) : next32()
                insn.imm2 = UInt32(next16())
            case .Ob, .Ov:
                isMem = true
                insn.base = DecodedInstruction.noRegister
                insn.index = DecodedInstruction.noRegister
                insn.disp = a16 ? UInt32(next16()) : next32()
            case .AL, .eAX:
                // "AL, Ib" forms act as "Eb, Ib" with r/m = AL; moffs forms use reg = AL
                insn.reg = 0
                if ops[0] != .Zv { insn.rm = 0 }
            case .Zb, .Zv:
                insn.rm = b & 7
                if b == 0x0F { insn.rm = UInt8(opcode & 7) }
            case .ES: insn.reg = 0
            case .CS: insn.reg = 1
            case .SS: insn.reg = 2
            case .DS: insn.reg = 3
            case .FS: insn.reg = 4
            case .GS: insn.reg = 5
            case .one: insn.imm = 1
            case .CL: insn.imm2 = 1
            default: break
            }
        }
        switch opcode {
        case 0xC4: insn.imm2 = 0
        case 0xC5: insn.imm2 = 3
        case 0x1B2: insn.imm2 = 2
        case 0x1B4: insn.imm2 = 4
        case 0x1B5: insn.imm2 = 5
        default: break
        }

        if short {
            if count < 15 { return .needMoreBytes }
            insn.op = .tooLong
            insn.length = 15
            insn.flags = flags | DecodedInstruction.flagEndsBlock
            return .ok
        }
        if lock && (entry.attrs & OpcodeEntry.lockable == 0 || !isMem) { invalid = true }
        insn.op = invalid ? .ud : entry.op
        if isMem { flags |= DecodedInstruction.flagMem }
        if entry.attrs & OpcodeEntry.endsBlock != 0 || invalid || insn.op == .ud { flags |= DecodedInstruction.flagEndsBlock }
        insn.flags = flags
        insn.seg = seg != 0xFF ? seg : defaultSeg
        insn.length = UInt8(i)
        return .ok
    }

    /// The table row an already-decoded instruction came from (for the disassembler).
    public static func entry(for insn: DecodedInstruction) -> OpcodeEntry {
        var e = insn.opcode >= 0x100 ? OpcodeTable.twoByte[Int(insn.opcode & 0xFF)]
                                     : OpcodeTable.oneByte[Int(insn.opcode)]
        if e.group != 0 { e = OpcodeTable.groups[Int(e.group) - 1][Int((insn.modrm >> 3) & 7)] }
        return e
    }
}
