// ExecSystem: PUSHF/POPF, ENTER, descriptor-table and control-register instructions, CPUID, MSRs.
import X86Decoder

extension CPU {
    /// PUSHF: the image has VM and RF cleared.
    func execPushf(_ d: Insn) throws(Fault) {
        materializeFlags()
        let n = 1 << Int(vsz(d))
        try push(flagBits & ~(EFLAGS.VM | EFLAGS.RF), n)
    }

    /// POPF under the privilege rules of `setFlagsFromPop`.
    func execPopf(_ d: Insn) throws(Fault) {
        let n = 1 << Int(vsz(d))
        let v = try peekStack(0, n)
        adjustSP(UInt32(n))
        setFlagsFromPop(v & ~EFLAGS.RF, n: n, cpl: cpl)   // POPF clears RF (SDM Vol. 2 POPF)
    }

    /// ENTER imm16, imm8: nesting level taken modulo 32; the frame is built before ESP/EBP change.
    func execEnter(_ d: Insn) throws(Fault) {
        let sz = vsz(d), n = UInt32(1 << Int(sz))
        let size = d.pointee.imm & 0xFFFF
        let level = d.pointee.imm2 & 0x1F
        let m: UInt32 = stack32 ? 0xFFFF_FFFF : 0xFFFF
        var sp = r[4] & m
        sp = (sp &- n) & m
        try store(2, sp, Int(n), getReg(5, sz))
        let frame = sp
        if level > 0 {
            var bp = r[5] & m
            for _ in 1..<max(level, 1) {
                bp = (bp &- n) & m
                let v = try load(2, bp, Int(n))
                sp = (sp &- n) & m
                try store(2, sp, Int(n), v)
            }
            sp = (sp &- n) & m
            try store(2, sp, Int(n), frame)
        }
        let finalSP = (sp &- size) & m
        setReg(5, sz, frame)
        r[4] = stack32 ? finalSP : (r[4] & 0xFFFF_0000) | finalSP
    }

    @inline(__always) func requireCPL0() throws(Fault) {
        if protectedMode && cpl != 0 { throw Fault.gp0() }
    }
    @inline(__always) func requireProtectedMode() throws(Fault) {
        if !protectedMode || flagBits & EFLAGS.VM != 0 { throw Fault(Fault.ud) }
    }

