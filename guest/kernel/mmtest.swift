// mmtest.swift: memory-management self-tests chosen on the command line (test=NAME), each told step by step.

/// MmCounts: what a test must give back.
struct MmCounts {
    var buddy: BuddySnapshot // free lists
    var slabPages: UInt32    // pages in slabs
    var vmallocPages: UInt32 // pages behind vmalloc areas
    var vmAreas: UInt32      // vmalloc areas
    var pkmaps: UInt32       // pkmap slots in use
    var atomic: UInt32       // kmap_atomic slots in use
}

/// mm_counts() -> the counters, after releasing cached free slabs.
func mm_counts() -> MmCounts {
    kmem_cache_shrink_all()
    return MmCounts(buddy: buddy_snapshot(), slabPages: Slab.slabPages, vmallocPages: Vmalloc.usedPages,
                    vmAreas: Vmalloc.areas, pkmaps: pkmap_in_use(), atomic: Pkmap.atomicDepth)
}

/// mm_check_counts(name, before): say whether the counters are back to before; panic
/// (a failed self-test) if not.
func mm_check_counts(_ name: StaticString, _ b: MmCounts) {
    let a = mm_counts()
    if a.buddy.sum == b.buddy.sum && a.buddy.free == b.buddy.free && a.slabPages == b.slabPages
        && a.vmallocPages == b.vmallocPages && a.vmAreas == b.vmAreas && a.pkmaps == b.pkmaps && a.atomic == b.atomic {
        printk(.info).s("test ").s(name).s(": ok, memory back to its starting counts (")
            .u(a.buddy.free).s(" pages free, ").u(a.slabPages).s(" slab pages, ").u(a.vmAreas)
            .s(" vmalloc areas)").end()
        return
    }
    printk(.err).s("test ").s(name).s(": FAIL: free ").u(b.buddy.free).s(" -> ").u(a.buddy.free)
        .s(", slab pages ").u(b.slabPages).s(" -> ").u(a.slabPages).s(", vmalloc pages ")
        .u(b.vmallocPages).s(" -> ").u(a.vmallocPages).s(", pkmaps ").u(a.pkmaps).end()
    panic("mm_check_counts: a test leaked memory")
}

/// expect(cond, what): a test assertion: panics with a FAIL line when cond is false.
func expect(_ cond: Bool, _ what: StaticString) {
    if cond { return }
    printk(.err).s("FAIL: ").s(what).end()
    panic("expect: self-test assertion failed")
}

/// mm_selftests(): run the tests named by test=buddy|slab|frag|vmalloc|highmem|guard
/// words on the command line; test=all runs all but guard (which ends in an oops).
func mm_selftests() {
    let all = cmdline_has("test=all")
    if all || cmdline_has("test=buddy") { test_buddy() }
    if all || cmdline_has("test=slab") { test_slab() }
    if all || cmdline_has("test=frag") { test_frag() }
    if all || cmdline_has("test=vmalloc") { test_vmalloc() }
    if all || cmdline_has("test=highmem") { test_highmem() }
    if cmdline_has("test=guard") { test_guard() }
}

