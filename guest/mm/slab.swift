// slab.swift: the slab allocator (kmem_cache with full/partial/free slabs), kmalloc/kfree, /proc/slabinfo.

let MAX_CACHES = 40                   // kmem_cache slots
let KMALLOC_MAX_CACHE_SIZE: UInt32 = 8192   // larger kmallocs go to the buddy allocator
let SLAB_MAX_ORDER: UInt32 = 3        // slabs are at most 8 pages
let SLAB_FREE_KEEP: UInt32 = 1        // empty slabs a cache keeps before giving pages back

/// KmemCache: one object cache (struct kmem_cache).
struct KmemCache {
    var name: StaticString   // for slabinfo
    var objSize: UInt32      // bytes per object slot (size rounded up to the alignment)
    var order: UInt32        // pages per slab = 2^order
    var perSlab: UInt32      // objects per slab
    var full: UInt32         // list of slabs without free objects (first pfn or NIL_PFN)
    var partial: UInt32      // list of slabs with free and used objects
    var free: UInt32         // list of slabs without used objects
    var nrFree: UInt32       // slabs on the free list
    var numSlabs: UInt32     // slabs of this cache
    var activeObjs: UInt32   // objects allocated
    var used: Bool           // slot in use
}

/// Slab: the cache table and the kmalloc size classes.
struct Slab {
    static var caches: UnsafeMutablePointer<KmemCache>? = nil   // MAX_CACHES slots
    static var kmallocCaches: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)   // cache index per size class
    static var ready = false                 // kmalloc works
    static var slabPages: UInt32 = 0         // pages in slabs (meminfo "Slab")
    static var largePages: UInt32 = 0        // pages of kmallocs above 8 KiB
}

let KMALLOC_SIZES: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                    UInt32, UInt32, UInt32, UInt32) = (8, 16, 32, 64, 96, 128, 192, 256, 512,
                                                       1024, 2048, 4096, 8192)
let KMALLOC_NAMES: (StaticString, StaticString, StaticString, StaticString, StaticString,
                    StaticString, StaticString, StaticString, StaticString, StaticString,
                    StaticString, StaticString, StaticString) =
    ("kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-96", "kmalloc-128",
     "kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1k", "kmalloc-2k", "kmalloc-4k",
     "kmalloc-8k")

/// cache(i) -> &caches[i].
@inline(__always) func cache(_ i: Int) -> UnsafeMutablePointer<KmemCache> {
    Slab.caches.unsafelyUnwrapped + i
}

/// tuple_at(t, i) -> element i of a 13-tuple (the kmalloc tables).
@inline(__always) func tuple_at<T>(_ t: (T, T, T, T, T, T, T, T, T, T, T, T, T), _ i: Int) -> T {
    switch i {
    case 0: return t.0
    case 1: return t.1
    case 2: return t.2
    case 3: return t.3
    case 4: return t.4
    case 5: return t.5
    case 6: return t.6
    case 7: return t.7
    case 8: return t.8
    case 9: return t.9
    case 10: return t.10
    case 11: return t.11
    default: return t.12
    }
}

/// kmem_cache_init(): the cache table (from bootmem) and the 13 kmalloc caches.
func kmem_cache_init() {
    Slab.caches = ptr(alloc_bootmem_pages(UInt32(MAX_CACHES * MemoryLayout<KmemCache>.stride)), KmemCache.self)
    var idx: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutablePointer(to: &idx) { p in
        p.withMemoryRebound(to: Int.self, capacity: 13) { w in
            for i in 0..<13 {
                w[i] = kmem_cache_create(tuple_at(KMALLOC_NAMES, i), tuple_at(KMALLOC_SIZES, i), 8)
            }
        }
    }
    Slab.kmallocCaches = idx
    Slab.ready = true
}

/// kmem_cache_create(name, size, align) -> the index of a new cache of size-byte
/// objects aligned to align (a power of two). Slabs are the smallest order that holds
/// 8 objects, at most SLAB_MAX_ORDER. Panics when the table is full.
func kmem_cache_create(_ name: StaticString, _ size: UInt32, _ align: UInt32) -> Int {
    if size == 0 || size > KMALLOC_MAX_CACHE_SIZE || align == 0 || align & (align &- 1) != 0 {
        panic("kmem_cache_create: bad size or alignment")
    }
    let a = max(align, 4)
    let objSize = (size &+ a &- 1) & ~(a &- 1)
    var order: UInt32 = 0
    while order < SLAB_MAX_ORDER && (PAGE_SIZE << order) / objSize < 8 { order += 1 }
    for i in 0..<MAX_CACHES where !cache(i).pointee.used {
        cache(i).pointee = KmemCache(name: name, objSize: objSize, order: order,
                                     perSlab: (PAGE_SIZE << order) / objSize, full: NIL_PFN,
                                     partial: NIL_PFN, free: NIL_PFN, nrFree: 0, numSlabs: 0,
                                     activeObjs: 0, used: true)
        return i
    }
    panic("kmem_cache_create: too many caches")
}

