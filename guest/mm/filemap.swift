// filemap.swift: the page cache: (mapping, index) -> frame, find_get_page / read_cache_page, and the LRU clock list of cache pages.
//
// A mapping is a disk inode number (1..) or BDEV_MAPPING (0: the disk's own blocks,
// the block cache). Each has a direct-indexed array of frames (Linux's radix tree, for
// files of a few MiB). A cached frame has PG_filecache, freelist = mapping, priv =
// index, and one reference held by the cache itself; each PTE mapping it and each
// caller of read_cache_page adds one. Cache pages and swap-cache pages sit on one LRU
// list (next/prev links) that shrink_cache (swap.swift) walks as a clock.

let PG_filecache: UInt32 = 1 << 6     // in the page cache (freelist = mapping, priv = index)
let PG_swapcache: UInt32 = 1 << 7     // in the swap cache (priv = swap slot)
let PG_dirty: UInt32 = 1 << 8         // swap cache: contents not yet on the disk
let PG_referenced: UInt32 = 1 << 9    // looked up since the clock hand last passed
let PG_lru: UInt32 = 1 << 10          // on the LRU list

let MAX_MAPPINGS: UInt32 = 4097       // BDEV_MAPPING + up to 4096 disk inodes

/// Cache: the page cache's state.
struct Cache {
    static var pages: UnsafeMutablePointer<UInt32>? = nil    // per mapping: address of its frame array (0: none)
    static var npages: UnsafeMutablePointer<UInt32>? = nil   // per mapping: entries in that array
    static var nrPages: UInt32 = 0        // frames in the page cache (file and block pages)
    static var lruHead: UInt32 = NIL_PFN  // the clock hand: oldest first
    static var lruTail: UInt32 = NIL_PFN
    static var lruCount: UInt32 = 0
    static var lastError: Int32 = 0       // why read_cache_page returned NIL_PFN (-ENOMEM or an ATA error)
}

/// filemap_init_mapping(mapping, npages): give mapping room for npages pages, keeping
/// what it already caches (it may only grow). Panics when out of memory (boot time).
func filemap_init_mapping(_ mapping: UInt32, _ npages: UInt32) {
    if mapping >= MAX_MAPPINGS { panic("filemap_init_mapping: mapping out of range") }
    if Cache.pages == nil {
        let a = kmalloc(MAX_MAPPINGS &* 8, GFP_KERNEL)
        if a == 0 { panic("filemap_init_mapping: out of memory") }
        memset_bytes(a, 0, MAX_MAPPINGS &* 8)
        Cache.pages = ptr(a, UInt32.self)
        Cache.npages = ptr(a &+ MAX_MAPPINGS &* 4, UInt32.self)
    }
    let old = Cache.npages.unsafelyUnwrapped[Int(mapping)]
    if npages <= old { return }
    let arr = kmalloc(npages &* 4, GFP_KERNEL)
    if arr == 0 { panic("filemap_init_mapping: out of memory") }
    let a = ptr(arr, UInt32.self)
    let prev = Cache.pages.unsafelyUnwrapped[Int(mapping)]
    for i in 0..<Int(npages) { a[i] = i < Int(old) ? ptr(prev, UInt32.self)[i] : NIL_PFN }
    if prev != 0 { kfree(prev) }
    Cache.pages.unsafelyUnwrapped[Int(mapping)] = arr
    Cache.npages.unsafelyUnwrapped[Int(mapping)] = npages
}

/// cache_slot(mapping, index) -> &the frame entry of page index, or nil past the end.
@inline(__always) func cache_slot(_ mapping: UInt32, _ index: UInt32) -> UnsafeMutablePointer<UInt32>? {
    if mapping >= MAX_MAPPINGS || index >= Cache.npages.unsafelyUnwrapped[Int(mapping)] { return nil }
    return ptr(Cache.pages.unsafelyUnwrapped[Int(mapping)], UInt32.self) + Int(index)
}

/// find_get_page(mapping, index) -> the cached frame with one more reference (marked
/// referenced), or NIL_PFN if the page is not in the cache.
func find_get_page(_ mapping: UInt32, _ index: UInt32) -> UInt32 {
    guard let s = cache_slot(mapping, index) else { return NIL_PFN }
    let pfn = s.pointee
    if pfn == NIL_PFN { return NIL_PFN }
    page(pfn).pointee.refcount &+= 1
    page(pfn).pointee.flags |= PG_referenced
    return pfn
}

/// read_cache_page(mapping, index, major) -> the frame of page index of mapping with
/// one reference for the caller (put_cache_page drops it): from the cache, or read
/// from the disk into a new frame added to the cache (major = true). NIL_PFN when out
/// of memory or on an I/O error (Cache.lastError says which). A miss is Linux's
/// page_cache_read: allocate, read, add_to_page_cache.
func read_cache_page(_ mapping: UInt32, _ index: UInt32, _ major: inout Bool) -> UInt32 {
    guard let s = cache_slot(mapping, index) else { Cache.lastError = ATA_EINVAL; return NIL_PFN }
    let hit = find_get_page(mapping, index)
    if hit != NIL_PFN { return hit }
    let pfn = alloc_reclaimable_page()
    if pfn == NIL_PFN { Cache.lastError = -12; return NIL_PFN }
    if s.pointee != NIL_PFN { panic("read_cache_page: page appeared during allocation") }
    let r = disk_read_page(mapping, index, pfn)
    if r != 0 {
        free_pages(pfn, 0)
        Cache.lastError = r
        printk(.err).s("blk_update_request: I/O error, dev hda, mapping ").u(mapping).s(" page ").u(index).end()
        return NIL_PFN
    }
    add_to_page_cache(pfn, mapping, index)
    page(pfn).pointee.refcount = 2          // the cache's and the caller's
    major = true
    return pfn
}