/// test_buddy(): splitting and coalescing in ZONE_NORMAL, buddyinfo after each step.
func test_buddy() {
    printk(.info).s("test buddy: split and coalesce in zone Normal").end()
    let start = mm_counts()
    printk(.info).s("  start:").end()
    buddyinfo_line(ZONE_NORMAL)
    let a = alloc_pages(GFP_KERNEL, 0)
    expect(a != NIL_PFN, "buddy: order-0 allocation")
    printk(.info).s("  alloc_pages(GFP_KERNEL, 0) = pfn ").hex(a, 5).s(" (zone ").s(zone_name(page_zonenum(a)))
        .s("): a larger block was split").end()
    buddyinfo_line(ZONE_NORMAL)
    let b = alloc_pages(GFP_KERNEL, 0)
    expect(b != NIL_PFN, "buddy: second order-0 allocation")
    printk(.info).s("  alloc_pages(GFP_KERNEL, 0) = pfn ").hex(b, 5).s(b == a ^ 1 ? ": the buddy of the first (pfn ^ 1)" : ": not the buddy")
        .end()
    buddyinfo_line(ZONE_NORMAL)
    let c = alloc_pages(GFP_KERNEL, 3)
    expect(c != NIL_PFN, "buddy: order-3 allocation")
    printk(.info).s("  alloc_pages(GFP_KERNEL, 3) = pfn ").hex(c, 5).s(" (8 pages, aligned to 8)").end()
    buddyinfo_line(ZONE_NORMAL)
    free_pages(a, 0)
    printk(.info).s("  free_pages(").hex(a, 5).s(", 0): its buddy ").hex(b, 5).s(" is in use, no merge").end()
    buddyinfo_line(ZONE_NORMAL)
    free_pages(b, 0)
    printk(.info).s("  free_pages(").hex(b, 5).s(", 0): merges with ").hex(a, 5).s(" and on up the orders").end()
    buddyinfo_line(ZONE_NORMAL)
    free_pages(c, 3)
    printk(.info).s("  free_pages(").hex(c, 5).s(", 3): back to the start").end()
    buddyinfo_line(ZONE_NORMAL)
    let dma = alloc_pages(GFP_DMA, 2)
    expect(dma != NIL_PFN && dma < MAX_DMA_PFN, "buddy: GFP_DMA allocation below 16 MiB")
    printk(.info).s("  alloc_pages(GFP_DMA, 2) = pfn ").hex(dma, 5).s(" (zone DMA)").end()
    free_pages(dma, 2)
    let hi = alloc_pages(GFP_HIGHUSER, 0)
    expect(hi != NIL_PFN, "buddy: GFP_HIGHUSER allocation")
    printk(.info).s("  alloc_pages(GFP_HIGHUSER, 0) = pfn ").hex(hi, 5).s(" (zone ").s(zone_name(page_zonenum(hi)))
        .s(zone(ZONE_HIGHMEM).pointee.managed == 0 ? ", fallback: no highmem)" : ")").end()
    free_pages(hi, 0)
    mm_check_counts("buddy", start)
}

/// slabinfo_line(c): the slabinfo line of cache c alone.
func slabinfo_line(_ c: Int) {
    let kc = cache(c).pointee
    printk(.info).s("  ").padl(kc.name, 17).s(" ").udw(kc.activeObjs, 6).s(" ")
        .udw(kc.numSlabs &* kc.perSlab, 6).s(" ").udw(kc.objSize, 6).s(" ").udw(kc.perSlab, 4)
        .s(" ").udw(UInt32(1) << kc.order, 4).s(" : slabdata ").udw(kc.numSlabs &- kc.nrFree, 6)
        .s(" ").udw(kc.numSlabs, 6).s(" (full/partial/free lists)").end()
}