/// kmem_cache_destroy(c): release cache c. Panics if it still has allocated objects.
func kmem_cache_destroy(_ c: Int) {
    let kc = cache(c)
    if kc.pointee.activeObjs != 0 { panic("kmem_cache_destroy: objects still allocated") }
    kmem_cache_shrink(c)
    kc.pointee.used = false
}

/// slab_list_add(head, pfn): push slab pfn on a slab list.
func slab_list_add(_ head: UnsafeMutablePointer<UInt32>, _ pfn: UInt32) {
    let p = page(pfn)
    p.pointee.prev = NIL_PFN
    p.pointee.next = head.pointee
    if head.pointee != NIL_PFN { page(head.pointee).pointee.prev = pfn }
    head.pointee = pfn
}

/// slab_list_del(head, pfn): unlink slab pfn from the slab list at head.
func slab_list_del(_ head: UnsafeMutablePointer<UInt32>, _ pfn: UInt32) {
    let p = page(pfn)
    if p.pointee.prev != NIL_PFN { page(p.pointee.prev).pointee.next = p.pointee.next }
    else { head.pointee = p.pointee.next }
    if p.pointee.next != NIL_PFN { page(p.pointee.next).pointee.prev = p.pointee.prev }
    p.pointee.next = NIL_PFN
    p.pointee.prev = NIL_PFN
}

/// cache_grow(c) -> the first pfn of a new slab for cache c (on the free list), or
/// NIL_PFN when the buddy allocator is out of low memory.
func cache_grow(_ c: Int) -> UInt32 {
    let kc = cache(c)
    let pfn = alloc_pages(GFP_KERNEL, kc.pointee.order)
    if pfn == NIL_PFN { return NIL_PFN }
    for i in 0..<(UInt32(1) << kc.pointee.order) {
        let p = page(pfn &+ i)
        p.pointee.flags |= PG_slab
        p.pointee.priv = pfn
    }
    let base = page_address(pfn)
    let n = kc.pointee.perSlab
    for i in 0..<n {                                 // thread the free objects
        let obj = base &+ i &* kc.pointee.objSize
        ptr(obj, UInt32.self).pointee = i &+ 1 < n ? obj &+ kc.pointee.objSize : 0
    }
    let head = page(pfn)
    head.pointee.freelist = base
    head.pointee.inuse = 0
    head.pointee.slabCache = UInt16(c)
    withUnsafeMutablePointer(to: &kc.pointee.free) { slab_list_add($0, pfn) }
    kc.pointee.nrFree &+= 1
    kc.pointee.numSlabs &+= 1
    Slab.slabPages &+= 1 << kc.pointee.order
    return pfn
}

/// kmem_cache_alloc(c) -> the address of a free object of cache c, or 0 when memory
/// is exhausted. Takes from a partial slab, then a free one, then grows the cache.
func kmem_cache_alloc(_ c: Int) -> UInt32 {
    let kc = cache(c)
    let flags = local_irq_save()
    defer { local_irq_restore(flags) }
    var pfn = kc.pointee.partial
    if pfn == NIL_PFN {
        pfn = kc.pointee.free
        if pfn == NIL_PFN { pfn = cache_grow(c) }
        if pfn == NIL_PFN { return 0 }
        withUnsafeMutablePointer(to: &kc.pointee.free) { slab_list_del($0, pfn) }
        kc.pointee.nrFree &-= 1
        withUnsafeMutablePointer(to: &kc.pointee.partial) { slab_list_add($0, pfn) }
    }
    let head = page(pfn)
    let obj = head.pointee.freelist
    if obj == 0 { panic("kmem_cache_alloc: partial slab without free objects") }
    head.pointee.freelist = ptr(obj, UInt32.self).pointee
    head.pointee.inuse &+= 1
    kc.pointee.activeObjs &+= 1
    if head.pointee.freelist == 0 {
        withUnsafeMutablePointer(to: &kc.pointee.partial) { slab_list_del($0, pfn) }
        withUnsafeMutablePointer(to: &kc.pointee.full) { slab_list_add($0, pfn) }
    }
    return obj
}

/// kmem_cache_free(c, obj): return obj to cache c. A slab that becomes empty goes to
/// the free list; beyond SLAB_FREE_KEEP free slabs its pages go back to the buddy
/// allocator. Panics if obj is not an object of c.
func kmem_cache_free(_ c: Int, _ obj: UInt32) {
    let kc = cache(c)
    let p = page(virt_to_pfn(obj))
    if p.pointee.flags & PG_slab == 0 { panic("kmem_cache_free: not a slab object") }
    let pfn = p.pointee.priv
    let head = page(pfn)
    if Int(head.pointee.slabCache) != c { panic("kmem_cache_free: object of another cache") }
    if (obj &- page_address(pfn)) % kc.pointee.objSize != 0 { panic("kmem_cache_free: misaligned object") }
    let flags = local_irq_save()
    defer { local_irq_restore(flags) }
    let wasFull = head.pointee.freelist == 0
    ptr(obj, UInt32.self).pointee = head.pointee.freelist
    head.pointee.freelist = obj
    head.pointee.inuse &-= 1
    kc.pointee.activeObjs &-= 1
    if wasFull {
        withUnsafeMutablePointer(to: &kc.pointee.full) { slab_list_del($0, pfn) }
        withUnsafeMutablePointer(to: &kc.pointee.partial) { slab_list_add($0, pfn) }
    }
    if head.pointee.inuse == 0 {
        withUnsafeMutablePointer(to: &kc.pointee.partial) { slab_list_del($0, pfn) }
        withUnsafeMutablePointer(to: &kc.pointee.free) { slab_list_add($0, pfn) }
        kc.pointee.nrFree &+= 1
        if kc.pointee.nrFree > SLAB_FREE_KEEP { slab_destroy_one(c) }
    }
}

