// Interrupts: exception and interrupt delivery through the IDT (or the real-mode IVT), #DF, triple fault.
import X86Decoder

extension CPU {
    /// What kind of event is being delivered (it decides EXT, the gate-DPL check and RF).
    enum EventKind { case exception, software, external }

    /// Exceptions classed as contributory for the double-fault rules (SDM Vol. 3 6.15).
    @inline(__always) static func isContributory(_ v: UInt8) -> Bool {
        v == 0 || (v >= 10 && v <= 13)
    }

    /// Deliver an exception raised by an instruction (EIP already points at the faulting
    /// instruction for faults, past it for traps), with the #DF and triple-fault rules:
    /// a fault while delivering is combined with the first per the SDM table.
    @inline(never)
    func raiseException(_ f: Fault, kind: EventKind = .exception) {
        var current = f
        var currentKind = kind
        while true {
            do {
                try deliver(current.vector, current.errorCode, kind: currentKind)
                return
            } catch {
                let second = error.vector
                let first = current.vector
                if first == Fault.df {
                    shutdown("triple fault: \(Fault.name(second)) while delivering #DF")
                    return
                }
                let df = (CPU.isContributory(first) && CPU.isContributory(second))
                    || (first == Fault.pf && (second == Fault.pf || CPU.isContributory(second)))
                if df && currentKind != .software {
                    current = Fault(Fault.df, 0)
                    onMMUEvent?(.doubleFault(first: first, second: second))
                } else {
                    current = error
                }
                currentKind = .exception
            }
        }
    }

    /// Stop the processor: a triple fault (or another shutdown condition).
    func shutdown(_ why: String) {
        materializeFlags()
        shutdownReason = "\(why) at \(hex4(segSel[1])):\(hex8(eip)) (icount \(icount), CPL \(cpl), "
            + "CR0=\(hex8(cr0)) CR2=\(hex8(cr2)) CR3=\(hex8(cr3)) ESP=\(hex8(r[4])) EFLAGS=\(hex8(flagBits)))"
        halted = true
        pendingEvents |= Event.stop
    }

    /// Software interrupt (INT n, INT3, INTO, INT1): a trap, EIP already past the instruction.
    func softwareInterrupt(_ v: UInt8, _ d: Insn, isInt3: Bool, icebp: Bool = false) throws(Fault) {
        try deliver(v, nil, kind: icebp ? .external : .software)
        deliveredEvent = true
    }

