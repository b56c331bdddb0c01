// Run: the interpreter loop — find or decode the block at CS:EIP, run it, take events.
import X86Decoder

extension CPU {
    /// Run until the instruction count reaches `limit`, the CPU halts, shuts down, or a
    /// stop is requested. Exceptions and interrupts are delivered inside the loop.
    public func run(until limit: UInt64) -> StopReason {
        runLimit = limit
        while true {
            if pendingEvents != 0 {
                if pendingEvents & Event.stop != 0 {
                    pendingEvents &= ~Event.stop
                    return shutdownReason != nil ? .shutdown : .stopped
                }
                pendingEvents &= ~(Event.codeWritten | Event.leaveBlock)
                if pendingEvents & Event.irq != 0 { checkInterrupts() }
            }
            if shutdownReason != nil { return .shutdown }
            if halted { return .halted }
            if icount >= limit { return .limit }
            if let check = instructionCheck, check(segBase[1] &+ eip) { return .debugEvent }
            runBlock(limit)
        }
    }

    /// Find (or decode) the block at CS:EIP and run it, at most `limit - icount` instructions.
    @inline(__always)
    func runBlock(_ limit: UInt64) {
        let lin = segBase[1] &+ eip
        let ti = Int((lin >> 12) & TLB.mask)
        tlbLookups &+= 1
        var phys: UInt32
        if tlb.tagR[ti] == lin & ~0xFFF {
            phys = tlb.phys[ti] | (lin & 0xFFF)
        } else {
            do { phys = try translate(lin, write: false, user: cpl == 3) }
            catch { raiseException(error); return }
        }
        if eip > segLimit[1] { raiseException(Fault.gp0()); return }
        var blockPtr = cache.lookup(phys, code32: code32)
        if blockPtr == nil { blockPtr = compileBlock(phys) }
        guard let block = blockPtr else { runUncached(lin); return }
        if let hook = onBlockExec { hook(segSel[1], eip, icount) }

        var n = Int(block.pointee.count)
        let remaining = limit &- icount
        if UInt64(n) > remaining { n = Int(remaining) }
        let tf = flagBits & EFLAGS.TF != 0
        let shadow = interruptShadow
        let rf = flagBits & EFLAGS.RF != 0
        if tf || shadow || rf || instructionCheck != nil { n = 1 }
        var p = UnsafePointer(cache.insns + Int(block.pointee.first))
        let end = p + n
        let icountAtStart = icount
        deliveredEvent = false
        if let fault = runInstructions(&p, end) {
            raiseException(fault)
            if shadow { interruptShadow = false }
            return
        }
        if shadow { interruptShadow = false; pendingEvents |= Event.irq }
        // RF is cleared once an instruction completes (IRET/POPF may have just set it)
        let heldBack = debugShadow
        debugShadow = false
        if rf && icount != icountAtStart && !deliveredEvent
            && !rfSetByLastInstruction(UnsafePointer(cache.insns + Int(block.pointee.first))) {
            flagBits &= ~EFLAGS.RF
        }
        if tf && !deliveredEvent && !heldBack { singleStepTrap() }
    }

    /// IRET loads RF from its image: it survives until the next instruction completes.
    @inline(__always) func rfSetByLastInstruction(_ p: UnsafePointer<DecodedInstruction>) -> Bool {
        let op = p.pointee.op
        return op == .iret
    }

    /// The dispatch loop: run the decoded instructions from `p` up to `end` (or until an
    /// event is pending). On a fault, EIP is restored to the faulting instruction and the
    /// fault is returned for delivery. Kept in its own function so the `execute` switch is
    /// inlined into a small loop.
    @inline(never)
    func runInstructions(_ p: inout UnsafePointer<DecodedInstruction>, _ end: UnsafePointer<DecodedInstruction>) -> Fault? {
        while p < end {
            let start = eip
            eip = start &+ UInt32(p.pointee.length)
            do {
                try execute(p)
            } catch {
                eip = start
                return error
            }
            icount &+= 1
            if pendingEvents != 0 { break }
            p += 1
        }
        return nil
    }

    /// After an instruction executed with TF = 1: #DB trap with DR6.BS.
    @inline(never) func singleStepTrap() {
        dr[6] |= 0x4000
        raiseException(Fault(Fault.db), kind: .exception)
    }