/// test_slab(): a private cache filled and emptied, then every kmalloc size class.
func test_slab() {
    printk(.info).s("test slab: kmem_cache and kmalloc").end()
    let start = mm_counts()
    let c = kmem_cache_create("test_obj", 100, 8)
    let n = 200
    let objs = ptr(kmalloc(UInt32(n * 4), GFP_KERNEL), UInt32.self)
    for i in 0..<n {
        let o = kmem_cache_alloc(c)
        expect(o != 0, "slab: kmem_cache_alloc")
        objs[i] = o
        ptr(o, UInt32.self)[1] = UInt32(i) &* 2654435761
    }
    printk(.info).s("  allocated ").u(n).s(" objects of 100 bytes:").end()
    slabinfo_line(c)
    var ok = true
    for i in 0..<n where ptr(objs[i], UInt32.self)[1] != UInt32(i) &* 2654435761 { ok = false }
    expect(ok, "slab: objects overlap")
    var i = 0
    while i < n { kmem_cache_free(c, objs[i]); i += 2 }
    printk(.info).s("  freed every other object (slabs move from full to partial):").end()
    slabinfo_line(c)
    i = 1
    while i < n { kmem_cache_free(c, objs[i]); i += 2 }
    printk(.info).s("  freed the rest (empty slabs: ").u(SLAB_FREE_KEEP).s(" kept on the free list, the others freed):").end()
    slabinfo_line(c)
    kmem_cache_destroy(c)
    kfree(addr(objs))
    let sizes: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (1, 8, 13, 64, 65, 100, 200, 1000, 4096, 5000, 8192, 8193, 40000)
    for k in 0..<13 {
        let size = tuple_at(sizes, k)
        let p = kmalloc(size, __GFP_ZERO)
        expect(p != 0, "slab: kmalloc")
        let line = printk(.info).s("  kmalloc(").u(size).s(") -> ")
        let pg = page(virt_to_pfn(p)).pointee
        if pg.flags & PG_slab != 0 {
            let kc = cache(Int(page(pg.priv).pointee.slabCache)).pointee
            line.s(kc.name).s(p % min(kc.objSize & (0 &- kc.objSize), 4096) == 0 ? ", naturally aligned" : ", MISALIGNED")
        } else {
            line.s("buddy allocator, order ").u(pg.priv)
        }
        line.end()
        kfree(p)
    }
    mm_check_counts("slab", start)
}

/// test_frag(): fragment a zone until a high-order allocation fails while many pages
/// are free; vmalloc still succeeds from the scattered pages (the Android story).
func test_frag() {
    let zn = zone(ZONE_HIGHMEM).pointee.managed != 0 ? ZONE_HIGHMEM : ZONE_DMA
    let gfp = zn == ZONE_HIGHMEM ? GFP_HIGHUSER : GFP_DMA
    printk(.info).s("test frag: fragmenting zone ").s(zone_name(zn)).end()
    let start = mm_counts()
    buddyinfo_line(zn)
    // Take every free page of the zone, one at a time, chained through page.next.
    var head = NIL_PFN
    var taken: UInt32 = 0
    let flags = local_irq_save()
    while true {
        let pfn = rmqueue(zn, 0)
        if pfn == NIL_PFN { break }
        page(pfn).pointee.next = head
        head = pfn
        taken &+= 1
    }
    local_irq_restore(flags)
    printk(.info).s("  took all ").u(taken).s(" free pages, one by one").end()
    buddyinfo_line(zn)
    // Free the odd pfns: every free page's buddy (pfn ^ 1) stays allocated.
    var keep = NIL_PFN
    var freed: UInt32 = 0
    var pfn = head
    while pfn != NIL_PFN {
        let next = page(pfn).pointee.next
        if pfn & 1 == 1 { free_pages(pfn, 0); freed &+= 1 }
        else { page(pfn).pointee.next = keep; keep = pfn }
        pfn = next
    }
    printk(.info).s("  freed every odd pfn: ").u(freed).s(" pages (").u(freed << 2).s(" KiB) free, none next to another").end()
    buddyinfo_line(zn)
    let big = alloc_pages(gfp, 4)
    expect(big == NIL_PFN || page_zonenum(big) != zn, "frag: order-4 allocation from the fragmented zone")
    if big != NIL_PFN { free_pages(big, 4) }
    printk(.info).s("  alloc_pages(order 4, 64 KiB) in zone ").s(zone_name(zn)).s(": fails with ").u(zone(zn).pointee.freePages)
        .s(" pages free").s(zn == ZONE_HIGHMEM ? " (falls back to Normal)" : "").end()
    let v = __vmalloc(64 << 10, gfp, "test_frag")
    expect(v != 0, "frag: vmalloc from scattered pages")
    let a = find_vm_area(v)
    let pfns = ptr(vm(a).pointee.pages, UInt32.self)
    var scattered = true
    for k in 1..<16 where pfns[k] == pfns[k - 1] &+ 1 { scattered = false }
    var inZone: UInt32 = 0
    for k in 0..<16 where page_zonenum(pfns[k]) == zn { inZone &+= 1 }
    printk(.info).s("  vmalloc(64 KiB) = ").hex32(v).s(": ").u(inZone).s(" of 16 pages from zone ")
        .s(zone_name(zn)).s(scattered ? ", no two physically adjacent" : ", some adjacent").end()
    for k in 0..<Int(16 * 1024) { ptr(v, UInt32.self)[k] = UInt32(k) }
    var sum: UInt32 = 0
    for k in 0..<Int(16 * 1024) { sum &+= ptr(v, UInt32.self)[k] }
    expect(sum == 134209536, "frag: vmalloc area reads back")
    printk(.info).s("  wrote and read back 64 KiB through the vmalloc mapping").end()
    vfree(v)
    pfn = keep
    while pfn != NIL_PFN {
        let next = page(pfn).pointee.next
        free_pages(pfn, 0)
        pfn = next
    }
    printk(.info).s("  freed the even pfns: the buddies coalesce again").end()
    buddyinfo_line(zn)
    mm_check_counts("frag", start)
}