    /// Deliver vector `v` through the IDT. Throws the fault that delivery itself raised.
    func deliver(_ v: UInt8, _ errorCode: UInt32?, kind: EventKind) throws(Fault) {
        materializeFlags()
        if let hook = onInterrupt {
            hook(InterruptEvent(icount: icount, vector: v, errorCode: errorCode, cr2: cr2, cs: segSel[1], eip: eip,
                                cpl: cpl, esp: r[4], cr3: cr3, external: kind == .external, software: kind == .software))
        }
        vectorCounts[Int(v)] &+= 1
        halted = false
        deliveredEvent = true
        if !protectedMode { try deliverReal(v); return }
        let ext: UInt32 = kind == .software ? 0 : 1
        let idx = UInt32(v) * 8
        let gateErr = idx | 2 | ext
        if idx &+ 7 > UInt32(idtrLimit) { throw Fault(Fault.gp, gateErr) }
        let gate = Descriptor(lo: try loadSys(idtrBase &+ idx, 4), hi: try loadSys(idtrBase &+ idx &+ 4, 4))
        let gtype = (gate.hi >> 8) & 0x1F
        let is32: Bool
        let trapGate: Bool
        switch gtype {
        case 0x0E: is32 = true; trapGate = false
        case 0x0F: is32 = true; trapGate = true
        case 0x06: is32 = false; trapGate = false
        case 0x07: is32 = false; trapGate = true
        default: throw Fault(Fault.gp, gateErr)   // task gates (5) are not supported: docs/cpu.md
        }
        if kind == .software && gate.dpl < cpl { throw Fault(Fault.gp, idx | 2) }
        if !gate.present { throw Fault(Fault.np, gateErr) }
        let sel = gate.gateSelector
        if sel & 0xFFFC == 0 { throw Fault(Fault.gp, ext) }
        let selErr = UInt32(sel & 0xFFFC) | ext
        let cd = try readDescriptor(sel, ext: ext)
        if !cd.isCode || cd.dpl > cpl { throw Fault(Fault.gp, selErr) }
        if !cd.present { throw Fault(Fault.np, selErr) }
        let target = is32 ? gate.gateOffset : gate.gateOffset & 0xFFFF
        let n: UInt32 = is32 ? 4 : 2
        var image = flagBits
        if kind == .exception && !isTrapVector(v) { image |= EFLAGS.RF }
        let oldCS = UInt32(segSel[1]), oldEIP = eip

        if !cd.conforming && cd.dpl < cpl {
            // inter-privilege: the new stack comes from the TSS
            let newCPL = cd.dpl
            let tssType = trAttr & 0xF
            let off = UInt32(newCPL) * 8 &+ 4
            guard tssType == 9 || tssType == 11 || tssType == 1 || tssType == 3 else {
                throw Fault(Fault.ts, UInt32(trSel & 0xFFFC) | ext)
            }
            if off &+ 5 > trLimit { throw Fault(Fault.ts, UInt32(trSel & 0xFFFC) | ext) }
            let newSP = try loadSys(trBase &+ off, 4)
            let ssSel = UInt16(truncatingIfNeeded: try loadSys(trBase &+ off &+ 4, 2))
            if ssSel & 0xFFFC == 0 { throw Fault(Fault.ts, ext) }
            let ssErr = UInt32(ssSel & 0xFFFC) | ext
            if UInt8(ssSel & 3) != newCPL { throw Fault(Fault.ts, ssErr) }
            let sd = try readDescriptor(ssSel, ext: ext, vector: Fault.ts)
            if !sd.writable || sd.dpl != newCPL { throw Fault(Fault.ts, ssErr) }
            if !sd.present { throw Fault(Fault.ss, ssErr) }
            // build the frame on the new stack before changing any register
            let m: UInt32 = sd.big ? 0xFFFF_FFFF : 0xFFFF
            var sp = newSP & m
            @inline(__always) func put(_ w: UInt32) throws(Fault) {
                sp = (sp &- n) & m
                let lastByte = UInt64(sp) + UInt64(n) - 1
                let ok = sd.type & 4 == 0 ? lastByte <= UInt64(sd.limit) : sp > sd.limit
                if !ok { throw Fault(Fault.ss, ssErr) }
                try storeSys(sd.base &+ sp, Int(n), w)
            }
            try put(UInt32(segSel[2])); try put(r[4]); try put(image); try put(oldCS); try put(oldEIP)
            if let e = errorCode { try put(e) }
            try setAccessed(ssSel, sd)
            try loadCS(sel, cd, cpl: newCPL)
            setSegmentCache(2, ssSel, sd)
            r[4] = sd.big ? sp : (r[4] & 0xFFFF_0000) | sp
        } else if cd.conforming || cd.dpl == cpl {
            let m: UInt32 = stack32 ? 0xFFFF_FFFF : 0xFFFF
            var sp = r[4] & m
            @inline(__always) func put(_ w: UInt32) throws(Fault) {
                sp = (sp &- n) & m
                try store(2, sp, Int(n), w)
            }
            try put(image); try put(oldCS); try put(oldEIP)
            if let e = errorCode { try put(e) }
            try loadCS(sel, cd, cpl: cpl)
            r[4] = stack32 ? sp : (r[4] & 0xFFFF_0000) | sp
        } else {
            throw Fault(Fault.gp, selErr)
        }
        eip = target
        flagBits &= ~(EFLAGS.TF | EFLAGS.NT | EFLAGS.RF | EFLAGS.VM)
        if !trapGate { flagBits &= ~EFLAGS.IF }
    }

    /// Vectors whose exceptions are traps (EIP past the instruction, no RF in the image).
    @inline(__always) func isTrapVector(_ v: UInt8) -> Bool { v == 1 || v == 3 || v == 4 }

    /// Real-mode delivery through the IVT.
    func deliverReal(_ v: UInt8) throws(Fault) {
        let a = UInt32(v) * 4
        if a &+ 3 > UInt32(idtrLimit) { throw Fault.gp0() }
        let vec = try loadSys(idtrBase &+ a, 4)
        try pushPair(UInt32(segSel[1]), eip, 2)
        let sp = (r[4] &- 2) & 0xFFFF
        try store(2, sp, 2, flagBits)
        r[4] = (r[4] & 0xFFFF_0000) | sp
        segSel[1] = UInt16(vec >> 16); segBase[1] = (vec >> 16) << 4
        eip = vec & 0xFFFF
        flagBits &= ~(EFLAGS.IF | EFLAGS.TF | EFLAGS.AC | EFLAGS.RF)
    }

    /// Take a pending hardware interrupt when EFLAGS.IF allows and no shadow is active.
    /// Returns true when one was delivered.
    @discardableResult
    func checkInterrupts() -> Bool {
        guard flagBits & EFLAGS.IF != 0, bus.interruptPending else {
            pendingEvents &= ~Event.irq
            return false
        }
        if interruptShadow { return false }
        pendingEvents &= ~Event.irq
        let v = bus.acknowledgeInterrupt()
        halted = false
        raiseException(Fault(v), kind: .external)
        pendingEvents |= Event.irq   // another IRQ may be waiting behind this one
        return true
    }
}

@inline(__always) func hex4(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
