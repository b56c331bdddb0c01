// Executor: runs one decoded instruction — the hot switch over `Op`.
import X86Decoder

extension CPU {
    // MARK: ALU core

    /// ALU operation `kind` (0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp) on
    /// `a`, `b` at size `sz`: returns the (masked) result and records lazy flags.
    @inline(__always) func alu(_ kind: Int, _ a: UInt32, _ b: UInt32, _ sz: UInt32) -> UInt32 {
        let m = sizeMask(sz)
        var res: UInt32
        switch kind {
        case 0: res = a &+ b; setLazy(LazyKind.add, sz, a, b, res)
        case 1: res = a | b; setLazy(LazyKind.logic, sz, a, b, res)
        case 2: let c = carry; res = a &+ b &+ c; fCarry = c; setLazy(LazyKind.adc, sz, a, b, res)
        case 3: let c = carry; res = a &- b &- c; fCarry = c; setLazy(LazyKind.sbb, sz, a, b, res)
        case 4: res = a & b; setLazy(LazyKind.logic, sz, a, b, res)
        case 6: res = a ^ b; setLazy(LazyKind.logic, sz, a, b, res)
        default: res = a &- b; setLazy(LazyKind.sub, sz, a, b, res)
        }
        return res & m
    }

    /// `op E, G` (form EbGb / EvGv).
    @inline(__always) func aluEG(_ d: Insn, _ kind: Int, _ sz: UInt32) throws(Fault) {
        let src = getReg(d.pointee.reg, sz)
        if kind == 7 { _ = alu(7, try readE(d, sz), src, sz); return }
        if d.pointee.flags & DecodedInstruction.flagMem == 0 {
            setReg(d.pointee.rm, sz, alu(kind, getReg(d.pointee.rm, sz), src, sz))
            return
        }
        let (v, a) = try readRMW(d, sz)
        try writeRMW(d, sz, a, alu(kind, v, src, sz))
    }
    /// `op G, E` (form GbEb / GvEv).
    @inline(__always) func aluGE(_ d: Insn, _ kind: Int, _ sz: UInt32) throws(Fault) {
        let src = try readE(d, sz)
        let res = alu(kind, getReg(d.pointee.reg, sz), src, sz)
        if kind != 7 { setReg(d.pointee.reg, sz, res) }
    }
    /// `op E, imm` (form EbIb / EvIv).
    @inline(__always) func aluEI(_ d: Insn, _ kind: Int, _ sz: UInt32) throws(Fault) {
        let src = d.pointee.imm & sizeMask(sz)
        if kind == 7 { _ = alu(7, try readE(d, sz), src, sz); return }
        if d.pointee.flags & DecodedInstruction.flagMem == 0 {
            setReg(d.pointee.rm, sz, alu(kind, getReg(d.pointee.rm, sz), src, sz))
            return
        }
        let (v, a) = try readRMW(d, sz)
        try writeRMW(d, sz, a, alu(kind, v, src, sz))
    }

    @inline(__always) func incdec(_ d: Insn, _ sz: UInt32, dec: Bool) throws(Fault) {
        let c = carry
        let (v, a) = try readRMW(d, sz)
        let res = dec ? v &- 1 : v &+ 1
        try writeRMW(d, sz, a, res & sizeMask(sz))
        fCarry = c
        setLazy(dec ? LazyKind.dec : LazyKind.inc, sz, v, 1, res)
    }

    // MARK: control transfer helpers

    /// Jump to offset `target` in the current code segment (masked to 16 bits for o16).
    @inline(__always) func jumpNear(_ target: UInt32, _ d: Insn) throws(Fault) {
        let t = d.pointee.flags & DecodedInstruction.flagO16 != 0 ? target & 0xFFFF : target
        if t > segLimit[1] { throw Fault.gp0() }
        eip = t
    }

    // MARK: the instruction switch

