// swap.swift: swap (slots, swap entries in not-present PTEs, the swap cache), page reclaim (swap_out's accessed-bit scan, shrink_cache's clock) and /proc/vmstat.
//
//   PTE forms of a user page:
//     0                              none: demand zero or a file page on first touch
//     pfn << 12 | flags | P          present
//     slot << 8 | 0x2 (P = 0)        swapped out: the page is in swap slot `slot`
//
//   swap_map[slot] counts the references to a slot: one per swap PTE holding it, plus
//   one while the swap cache holds a frame for it (Swap.cache[slot] = pfn, the frame
//   has PG_swapcache and priv = slot). A frame's refcount counts its PTEs plus the
//   page cache's or swap cache's own reference plus any kernel user.
//
// Reclaim, when free memory falls below Reclaim.low (alloc_reclaimable_page):
//   1. shrink_cache walks the LRU of cache frames as a clock: frames still mapped or
//      referenced since the last pass go round again; the others are freed — a
//      clean file page is dropped, a dirty swap-cache page is written to its slot
//      first (pswpout).
//   2. swap_out scans the tasks' page tables (a cursor per mm, round robin over the
//      tasks, as Linux 2.4's swap_out): a PTE with the accessed bit set gets it
//      cleared (a second chance); otherwise the page is unmapped — a file page's PTE
//      becomes 0, an anonymous page goes to the swap cache (a new slot, dirty) and its
//      PTE becomes the swap entry. Every PTE of a shared (COW) page gets the same slot.
//   Shared anonymous mappings (MAP_SHARED|MAP_ANONYMOUS) are not swapped.

let SWP_TAG: UInt32 = 0x2                 // bit 1 of a swap PTE (P = 0): never 0
let SWAP_CLUSTER: UInt32 = 32             // pages reclaimed at least per call

/// Swap: the swap area (a region of the s86fs disk) and the swap cache.
struct Swap {
    static var slots: UInt32 = 0          // slots in the area (slot 0 is never used)
    static var start: UInt32 = 0          // first sector of slot 0
    static var map: UnsafeMutablePointer<UInt16>? = nil   // swap_map: references per slot
    static var cache: UnsafeMutablePointer<UInt32>? = nil // the swap cache: frame per slot, or NIL_PFN
    static var free: UInt32 = 0           // free slots
    static var next: UInt32 = 1           // where get_swap_page looks next
    static var cached: UInt32 = 0         // frames in the swap cache
}

/// Reclaim: the watermarks and the reclaim cursors.
struct Reclaim {
    static var low: UInt32 = 0            // reclaim when free pages fall below this
    static var high: UInt32 = 0           // ... up to this
    static var min: UInt32 = 0            // below this, with nothing reclaimable, user allocations fail (OOM):
                                          // the rest is the kernel's reserve
    static var active = false             // reclaim is running (no recursion)
    static var backoff: UInt32 = 0        // allocations to make without reclaiming above min (the last
                                          // reclaim fell far short: memory is mostly unreclaimable)
    static var taskCursor = 1             // the task slot swap_out scans next
}

/// Vmstat: /proc/vmstat's event counters.
struct Vmstat {
    static var pgpgin: UInt32 = 0         // KiB read from the disk
    static var pgpgout: UInt32 = 0        // KiB written to the disk
    static var pswpin: UInt32 = 0         // pages read from swap
    static var pswpout: UInt32 = 0        // pages written to swap
    static var pgfault: UInt32 = 0        // page faults on user addresses
    static var pgmajfault: UInt32 = 0     // ... that waited for the disk
    static var pgscan: UInt32 = 0         // LRU frames looked at by shrink_cache
    static var pgsteal: UInt32 = 0        // frames reclaimed
    static var pgrotated: UInt32 = 0      // PTEs given a second chance (accessed bit cleared)
}

