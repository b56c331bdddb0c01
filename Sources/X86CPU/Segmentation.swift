// Segmentation: descriptor tables, segment-register loads with the SDM's checks, far transfers.
import X86Decoder

/// A segment descriptor as read from the GDT or LDT.
struct Descriptor {
    var lo: UInt32, hi: UInt32
    var base: UInt32 { (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF00_0000) }
    var limit: UInt32 {
        let raw = (lo & 0xFFFF) | (hi & 0xF_0000)
        return hi & 0x80_0000 != 0 ? (raw << 12) | 0xFFF : raw
    }
    /// Attributes in the layout of `CPU.segAttr` (bits 8–23 of `hi` without the limit nibble).
    var attr: UInt32 { (hi >> 8) & 0xF0FF }
    var type: UInt32 { (hi >> 8) & 0xF }
    var isSystem: Bool { hi & 0x1000 == 0 }
    var isCode: Bool { !isSystem && hi & 0x800 != 0 }
    var isData: Bool { !isSystem && hi & 0x800 == 0 }
    var readable: Bool { isData || (isCode && hi & 0x200 != 0) }
    var writable: Bool { isData && hi & 0x200 != 0 }
    var conforming: Bool { isCode && hi & 0x400 != 0 }
    var dpl: UInt8 { UInt8((hi >> 13) & 3) }
    var present: Bool { hi & 0x8000 != 0 }
    var big: Bool { hi & 0x40_0000 != 0 }
    /// Gate fields.
    var gateSelector: UInt16 { UInt16(lo >> 16) }
    var gateOffset: UInt32 { (hi & 0xFFFF_0000) | (lo & 0xFFFF) }
}

extension CPU {
    /// Linear address of the descriptor for `sel` after checking it lies within its table
    /// (GDT or LDT); throws #GP(sel + ext) (or `vector`) otherwise.
    func descriptorAddress(_ sel: UInt16, ext: UInt32 = 0, vector: UInt8 = Fault.gp) throws(Fault) -> UInt32 {
        let idx = UInt32(sel & 0xFFF8)
        let code = UInt32(sel & 0xFFFC) | ext
        if sel & 4 != 0 {
            if ldtrSel & 0xFFFC == 0 || ldtrAttr == 0 || idx &+ 7 > ldtrLimit { throw Fault(vector, code) }
            return ldtrBase &+ idx
        }
        if idx &+ 7 > UInt32(gdtrLimit) { throw Fault(vector, code) }
        return gdtrBase &+ idx
    }

    /// Read the descriptor for `sel` (table-limit checked).
    func readDescriptor(_ sel: UInt16, ext: UInt32 = 0, vector: UInt8 = Fault.gp) throws(Fault) -> Descriptor {
        let a = try descriptorAddress(sel, ext: ext, vector: vector)
        return Descriptor(lo: try loadSys(a, 4), hi: try loadSys(a &+ 4, 4))
    }

    /// Set the accessed bit of the descriptor for `sel` in memory if it is clear.
    func setAccessed(_ sel: UInt16, _ desc: Descriptor) throws(Fault) {
        if desc.hi & 0x100 != 0 { return }
        let a = try descriptorAddress(sel)
        try storeSys(a &+ 4, 4, desc.hi | 0x100)
    }

    /// Put a checked descriptor into segment register `s`'s hidden cache.
    func setSegmentCache(_ s: Int, _ sel: UInt16, _ desc: Descriptor) {
        segSel[s] = sel
        segBase[s] = desc.base
        segLimit[s] = desc.limit
        segAttr[s] = desc.attr | 0x1   // the accessed bit as written back
        if s == 2 { stack32 = desc.big }
        if s == 1 { code32 = desc.big }
        refreshSegmentChecks()
    }