/// test_vmalloc(): fill vmalloc space with 4 MiB areas until it is exhausted while
/// physical memory is still free; then free everything.
func test_vmalloc() {
    printk(.info).s("test vmalloc: exhausting vmalloc space").end()
    let start = mm_counts()
    let maxAreas = 512
    let areas = ptr(kmalloc(UInt32(maxAreas * 4), GFP_KERNEL), UInt32.self)
    var n = 0
    let areaSize: UInt32 = 4 << 20
    while n < maxAreas {
        let v = __vmalloc(areaSize, GFP_HIGHUSER, "test_vmalloc")
        if v == 0 { break }
        ptr(v, UInt32.self).pointee = UInt32(n)                       // first and last word
        ptr(v &+ areaSize &- 4, UInt32.self).pointee = ~UInt32(n)
        areas[n] = v
        n += 1
    }
    let freeNow = nr_free_pages()
    let spaceLeft = VMALLOC_END &- (n == 0 ? Layout.vmallocStart : vm(find_vm_area(areas[n - 1])).pointee.addr &+ areaSize &+ PAGE_SIZE)
    printk(.info).s("  ").u(n).s(" areas of 4 MiB (+ guard page) fit; the next fails with ")
        .u(kb(spaceLeft)).s(" KiB of vmalloc space and ").u(freeNow >> 8).s(" MiB of physical memory free").end()
    expect(n > 0, "vmalloc: no area at all")
    show_vmallocinfo()
    meminfo_line("VmallocTotal:", kb(VMALLOC_END &- Layout.vmallocStart))
    meminfo_line("VmallocUsed:", Vmalloc.usedPages << 2)
    let small = vmalloc(PAGE_SIZE)
    printk(.info).s("  vmalloc(4 KiB) in the remaining hole: ").s(small != 0 ? "ok" : "fails").end()
    vfree(small)
    var ok = true
    for k in 0..<n {
        if ptr(areas[k], UInt32.self).pointee != UInt32(k) || ptr(areas[k] &+ areaSize &- 4, UInt32.self).pointee != ~UInt32(k) { ok = false }
    }
    expect(ok, "vmalloc: areas read back")
    for k in 0..<n { vfree(areas[k]) }
    kfree(addr(areas))
    printk(.info).s("  every area read back and freed").end()
    mm_check_counts("vmalloc", start)
}

