// ExecString: MOVS CMPS STOS LODS SCAS INS OUTS with REP prefixes, and port I/O.
import X86Decoder

extension CPU {
    /// One string instruction, with REP/REPE/REPNE. Each iteration counts as one retired
    /// instruction (as QEMU's -icount does). Iterations stop at the run limit or a pending
    /// event with EIP left on the instruction, so it resumes where it stopped; a fault
    /// leaves ECX/ESI/EDI as the completed iterations left them.
    @inline(never)
    func execString(_ d: Insn) throws(Fault) {
        let op = d.pointee.op
        let byteForm = op == .movsb || op == .cmpsb || op == .stosb || op == .lodsb || op == .scasb
            || op == .insb || op == .outsb
        let sz: UInt32 = byteForm ? 0 : vsz(d)
        let n = 1 << Int(sz)
        let a16 = d.pointee.flags & DecodedInstruction.flagA16 != 0
        let amask: UInt32 = a16 ? 0xFFFF : 0xFFFF_FFFF
        let delta: UInt32 = flagBits & EFLAGS.DF != 0 ? 0 &- UInt32(n) : UInt32(n)
        let rep = d.pointee.flags & (DecodedInstruction.flagRep | DecodedInstruction.flagRepne) != 0
        let repne = d.pointee.flags & DecodedInstruction.flagRepne != 0
        let src = Int(d.pointee.seg)
        let port = UInt16(truncatingIfNeeded: r[2])
        if op == .insb || op == .insv || op == .outsb || op == .outsv { try checkIOPermission(port, n) }
        if rep && r[1] & amask == 0 { return }
        let budget = runLimit > icount ? runLimit - icount : 1
        var iterations: UInt64 = 0
        @inline(__always) func step(_ reg: Int) { r[reg] = (r[reg] & ~amask) | ((r[reg] &+ delta) & amask) }
        do {
            while true {
                let si = r[6] & amask, di = r[7] & amask
                var compare = false
                switch op {
                case .movsb, .movsv:
                    let v = try load(src, si, n)
                    try store(0, di, n, v)
                    step(6); step(7)
                case .stosb, .stosv:
                    try store(0, di, n, r[0])
                    step(7)
                case .lodsb, .lodsv:
                    let v = try load(src, si, n)
                    setReg(0, sz, v)
                    step(6)
                case .cmpsb, .cmpsv:
                    let a = try load(src, si, n)
                    let b = try load(0, di, n)
                    _ = alu(7, a, b, sz)
                    step(6); step(7)
                    compare = true
                case .scasb, .scasv:
                    let b = try load(0, di, n)
                    _ = alu(7, getReg(0, sz), b, sz)
                    step(7)
                    compare = true
                case .insb, .insv:
                    if rep && n > 1 && delta == UInt32(n) && !a16 {
                        let k = blockIns(port, di, n, min(UInt64(r[1]), budget &- iterations) &- 1)
                        if k > 0 { r[7] &+= UInt32(k * n); r[1] &-= UInt32(k); iterations &+= UInt64(k) }
                    }
                    let di = r[7]
                    _ = try loadRMW(0, di, n)           // fault before the port is read
                    let v = bus.portRead(port, size: n)
                    try store(0, di, n, v)
                    step(7)
                    pendingEvents |= Event.irq
                default: // outs
                    if rep && n > 1 && delta == UInt32(n) && !a16 {
                        let k = blockOuts(port, src, si, n, min(UInt64(r[1]), budget &- iterations) &- 1)
                        if k > 0 { r[6] &+= UInt32(k * n); r[1] &-= UInt32(k); iterations &+= UInt64(k) }
                    }
                    let si = r[6]
                    let v = try load(src, si, n)
                    bus.portWrite(port, size: n, value: v)
                    step(6)
                    pendingEvents |= bus.portWriteNeedsStop(port) ? Event.irq | Event.stop : Event.irq
                }
                iterations &+= 1
                if !rep { break }
                let count = (r[1] &- 1) & amask
                r[1] = (r[1] & ~amask) | count
                if count == 0 { break }
                if compare && (repne ? lazyZF != 0 : lazyZF == 0) { break }
                if iterations >= budget || pendingEvents & ~Event.irq != 0 {
                    eip = eip &- UInt32(d.pointee.length)   // resume this instruction later
                    pendingEvents |= Event.leaveBlock
                    break
                }
            }
        } catch {
            icount &+= iterations
            throw error
        }
        if iterations > 1 {
            icount &+= iterations - 1
            // the rest of the block must not run: EIP may point back at this instruction
            // (stopped early), and the instruction budget of the block is used up
            pendingEvents |= Event.leaveBlock
        }
    }