    /// Load data or stack segment register `s` (not CS) with `sel`, with every check of
    /// the SDM's MOV/POP/LxS: null selector, table limit, type, RPL/CPL/DPL, present.
    func loadSegment(_ s: Int, _ sel: UInt16) throws(Fault) {
        if !protectedMode || flagBits & EFLAGS.VM != 0 {
            segSel[s] = sel
            segBase[s] = UInt32(sel) << 4
            refreshSegmentChecks()
            return
        }
        let err = UInt32(sel & 0xFFFC)
        if s == 2 {
            if sel & 0xFFFC == 0 { throw Fault.gp0() }
            if UInt8(sel & 3) != cpl { throw Fault(Fault.gp, err) }
            let d = try readDescriptor(sel)
            if !d.writable || d.dpl != cpl { throw Fault(Fault.gp, err) }
            if !d.present { throw Fault(Fault.ss, err) }
            try setAccessed(sel, d)
            setSegmentCache(2, sel, d)
            return
        }
        if sel & 0xFFFC == 0 {
            // a null selector loads an unusable segment; using it raises #GP(0)
            segSel[s] = sel; segBase[s] = 0; segLimit[s] = 0; segAttr[s] = 0
            refreshSegmentChecks()
            return
        }
        let d = try readDescriptor(sel)
        if !d.readable { throw Fault(Fault.gp, err) }
        if !d.conforming && (UInt8(sel & 3) > d.dpl || cpl > d.dpl) { throw Fault(Fault.gp, err) }
        if !d.present { throw Fault(Fault.np, err) }
        try setAccessed(sel, d)
        setSegmentCache(s, sel, d)
    }

    /// Push a segment selector: a 32-bit push writes only the low 16 bits (as P6 does).
    func pushSegment(_ v: UInt32, _ n: Int) throws(Fault) {
        if n == 2 { try push(v, 2); return }
        let sp = stack32 ? r[4] &- 4 : (r[4] &- 4) & 0xFFFF
        try store(2, sp, 2, v)
        _ = try loadRMW(2, sp, 4)
        adjustSP(0 &- 4)
    }

    /// Make `cpl` the current privilege level (TLB permission tags follow it).
    func setCPL(_ level: UInt8) {
        cpl = level
        tlb.selectPrivilege(user: level == 3)
    }

    /// Check a code-segment descriptor for a far JMP/CALL/RET/IRET target and load CS.
    func loadCS(_ sel: UInt16, _ d: Descriptor, cpl newCPL: UInt8) throws(Fault) {
        try setAccessed(sel, d)
        setSegmentCache(1, (sel & 0xFFFC) | UInt16(newCPL), d)
        setCPL(newCPL)
    }

    /// Far JMP / CALL / RETF / RETF imm / IRET.
    @inline(never)
    func execFarTransfer(_ d: Insn) throws(Fault) {
        let sz = vsz(d), n = 1 << Int(sz)
        switch d.pointee.op {
        case .jmpAp, .callAp:
            try farJumpOrCall(UInt16(d.pointee.imm2 & 0xFFFF), d.pointee.imm, call: d.pointee.op == .callAp, n: n)
        case .jmpMp, .callMp:
            let a = ea(d), s = Int(d.pointee.seg)
            let off = try load(s, a, n)
            let sel = UInt16(truncatingIfNeeded: try load(s, a &+ UInt32(n), 2))
            try farJumpOrCall(sel, off, call: d.pointee.op == .callMp, n: n)
        case .retf, .retfIw:
            try farReturn(n: n, extra: d.pointee.op == .retfIw ? d.pointee.imm & 0xFFFF : 0)
        default:
            try interruptReturn(n: n)
        }
    }