@inline(__always) func is_swap_pte(_ v: UInt32) -> Bool { v != 0 && v & _PAGE_PRESENT == 0 }
@inline(__always) func swp_pte(_ slot: UInt32) -> UInt32 { slot << 8 | SWP_TAG }
@inline(__always) func swp_slot(_ v: UInt32) -> UInt32 { v >> 8 }
@inline(__always) func swap_map(_ slot: UInt32) -> UnsafeMutablePointer<UInt16> { Swap.map.unsafelyUnwrapped + Int(slot) }
@inline(__always) func swap_cache(_ slot: UInt32) -> UnsafeMutablePointer<UInt32> { Swap.cache.unsafelyUnwrapped + Int(slot) }

/// reclaim_init(): the watermarks, from the RAM size (with no disk nothing is ever
/// reclaimable and they are never acted on).
func reclaim_init() {
    Reclaim.low = FORK_MIN_FREE &+ Mm.totalRamPages / 256
    Reclaim.high = Reclaim.low &+ Reclaim.low / 2
    Reclaim.min = Reclaim.low / 2
}

/// swap_init(): turn on the s86fs swap area: swap_map and the swap cache (all
/// slots free), Linux's "Adding ...k swap" line. Nothing when the disk has none.
func swap_init() {
    if !Sb.onDisk || Sb.swapBlocks < 2 { return }
    let n = Sb.swapBlocks
    var order: UInt32 = 0
    while (PAGE_SIZE << order) < n &* 6 { order &+= 1 }
    let pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, order)
    if pfn == NIL_PFN { printk(.err).s("swap: no memory for swap_map").end(); return }
    let base = page_address(pfn)
    Swap.map = ptr(base, UInt16.self)
    Swap.cache = ptr(base &+ n &* 2, UInt32.self)
    for i in 0..<Int(n) { Swap.cache.unsafelyUnwrapped[i] = NIL_PFN }
    Swap.map.unsafelyUnwrapped[0] = 1          // the header slot, as Linux's: never handed out
    Swap.slots = n
    Swap.free = n &- 1
    Swap.start = Sb.swapStart &* SECTORS_PER_BLOCK
    printk(.info).s("Adding ").u((n &- 1) << 2).s("k swap on /dev/hda.  Priority:-2 extents:1 across:")
        .u((n &- 1) << 2).s("k").end()
}

/// get_swap_page() -> a free slot (its count still 0), or 0 when swap is full.
func get_swap_page() -> UInt32 {
    if Swap.free == 0 { return 0 }
    var s = Swap.next
    for _ in 0..<Swap.slots {
        if s >= Swap.slots { s = 1 }
        if swap_map(s).pointee == 0 { Swap.next = s &+ 1; return s }
        s &+= 1
    }
    return 0
}

/// swap_duplicate(slot): one more swap PTE holds slot (fork, swap_out).
@inline(__always) func swap_duplicate(_ slot: UInt32) {
    if swap_map(slot).pointee == 0xFFFF { panic("swap_duplicate: count overflow") }
    if swap_map(slot).pointee == 0 { panic("swap_duplicate: free slot") }
    swap_map(slot).pointee &+= 1
}

/// swap_free(slot): drop one reference to slot. A slot left with only its swap-cache
/// frame, which nobody maps, is finished: the frame and the slot are both freed.
func swap_free(_ slot: UInt32) {
    let m = swap_map(slot)
    if m.pointee == 0 { panic("swap_free: free slot") }
    m.pointee &-= 1
    if m.pointee == 0 { Swap.free &+= 1; return }
    let pfn = swap_cache(slot).pointee
    if pfn != NIL_PFN { free_swap_cache_orphan(pfn) }
}

/// free_swap_cache_orphan(pfn): a swap-cache frame that nobody maps (refcount 1: the
/// cache's) and whose slot nobody else holds (count 1: the cache's) will never be read
/// again: it is freed with its slot. Anything else is left alone.
func free_swap_cache_orphan(_ pfn: UInt32) {
    let p = page(pfn)
    if p.pointee.flags & PG_swapcache != 0 && p.pointee.refcount == 1 && swap_map(p.pointee.priv).pointee == 1 {
        free_swap_cache_page(pfn)
    }
}

