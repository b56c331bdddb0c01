// Paging: the two-level page walk (4 KiB and 4 MiB PSE pages), A/D bits, #PF, TLB fills.

extension CPU {
    /// Page-fault error code bits.
    enum PFError {
        static let present: UInt32 = 1, write: UInt32 = 2, user: UInt32 = 4, rsvd: UInt32 = 8
    }

    /// Raise #PF for linear address `lin`: CR2 = lin, error code `ec`.
    @inline(never) func pageFault(_ lin: UInt32, _ ec: UInt32) -> Fault {
        cr2 = lin
        onMMUEvent?(.walkFault(linear: lin, error: ec, cr3: cr3))
        return Fault(Fault.pf, ec)
    }

    /// Translate linear address `lin` for an access (a write when `write`; with user-mode
    /// permissions when `user`), setting accessed/dirty bits in guest memory as the
    /// hardware does, and fill the TLB entry. Returns the physical address or throws #PF.
    @inline(never)
    func translate(_ lin: UInt32, write: Bool, user: Bool) throws(Fault) -> UInt32 {
        tlb.walks &+= 1
        let page = lin & ~0xFFF
        var physPage = page
        var rw = true, us = true, dirty = true, global = false
        var attrs: UInt32 = 0x67
        if pagingEnabled {
            let ecAccess = (user ? PFError.user : 0) | (write ? PFError.write : 0)
            let wp = cr0 & 0x1_0000 != 0
            let pdeAddr = (cr3 & 0xFFFF_F000) | ((lin >> 20) & 0xFFC)
            var pde = memory.load32(pdeAddr)
            if pde & 1 == 0 { throw pageFault(lin, ecAccess) }
            if pde & 0x80 != 0 && cr4 & 0x10 != 0 {
                // 4 MiB page: bits 21:13 are reserved (no PSE-36 in our CPUID)
                if pde & 0x003F_E000 != 0 { throw pageFault(lin, ecAccess | PFError.present | PFError.rsvd) }
                rw = pde & 2 != 0; us = pde & 4 != 0
                if (user && (!us || (write && !rw))) || (!user && write && !rw && wp) {
                    throw pageFault(lin, ecAccess | PFError.present)
                }
                let newPDE = pde | 0x20 | (write ? 0x40 : 0)
                if newPDE != pde { pde = newPDE; memory.store32(pdeAddr, pde) }
                physPage = (pde & 0xFFC0_0000) | (lin & 0x003F_F000)
                dirty = pde & 0x40 != 0
                global = pde & 0x100 != 0
                attrs = pde & 0x1FF
            } else {
                if pde & 0x20 == 0 { pde |= 0x20; memory.store32(pdeAddr, pde) }
                let pteAddr = (pde & 0xFFFF_F000) | ((lin >> 10) & 0xFFC)
                var pte = memory.load32(pteAddr)
                if pte & 1 == 0 { throw pageFault(lin, ecAccess) }
                rw = pde & pte & 2 != 0; us = pde & pte & 4 != 0
                if (user && (!us || (write && !rw))) || (!user && write && !rw && wp) {
                    throw pageFault(lin, ecAccess | PFError.present)
                }
                let newPTE = pte | 0x20 | (write ? 0x40 : 0)
                if newPTE != pte { pte = newPTE; memory.store32(pteAddr, pte) }
                physPage = pte & 0xFFFF_F000
                dirty = pte & 0x40 != 0
                global = pte & 0x100 != 0
                attrs = (pte & 0x1F9) | (pde & pte & 6)
            }
            if cr4 & 0x80 == 0 { global = false; attrs &= ~0x100 }
            // supervisor writes to read-only pages are allowed when CR0.WP = 0
            fill(page, physPage, attrs, sw: (rw || !wp) && dirty, ur: us, uw: us && rw && dirty)
        } else {
            fill(page, physPage, attrs, sw: true, ur: true, uw: true)
        }
        if global { tlb.attrs[Int((page >> 12) & TLB.mask)] |= 0x100 }
        return physPage | (lin & 0xFFF)
    }

    /// Install a TLB entry for linear page `page` → physical page `physPage`.
    @inline(__always)
    func fill(_ page: UInt32, _ physPage: UInt32, _ attrs: UInt32, sw: Bool, ur: Bool, uw: Bool) {
        let i = Int((page >> 12) & TLB.mask)
        guard UInt64(physPage) &+ 4096 <= ramSize, memoryHook == nil else { tlb.clear(i); return }
        let code = cache.isCodePage(physPage >> 12)
        tlb.linear[i] = page
        tlb.phys[i] = physPage
        tlb.attrs[i] = attrs
        tlb.addend[i] = UInt(bitPattern: ram + Int(physPage)) &- UInt(page)
        tlb.tagRS[i] = page
        tlb.tagWS[i] = sw && !code ? page : TLB.invalid
        tlb.tagRU[i] = ur ? page : TLB.invalid
        tlb.tagWU[i] = uw && !code ? page : TLB.invalid
    }

    /// Walk the page tables for `lin` without side effects (no A/D updates, no fault, no TLB
    /// fill): the physical address, or nil when not mapped. For the debugger and loaders.
    public func peekTranslate(_ lin: UInt32) -> UInt32? {
        if !pagingEnabled { return lin }
        let pde = memory.load32((cr3 & 0xFFFF_F000) | ((lin >> 20) & 0xFFC))
        if pde & 1 == 0 { return nil }
        if pde & 0x80 != 0 && cr4 & 0x10 != 0 { return (pde & 0xFFC0_0000) | (lin & 0x003F_FFFF) }
        let pte = memory.load32((pde & 0xFFFF_F000) | ((lin >> 10) & 0xFFC))
        if pte & 1 == 0 { return nil }
        return (pte & 0xFFFF_F000) | (lin & 0xFFF)
    }

    /// Flush the whole TLB (CR3 write: global entries survive when CR4.PGE).
    func flushTLB(keepGlobal: Bool, reason: String) {
        tlb.flushAll(keepGlobal: keepGlobal)
        onMMUEvent?(.tlbFlush(reason: reason, keptGlobal: keepGlobal))
    }
}

@inline(__always) func hex8(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