    func farJumpOrCall(_ sel: UInt16, _ off: UInt32, call: Bool, n: Int) throws(Fault) {
        if !protectedMode || flagBits & EFLAGS.VM != 0 {
            if call {
                try pushPair(UInt32(segSel[1]), eip, n)
            }
            segSel[1] = sel; segBase[1] = UInt32(sel) << 4
            eip = n == 2 ? off & 0xFFFF : off
            return
        }
        if sel & 0xFFFC == 0 { throw Fault.gp0() }
        let err = UInt32(sel & 0xFFFC)
        let desc = try readDescriptor(sel)
        guard desc.isCode else {
            // call gates, task gates and TSS targets are not supported: see docs/cpu.md
            throw Fault(Fault.gp, err)
        }
        if desc.conforming {
            if desc.dpl > cpl { throw Fault(Fault.gp, err) }
        } else if UInt8(sel & 3) > cpl || desc.dpl != cpl {
            throw Fault(Fault.gp, err)
        }
        if !desc.present { throw Fault(Fault.np, err) }
        let target = n == 2 ? off & 0xFFFF : off
        if target > desc.limit { throw Fault.gp0() }
        if call { try pushPair(UInt32(segSel[1]), eip, n) }
        try loadCS(sel, desc, cpl: cpl)
        eip = target
    }

    /// Push CS then EIP (each `n` bytes) as one unit: nothing changes if either faults.
    func pushPair(_ cs: UInt32, _ ip: UInt32, _ n: Int) throws(Fault) {
        let m = stack32 ? UInt32(0xFFFF_FFFF) : 0xFFFF
        let sp1 = (r[4] &- UInt32(n)) & m, sp2 = (r[4] &- UInt32(2 * n)) & m
        if n == 4 { _ = try loadRMW(2, sp1, 4) }
        try store(2, sp1, 2, cs)
        try store(2, sp2, n, ip)
        adjustSP(0 &- UInt32(2 * n))
    }

    /// After a return to an outer level: data segment registers whose DPL is below the new
    /// CPL (data or non-conforming code) are loaded with null.
    func nullInaccessibleDataSegments() {
        for s in [0, 3, 4, 5] {
            let a = segAttr[s]
            let isConformingCode = a & 0x18 == 0x18 && a & 0x4 != 0
            let dpl = UInt8((a >> 5) & 3)
            if a == 0 || (!isConformingCode && dpl < cpl) {
                segSel[s] = 0; segBase[s] = 0; segLimit[s] = 0; segAttr[s] = 0
            }
        }
        refreshSegmentChecks()
    }

    /// Check the CS selector popped by RETF/IRET; returns its descriptor.
    func checkReturnCS(_ sel: UInt16) throws(Fault) -> Descriptor {
        if sel & 0xFFFC == 0 { throw Fault.gp0() }
        let err = UInt32(sel & 0xFFFC)
        let d = try readDescriptor(sel)
        let rpl = UInt8(sel & 3)
        if !d.isCode || rpl < cpl { throw Fault(Fault.gp, err) }
        if d.conforming ? d.dpl > rpl : d.dpl != rpl { throw Fault(Fault.gp, err) }
        if !d.present { throw Fault(Fault.np, err) }
        return d
    }

    /// Check the SS selector popped for a return to outer level `rpl`.
    func checkReturnSS(_ sel: UInt16, rpl: UInt8) throws(Fault) -> Descriptor {
        if sel & 0xFFFC == 0 { throw Fault.gp0() }
        let err = UInt32(sel & 0xFFFC)
        if UInt8(sel & 3) != rpl { throw Fault(Fault.gp, err) }
        let d = try readDescriptor(sel)
        if !d.writable || d.dpl != rpl { throw Fault(Fault.gp, err) }
        if !d.present { throw Fault(Fault.ss, err) }
        return d
    }

    func farReturn(n: Int, extra: UInt32) throws(Fault) {
        let ip = try peekStack(0, n)
        let csSel = UInt16(truncatingIfNeeded: try peekStack(UInt32(n), n))
        if !protectedMode || flagBits & EFLAGS.VM != 0 {
            segSel[1] = csSel; segBase[1] = UInt32(csSel) << 4
            eip = n == 2 ? ip & 0xFFFF : ip
            adjustSP(UInt32(2 * n) &+ extra)
            return
        }
        let cd = try checkReturnCS(csSel)
        let rpl = UInt8(csSel & 3)
        let target = n == 2 ? ip & 0xFFFF : ip
        if rpl == cpl {
            if target > cd.limit { throw Fault.gp0() }
            try loadCS(csSel, cd, cpl: cpl)
            eip = target
            adjustSP(UInt32(2 * n) &+ extra)
            return
        }
        // return to an outer privilege level: ESP and SS follow the parameters
        let k = UInt32(2 * n) &+ extra
        let newSP = try peekStack(k, n)
        let ssSel = UInt16(truncatingIfNeeded: try peekStack(k &+ UInt32(n), n))
        let sd = try checkReturnSS(ssSel, rpl: rpl)
        if target > cd.limit { throw Fault.gp0() }
        try setAccessed(ssSel, sd)
        try loadCS(csSel, cd, cpl: rpl)
        setSegmentCache(2, ssSel, sd)
        r[4] = sd.big ? newSP &+ extra : (r[4] & 0xFFFF_0000) | ((newSP &+ extra) & 0xFFFF)
        eip = target
        nullInaccessibleDataSegments()
    }