/// free_swap_cache_page(pfn): a swap-cache frame nobody maps leaves the cache (its
/// slot reference dropped) and is freed.
func free_swap_cache_page(_ pfn: UInt32) {
    delete_from_swap_cache(pfn)
    page(pfn).pointee.refcount = 1
    page(pfn).pointee.mapcount = -1
    free_pages(pfn, 0)
}

/// add_to_swap_cache(pfn, slot): a frame about to be unmapped gets slot (count 1: the
/// cache's) and a cache reference; it is dirty (the slot holds nothing yet).
func add_to_swap_cache(_ pfn: UInt32, _ slot: UInt32) {
    let p = page(pfn)
    p.pointee.flags |= PG_swapcache | PG_dirty
    p.pointee.priv = slot
    p.pointee.refcount &+= 1
    swap_map(slot).pointee = 1
    swap_cache(slot).pointee = pfn
    Swap.free &-= 1
    Swap.cached &+= 1
    lru_add(pfn)
}

/// delete_from_swap_cache(pfn): take pfn out of the swap cache, dropping the cache's
/// reference to the frame and to its slot (freed if nobody else holds it).
func delete_from_swap_cache(_ pfn: UInt32) {
    let p = page(pfn)
    let slot = p.pointee.priv
    if p.pointee.flags & PG_swapcache == 0 || swap_cache(slot).pointee != pfn { panic("delete_from_swap_cache: not cached") }
    swap_cache(slot).pointee = NIL_PFN
    lru_del(pfn)
    p.pointee.flags &= ~(PG_swapcache | PG_dirty | PG_referenced)
    p.pointee.priv = 0
    p.pointee.refcount &-= 1
    Swap.cached &-= 1
    swap_map(slot).pointee &-= 1
    if swap_map(slot).pointee == 0 { Swap.free &+= 1 }
}

/// reuse_swap_page(pfn) -> true if pfn (mapped once, in the swap cache) is the slot's
/// only user: it leaves the swap cache and its slot is freed, so a COW write may
/// reuse it. False if something else still holds the slot.
func reuse_swap_page(_ pfn: UInt32) -> Bool {
    let p = page(pfn)
    if p.pointee.flags & PG_swapcache == 0 { return true }
    if p.pointee.mapcount != 0 || swap_map(p.pointee.priv).pointee != 1 { return false }
    delete_from_swap_cache(pfn)
    return true
}

/// swap_io(slot, pfn, write) -> 0 after moving the page between frame pfn and slot
/// (PIO, polled), or an ATA error code.
func swap_io(_ slot: UInt32, _ pfn: UInt32, _ write: Bool) -> Int32 {
    let k = kmap(pfn)
    let lba = Swap.start &+ slot &* SECTORS_PER_BLOCK
    let r = write ? ata_write(lba, SECTORS_PER_BLOCK, k) : ata_read(lba, SECTORS_PER_BLOCK, k)
    kunmap(pfn)
    if r == 0 {
        if write { Vmstat.pswpout &+= 1; Vmstat.pgpgout &+= 4 } else { Vmstat.pswpin &+= 1; Vmstat.pgpgin &+= 4 }
    }
    return r
}