    /// Decode a block at physical address `phys` (in the current code size) into the cache.
    /// Returns nil when no block can be cached there (unbacked memory, or the first
    /// instruction crosses into the next page): the caller runs one instruction uncached.
    @inline(never)
    func compileBlock(_ phys: UInt32) -> UnsafeMutablePointer<BlockCache.Block>? {
        let page = phys >> 12
        guard UInt64(phys | 0xFFF) < ramSize else { return nil }
        if cache.blockCount >= BlockCache.maxBlocks || cache.insnCount + BlockCache.maxBlockLength > BlockCache.maxInsns {
            cache.flush()
        }
        let first = cache.insnCount
        var off = Int(phys & 0xFFF)
        var count = 0
        let pageBase = ram + Int(page << 12)
        while count < BlockCache.maxBlockLength && off < 4096 {
            let slot = cache.insns + first + count
            let st = Decoder.decode(pageBase + off, count: 4096 - off, code32: code32, into: &slot.pointee)
            if st == .needMoreBytes { break }
            count += 1
            off += Int(slot.pointee.length)
            if slot.pointee.flags & DecodedInstruction.flagEndsBlock != 0 { break }
        }
        if count == 0 { return nil }
        if cache.codePage[Int(page)] == 0 {
            cache.codePage[Int(page)] = 1
            tlb.revokeWrites(physPage: page << 12)
        }
        cache.insnCount += count
        let bi = cache.blockCount
        cache.blockCount += 1
        let b = cache.blocks + bi
        b.initialize(to: BlockCache.Block(phys: phys, gen: cache.pageGen[Int(page)], first: Int32(first),
                                          count: UInt16(count), code32: code32))
        cache.table[BlockCache.slot(phys)] = Int32(bi)
        cache.compiled &+= 1
        return b
    }

    /// Fetch and decode the instruction at linear `lin` byte by byte (it crosses a page
    /// boundary, or lives in unbacked memory). A fetch fault names the first byte on the
    /// page that is not accessible.
    func fetchUncached(_ lin: UInt32) throws(Fault) -> DecodedInstruction {
        var buf = [UInt8](repeating: 0, count: 15)
        let user = cpl == 3
        let firstLen = min(15, Int(4096 - (lin & 0xFFF)))
        let pa0 = try physical(lin, write: false, user: user)
        for k in 0..<firstLen { buf[k] = UInt8(physRead8(pa0 &+ UInt32(k))) }
        var insn = DecodedInstruction()
        var st = buf.withUnsafeBufferPointer { Decoder.decode($0.baseAddress!, count: firstLen, code32: code32, into: &insn) }
        if st == .needMoreBytes {
            let lin1 = (lin | 0xFFF) &+ 1
            let pa1 = try physical(lin1, write: false, user: user)
            for k in firstLen..<15 { buf[k] = UInt8(physRead8(pa1 &+ UInt32(k - firstLen))) }
            st = buf.withUnsafeBufferPointer { Decoder.decode($0.baseAddress!, count: 15, code32: code32, into: &insn) }
        }
        return insn
    }

    /// Run one instruction that is not cached.
    @inline(never)
    func runUncached(_ lin: UInt32) {
        let start = eip
        deliveredEvent = false
        let tf = flagBits & EFLAGS.TF != 0
        let shadow = interruptShadow
        do {
            var insn = try fetchUncached(lin)
            eip = start &+ UInt32(insn.length)
            try withUnsafePointer(to: &insn) { (p: UnsafePointer<DecodedInstruction>) throws(Fault) in try execute(p) }
            icount &+= 1
        } catch {
            eip = start
            raiseException(error)
        }
        if shadow { interruptShadow = false; pendingEvents |= Event.irq }
        let heldBack = debugShadow
        debugShadow = false
        if tf && !deliveredEvent && !heldBack { singleStepTrap() }
    }

    /// Execute exactly one instruction at CS:EIP without delivering a fault (for tests
    /// and tools). On a fault, EIP is left at the instruction and the fault is returned.
    public func executeOne() -> Fault? {
        runLimit = icount &+ 1
        let start = eip
        let lin = segBase[1] &+ eip
        do {
            var insn = try fetchUncached(lin)
            eip = start &+ UInt32(insn.length)
            try withUnsafePointer(to: &insn) { (p: UnsafePointer<DecodedInstruction>) throws(Fault) in try execute(p) }
            icount &+= 1
            return nil
        } catch {
            eip = start
            return error
        }
    }

    /// TLB statistics: page walks and full flushes.
    public var tlbStats: (lookups: UInt64, walks: UInt64, flushes: UInt64) { (tlbLookups, tlb.walks, tlb.flushes) }
    /// Decoded-block cache statistics.
    public var cacheStats: (blocks: UInt64, invalidations: UInt64, flushes: UInt64) {
        (cache.compiled, cache.invalidations, cache.flushes)
    }
}