    /// Execute the instruction `d`. On entry EIP already points past it; on a throw the
    /// caller restores EIP and delivers the fault. No handler changes architectural state
    /// before its last possible fault, except where the SDM says so (REP string iterations).
    @inline(__always)
    func execute(_ d: Insn) throws(Fault) {
        switch d.pointee.op {
        case .addEbGb: try aluEG(d, 0, 0)
        case .addEvGv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = r[Int(d.pointee.reg)], res = a &+ b
                fOp = LazyKind.add | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEG(d, 0, vsz(d)) }
        case .addGbEb: try aluGE(d, 0, 0)
        case .addGvEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.reg)], b = r[Int(d.pointee.rm)], res = a &+ b
                fOp = LazyKind.add | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.reg)] = res;
            } else { try aluGE(d, 0, vsz(d)) }
        case .addEbIb: try aluEI(d, 0, 0)
        case .addEvIv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = d.pointee.imm, res = a &+ b
                fOp = LazyKind.add | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEI(d, 0, vsz(d)) }
        case .orEbGb: try aluEG(d, 1, 0)
        case .orEvGv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = r[Int(d.pointee.reg)], res = a | b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEG(d, 1, vsz(d)) }
        case .orGbEb: try aluGE(d, 1, 0)
        case .orGvEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.reg)], b = r[Int(d.pointee.rm)], res = a | b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.reg)] = res;
            } else { try aluGE(d, 1, vsz(d)) }
        case .orEbIb: try aluEI(d, 1, 0)
        case .orEvIv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = d.pointee.imm, res = a | b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEI(d, 1, vsz(d)) }
        case .adcEbGb: try aluEG(d, 2, 0)
        case .adcEvGv: try aluEG(d, 2, vsz(d))
        case .adcGbEb: try aluGE(d, 2, 0)
        case .adcGvEv: try aluGE(d, 2, vsz(d))
        case .adcEbIb: try aluEI(d, 2, 0)
        case .adcEvIv: try aluEI(d, 2, vsz(d))
        case .sbbEbGb: try aluEG(d, 3, 0)
        case .sbbEvGv: try aluEG(d, 3, vsz(d))
        case .sbbGbEb: try aluGE(d, 3, 0)
        case .sbbGvEv: try aluGE(d, 3, vsz(d))
        case .sbbEbIb: try aluEI(d, 3, 0)
        case .sbbEvIv: try aluEI(d, 3, vsz(d))
        case .andEbGb: try aluEG(d, 4, 0)
        case .andEvGv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = r[Int(d.pointee.reg)], res = a & b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEG(d, 4, vsz(d)) }
        case .andGbEb: try aluGE(d, 4, 0)
        case .andGvEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.reg)], b = r[Int(d.pointee.rm)], res = a & b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.reg)] = res;
            } else { try aluGE(d, 4, vsz(d)) }
        case .andEbIb: try aluEI(d, 4, 0)
        case .andEvIv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = d.pointee.imm, res = a & b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEI(d, 4, vsz(d)) }
        case .subEbGb: try aluEG(d, 5, 0)
        case .subEvGv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = r[Int(d.pointee.reg)], res = a &- b
                fOp = LazyKind.sub | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEG(d, 5, vsz(d)) }
        case .subGbEb: try aluGE(d, 5, 0)
        case .subGvEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.reg)], b = r[Int(d.pointee.rm)], res = a &- b
                fOp = LazyKind.sub | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.reg)] = res;
            } else { try aluGE(d, 5, vsz(d)) }
        case .subEbIb: try aluEI(d, 5, 0)
        case .subEvIv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = d.pointee.imm, res = a &- b
                fOp = LazyKind.sub | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEI(d, 5, vsz(d)) }
        case .xorEbGb: try aluEG(d, 6, 0)
        case .xorEvGv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = r[Int(d.pointee.reg)], res = a ^ b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEG(d, 6, vsz(d)) }
        case .xorGbEb: try aluGE(d, 6, 0)
        case .xorGvEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.reg)], b = r[Int(d.pointee.rm)], res = a ^ b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.reg)] = res;
            } else { try aluGE(d, 6, vsz(d)) }
        case .xorEbIb: try aluEI(d, 6, 0)
        case .xorEvIv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = d.pointee.imm, res = a ^ b
                fOp = LazyKind.logic | 2; fA = a; fB = b; fRes = res; r[Int(d.pointee.rm)] = res;
            } else { try aluEI(d, 6, vsz(d)) }
        case .cmpEbGb: try aluEG(d, 7, 0)
        case .cmpEvGv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = r[Int(d.pointee.reg)], res = a &- b
                fOp = LazyKind.sub | 2; fA = a; fB = b; fRes = res;
            } else { try aluEG(d, 7, vsz(d)) }
        case .cmpGbEb: try aluGE(d, 7, 0)
        case .cmpGvEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.reg)], b = r[Int(d.pointee.rm)], res = a &- b
                fOp = LazyKind.sub | 2; fA = a; fB = b; fRes = res;
            } else { try aluGE(d, 7, vsz(d)) }
        case .cmpEbIb: try aluEI(d, 7, 0)
        case .cmpEvIv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                let a = r[Int(d.pointee.rm)], b = d.pointee.imm, res = a &- b
                fOp = LazyKind.sub | 2; fA = a; fB = b; fRes = res;
            } else { try aluEI(d, 7, vsz(d)) }
        case .testEbGb:
            let v = try readE(d, 0) & reg8(d.pointee.reg); setLazy(LazyKind.logic, 0, v, 0, v)
        case .testEvGv:
            let sz = vsz(d); let v = try readE(d, sz) & getReg(d.pointee.reg, sz); setLazy(LazyKind.logic, sz, v, 0, v)
        case .testEbIb:
            let v = try readE(d, 0) & d.pointee.imm & 0xFF; setLazy(LazyKind.logic, 0, v, 0, v)
        case .testEvIv:
            let sz = vsz(d); let v = try readE(d, sz) & d.pointee.imm & sizeMask(sz); setLazy(LazyKind.logic, sz, v, 0, v)
        case .incEb: try incdec(d, 0, dec: false)
        case .incEv:
            if d.pointee.flags & DecodedInstruction.flagMem == 0 && d.pointee.flags & DecodedInstruction.flagO16 == 0 {
                let v = r[Int(d.pointee.rm)]; let res = v &+ 1
                fCarry = carry; setLazy(LazyKind.inc, 2, v, 1, res); r[Int(d.pointee.rm)] = res
            } else { try incdec(d, vsz(d), dec: false) }
        case .decEb: try incdec(d, 0, dec: true)
        case .decEv:
            if d.pointee.flags & DecodedInstruction.flagMem == 0 && d.pointee.flags & DecodedInstruction.flagO16 == 0 {
                let v = r[Int(d.pointee.rm)]; let res = v &- 1
                fCarry = carry; setLazy(LazyKind.dec, 2, v, 1, res); r[Int(d.pointee.rm)] = res
            } else { try incdec(d, vsz(d), dec: true) }
        case .notEb, .notEv:
            let sz: UInt32 = d.pointee.op == .notEb ? 0 : vsz(d)
            let (v, a) = try readRMW(d, sz)
            try writeRMW(d, sz, a, ~v & sizeMask(sz))
        case .negEb, .negEv:
            let sz: UInt32 = d.pointee.op == .negEb ? 0 : vsz(d)
            let (v, a) = try readRMW(d, sz)
            let res = 0 &- v
            try writeRMW(d, sz, a, res & sizeMask(sz))
            setLazy(LazyKind.sub, sz, 0, v, res)
        case .mulEb, .mulEv, .imulEb, .imulEv, .divEb, .divEv, .idivEb, .idivEv, .imulGvEv, .imulGvEvIv:
            try execMulDiv(d)
        case .grp2Eb: try execShift(d, 0)
        case .grp2Ev:
            // fast path: SHL/SHR/SAR of a 32-bit register by an immediate
            let count = d.pointee.imm & 0x1F
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0
                && d.pointee.imm2 == 0 && count != 0 && (d.pointee.reg == 4 || d.pointee.reg == 5 || d.pointee.reg == 7) {
                let v = r[Int(d.pointee.rm)]
                let res: UInt32, cf: UInt32, of: UInt32
                switch d.pointee.reg {
                case 4: res = v << count; cf = (v >> (32 - count)) & 1; of = (res >> 31) ^ cf
                case 5: res = v >> count; cf = (v >> (count - 1)) & 1; of = v >> 31
                default:
                    res = UInt32(bitPattern: Int32(bitPattern: v) >> Int32(count))
                    cf = UInt32(bitPattern: Int32(bitPattern: v) >> Int32(count - 1)) & 1; of = 0
                }
                r[Int(d.pointee.rm)] = res
                setArith(cf | of << 11 | szp(res, 2))
            } else if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0
                        && d.pointee.imm2 == 0 && count != 0 && d.pointee.reg < 2 {
                // fast path: ROL/ROR of a 32-bit register by an immediate (only CF and OF change)
                let v = r[Int(d.pointee.rm)]
                let res = d.pointee.reg == 0 ? v.rotateLeft(count) : v.rotateLeft(32 &- count)
                let cf = d.pointee.reg == 0 ? res & 1 : res >> 31
                let of = d.pointee.reg == 0 ? (res >> 31) ^ cf : (res >> 31) ^ ((res >> 30) & 1)
                r[Int(d.pointee.rm)] = res
                materializeFlags()
                flagBits = (flagBits & ~(EFLAGS.CF | EFLAGS.OF)) | cf | of << 11
            } else { try execShift(d, vsz(d)) }
        case .shldEvGv, .shrdEvGv: try execShiftDouble(d)
        case .btEvGv, .btsEvGv, .btrEvGv, .btcEvGv, .btEvIb, .btsEvIb, .btrEvIb, .btcEvIb: try execBitTest(d)
        case .bsfGvEv, .bsrGvEv: try execBitScan(d)
        case .bswap: r[Int(d.pointee.rm)] = r[Int(d.pointee.rm)].byteSwapped
        case .xaddEbGb, .xaddEvGv, .cmpxchgEbGb, .cmpxchgEvGv, .cmpxchg8b: try execExchange(d)

        // moves
        case .movEbGb: try writeE(d, 0, reg8(d.pointee.reg))
        case .movEvGv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == DecodedInstruction.flagMem {
                try store(Int(d.pointee.seg), ea(d), 4, r[Int(d.pointee.reg)])
            } else { try writeE(d, vsz(d), getReg(d.pointee.reg, vsz(d))) }
        case .movGbEb: setReg8(d.pointee.reg, try readE(d, 0))
        case .movGvEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == DecodedInstruction.flagMem {
                r[Int(d.pointee.reg)] = try load(Int(d.pointee.seg), ea(d), 4)
            } else { let sz = vsz(d); setReg(d.pointee.reg, sz, try readE(d, sz)) }
        case .movEbIb: try writeE(d, 0, d.pointee.imm)
        case .movEvIv: try writeE(d, vsz(d), d.pointee.imm)
        case .leaGvM: setReg(d.pointee.reg, vsz(d), ea(d))
        case .movzxGvEb: setReg(d.pointee.reg, vsz(d), try readE(d, 0))
        case .movzxGvEw: setReg(d.pointee.reg, vsz(d), try readE(d, 1))
        case .movsxGvEb: setReg(d.pointee.reg, vsz(d), UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: try readE(d, 0)))))
        case .movsxGvEw: setReg(d.pointee.reg, vsz(d), UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: try readE(d, 1)))))
        case .xchgEbGb, .xchgEvGv:
            let sz: UInt32 = d.pointee.op == .xchgEbGb ? 0 : vsz(d)
            let g = getReg(d.pointee.reg, sz)
            let (old, a) = try readRMW(d, sz)
            try writeRMW(d, sz, a, g)
            setReg(d.pointee.reg, sz, old)
        case .cmovcc:
            let sz = vsz(d)
            let v = try readE(d, sz)   // the source is read (and may fault) whatever the condition
            if condition(UInt8(d.pointee.opcode & 0xF)) { setReg(d.pointee.reg, sz, v) }
            else if sz == 2 { /* 32-bit CMOVcc with a false condition still zero-extends nothing in 32-bit mode */ }
        case .setcc: try writeE(d, 0, condition(UInt8(d.pointee.opcode & 0xF)) ? 1 : 0)
        case .movEvSw:
            // to a register: 32-bit operand size zero-extends; to memory always 16 bits
            let v = UInt32(segSel[Int(d.pointee.reg)])
            if d.pointee.flags & DecodedInstruction.flagMem != 0 { try writeE(d, 1, v) } else { setReg(d.pointee.rm, vsz(d), v) }
        case .movSwEw:
            let sel = UInt16(truncatingIfNeeded: try readE(d, 1))
            try loadSegment(Int(d.pointee.reg), sel)
            if d.pointee.reg == 2 { interruptShadow = true; debugShadow = true }
        case .lfpGvMp:
            let sz = vsz(d), a = ea(d), s = Int(d.pointee.seg)
            let off = try load(s, a, sz == 2 ? 4 : 2)
            let sel = UInt16(truncatingIfNeeded: try load(s, a &+ (sz == 2 ? 4 : 2), 2))
            try loadSegment(Int(d.pointee.imm2), sel)
            setReg(d.pointee.reg, sz, off)

        // stack
        case .pushEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                try push(r[Int(d.pointee.rm)], 4)
            } else { let sz = vsz(d); try push(try readE(d, sz), 1 << Int(sz)) }
        case .popEv:
            if d.pointee.flags & (DecodedInstruction.flagMem | DecodedInstruction.flagO16) == 0 {
                r[Int(d.pointee.rm)] = try pop(4)
            } else {
                // POP to memory: ESP is incremented before the address is computed
                let sz = vsz(d), n = 1 << Int(sz)
                let v = try peekStack(0, n)
                let oldSP = r[4]
                adjustSP(UInt32(n))
                do { try writeE(d, sz, v) } catch { r[4] = oldSP; throw error }
            }
        case .pushIv: let n = 1 << Int(vsz(d)); try push(d.pointee.imm, n)
        case .pushSeg: let n = 1 << Int(vsz(d)); try pushSegment(UInt32(segSel[Int(d.pointee.reg)]), n)
        case .popSeg:
            let n = 1 << Int(vsz(d))
            let sel = UInt16(truncatingIfNeeded: try peekStack(0, n))
            try loadSegment(Int(d.pointee.reg), sel)
            adjustSP(UInt32(n))
            if d.pointee.reg == 2 { interruptShadow = true; debugShadow = true }
        case .pusha:
            let sz = vsz(d), n = UInt32(1 << Int(sz))
            let sp0 = r[4]
            for k in 0..<8 {
                let v = k == 4 ? sp0 : r[k]
                let sp = stack32 ? sp0 &- n &* UInt32(k + 1) : (sp0 &- n &* UInt32(k + 1)) & 0xFFFF
                try store(2, sp, Int(n), v)
            }
            adjustSP(0 &- 8 &* n)
        case .popa:
            let sz = vsz(d), n = UInt32(1 << Int(sz))
            var vals = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
            try withUnsafeMutableBytes(of: &vals) { (buf: UnsafeMutableRawBufferPointer) throws(Fault) in
                let p = buf.baseAddress!.assumingMemoryBound(to: UInt32.self)
                for k in 0..<8 { p[7 - k] = try peekStack(n &* UInt32(k), Int(n)) }
                for k in 0..<8 where k != 4 { setReg(UInt8(k), sz, p[k]) }
            }
            adjustSP(8 &* n)
        case .pushf: try execPushf(d)
        case .popf: try execPopf(d)
        case .enter: try execEnter(d)
        case .leave:
            let sz = vsz(d)
            let bp = stack32 ? r[5] : r[5] & 0xFFFF
            let v = try load(2, bp, 1 << Int(sz))
            if stack32 { r[4] = bp &+ UInt32(1 << Int(sz)) } else { r[4] = (r[4] & 0xFFFF_0000) | ((bp &+ UInt32(1 << Int(sz))) & 0xFFFF) }
            setReg(5, sz, v)

        // conversions and flags
        case .cbw:
            if vsz(d) == 1 { setReg(0, 1, UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: r[0])))) }
            else { r[0] = UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: r[0]))) }
        case .cwd:
            if vsz(d) == 1 { setReg(2, 1, r[0] & 0x8000 != 0 ? 0xFFFF : 0) }
            else { r[2] = r[0] & 0x8000_0000 != 0 ? 0xFFFF_FFFF : 0 }
        case .sahf:
            materializeFlags()
            flagBits = (flagBits & ~UInt32(0xD5)) | ((r[0] >> 8) & 0xD5)
        case .lahf:
            materializeFlags()
            r[0] = (r[0] & 0xFFFF_00FF) | (((flagBits & 0xD5) | 2) << 8)
        case .cmc: materializeFlags(); flagBits ^= EFLAGS.CF
        case .clc: materializeFlags(); flagBits &= ~EFLAGS.CF
        case .stc: materializeFlags(); flagBits |= EFLAGS.CF
        case .cld: flagBits &= ~EFLAGS.DF
        case .std: flagBits |= EFLAGS.DF
        case .cli:
            if protectedMode && cpl > iopl { throw Fault.gp0() }
            flagBits &= ~EFLAGS.IF
        case .sti:
            if protectedMode && cpl > iopl { throw Fault.gp0() }
            if flagBits & EFLAGS.IF == 0 { interruptShadow = true; flagBits |= EFLAGS.IF; pendingEvents |= Event.irq }
        case .salc: setReg8(0, carry != 0 ? 0xFF : 0)
        case .daa, .das, .aaa, .aas, .aam, .aad: try execBCD(d)
        case .xlat:
            let base = d.pointee.flags & DecodedInstruction.flagA16 != 0 ? r[3] & 0xFFFF : r[3]
            var a = base &+ (r[0] & 0xFF)
            if d.pointee.flags & DecodedInstruction.flagA16 != 0 { a &= 0xFFFF }
            setReg8(0, try load(Int(d.pointee.seg), a, 1))

        // control transfer
        case .jcc:
            if condition(UInt8(d.pointee.opcode & 0xF)) { try jumpNear(eip &+ d.pointee.disp, d) }
        case .jmpJ: try jumpNear(eip &+ d.pointee.disp, d)
        case .jmpEv: let t = try readE(d, vsz(d)); try jumpNear(t, d)
        case .callJ:
            let t = eip &+ d.pointee.disp
            let tt = d.pointee.flags & DecodedInstruction.flagO16 != 0 ? t & 0xFFFF : t
            if tt > segLimit[1] { throw Fault.gp0() }
            try push(eip, 1 << Int(vsz(d)))
            eip = tt
        case .callEv:
            let sz = vsz(d)
            let t = try readE(d, sz)
            if t > segLimit[1] { throw Fault.gp0() }
            try push(eip, 1 << Int(sz))
            eip = t
        case .ret:
            let n = 1 << Int(vsz(d))
            var t = try peekStack(0, n)
            if n == 2 { t &= 0xFFFF }
            if t > segLimit[1] { throw Fault.gp0() }
            adjustSP(UInt32(n))
            eip = t
        case .retIw:
            let n = 1 << Int(vsz(d))
            let t = try peekStack(0, n)
            if t > segLimit[1] { throw Fault.gp0() }
            adjustSP(UInt32(n) &+ d.pointee.imm)
            eip = t
        case .jmpAp, .jmpMp, .callAp, .callMp, .retf, .retfIw, .iret: try execFarTransfer(d)
        case .int3: try softwareInterrupt(3, d, isInt3: true)
        case .intIb: try softwareInterrupt(UInt8(d.pointee.imm & 0xFF), d, isInt3: false)
        case .into:
            if lazyOF != 0 { try softwareInterrupt(4, d, isInt3: true) }
        case .int1: try softwareInterrupt(1, d, isInt3: true, icebp: true)
        case .loop, .loope, .loopne, .jcxz:
            let a16 = d.pointee.flags & DecodedInstruction.flagA16 != 0
            var count = a16 ? r[1] & 0xFFFF : r[1]
            var take: Bool
            if d.pointee.op == .jcxz {
                take = count == 0
            } else {
                count = count &- 1
                if a16 { count &= 0xFFFF }
                take = count != 0
                if d.pointee.op == .loope { take = take && lazyZF != 0 }
                if d.pointee.op == .loopne { take = take && lazyZF == 0 }
            }
            if take {
                let t = eip &+ d.pointee.disp
                let tt = d.pointee.flags & DecodedInstruction.flagO16 != 0 ? t & 0xFFFF : t
                if tt > segLimit[1] { throw Fault.gp0() }
                eip = tt
            }
            if d.pointee.op != .jcxz { if a16 { r[1] = (r[1] & 0xFFFF_0000) | count } else { r[1] = count } }
        case .hlt:
            if cpl != 0 { throw Fault.gp0() }
            halted = true
        case .nop, .fwait:
            if d.pointee.op == .fwait && cr0 & 0xA == 0xA { throw Fault(Fault.nm) }
        case .bound:
            let sz = vsz(d), n = 1 << Int(sz), a = ea(d), s = Int(d.pointee.seg)
            let lo = try load(s, a, n), hi = try load(s, a &+ UInt32(n), n)
            let v = getReg(d.pointee.reg, sz)
            let sv = sz == 1 ? Int32(Int16(truncatingIfNeeded: v)) : Int32(bitPattern: v)
            let slo = sz == 1 ? Int32(Int16(truncatingIfNeeded: lo)) : Int32(bitPattern: lo)
            let shi = sz == 1 ? Int32(Int16(truncatingIfNeeded: hi)) : Int32(bitPattern: hi)
            if sv < slo || sv > shi { throw Fault(Fault.br) }
        case .arpl:
            if !protectedMode { throw Fault(Fault.ud) }
            let src = UInt32(getReg(d.pointee.reg, 1))
            let (dst, a) = try readRMW(d, 1)
            let changed = dst & 3 < src & 3
            try writeRMW(d, 1, a, changed ? (dst & ~3) | (src & 3) : dst)
            materializeFlags()
            if changed { flagBits |= EFLAGS.ZF } else { flagBits &= ~EFLAGS.ZF }

        // strings
        case .movsb, .movsv, .cmpsb, .cmpsv, .stosb, .stosv, .lodsb, .lodsv, .scasb, .scasv,
             .insb, .insv, .outsb, .outsv:
            try execString(d)

        // port I/O
        case .inALIb, .ineAXIb, .outIbAL, .outIbeAX, .inALDX, .ineAXDX, .outDXAL, .outDXeAX:
            try execPortIO(d)

        // system
        case .fpu:
            if cr0 & 0xC != 0 { throw Fault(Fault.nm) }   // CR0.EM or CR0.TS
            throw Fault(Fault.ud)
        case .ud, .ud2: throw Fault(Fault.ud)
        case .tooLong: throw Fault.gp0()
        default: try execSystem(d)
        }
    }

    /// Current I/O privilege level (EFLAGS.IOPL).
    @inline(__always) var iopl: UInt8 { UInt8((flagBits >> 12) & 3) }
}