/// do_swap_page(mm, v, pte, address, write) -> the outcome of a fault on a swap PTE:
/// the slot's frame from the swap cache (minor), or read from the disk into a new
/// frame added to the swap cache (major). Mapped read-only; a write goes on to
/// do_wp_page, which reuses the frame when this was the slot's only user.
func do_swap_page(_ mm: UInt32, _ v: UInt32, _ pte: UnsafeMutablePointer<UInt32>, _ address: UInt32, _ write: Bool) -> FaultResult {
    let entry = pte.pointee
    let slot = swp_slot(entry)
    if slot == 0 || slot >= Swap.slots || swap_map(slot).pointee == 0 { panic("do_swap_page: bad swap entry") }
    var pfn = swap_cache(slot).pointee
    var major = false
    if pfn == NIL_PFN {
        pfn = alloc_reclaimable_page()
        if pfn == NIL_PFN { return .oom }
        if pte.pointee != entry || swap_cache(slot).pointee != NIL_PFN { panic("do_swap_page: entry changed during allocation") }
        if swap_io(slot, pfn, false) != 0 {
            free_pages(pfn, 0)
            printk(.err).s("Read-error on swap-device (3:0:").u(slot).s(")").end()
            return .sigbus
        }
        // The new frame's one reference becomes the swap cache's.
        let p = page(pfn)
        p.pointee.flags |= PG_swapcache
        p.pointee.priv = slot
        p.pointee.mapcount = -1
        swap_map(slot).pointee &+= 1
        swap_cache(slot).pointee = pfn
        Swap.cached &+= 1
        lru_add(pfn)
        major = true
    }
    page(pfn).pointee.flags |= PG_referenced
    get_page(pfn)
    pte.pointee = (pfn << PAGE_SHIFT) | (pte_prot(vmap(v).pointee.flags) & ~_PAGE_RW)
    mmp(mm).pointee.rss &+= 1
    mmp(mm).pointee.swapEnts &-= 1
    swap_free(slot)                                  // the PTE's reference to the slot
    flush_user_page(mm, address & PAGE_MASK)
    fault_event(kind: major ? "swap-in" : "swap-cache", pid: fault_pid(), addr: address, pfn: pfn)
    if write {
        let r = do_wp_page(mm, pte, address)
        if r != .ok { return r }
    }
    return major ? .major : .ok
}

/// try_to_swap_out(mm, va, pte) -> true if the present page at va was unmapped: a
/// file page's PTE becomes 0, an anonymous page's the swap entry of its slot (a new
/// one if it has none; false when swap is full). The accessed bit is the caller's.
func try_to_swap_out(_ mm: UInt32, _ va: UInt32, _ pte: UnsafeMutablePointer<UInt32>) -> Bool {
    let val = pte.pointee
    let pfn = val >> PAGE_SHIFT
    let p = page(pfn)
    if p.pointee.flags & PG_reserved != 0 { return false }
    if p.pointee.flags & PG_filecache != 0 {
        pte.pointee = 0
    } else {
        if p.pointee.flags & PG_swapcache == 0 {
            let slot = get_swap_page()
            if slot == 0 { return false }
            add_to_swap_cache(pfn, slot)
        } else if val & _PAGE_DIRTY != 0 {
            p.pointee.flags |= PG_dirty
        }
        let slot = p.pointee.priv
        swap_duplicate(slot)
        pte.pointee = swp_pte(slot)
        mmp(mm).pointee.swapEnts &+= 1
    }
    flush_user_page(mm, va)
    mmp(mm).pointee.rss &-= 1
    put_page(pfn)
    return true
}

/// swap_out_mm(mm, want) -> pages unmapped from mm (at most want), scanning its
/// private VMAs from mm's cursor; the cursor wraps to 0 at the end.
func swap_out_mm(_ mm: UInt32, _ want: UInt32) -> UInt32 {
    var done: UInt32 = 0
    var va = mmp(mm).pointee.swapAddress
    var v = find_vma(mm, va)
    while v != 0 && done < want {
        let s = vmap(v).pointee
        if va < s.start { va = s.start }
        if s.flags & VM_SHARED != 0 { va = s.end; v = s.next; continue }
        while va < s.end && done < want {
            if ptr(mmp(mm).pointee.pgd, UInt32.self)[Int(va >> PGDIR_SHIFT)] & _PAGE_PRESENT == 0 {
                va = (va & ~(PGDIR_SIZE - 1)) &+ PGDIR_SIZE
                if va == 0 { break }
                continue
            }
            let pte = user_pte(mm, va, false)!
            let val = pte.pointee
            // with swap full only file pages can go: leave anonymous ones (and their accessed bits) alone
            if val & _PAGE_PRESENT != 0
                && (Swap.free != 0 || page(val >> PAGE_SHIFT).pointee.flags & (PG_filecache | PG_swapcache) != 0) {
                if val & _PAGE_ACCESSED != 0 {
                    pte.pointee = val & ~_PAGE_ACCESSED
                    flush_user_page(mm, va)
                    Vmstat.pgrotated &+= 1
                } else if try_to_swap_out(mm, va, pte) {
                    done &+= 1
                }
            }
            va &+= PAGE_SIZE
        }
        if va >= s.end || va == 0 { v = s.next; if v != 0 { va = vmap(v).pointee.start } }
    }
    mmp(mm).pointee.swapAddress = v == 0 ? 0 : va
    return done
}

