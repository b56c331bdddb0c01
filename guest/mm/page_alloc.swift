// page_alloc.swift: struct page (mem_map), the zones, and the buddy allocator with /proc/buddyinfo.

let MAX_ORDER: UInt32 = 11            // free lists for orders 0..10 (4 KiB .. 4 MiB)
let NIL_PFN: UInt32 = 0xFFFF_FFFF     // "no page" in pfn-linked lists and allocator results

// struct page flags (Linux's PG_* bits, a subset); the zone lives in the top two bits.
let PG_reserved: UInt32 = 1 << 0      // never handed out (kernel image, bootmem, holes)
let PG_buddy: UInt32 = 1 << 1         // head of a free block in a buddy free list
let PG_slab: UInt32 = 1 << 2          // belongs to a slab (private = pfn of its first page)
let PG_head: UInt32 = 1 << 3          // first page of a multi-page kmalloc (private = order)
let PG_vmalloc: UInt32 = 1 << 4       // backs a vmalloc area
let PG_pgtable: UInt32 = 1 << 5       // a page table
let ZONE_SHIFT: UInt32 = 30           // flags >> ZONE_SHIFT = zone index

// Zone indices and allocation flags (gfp_t).
let ZONE_DMA: UInt32 = 0              // physical 0 .. 16 MiB
let ZONE_NORMAL: UInt32 = 1           // 16 MiB .. 896 MiB
let ZONE_HIGHMEM: UInt32 = 2          // 896 MiB and up: not in the direct map
let MAX_NR_ZONES: UInt32 = 3
let GFP_KERNEL: UInt32 = 0            // NORMAL, then DMA
let GFP_DMA: UInt32 = 1 << 0          // DMA only
let __GFP_HIGHMEM: UInt32 = 1 << 1    // HIGHMEM, then NORMAL, then DMA
let __GFP_ZERO: UInt32 = 1 << 2       // clear the pages (lowmem only)
let GFP_HIGHUSER: UInt32 = __GFP_HIGHMEM

/// Page: struct page, one per physical frame, in the mem_map array (indexed by pfn).
struct Page {
    var flags: UInt32        // PG_* bits | zone << ZONE_SHIFT
    var refcount: Int32      // _refcount: users of the page (0 = free)
    var mapcount: Int32      // _mapcount: page table entries mapping it, minus one (-1 = none)
    var priv: UInt32         // buddy: order of a free block; slab: first pfn; PG_head: order
    var next: UInt32         // list link (free list, slab list): pfn or NIL_PFN
    var prev: UInt32         // list link: pfn or NIL_PFN
    var virtual: UInt32      // kernel virtual address of a kmapped highmem page, else 0
    var freelist: UInt32     // slab: first free object (0 = full)
    var slabCache: UInt16    // slab: index of its kmem_cache
    var inuse: UInt16        // slab: objects allocated
}

/// FreeArea: one order's free list in a zone.
struct FreeArea {
    var head: UInt32         // first free block (pfn of its head page) or NIL_PFN
    var nrFree: UInt32       // blocks on the list
}

/// Zone: a range of physical frames with its own buddy free lists.
struct Zone {
    var startPfn: UInt32     // first pfn spanned
    var endPfn: UInt32       // first pfn past the zone
    var present: UInt32      // usable RAM pages inside the span
    var managed: UInt32      // pages given to the buddy allocator
    var freePages: UInt32    // pages now free
    var freeArea: UnsafeMutablePointer<FreeArea>   // MAX_ORDER lists
}

/// Mm: the global physical memory state.
struct Mm {
    static var memMap: UnsafeMutablePointer<Page>? = nil   // mem_map[max_pfn]
    static var zones: UnsafeMutablePointer<Zone>? = nil    // MAX_NR_ZONES zones
    static var reservedPages: UInt32 = 0    // usable RAM kept from the buddy allocator
    static var totalRamPages: UInt32 = 0    // pages given to the buddy allocator
}

/// page(pfn) -> &mem_map[pfn]. Panics past max_pfn.
@inline(__always) func page(_ pfn: UInt32) -> UnsafeMutablePointer<Page> {
    if pfn >= Layout.maxPfn { panic("page: pfn beyond max_pfn") }
    return Mm.memMap.unsafelyUnwrapped + Int(pfn)
}

/// zone(i) -> &zones[i].
@inline(__always) func zone(_ i: UInt32) -> UnsafeMutablePointer<Zone> {
    Mm.zones.unsafelyUnwrapped + Int(i)
}