    /// The remaining (cold) instructions: system registers, control registers, CPUID, MSRs.
    @inline(never)
    func execSystem(_ d: Insn) throws(Fault) {
        switch d.pointee.op {
        case .sldt:
            try requireProtectedMode()
            if d.pointee.flags & DecodedInstruction.flagMem != 0 { try writeE(d, 1, UInt32(ldtrSel)) }
            else { setReg(d.pointee.rm, vsz(d), UInt32(ldtrSel)) }
        case .str:
            try requireProtectedMode()
            if d.pointee.flags & DecodedInstruction.flagMem != 0 { try writeE(d, 1, UInt32(trSel)) }
            else { setReg(d.pointee.rm, vsz(d), UInt32(trSel)) }
        case .lldt:
            try requireProtectedMode(); try requireCPL0()
            let sel = UInt16(truncatingIfNeeded: try readE(d, 1))
            if sel & 0xFFFC == 0 { ldtrSel = sel; ldtrAttr = 0; ldtrBase = 0; ldtrLimit = 0; return }
            let err = UInt32(sel & 0xFFFC)
            if sel & 4 != 0 { throw Fault(Fault.gp, err) }
            let desc = try readDescriptor(sel)
            if !desc.isSystem || desc.type != 2 { throw Fault(Fault.gp, err) }
            if !desc.present { throw Fault(Fault.np, err) }
            ldtrSel = sel; ldtrBase = desc.base; ldtrLimit = desc.limit; ldtrAttr = desc.attr
        case .ltr:
            try requireProtectedMode(); try requireCPL0()
            let sel = UInt16(truncatingIfNeeded: try readE(d, 1))
            if sel & 0xFFFC == 0 { throw Fault.gp0() }
            let err = UInt32(sel & 0xFFFC)
            if sel & 4 != 0 { throw Fault(Fault.gp, err) }
            let desc = try readDescriptor(sel)
            if !desc.isSystem || (desc.type != 1 && desc.type != 9) { throw Fault(Fault.gp, err) }
            if !desc.present { throw Fault(Fault.np, err) }
            let a = try descriptorAddress(sel)
            try storeSys(a &+ 4, 4, desc.hi | 0x200)       // mark busy
            trSel = sel; trBase = desc.base; trLimit = desc.limit; trAttr = desc.attr | 2
        case .verr, .verw:
            try requireProtectedMode()
            let sel = UInt16(truncatingIfNeeded: try readE(d, 1))
            var ok = false
            if sel & 0xFFFC != 0, let desc = try? readDescriptor(sel), !desc.isSystem {
                let privOK = desc.conforming || (desc.dpl >= cpl && desc.dpl >= UInt8(sel & 3))
                ok = privOK && (d.pointee.op == .verr ? desc.readable : desc.writable)
            }
            materializeFlags()
            if ok { flagBits |= EFLAGS.ZF } else { flagBits &= ~EFLAGS.ZF }
        case .lar, .lsl:
            try requireProtectedMode()
            let sel = UInt16(truncatingIfNeeded: try readE(d, 1))
            var result: UInt32? = nil
            if sel & 0xFFFC != 0, let desc = try? readDescriptor(sel) {
                var typeOK: Bool
                if desc.isSystem {
                    let t = desc.type
                    typeOK = d.pointee.op == .lar ? [1, 2, 3, 4, 5, 9, 11, 12].contains(t) : [1, 2, 3, 9, 11].contains(t)
                } else { typeOK = true }
                let privOK = desc.conforming || (desc.dpl >= cpl && desc.dpl >= UInt8(sel & 3))
                if typeOK && privOK {
                    result = d.pointee.op == .lar ? desc.hi & 0x00F0_FF00 : desc.limit
                }
            }
            materializeFlags()
            if let v = result {
                flagBits |= EFLAGS.ZF
                setReg(d.pointee.reg, vsz(d), v)
            } else { flagBits &= ~EFLAGS.ZF }
        case .sgdt, .sidt:
            let a = ea(d), s = Int(d.pointee.seg)
            let (base, limit) = d.pointee.op == .sgdt ? (gdtrBase, gdtrLimit) : (idtrBase, idtrLimit)
            _ = try loadRMW(s, a, 2); _ = try loadRMW(s, a &+ 2, 4)
            try store(s, a, 2, UInt32(limit))
            try store(s, a &+ 2, 4, d.pointee.flags & DecodedInstruction.flagO16 != 0 ? base & 0x00FF_FFFF : base)
        case .lgdt, .lidt:
            try requireCPL0()
            let a = ea(d), s = Int(d.pointee.seg)
            let limit = UInt16(truncatingIfNeeded: try load(s, a, 2))
            var base = try load(s, a &+ 2, 4)
            if d.pointee.flags & DecodedInstruction.flagO16 != 0 { base &= 0x00FF_FFFF }
            if d.pointee.op == .lgdt { gdtrBase = base; gdtrLimit = limit } else { idtrBase = base; idtrLimit = limit }
        case .smsw:
            if d.pointee.flags & DecodedInstruction.flagMem != 0 { try writeE(d, 1, cr0 & 0xFFFF) }
            else { setReg(d.pointee.rm, vsz(d), cr0) }
        case .lmsw:
            try requireCPL0()
            let v = try readE(d, 1) & 0xF
            try writeCR0((cr0 & ~UInt32(0xE)) | v | (cr0 & 1))   // LMSW cannot clear PE
        case .clts:
            try requireCPL0()
            cr0 &= ~UInt32(8)
        case .invlpg:
            try requireCPL0()
            let lin = segBase[Int(d.pointee.seg)] &+ ea(d)
            tlb.flushPage(lin)
            onMMUEvent?(.invlpg(lin))
        case .invd, .wbinvd:
            try requireCPL0()
        case .movRdCd:
            try requireCPL0()
            let v: UInt32
            switch d.pointee.reg {
            case 0: v = cr0
            case 2: v = cr2
            case 3: v = cr3
            default: v = cr4
            }
            r[Int(d.pointee.rm)] = v
        case .movCdRd:
            try requireCPL0()
            let v = r[Int(d.pointee.rm)]
            switch d.pointee.reg {
            case 0: try writeCR0(v)
            case 2: cr2 = v
            case 3:
                cr3 = v & 0xFFFF_F018
                flushTLB(keepGlobal: cr4 & 0x80 != 0, reason: "cr3 write 0x\(hex8(cr3))")
                onMMUEvent?(.cr3Write(cr3))
            default: try writeCR4(v)
            }
        case .movRdDd, .movDdRd:
            try requireCPL0()
            var n = Int(d.pointee.reg)
            if n == 4 || n == 5 {
                if cr4 & 0x8 != 0 { throw Fault(Fault.ud) }
                n += 2
            }
            if d.pointee.op == .movRdDd {
                r[Int(d.pointee.rm)] = dr[n]
            } else {
                var v = r[Int(d.pointee.rm)]
                if n == 6 { v = (v & 0xE00F) | 0xFFFF_0FF0 }
                if n == 7 { v = (v & 0xFFFF_2BFF) | 0x400 }
                dr[n] = v
            }
        case .wrmsr:
            try requireCPL0()
            switch r[1] {
            case 0x10: tscOffset = (UInt64(r[2]) << 32 | UInt64(r[0])) &- icount
            default: throw Fault.gp0()
            }
        case .rdmsr:
            try requireCPL0()
            switch r[1] {
            case 0x10: let t = icount &+ tscOffset; r[0] = UInt32(truncatingIfNeeded: t); r[2] = UInt32(truncatingIfNeeded: t >> 32)
            default: throw Fault.gp0()
            }
        case .rdtsc:
            if cr4 & 0x4 != 0 && cpl != 0 && protectedMode { throw Fault.gp0() }
            let t = icount &+ tscOffset
            r[0] = UInt32(truncatingIfNeeded: t); r[2] = UInt32(truncatingIfNeeded: t >> 32)
        case .rdpmc:
            if cr4 & 0x100 == 0 && cpl != 0 && protectedMode { throw Fault.gp0() }
            if r[1] > 1 { throw Fault.gp0() }
            r[0] = 0; r[2] = 0
        case .cpuid: execCPUID()
        default:
            throw Fault(Fault.ud)
        }
    }