/// swap_out(want) -> pages unmapped, visiting the tasks round robin from the cursor
/// (each task's mm from its own cursor) until want pages or one round of all tasks.
func swap_out(_ want: UInt32) -> UInt32 {
    var done: UInt32 = 0
    for _ in 1..<NR_TASKS {
        if done >= want { break }
        let slot = Reclaim.taskCursor
        Reclaim.taskCursor = slot &+ 1 >= NR_TASKS ? 1 : slot &+ 1
        let t = task_slot(slot)
        if t == 0 || task(t).pointee.mm == 0 || mmp(task(t).pointee.mm).pointee.rss == 0 { continue }
        done &+= swap_out_mm(task(t).pointee.mm, want &- done)
    }
    return done
}

/// shrink_cache(want) -> frames freed (at most want), looking at 4 * want + 64 frames
/// at most (never more than one turn of the LRU clock): mapped, busy or recently referenced frames go round again; a dirty
/// swap-cache frame whose slot is still wanted is written out first; then the frame
/// leaves its cache and is freed.
func shrink_cache(_ want: UInt32) -> UInt32 {
    var freed: UInt32 = 0
    var budget = min(Cache.lruCount, 4 &* want &+ 64)
    while freed < want && budget > 0 && Cache.lruHead != NIL_PFN {
        budget &-= 1
        let pfn = Cache.lruHead
        let p = page(pfn)
        lru_del(pfn)
        lru_add(pfn)                                  // the hand moves on; evicted frames leave below
        Vmstat.pgscan &+= 1
        if p.pointee.refcount > 1 { continue }
        if p.pointee.flags & PG_referenced != 0 { p.pointee.flags &= ~PG_referenced; continue }
        if p.pointee.flags & PG_swapcache != 0 {
            let slot = p.pointee.priv
            if p.pointee.flags & PG_dirty != 0 && swap_map(slot).pointee > 1 {
#if INJECT_SWAP_NO_WRITEBACK
                let wrote: Int32 = 0           // injected bug: the dirty page is dropped unwritten
#else
                let wrote = swap_io(slot, pfn, true)
#endif
                if wrote != 0 {
                    printk(.err).s("Write-error on swap-device (3:0:").u(slot).s(")").end()
                    continue
                }
                p.pointee.flags &= ~PG_dirty
            }
            free_swap_cache_page(pfn)
        } else {
            remove_from_page_cache(pfn)
            p.pointee.mapcount = -1
            free_pages(pfn, 0)
        }
        Vmstat.pgsteal &+= 1
        freed &+= 1
    }
    return freed
}

/// try_to_free_pages(want) -> frames freed: rounds of shrink_cache, then swap_out to
/// unmap more pages into the caches, until want frames are free or two rounds in a
/// row move nothing (the first may only clear accessed bits; swap may be full).
/// Does nothing without a disk (no cache, no swap) or when already reclaiming.
func try_to_free_pages(_ want: UInt32) -> UInt32 {
    if Reclaim.active || (Cache.lruCount == 0 && Swap.slots == 0) { return 0 }
    Reclaim.active = true
    defer { Reclaim.active = false }
    var freed: UInt32 = 0
    var idle = 0
    for _ in 0..<8 {
        let f = shrink_cache(want &- freed)
        freed &+= f
        if freed >= want { break }
        let unmapped = swap_out(max(want &- freed, SWAP_CLUSTER))
        if f == 0 && unmapped == 0 { idle += 1; if idle == 2 { break } } else { idle = 0 }
    }
    return freed
}