/// page_zonenum(pfn) -> the zone index of frame pfn.
@inline(__always) func page_zonenum(_ pfn: UInt32) -> UInt32 { page(pfn).pointee.flags >> ZONE_SHIFT }

/// PageHighMem(pfn) -> true if frame pfn is outside the direct map.
@inline(__always) func PageHighMem(_ pfn: UInt32) -> Bool { pfn >= Layout.maxLowPfn }

/// page_address(pfn) -> the kernel virtual address of frame pfn: the direct map for
/// lowmem, the kmap address (or 0 if not mapped) for highmem.
func page_address(_ pfn: UInt32) -> UInt32 {
    if !PageHighMem(pfn) { return __va(pfn << PAGE_SHIFT) }
    return page(pfn).pointee.virtual
}

/// virt_to_pfn(va) -> the frame of a direct-map address. Panics outside lowmem.
func virt_to_pfn(_ va: UInt32) -> UInt32 {
    if va < PAGE_OFFSET || va >= Layout.highMemory { panic("virt_to_pfn: not a direct-map address") }
    return __pa(va) >> PAGE_SHIFT
}

/// zone_name(i) -> "DMA", "Normal" or "HighMem".
func zone_name(_ i: UInt32) -> StaticString {
    switch i {
    case ZONE_DMA: return "DMA"
    case ZONE_NORMAL: return "Normal"
    default: return "HighMem"
    }
}

/// free_list_add(area, pfn): push block head pfn on a free list.
func free_list_add(_ area: UnsafeMutablePointer<FreeArea>, _ pfn: UInt32) {
    let p = page(pfn)
    p.pointee.prev = NIL_PFN
    p.pointee.next = area.pointee.head
    if area.pointee.head != NIL_PFN { page(area.pointee.head).pointee.prev = pfn }
    area.pointee.head = pfn
    area.pointee.nrFree &+= 1
}

/// free_list_del(area, pfn): unlink block head pfn from its free list.
func free_list_del(_ area: UnsafeMutablePointer<FreeArea>, _ pfn: UInt32) {
    let p = page(pfn)
    if p.pointee.prev != NIL_PFN { page(p.pointee.prev).pointee.next = p.pointee.next }
    else { area.pointee.head = p.pointee.next }
    if p.pointee.next != NIL_PFN { page(p.pointee.next).pointee.prev = p.pointee.prev }
    p.pointee.next = NIL_PFN
    p.pointee.prev = NIL_PFN
    area.pointee.nrFree &-= 1
}

/// mem_map_init(): allocate mem_map from bootmem with every page reserved and tagged
/// with its zone, and set up the three zones' spans and empty free lists.
func mem_map_init() {
    let n = Layout.maxPfn
    Mm.memMap = ptr(alloc_bootmem_pages(n &* UInt32(MemoryLayout<Page>.stride)), Page.self)
    Mm.zones = ptr(alloc_bootmem_pages(MAX_NR_ZONES &* UInt32(MemoryLayout<Zone>.stride)), Zone.self)
    let areas = ptr(alloc_bootmem_pages(MAX_NR_ZONES &* MAX_ORDER &* 8), FreeArea.self)
    let bounds: (UInt32, UInt32, UInt32, UInt32) = (0, min(MAX_DMA_PFN, Layout.maxLowPfn), Layout.maxLowPfn, n)
    for z in 0..<MAX_NR_ZONES {
        let s = z == 0 ? bounds.0 : z == 1 ? bounds.1 : bounds.2
        let e = z == 0 ? bounds.1 : z == 1 ? bounds.2 : bounds.3
        let fa = areas + Int(z &* MAX_ORDER)
        for o in 0..<Int(MAX_ORDER) { fa[o] = FreeArea(head: NIL_PFN, nrFree: 0) }
        zone(z).pointee = Zone(startPfn: s, endPfn: max(s, e), present: 0, managed: 0, freePages: 0, freeArea: fa)
        var pfn = s
        while pfn < e {
            Mm.memMap.unsafelyUnwrapped[Int(pfn)] = Page(flags: PG_reserved | (z << ZONE_SHIFT), refcount: 1,
                                                          mapcount: -1, priv: 0, next: NIL_PFN, prev: NIL_PFN,
                                                          virtual: 0, freelist: 0, slabCache: 0, inuse: 0)
            pfn &+= 1
        }
    }
}