/// test_highmem(): write a highmem page through kmap, read it back through
/// kmap_atomic; then kmap more pages than the pkmap window holds, so it wraps (and
/// flushes the TLB), and check that no write went through a stale translation.
func test_highmem() {
    printk(.info).s("test highmem: kmap and kmap_atomic").end()
    let start = mm_counts()
    let hasHigh = zone(ZONE_HIGHMEM).pointee.managed != 0
    if !hasHigh { printk(.info).s("  no highmem at this RAM size: kmap returns direct-map addresses").end() }
    let pfn = alloc_pages(GFP_HIGHUSER, 0)
    expect(pfn != NIL_PFN, "highmem: allocation")
    let va = kmap(pfn)
    printk(.info).s("  page pfn ").hex(pfn, 5).s(" (").s(zone_name(page_zonenum(pfn))).s("): kmap -> ").hex32(va)
        .s(va >= PKMAP_BASE && va < PKMAP_BASE &+ (LAST_PKMAP << PAGE_SHIFT) ? " (pkmap window)" : " (direct map)").end()
    for k in 0..<1024 { ptr(va, UInt32.self)[k] = pfn ^ (UInt32(k) &* 0x9E37_79B9) }
    kunmap(pfn)
    let other = alloc_pages(GFP_HIGHUSER, 0)
    let va1 = kmap_atomic(other)
    let va2 = kmap_atomic(pfn)
    printk(.info).s("  kmap_atomic -> ").hex32(va1).s(", nested kmap_atomic -> ").hex32(va2)
        .s(hasHigh ? " (fixmap slots)" : "").end()
    var ok = true
    for k in 0..<1024 where ptr(va2, UInt32.self)[k] != pfn ^ (UInt32(k) &* 0x9E37_79B9) { ok = false }
    kunmap_atomic(va2)
    kunmap_atomic(va1)
    expect(ok, "highmem: kmap_atomic reads what kmap wrote")
    printk(.info).s("  read back through kmap_atomic: 4096 bytes match").end()
    free_pages(other, 0)
    free_pages(pfn, 0)

    let count = Int(LAST_PKMAP) + 200
    let pfns = ptr(kmalloc(UInt32(count * 4), GFP_KERNEL), UInt32.self)
    for k in 0..<count {
        pfns[k] = alloc_pages(GFP_HIGHUSER, 0)
        expect(pfns[k] != NIL_PFN, "highmem: allocation")
    }
    let flushes0 = Pkmap.flushes
    for k in 0..<count {
        let v = kmap(pfns[k])
        ptr(v, UInt32.self)[7] = UInt32(k) &+ 0x5000_0000
        kunmap(pfns[k])
    }
    var stale = 0
    for k in 0..<count {
        let v = kmap_atomic(pfns[k])
        if ptr(v, UInt32.self)[7] != UInt32(k) &+ 0x5000_0000 { stale += 1 }
        kunmap_atomic(v)
    }
    printk(.info).s("  kmap/kunmap of ").u(count).s(" pages: the ").u(LAST_PKMAP).s("-slot window wrapped ")
        .u(Pkmap.flushes &- flushes0).s(" time(s), TLB flushed; ").u(stale).s(" stale writes").end()
    expect(stale == 0, "highmem: a write went through a stale pkmap translation")
    for k in 0..<count { free_pages(pfns[k], 0) }
    kfree(addr(pfns))
    mm_check_counts("highmem", start)
}

/// guard_touch(p): write one byte at p (a helper with its own name for the oops).
@inline(never)
func guard_touch(_ p: UInt32) {
    ptr(p, UInt8.self).pointee = 0x5A
}

/// test_guard(): write just past the end of a vmalloc area, into its guard page: the
/// kernel must oops (and exit with the panic code), never corrupt memory silently.
func test_guard() {
    let v = vmalloc(8192)
    expect(v != 0, "guard: vmalloc")
    printk(.info).s("test guard: vmalloc(8192) = ").hex32(v).s("; writing to ").hex32(v &+ 8192)
        .s(", its guard page: expect an oops").end()
    guard_touch(v &+ 8192)
    printk(.err).s("test guard: FAIL: the write to the guard page did not fault").end()
    panic("test_guard: no fault")
}