    /// IRET: same-level and outer-level returns in protected mode, and real mode.
    /// A task return (NT = 1) and a return to virtual-8086 mode raise #GP(0): swift86
    /// implements neither hardware task switching nor virtual-8086 mode (docs/cpu.md).
    func interruptReturn(n: Int) throws(Fault) {
        let ip = try peekStack(0, n)
        let csSel = UInt16(truncatingIfNeeded: try peekStack(UInt32(n), n))
        var fl = try peekStack(UInt32(2 * n), n)
        if !protectedMode {
            segSel[1] = csSel; segBase[1] = UInt32(csSel) << 4
            eip = n == 2 ? ip & 0xFFFF : ip
            adjustSP(UInt32(3 * n))
            setFlagsFromPop(fl, n: n, cpl: 0)
            return
        }
        if flagBits & EFLAGS.NT != 0 { throw Fault.gp0() }
        if n == 4 && fl & EFLAGS.VM != 0 && cpl == 0 { throw Fault.gp0() }
        let cd = try checkReturnCS(csSel)
        let rpl = UInt8(csSel & 3)
        let target = n == 2 ? ip & 0xFFFF : ip
        let oldCPL = cpl
        if rpl == cpl {
            if target > cd.limit { throw Fault.gp0() }
            try loadCS(csSel, cd, cpl: cpl)
            eip = target
            adjustSP(UInt32(3 * n))
            setFlagsFromPop(fl, n: n, cpl: oldCPL)
            return
        }
        let newSP = try peekStack(UInt32(3 * n), n)
        let ssSel = UInt16(truncatingIfNeeded: try peekStack(UInt32(4 * n), n))
        let sd = try checkReturnSS(ssSel, rpl: rpl)
        if target > cd.limit { throw Fault.gp0() }
        try setAccessed(ssSel, sd)
        fl &= ~EFLAGS.VM
        try loadCS(csSel, cd, cpl: rpl)
        setSegmentCache(2, ssSel, sd)
        r[4] = sd.big ? newSP : (r[4] & 0xFFFF_0000) | (newSP & 0xFFFF)
        eip = target
        setFlagsFromPop(fl, n: n, cpl: oldCPL)
        nullInaccessibleDataSegments()
    }

    /// Load EFLAGS from a POPF/IRET image under the privilege rules: IOPL changes only at
    /// CPL 0, IF only when CPL <= IOPL; VM, VIP, VIF never change here; bit 1 stays set.
    func setFlagsFromPop(_ v: UInt32, n: Int, cpl level: UInt8) {
        materializeFlags()
        var mask: UInt32 = EFLAGS.arith | EFLAGS.TF | EFLAGS.DF | EFLAGS.NT | EFLAGS.AC | EFLAGS.ID | EFLAGS.RF
        if !protectedMode || level == 0 { mask |= EFLAGS.IOPL | EFLAGS.IF }
        else if level <= iopl { mask |= EFLAGS.IF }
        if n == 2 { mask &= 0xFFFF }
        let wasIF = flagBits & EFLAGS.IF
        flagBits = (flagBits & ~mask) | (v & mask) | 2
        if flagBits & EFLAGS.IF != 0 && wasIF == 0 { pendingEvents |= Event.irq }
    }
}