/// mem_init(): close bootmem and hand every usable page to the buddy allocator except
/// pfn 0, the kernel image, the boot modules and bootmem, in the largest aligned blocks
/// that fit (Linux's memblock_free_all).
func mem_init() {
    Bootmem.done = true
    let kernelStart = __pa(kernel_start_addr()) >> PAGE_SHIFT
    let reservedEnd = Bootmem.next >> PAGE_SHIFT       // kernel, modules, bootmem
    mmap_foreach { _, r in
        if r.type != 1 { return }
        let base = r.base > 0xFFFF_FFFF ? UInt64(0xFFFF_FFFF) : r.base
        var s = UInt32(truncatingIfNeeded: (base &+ UInt64(PAGE_SIZE - 1)) >> UInt64(PAGE_SHIFT))
        var endB = r.base &+ r.length
        if endB > 0x1_0000_0000 { endB = 0x1_0000_0000 }
        let e = UInt32(truncatingIfNeeded: endB >> UInt64(PAGE_SHIFT))
        if s == 0 { s = 1 }                               // pfn 0 stays reserved, as in Linux
        var pfn = s
        while pfn < e {
            zone(page_zonenum(pfn)).pointee.present &+= 1
            pfn &+= 1
        }
        pfn = s
        while pfn < e {
            if pfn >= kernelStart && pfn < reservedEnd { pfn = reservedEnd; continue }
            let z = page_zonenum(pfn)
            let zend = min(e, zone(z).pointee.endPfn, pfn < kernelStart ? kernelStart : e)
            var order: UInt32 = MAX_ORDER - 1
            while order > 0 && (pfn & ((1 << order) - 1) != 0 || pfn &+ (1 << order) > zend) { order -= 1 }
            for i in 0..<(UInt32(1) << order) {
                let p = page(pfn &+ i)
                p.pointee.flags &= ~PG_reserved
                p.pointee.refcount = 0
            }
            zone(z).pointee.managed &+= 1 << order
            Mm.totalRamPages &+= 1 << order
            __free_one_page(pfn, order)
            pfn &+= 1 << order
        }
    }
    for z in 0..<MAX_NR_ZONES { Mm.reservedPages &+= zone(z).pointee.present &- zone(z).pointee.managed }
}

/// __free_one_page(pfn, order): put the block pfn (2^order pages, refcount 0) on its
/// zone's free lists, merging with its buddy (pfn ^ 2^order) while the buddy is a free
/// block of the same order in the same zone.
func __free_one_page(_ pfn0: UInt32, _ order0: UInt32) {
    var pfn = pfn0
    var order = order0
    let zn = page_zonenum(pfn)
    let z = zone(zn)
    z.pointee.freePages &+= 1 << order0
    while order < MAX_ORDER - 1 {
        let buddy = pfn ^ (1 << order)
        if buddy < z.pointee.startPfn || buddy &+ (1 << order) > z.pointee.endPfn { break }
        let bp = page(buddy)
        if bp.pointee.flags & PG_buddy == 0 || bp.pointee.priv != order { break }
        free_list_del(z.pointee.freeArea + Int(order), buddy)
        bp.pointee.flags &= ~PG_buddy
        bp.pointee.priv = 0
        pfn &= ~(1 << order)
        order &+= 1
    }
    let head = page(pfn)
    head.pointee.flags |= PG_buddy
    head.pointee.priv = order
    free_list_add(z.pointee.freeArea + Int(order), pfn)
}

/// rmqueue(zn, order) -> the head pfn of a 2^order block taken from zone zn (splitting
/// a larger block and returning the halves to the lower lists), or NIL_PFN.
func rmqueue(_ zn: UInt32, _ order: UInt32) -> UInt32 {
    let z = zone(zn)
    var o = order
    while o < MAX_ORDER {
        let area = z.pointee.freeArea + Int(o)
        let pfn = area.pointee.head
        if pfn != NIL_PFN {
            free_list_del(area, pfn)
            let p = page(pfn)
            p.pointee.flags &= ~PG_buddy
            p.pointee.priv = 0
            while o > order {                            // expand(): give back upper halves
                o -= 1
                let half = pfn &+ (1 << o)
                let hp = page(half)
                hp.pointee.flags |= PG_buddy
                hp.pointee.priv = o
                free_list_add(z.pointee.freeArea + Int(o), half)
            }
            z.pointee.freePages &-= 1 << order
            for i in 0..<(UInt32(1) << order) {
                page(pfn &+ i).pointee.refcount = i == 0 ? 1 : 0
            }
            return pfn
        }
        o += 1
    }
    return NIL_PFN
}