    /// MOV to CR0: PG without PE, or NW without CD, is #GP(0); paging-relevant changes flush the TLB.
    func writeCR0(_ value: UInt32) throws(Fault) {
        var v = value | 0x10                          // ET is hardwired to 1 on P6
        v &= 0xE005_003F
        if v & 0x8000_0000 != 0 && v & 1 == 0 { throw Fault.gp0() }
        if v & 0x2000_0000 != 0 && v & 0x4000_0000 == 0 { throw Fault.gp0() }
        let changed = v ^ cr0
        cr0 = v
        if changed & 0x8001_0001 != 0 {
            flushTLB(keepGlobal: false, reason: "cr0 write 0x\(hex8(v))")
            if changed & 1 != 0 && v & 1 == 0 { setCPL(0) }
        }
    }

    /// MOV to CR4: only TSD, DE, PSE, PGE and PCE exist on this CPU; other bits are #GP(0).
    func writeCR4(_ v: UInt32) throws(Fault) {
        if v & ~UInt32(0x19C) != 0 { throw Fault.gp0() }
        let changed = v ^ cr4
        cr4 = v
        if changed & 0x90 != 0 { flushTLB(keepGlobal: false, reason: "cr4 write 0x\(hex8(v))") }
    }

    /// CPUID: a P6-class "GenuineIntel" processor without an FPU.
    /// Leaf 1 EDX: PSE, TSC, MSR, CX8, PGE, CMOV. Unknown leaves return zeros.
    func execCPUID() {
        switch r[0] {
        case 0:
            r[0] = 1
            r[3] = 0x756E_6547   // "Genu"
            r[2] = 0x4965_6E69   // "ineI"
            r[1] = 0x6C65_746E   // "ntel"
        case 1:
            r[0] = 0x0000_0633   // family 6, model 3, stepping 3
            r[3] = 0
            r[1] = 0
            r[2] = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 13) | (1 << 15)
        default:
            r[0] = 0; r[1] = 0; r[2] = 0; r[3] = 0
        }
    }
}