/// add_to_page_cache(pfn, mapping, index): a new frame holding page index of mapping
/// (its slot empty) enters the cache and the LRU tail, unmapped; its one reference
/// becomes the cache's.
func add_to_page_cache(_ pfn: UInt32, _ mapping: UInt32, _ index: UInt32) {
    guard let s = cache_slot(mapping, index), s.pointee == NIL_PFN else { panic("add_to_page_cache: slot taken") }
    let p = page(pfn)
    p.pointee.flags |= PG_filecache
    p.pointee.freelist = mapping
    p.pointee.priv = index
    p.pointee.mapcount = -1
    p.pointee.refcount = 1
    s.pointee = pfn
    Cache.nrPages &+= 1
    lru_add(pfn)
}

/// put_cache_page(pfn): drop a reference taken by find_get_page / read_cache_page (the
/// cache's own reference keeps the frame).
func put_cache_page(_ pfn: UInt32) {
    let p = page(pfn)
    if p.pointee.refcount <= 1 { panic("put_cache_page: no reference to drop") }
    p.pointee.refcount &-= 1
}

/// remove_from_page_cache(pfn): take an unreferenced file page out of the cache and
/// off the LRU (the caller frees it).
func remove_from_page_cache(_ pfn: UInt32) {
    let p = page(pfn)
    guard let s = cache_slot(p.pointee.freelist, p.pointee.priv), s.pointee == pfn else {
        panic("remove_from_page_cache: not cached")
    }
    s.pointee = NIL_PFN
    lru_del(pfn)
    p.pointee.flags &= ~(PG_filecache | PG_referenced)
    p.pointee.freelist = 0
    p.pointee.priv = 0
    Cache.nrPages &-= 1
}

/// lru_add(pfn): put a cache or swap-cache frame at the tail (newest) of the LRU.
func lru_add(_ pfn: UInt32) {
    let p = page(pfn)
    if p.pointee.flags & PG_lru != 0 { panic("lru_add: already on the LRU") }
    p.pointee.flags |= PG_lru
    p.pointee.next = NIL_PFN
    p.pointee.prev = Cache.lruTail
    if Cache.lruTail != NIL_PFN { page(Cache.lruTail).pointee.next = pfn } else { Cache.lruHead = pfn }
    Cache.lruTail = pfn
    Cache.lruCount &+= 1
}

/// lru_del(pfn): unlink a frame from the LRU.
func lru_del(_ pfn: UInt32) {
    let p = page(pfn)
    if p.pointee.flags & PG_lru == 0 { panic("lru_del: not on the LRU") }
    if p.pointee.prev != NIL_PFN { page(p.pointee.prev).pointee.next = p.pointee.next } else { Cache.lruHead = p.pointee.next }
    if p.pointee.next != NIL_PFN { page(p.pointee.next).pointee.prev = p.pointee.prev } else { Cache.lruTail = p.pointee.prev }
    p.pointee.next = NIL_PFN
    p.pointee.prev = NIL_PFN
    p.pointee.flags &= ~PG_lru
    Cache.lruCount &-= 1
}

/// inode_read(i, off, kbuf, n) -> bytes copied from name record i (1-based) at offset
/// off into kernel memory kbuf (fewer at the end of the file), or -1 on an I/O error
/// or when out of memory. Initramfs files are copied from memory, disk files through
/// the page cache.
func inode_read(_ i: UInt32, _ off: UInt32, _ kbuf: UInt32, _ n0: UInt32) -> Int32 {
    let ino = inode(i)
    if off >= ino.size { return 0 }
    let n = min(n0, ino.size &- off)
    if ino.ino == 0 { memcpy_k(kbuf, ino.data &+ off, n); return Int32(n) }
    let done = filemap_read(ino.ino, off, n) { src, at, c in memcpy_k(kbuf &+ at, src, c); return true }
    return done == n ? Int32(n) : -1
}

/// filemap_read(mapping, off, n, copy) -> bytes done of [off, off+n) of mapping: page
/// by page, the cached frame (read from the disk on a miss) is held and kmapped while
/// copy(src, at, count) moves count bytes from kernel address src to offset `at` of
/// the caller's buffer (a user copy may fault, and so reclaim: the held frame stays).
/// Stops early when a page cannot be read (Cache.lastError says why) or copy fails
/// (Cache.lastError = -EFAULT).
func filemap_read(_ mapping: UInt32, _ off: UInt32, _ n: UInt32, _ copy: (UInt32, UInt32, UInt32) -> Bool) -> UInt32 {
    var done: UInt32 = 0
    while done < n {
        let pos = off &+ done
        var major = false
        let pfn = read_cache_page(mapping, pos >> PAGE_SHIFT, &major)
        if pfn == NIL_PFN { break }
        let inPage = pos & ~PAGE_MASK
        let c = min(n &- done, PAGE_SIZE &- inPage)
        let ok = copy(kmap(pfn) &+ inPage, done, c)
        kunmap(pfn)
        put_cache_page(pfn)
        if !ok { Cache.lastError = -14; break }
        done &+= c
    }
    return done
}
