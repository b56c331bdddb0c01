// Memory: segmented virtual-memory loads and stores through the TLB, with precise faults.

extension CPU {
    @inline(__always) func hostPointer(_ i: Int, _ lin: UInt32) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: tlb.addend[i] &+ UInt(lin)).unsafelyUnwrapped
    }

    /// Load `size` (1, 2, 4) bytes of host memory, zero-extended.
    @inline(__always) func hostLoad(_ p: UnsafeRawPointer, _ size: Int) -> UInt32 {
        switch size {
        case 1: return UInt32(p.load(as: UInt8.self))
        case 2: return UInt32(p.loadUnaligned(as: UInt16.self))
        default: return p.loadUnaligned(as: UInt32.self)
        }
    }

    // MARK: fast paths (one TLB compare; page-crossing, unbacked and first writes go slow)

    /// Load `size` (1, 2, 4) bytes at `seg:off`.
    @inline(__always)
    func load(_ seg: Int, _ off: UInt32, _ size: Int) throws(Fault) -> UInt32 {
        if segFastR & (1 << UInt8(seg)) == 0 { try checkSegment(seg, off, size, write: false) }
        let lin = segBase[seg] &+ off
        let i = Int((lin >> 12) & TLB.mask)
        tlbLookups &+= 1
        if tlb.tagR[i] == lin & ~0xFFF && (lin & 0xFFF) <= UInt32(4096 - size) {
            return hostLoad(UnsafeRawPointer(hostPointer(i, lin)), size)
        }
        return try loadSlowChecked(seg, off, lin, size)
    }

    /// Store the low `size` bytes of `v` at `seg:off`.
    @inline(__always)
    func store(_ seg: Int, _ off: UInt32, _ size: Int, _ v: UInt32) throws(Fault) {
        if segFastW & (1 << UInt8(seg)) == 0 { try checkSegment(seg, off, size, write: true) }
        let lin = segBase[seg] &+ off
        let i = Int((lin >> 12) & TLB.mask)
        tlbLookups &+= 1
        if tlb.tagW[i] == lin & ~0xFFF && (lin & 0xFFF) <= UInt32(4096 - size) {
            let p = hostPointer(i, lin)
            switch size {
            case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self)
            case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: v), as: UInt16.self)
            default: p.storeBytes(of: v, as: UInt32.self)
            }
            return
        }
        if off > UInt32.max - UInt32(size - 1) { try checkSegment(seg, off, size, write: true) }
        try storeSlow(lin, size, v, user: cpl == 3)
    }

    /// Load for a read-modify-write: faults exactly as the write would, before anything changes.
    @inline(__always)
    func loadRMW(_ seg: Int, _ off: UInt32, _ size: Int) throws(Fault) -> UInt32 {
        if segFastW & (1 << UInt8(seg)) == 0 { try checkSegment(seg, off, size, write: true) }
        let lin = segBase[seg] &+ off
        let i = Int((lin >> 12) & TLB.mask)
        tlbLookups &+= 1
        if tlb.tagW[i] == lin & ~0xFFF && (lin & 0xFFF) <= UInt32(4096 - size) {
            return hostLoad(UnsafeRawPointer(hostPointer(i, lin)), size)
        }
        if off > UInt32.max - UInt32(size - 1) { try checkSegment(seg, off, size, write: true) }
        return try loadRMWSlow(lin, size, user: cpl == 3)
    }

    /// Slow load that also catches an access wrapping past offset 4 GiB - 1 of a flat segment.
    @inline(never)
    func loadSlowChecked(_ seg: Int, _ off: UInt32, _ lin: UInt32, _ size: Int) throws(Fault) -> UInt32 {
        if off > UInt32.max - UInt32(size - 1) { try checkSegment(seg, off, size, write: false) }
        return try loadSlow(lin, size, user: cpl == 3)
    }

    // MARK: slow paths

    /// Physical address of `lin` for an access, via the TLB when it hits.
    @inline(__always)
    func physical(_ lin: UInt32, write: Bool, user: Bool) throws(Fault) -> UInt32 {
        let i = Int((lin >> 12) & TLB.mask)
        let page = lin & ~0xFFF
        let tag = write ? (user ? tlb.tagWU[i] : tlb.tagWS[i]) : (user ? tlb.tagRU[i] : tlb.tagRS[i])
        if tag == page { return tlb.phys[i] | (lin & 0xFFF) }
        return try translate(lin, write: write, user: user)
    }

    /// Read one byte of physical memory (unbacked addresses read 0xFF).
    @inline(__always) func physRead8(_ pa: UInt32) -> UInt32 {
        UInt64(pa) < ramSize ? UInt32(ram[Int(pa)]) : 0xFF
    }

    /// Write one byte of physical memory, invalidating decoded code on that page.
    @inline(__always) func physWrite8(_ pa: UInt32, _ v: UInt8) {
        guard UInt64(pa) < ramSize else { return }
        if cache.isCodePage(pa >> 12) { codeWritten(page: pa >> 12) }
        ram[Int(pa)] = v
    }

    /// Decoded code on physical page `page` is stale: drop it and leave the current block.
    @inline(never) func codeWritten(page: UInt32) {
        cache.invalidate(page: page)
        pendingEvents |= Event.codeWritten
    }

    @inline(never)
    func loadSlow(_ lin: UInt32, _ size: Int, user: Bool) throws(Fault) -> UInt32 {
        let pa0 = try physical(lin, write: false, user: user)
        if memoryHook != nil { reportAccess(lin, pa0, size, write: false) }
        if (lin & 0xFFF) &+ UInt32(size) <= 4096 {
            if UInt64(pa0) &+ UInt64(size) <= ramSize {
                return hostLoad(UnsafeRawPointer(ram + Int(pa0)), size)
            }
            var v: UInt32 = 0
            for k in 0..<size { v |= physRead8(pa0 &+ UInt32(k)) << (8 * UInt32(k)) }
            return v
        }
        // crosses into the next page: translate both before reading
        let lin1 = (lin | 0xFFF) &+ 1
        let pa1 = try physical(lin1, write: false, user: user)
        var v: UInt32 = 0
        for k in 0..<size {
            let l = lin &+ UInt32(k)
            let pa = l >= lin1 || (lin1 == 0 && l < lin) ? pa1 &+ (l &- lin1) : pa0 &+ UInt32(k)
            v |= physRead8(pa) << (8 * UInt32(k))
        }
        return v
    }

    @inline(never)
    func loadRMWSlow(_ lin: UInt32, _ size: Int, user: Bool) throws(Fault) -> UInt32 {
        _ = try physical(lin, write: true, user: user)
        if (lin & 0xFFF) &+ UInt32(size) > 4096 { _ = try physical((lin | 0xFFF) &+ 1, write: true, user: user) }
        return try loadSlow(lin, size, user: user)
    }

    @inline(never)
    func storeSlow(_ lin: UInt32, _ size: Int, _ v: UInt32, user: Bool) throws(Fault) {
        let pa0 = try physical(lin, write: true, user: user)
        var pa1 = pa0
        let crosses = (lin & 0xFFF) &+ UInt32(size) > 4096
        let lin1 = (lin | 0xFFF) &+ 1
        if crosses { pa1 = try physical(lin1, write: true, user: user) }
        if memoryHook != nil { reportAccess(lin, pa0, size, write: true) }
        for k in 0..<size {
            let off = UInt32(k)
            let pa = crosses && (lin &+ off) & ~0xFFF == lin1 ? pa1 &+ ((lin &+ off) & 0xFFF) : pa0 &+ off
            physWrite8(pa, UInt8(truncatingIfNeeded: v >> (8 * off)))
        }
    }

    // MARK: linear accesses with explicit privilege (descriptor tables, TSS, debugger)

    /// Load `size` bytes at linear address `lin` as a supervisor (implicit system access).
    func loadSys(_ lin: UInt32, _ size: Int) throws(Fault) -> UInt32 {
        try loadSlow(lin, size, user: false)
    }
    /// Store `size` bytes at linear address `lin` as a supervisor (implicit system access).
    func storeSys(_ lin: UInt32, _ size: Int, _ v: UInt32) throws(Fault) {
        try storeSlow(lin, size, v, user: false)
    }

    /// Read guest virtual memory for a debugger or loader: no faults, no A/D updates.
    /// Returns nil for bytes that are not mapped.
    public func peekLinear(_ lin: UInt32, count: Int) -> [UInt8?] {
        (0..<count).map { k in
            let l = lin &+ UInt32(k)
            guard let pa = peekTranslate(l) else { return nil }
            return UInt8(physRead8(pa))
        }
    }

    /// Write guest physical memory from outside the CPU (debugger, DMA): keeps the
    /// decoded-code cache coherent.
    public func pokePhysical(_ pa: UInt32, _ bytes: [UInt8]) {
        for (k, b) in bytes.enumerated() { physWrite8(pa &+ UInt32(k), b) }
    }
}
