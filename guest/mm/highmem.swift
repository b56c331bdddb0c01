// highmem.swift: reaching ZONE_HIGHMEM pages: kmap/kunmap (pkmap window) and kmap_atomic (fixmap).

/// Pkmap: the persistent kmap window's state. pkmap_count[i]: 0 = free and not in any
/// TLB, 1 = free but its old translation may still be cached, n > 1 = mapped n-1 times.
struct Pkmap {
    static var count: UnsafeMutablePointer<Int32>? = nil   // LAST_PKMAP counters
    static var pfn: UnsafeMutablePointer<UInt32>? = nil    // frame in each slot (NIL_PFN if none)
    static var lastNr: UInt32 = 0         // where the next free-slot search starts
    static var flushes: UInt32 = 0        // flush_all_zero_pkmaps runs (window wraps)
    static var atomicDepth: UInt32 = 0    // kmap_atomic slots in use (a stack)
}

/// PKMAP_ADDR(nr) -> the virtual address of pkmap slot nr.
@inline(__always) func PKMAP_ADDR(_ nr: UInt32) -> UInt32 { PKMAP_BASE &+ (nr << PAGE_SHIFT) }

/// kmap_init(): allocate the pkmap counters (bootmem; the page tables exist already).
func kmap_init() {
    Pkmap.count = ptr(alloc_bootmem_pages(LAST_PKMAP &* 4), Int32.self)
    Pkmap.pfn = ptr(alloc_bootmem_pages(LAST_PKMAP &* 4), UInt32.self)
    for i in 0..<Int(LAST_PKMAP) { Pkmap.pfn.unsafelyUnwrapped[i] = NIL_PFN }
}

/// flush_all_zero_pkmaps(): unmap every slot whose count is 1 (free but maybe cached),
/// then flush the whole TLB once (the pkmap PTEs are global).
func flush_all_zero_pkmaps() {
    let cnt = Pkmap.count.unsafelyUnwrapped
    for i in 0..<LAST_PKMAP where cnt[Int(i)] == 1 {
        cnt[Int(i)] = 0
        let pfn = Pkmap.pfn.unsafelyUnwrapped[Int(i)]
        page(pfn).pointee.virtual = 0
        Pkmap.pfn.unsafelyUnwrapped[Int(i)] = NIL_PFN
        set_pte(PKMAP_ADDR(i), 0, 0)
    }
    __flush_tlb_all()
    Pkmap.flushes &+= 1
    fault_event(kind: "kmap", pid: fault_pid(), addr: PKMAP_BASE, pfn: 0)
}

/// map_new_virtual(pfn) -> the pkmap address now mapping highmem frame pfn. Scans for
/// a free slot from last_pkmap_nr; each wrap to slot 0 first flushes the stale ones.
/// Panics when every slot is mapped (Linux would sleep).
func map_new_virtual(_ pfn: UInt32) -> UInt32 {
    let cnt = Pkmap.count.unsafelyUnwrapped
    var scanned: UInt32 = 0
    while true {
        Pkmap.lastNr = (Pkmap.lastNr &+ 1) & (LAST_PKMAP - 1)
        if Pkmap.lastNr == 0 { flush_all_zero_pkmaps() }
        if cnt[Int(Pkmap.lastNr)] == 0 { break }
        scanned &+= 1
        if scanned > LAST_PKMAP { panic("map_new_virtual: pkmap window full") }
    }
    let nr = Pkmap.lastNr
    let va = PKMAP_ADDR(nr)
    set_pte(va, pfn, PAGE_KERNEL)
    cnt[Int(nr)] = 1
    Pkmap.pfn.unsafelyUnwrapped[Int(nr)] = pfn
    page(pfn).pointee.virtual = va
    return va
}

/// kmap(pfn) -> a kernel address of frame pfn that stays valid until kunmap: the
/// direct map for lowmem, a pkmap slot (reference counted) for highmem.
func kmap(_ pfn: UInt32) -> UInt32 {
    if !PageHighMem(pfn) { return page_address(pfn) }
    let flags = local_irq_save()
    var va = page(pfn).pointee.virtual
    if va == 0 { va = map_new_virtual(pfn) }
    Pkmap.count.unsafelyUnwrapped[Int((va &- PKMAP_BASE) >> PAGE_SHIFT)] &+= 1
    local_irq_restore(flags)
    return va
}

/// kunmap(pfn): drop one kmap reference of frame pfn. The slot stays mapped (count 1)
/// until the next wrap flushes it. Panics on an unmapped highmem page.
func kunmap(_ pfn: UInt32) {
    if !PageHighMem(pfn) { return }
    let va = page(pfn).pointee.virtual
    if va == 0 { panic("kunmap: page not kmapped") }
    let nr = Int((va &- PKMAP_BASE) >> PAGE_SHIFT)
    let cnt = Pkmap.count.unsafelyUnwrapped
    if cnt[nr] < 2 { panic("kunmap: unbalanced kunmap") }
    cnt[nr] &-= 1
}

/// pkmap_in_use() -> slots now mapped by kmap (count > 1).
func pkmap_in_use() -> UInt32 {
    var n: UInt32 = 0
    for i in 0..<Int(LAST_PKMAP) where Pkmap.count.unsafelyUnwrapped[i] > 1 { n &+= 1 }
    return n
}

/// kmap_atomic(pfn) -> an address of frame pfn valid until the matching
/// kunmap_atomic: the direct map for lowmem, else the next fixmap slot
/// (FIX_KMAP_BEGIN + depth), mapped with an INVLPG. Interrupts stay as they are; the
/// slots form a stack. Panics when KM_TYPE_NR are in use.
func kmap_atomic(_ pfn: UInt32) -> UInt32 {
    if !PageHighMem(pfn) { return page_address(pfn) }
    if Pkmap.atomicDepth >= KM_TYPE_NR { panic("kmap_atomic: too deeply nested") }
    let idx = FIX_KMAP_BEGIN &+ Pkmap.atomicDepth
    Pkmap.atomicDepth &+= 1
    let va = fix_to_virt(idx)
    if pte_ptr(va).pointee != 0 { panic("kmap_atomic: slot already mapped") }
    set_pte(va, pfn, PAGE_KERNEL)
    __flush_tlb_one(va)
    return va
}

/// kunmap_atomic(va): undo the most recent kmap_atomic (va must be its address, or a
/// direct-map address, which is ignored): clear the PTE and INVLPG.
func kunmap_atomic(_ va: UInt32) {
    if va < FIXADDR_START || va >= FIXADDR_TOP { return }
    if Pkmap.atomicDepth == 0 { panic("kunmap_atomic: nothing mapped") }
    let idx = FIX_KMAP_BEGIN &+ Pkmap.atomicDepth &- 1
    if fix_to_virt(idx) != (va & PAGE_MASK) { panic("kunmap_atomic: not the innermost slot") }
    set_pte(va & PAGE_MASK, 0, 0)
    __flush_tlb_one(va & PAGE_MASK)
    Pkmap.atomicDepth &-= 1
}