/// alloc_pages(gfp, order) -> the first pfn of 2^order contiguous free frames, or
/// NIL_PFN. Zones are tried from the highest gfp allows down to DMA (the fallback
/// list); __GFP_ZERO clears the block (not allowed with __GFP_HIGHMEM).
func alloc_pages(_ gfp: UInt32, _ order: UInt32) -> UInt32 {
    if order >= MAX_ORDER { return NIL_PFN }
    var zn: UInt32 = gfp & GFP_DMA != 0 ? ZONE_DMA : gfp & __GFP_HIGHMEM != 0 ? ZONE_HIGHMEM : ZONE_NORMAL
    let flags = local_irq_save()
    defer { local_irq_restore(flags) }
    while true {
        if zone(zn).pointee.managed != 0 {
            let pfn = rmqueue(zn, order)
            if pfn != NIL_PFN {
                if gfp & __GFP_ZERO != 0 {
                    if PageHighMem(pfn) { panic("alloc_pages: __GFP_ZERO on highmem") }
                    memset_words(page_address(pfn), 0, PAGE_SIZE << order)
                }
                return pfn
            }
        }
        if zn == ZONE_DMA { return NIL_PFN }
        zn -= 1
    }
}

/// free_pages(pfn, order): give back a block from alloc_pages. Panics on a reserved
/// page or a double free.
func free_pages(_ pfn: UInt32, _ order: UInt32) {
    let p = page(pfn)
    if p.pointee.flags & (PG_reserved | PG_buddy) != 0 { panic("free_pages: freeing a reserved or free page") }
    if p.pointee.refcount != 1 { panic("free_pages: bad reference count") }
    let flags = local_irq_save()
    for i in 0..<(UInt32(1) << order) {
        let q = page(pfn &+ i)
        q.pointee.refcount = 0
        q.pointee.flags &= ~(PG_slab | PG_head | PG_vmalloc | PG_pgtable | PG_filecache | PG_swapcache
                             | PG_dirty | PG_referenced)
        if q.pointee.flags & PG_lru != 0 { panic("free_pages: page still on the LRU") }
        q.pointee.priv = 0
        q.pointee.virtual = 0
    }
    __free_one_page(pfn, order)
    local_irq_restore(flags)
}

/// __get_free_page(gfp) -> the direct-map address of one new lowmem page, or 0.
func __get_free_page(_ gfp: UInt32) -> UInt32 {
    let pfn = alloc_pages(gfp & ~__GFP_HIGHMEM, 0)
    return pfn == NIL_PFN ? 0 : page_address(pfn)
}

/// nr_free_pages() -> free pages in all zones.
func nr_free_pages() -> UInt32 {
    var n: UInt32 = 0
    for z in 0..<MAX_NR_ZONES { n &+= zone(z).pointee.freePages }
    return n
}

/// show_buddyinfo(): /proc/buddyinfo: per populated zone, the free blocks per order.
func show_buddyinfo() {
    for z in 0..<MAX_NR_ZONES where zone(z).pointee.managed != 0 {
        buddyinfo_line(z)
    }
}

/// buddyinfo_line(z): one /proc/buddyinfo line ("Node 0, zone   Normal" and 11 counts).
func buddyinfo_line(_ z: UInt32) {
    let line = printk(.info).s("Node 0, zone ").pad(zone_name(z), 8)
    for o in 0..<Int(MAX_ORDER) { line.s(" ").udw(zone(z).pointee.freeArea[o].nrFree, 6) }
    line.end()
}

/// BuddySnapshot: free block counts of every zone and order, to prove a test gave all back.
struct BuddySnapshot {
    var sum: UInt64          // sum of count * (a distinct weight per zone and order)
    var free: UInt32         // free pages
}

/// buddy_snapshot() -> a fingerprint of the free lists' counts.
func buddy_snapshot() -> BuddySnapshot {
    var s: UInt64 = 0
    for z in 0..<MAX_NR_ZONES {
        for o in 0..<Int(MAX_ORDER) {
            s = s &* 1_000_003 &+ UInt64(zone(z).pointee.freeArea[o].nrFree)
        }
    }
    return BuddySnapshot(sum: s, free: nr_free_pages())
}