/// slab_destroy_one(c): give the pages of one free slab of cache c back to the buddy
/// allocator. Does nothing without free slabs.
func slab_destroy_one(_ c: Int) {
    let kc = cache(c)
    let pfn = kc.pointee.free
    if pfn == NIL_PFN { return }
    withUnsafeMutablePointer(to: &kc.pointee.free) { slab_list_del($0, pfn) }
    kc.pointee.nrFree &-= 1
    kc.pointee.numSlabs &-= 1
    Slab.slabPages &-= 1 << kc.pointee.order
    free_pages(pfn, kc.pointee.order)
}

/// kmem_cache_shrink(c): release every free slab of cache c.
func kmem_cache_shrink(_ c: Int) {
    while cache(c).pointee.free != NIL_PFN { slab_destroy_one(c) }
}

/// kmem_cache_shrink_all(): release the free slabs of every cache.
func kmem_cache_shrink_all() {
    for i in 0..<MAX_CACHES where cache(i).pointee.used { kmem_cache_shrink(i) }
}

/// kmalloc_index(size) -> the size class serving size bytes, or -1 above 8 KiB.
func kmalloc_index(_ size: UInt32) -> Int {
    for i in 0..<13 where size <= tuple_at(KMALLOC_SIZES, i) { return i }
    return -1
}

/// kmalloc(size, gfp) -> the address of size bytes of lowmem, or 0. Up to 8 KiB from
/// the kmalloc-N slab caches, larger from the buddy allocator (PG_head, whole pages).
/// __GFP_ZERO clears the bytes.
func kmalloc(_ size: UInt32, _ gfp: UInt32) -> UInt32 {
    if !Slab.ready { panic("kmalloc: called before kmem_cache_init") }
    let i = kmalloc_index(size == 0 ? 1 : size)
    var p: UInt32 = 0
    if i >= 0 {
        p = kmem_cache_alloc(tuple_at(Slab.kmallocCaches, i))
    } else {
        var order: UInt32 = 0
        while (PAGE_SIZE << order) < size { order += 1 }
        let pfn = alloc_pages(GFP_KERNEL, order)
        if pfn == NIL_PFN { return 0 }
        page(pfn).pointee.flags |= PG_head
        page(pfn).pointee.priv = order
        Slab.largePages &+= 1 << order
        p = page_address(pfn)
    }
    if p != 0 && gfp & __GFP_ZERO != 0 {
        let z = ptr(p, UInt8.self)
        for k in 0..<Int(size) { z[k] = 0 }
    }
    return p
}

/// kfree(p): free a kmalloc block (0 is ignored). Panics on any other address.
func kfree(_ p: UInt32) {
    if p == 0 { return }
    let pfn = virt_to_pfn(p)
    let pg = page(pfn)
    if pg.pointee.flags & PG_slab != 0 {
        kmem_cache_free(Int(page(pg.pointee.priv).pointee.slabCache), p)
    } else if pg.pointee.flags & PG_head != 0 {
        if p & ~PAGE_MASK != 0 { panic("kfree: pointer inside a large kmalloc") }
        let order = pg.pointee.priv
        Slab.largePages &-= 1 << order
        free_pages(pfn, order)
    } else {
        panic("kfree: not a kmalloc address")
    }
}

/// show_slabinfo(all): /proc/slabinfo (version 2.1 columns); without all, only caches
/// that hold slabs.
func show_slabinfo(_ all: Bool) {
    printk(.info).s("slabinfo - version: 2.1").end()
    printk(.info).s("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>").end()
    var i = MAX_CACHES - 1
    while i >= 0 {
        let kc = cache(i).pointee
        if kc.used && (all || kc.numSlabs != 0) {
            printk(.info).padl(kc.name, 17).s(" ").udw(kc.activeObjs, 6).s(" ")
                .udw(kc.numSlabs &* kc.perSlab, 6).s(" ").udw(kc.objSize, 6).s(" ").udw(kc.perSlab, 4)
                .s(" ").udw(UInt32(1) << kc.order, 4).s(" : tunables    0    0    0 : slabdata ")
                .udw(kc.numSlabs &- kc.nrFree, 6).s(" ").udw(kc.numSlabs, 6).s(" ").udw(0, 6).end()
        }
        i -= 1
    }
}