    /// REP INS fast path: up to `max` units straight from the port into the host page
    /// of ES:di, when ES needs no check and the page is writable through the TLB
    /// (staying inside it); returns the units moved (0: go unit by unit). Leaves at
    /// least one unit to the caller, which then runs the usual checks and bookkeeping.
    @inline(never)
    func blockIns(_ port: UInt16, _ di: UInt32, _ n: Int, _ max: UInt64) -> Int {
        guard max > 0, segFastW & 1 != 0 else { return 0 }
        let lin = segBase[0] &+ di
        let i = Int((lin >> 12) & TLB.mask)
        guard tlb.tagW[i] == lin & ~0xFFF else { return 0 }
        let k = min(Int(max), (4096 - Int(lin & 0xFFF)) / n)
        guard k > 0 else { return 0 }
        pendingEvents |= Event.irq
        return bus.portReadBlock(port, size: n, count: k, into: hostPointer(i, lin))
    }

    /// REP OUTS fast path: up to `max` units from the host page of seg:si to the port.
    @inline(never)
    func blockOuts(_ port: UInt16, _ seg: Int, _ si: UInt32, _ n: Int, _ max: UInt64) -> Int {
        guard max > 0, segFastR & (1 << UInt8(seg)) != 0 else { return 0 }
        let lin = segBase[seg] &+ si
        let i = Int((lin >> 12) & TLB.mask)
        guard tlb.tagR[i] == lin & ~0xFFF else { return 0 }
        let k = min(Int(max), (4096 - Int(lin & 0xFFF)) / n)
        guard k > 0 else { return 0 }
        pendingEvents |= Event.irq
        return bus.portWriteBlock(port, size: n, count: k, from: UnsafeRawPointer(hostPointer(i, lin)))
    }

    /// IN/OUT at CPL > IOPL consult the TSS I/O permission bitmap: every bit for the
    /// `n` ports from `port` must be clear, else #GP(0).
    @inline(__always)
    func checkIOPermission(_ port: UInt16, _ n: Int) throws(Fault) {
        guard protectedMode && cpl > iopl else { return }
        try checkIOBitmap(port, n)
    }

    @inline(never)
    func checkIOBitmap(_ port: UInt16, _ n: Int) throws(Fault) {
        let type = trAttr & 0xF
        guard type == 9 || type == 11, trLimit >= 0x67 else { throw Fault.gp0() }
        let mapBase = try loadSys(trBase &+ 0x66, 2)
        let byteOff = mapBase &+ UInt32(port >> 3)
        guard byteOff &+ 1 <= trLimit, byteOff >= mapBase else { throw Fault.gp0() }
        let bits = try loadSys(trBase &+ byteOff, 2)
        let mask = UInt32((1 << n) - 1) << UInt32(port & 7)
        if bits & mask != 0 { throw Fault.gp0() }
    }

    /// IN and OUT with an immediate or DX port.
    @inline(never)
    func execPortIO(_ d: Insn) throws(Fault) {
        let op = d.pointee.op
        let byteForm = op == .inALIb || op == .outIbAL || op == .inALDX || op == .outDXAL
        let sz: UInt32 = byteForm ? 0 : vsz(d)
        let n = 1 << Int(sz)
        let port = (op == .inALIb || op == .ineAXIb || op == .outIbAL || op == .outIbeAX)
            ? UInt16(d.pointee.imm & 0xFF) : UInt16(truncatingIfNeeded: r[2])
        try checkIOPermission(port, n)
        switch op {
        case .inALIb, .ineAXIb, .inALDX, .ineAXDX:
            setReg(0, sz, bus.portRead(port, size: n))
        default:
            bus.portWrite(port, size: n, value: getReg(0, sz))
            // the machine looks at its devices after every OUT (exit request, new timer deadline)
            pendingEvents |= Event.stop
        }
        pendingEvents |= Event.irq   // the device may have changed INTR (EOI, unmask)
    }
}