/// alloc_reclaimable_page() -> a frame for user memory or the caches (HIGHMEM first),
/// refcount 1, mapcount 0, or NIL_PFN. Below the low watermark, reclaim first (up to
/// the high one); when that frees nothing and free memory is down to the min
/// watermark, or swap is full and it frees less than a cluster, fail (the caller's
/// process is killed: out of memory) rather than eat the kernel's reserve. A reclaim
/// that falls far short (memory held by the kernel: page tables, stacks) makes the
/// next SWAP_CLUSTER allocations skip it while free memory stays above min, so that a
/// machine full of unreclaimable memory does not rescan every task on every fault
/// (forkbomb at -m 32M with swap: 3 s instead of minutes). If the allocation fails,
/// reclaim a cluster and retry once.
func alloc_reclaimable_page() -> UInt32 {
    let free = nr_free_pages()
    if Reclaim.backoff > 0 && free >= Reclaim.min {
        Reclaim.backoff &-= 1
    } else if free < Reclaim.low {
        let want = max(Reclaim.high &- free, SWAP_CLUSTER)
        let got = try_to_free_pages(want)
        Reclaim.backoff = got < want / 4 ? SWAP_CLUSTER : 0
        // Out of memory: down to the reserve with nothing reclaimed, or swap is full
        // and reclaim found less than a cluster (what comes back is the working set's
        // own text and clean pages, faulted straight back in: thrashing without end).
        let disk = Cache.lruCount != 0 || Swap.slots != 0
        if disk && ((got == 0 && free < Reclaim.min) || (Swap.free == 0 && got < SWAP_CLUSTER)) { return NIL_PFN }
    }
    var pfn = alloc_pages(GFP_HIGHUSER, 0)
    if pfn == NIL_PFN && try_to_free_pages(SWAP_CLUSTER) > 0 { pfn = alloc_pages(GFP_HIGHUSER, 0) }
    if pfn != NIL_PFN { page(pfn).pointee.mapcount = 0 }
    return pfn
}

/// show_vmstat(): /proc/vmstat (Linux's names; counters since boot).
func show_vmstat() {
    vmstat_line("nr_free_pages", nr_free_pages())
    vmstat_line("nr_file_pages", Cache.nrPages &+ Swap.cached)
    vmstat_line("nr_swap_cached", Swap.cached)
    vmstat_line("pgpgin", Vmstat.pgpgin)
    vmstat_line("pgpgout", Vmstat.pgpgout)
    vmstat_line("pswpin", Vmstat.pswpin)
    vmstat_line("pswpout", Vmstat.pswpout)
    vmstat_line("pgfault", Vmstat.pgfault)
    vmstat_line("pgmajfault", Vmstat.pgmajfault)
    vmstat_line("pgscan_direct", Vmstat.pgscan)
    vmstat_line("pgsteal_direct", Vmstat.pgsteal)
    vmstat_line("pgrotated", Vmstat.pgrotated)
}

/// show_swaps(): /proc/swaps (Linux's columns; the area is the disk's last blocks).
func show_swaps() {
    printk(.info).s("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority").end()
    if Swap.slots == 0 { return }
    let size = (Swap.slots &- 1) << 2
    printk(.info).s("/dev/hda                                partition\t").u(size).s("\t\t")
        .u(size &- (Swap.free << 2)).s("\t\t-2").end()
}

/// vmstat_line(name, v): "name v".
func vmstat_line(_ name: StaticString, _ v: UInt32) { printk(.info).s(name).s(" ").u(v).end() }
