// memory.swift: user page tables, handle_mm_fault (demand zero, file pages, do_wp_page COW), fork's copy, unmapping and exit_mmap.

let _PAGE_TABLE: UInt32 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED   // PDE -> user page table

/// MemStats: counters for the reports.
struct MemStats {
    static var cowCopies: UInt32 = 0   // do_wp_page copies
    static var cowReuses: UInt32 = 0   // do_wp_page reuses (the only user)
}

/// user_pte(mm, va, alloc) -> &pte of user address va in mm, allocating a zeroed
/// lowmem page table when alloc is set; nil if there is none (or allocation failed).
func user_pte(_ mm: UInt32, _ va: UInt32, _ alloc: Bool) -> UnsafeMutablePointer<UInt32>? {
    let pde = ptr(mmp(mm).pointee.pgd, UInt32.self) + Int(va >> PGDIR_SHIFT)
    if pde.pointee & _PAGE_PRESENT == 0 {
        if !alloc { return nil }
        let pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0)
        if pfn == NIL_PFN { return nil }
        page(pfn).pointee.flags |= PG_pgtable
        pde.pointee = (pfn << PAGE_SHIFT) | _PAGE_TABLE
        mmp(mm).pointee.ptPages &+= 1
        Pgtable.userPageTables &+= 1
    }
    return ptr(__va(pde.pointee & PAGE_MASK), UInt32.self) + Int((va >> PAGE_SHIFT) & (PTRS_PER_PTE - 1))
}

/// flush_user_page(mm, va): INVLPG va if mm is the loaded address space.
@inline(__always) func flush_user_page(_ mm: UInt32, _ va: UInt32) {
    if x86_read_cr3() == __pa(mmp(mm).pointee.pgd) { x86_invlpg(va) }
}

/// get_page(pfn): one more mapping of a user frame (refcount and mapcount).
@inline(__always) func get_page(_ pfn: UInt32) {
    page(pfn).pointee.refcount &+= 1
    page(pfn).pointee.mapcount &+= 1
}

/// put_page(pfn): drop one mapping of a user frame; the last one frees it. A
/// swap-cache frame left with only the cache's reference, whose slot nobody else
/// holds, is freed with its slot.
func put_page(_ pfn: UInt32) {
    let p = page(pfn)
    p.pointee.mapcount &-= 1
    if p.pointee.refcount > 1 {
        p.pointee.refcount &-= 1
        free_swap_cache_orphan(pfn)
        return
    }
    p.pointee.mapcount = -1
    free_pages(pfn, 0)
}

/// alloc_user_page() -> a new frame for user memory (HIGHMEM first, as GFP_HIGHUSER),
/// mapcount 0, or NIL_PFN; reclaims first when memory is low (swap.swift).
func alloc_user_page() -> UInt32 { alloc_reclaimable_page() }

/// fill_page(pfn, vma, va): the contents of user page va of vma into frame pfn:
/// zeros, or the file's bytes (zero past the file's end or the VMA's fileEnd), written
/// through a kmap_atomic slot.
func fill_page(_ pfn: UInt32, _ v: Vma, _ va: UInt32) {
    let k = kmap_atomic(pfn)
    memset_words(k, 0, PAGE_SIZE)
    if v.inode != 0 && va < v.fileEnd {
        let ino = inode(v.inode)
        let off = v.pgoff &+ (va &- v.start)
        var n = min(PAGE_SIZE, v.fileEnd &- va)
        if off >= ino.size { n = 0 } else { n = min(n, ino.size &- off) }
        if n > 0 { memcpy_k(k, ino.data &+ off, n) }
    }
    kunmap_atomic(k)
}

/// memcpy_k(dst, src, n): copy n bytes between kernel addresses.
func memcpy_k(_ dst: UInt32, _ src: UInt32, _ n: UInt32) {
    _ = memcpy(UnsafeMutableRawPointer(bitPattern: UInt(dst))!, UnsafeRawPointer(bitPattern: UInt(src))!, Int(n))
}

@_extern(c, "memcpy") func memcpy(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int) -> UnsafeMutableRawPointer

/// pte_prot(flags) -> the PTE bits for a page of a VMA with these flags (writable
/// only if VM_WRITE).
@inline(__always) func pte_prot(_ flags: UInt32) -> UInt32 {
    _PAGE_PRESENT | _PAGE_USER | (flags & VM_WRITE != 0 ? _PAGE_RW : 0)
}

/// FaultResult: what handle_mm_fault did.
enum FaultResult {
    case ok       // a page was supplied or made writable: a minor fault
    case major    // ... after waiting for the disk (page cache miss, swap-in): a major fault
    case oom      // no memory for the page or its page table
    case sigbus   // the disk failed to supply the page
}

/// handle_mm_fault(mm, v, address, write) -> the outcome of resolving an access the
/// VMA allows: not present -> a new page (zeroed or from the file), present but
/// read-only on a write -> do_wp_page.
/// fault: false when not called for a fault (populate_range): no fault event.
func handle_mm_fault(_ mm: UInt32, _ v: UInt32, _ address: UInt32, _ write: Bool, fault: Bool = true) -> FaultResult {
    let va = address & PAGE_MASK
    guard let pte = user_pte(mm, va, true) else { return .oom }
    let vm = vmap(v).pointee
    if pte.pointee & _PAGE_PRESENT == 0 {
        if pte.pointee != 0 { return do_swap_page(mm, v, pte, address, write) }
        if vm.inode != 0 && va < vm.fileEnd && inode(vm.inode).ino != 0 {
            return do_file_page(mm, vm, pte, address, write, fault)
        }
        let pfn = alloc_user_page()
        if pfn == NIL_PFN { return .oom }
        fill_page(pfn, vm, va)
        get_page_first(pfn)
        pte.pointee = (pfn << PAGE_SHIFT) | pte_prot(vm.flags)
        mmp(mm).pointee.rss &+= 1
        flush_user_page(mm, va)
        // A minor fault: nothing waited for I/O (zeros, or a file page copied from the
        // initramfs in memory).
        if fault { fault_event(kind: "minor", pid: fault_pid(), addr: address, pfn: pfn) }
        return .ok
    }
    if write && pte.pointee & _PAGE_RW == 0 { return do_wp_page(mm, pte, address) }
    flush_user_page(mm, va)            // a stale TLB entry: the page is fine now (no event)
    return .ok
}

/// do_file_page(mm, vm, pte, address, write, fault) -> the outcome of the first touch
/// of a page of an s86fs file mapping: the page-cache page (read from the disk on a
/// miss: a major fault). A page wholly inside the file part of the VMA is mapped
/// itself, read-only (a write to a private mapping then copies it, as COW); a write
/// fault on a private mapping, or the page where the file part ends (the rest reads
/// as zero: bss), gets a private copy.
func do_file_page(_ mm: UInt32, _ vm: Vma, _ pte: UnsafeMutablePointer<UInt32>, _ address: UInt32, _ write: Bool, _ fault: Bool) -> FaultResult {
    let va = address & PAGE_MASK
    let index = (vm.pgoff &+ (va &- vm.start)) >> PAGE_SHIFT
    var major = false
    let cp = read_cache_page(inode(vm.inode).ino, index, &major)
    if cp == NIL_PFN { return Cache.lastError == -12 ? .oom : .sigbus }
    if pte.pointee != 0 { panic("do_file_page: PTE changed during the read") }
    var pfn = cp
    if va &+ PAGE_SIZE <= vm.fileEnd && !(write && vm.flags & VM_SHARED == 0) {
        page(cp).pointee.mapcount &+= 1               // read_cache_page's reference is the mapping's
        pte.pointee = (cp << PAGE_SHIFT) | (pte_prot(vm.flags) & ~_PAGE_RW)   // shared ones are never writable: read-only fs
    } else {
        pfn = alloc_user_page()
        if pfn == NIL_PFN { put_cache_page(cp); return .oom }
        let src = kmap_atomic(cp)
        let dst = kmap_atomic(pfn)
        let n = min(PAGE_SIZE, vm.fileEnd &- va)
        memcpy_k(dst, src, n)
        if n < PAGE_SIZE { memset_bytes(dst &+ n, 0, PAGE_SIZE &- n) }
        kunmap_atomic(dst)
        kunmap_atomic(src)
        put_cache_page(cp)
        get_page_first(pfn)
        pte.pointee = (pfn << PAGE_SHIFT) | pte_prot(vm.flags)
    }
    mmp(mm).pointee.rss &+= 1
    flush_user_page(mm, va)
    if fault { fault_event(kind: major ? "major" : "minor", pid: fault_pid(), addr: address, pfn: pfn) }
    return major ? .major : .ok
}

/// get_page_first(pfn): the first mapping of a new frame (refcount stays 1).
@inline(__always) func get_page_first(_ pfn: UInt32) {
    page(pfn).pointee.mapcount = 0
}

/// do_wp_page(mm, pte, address) -> .ok after a write fault at address on a present
/// read-only page of a writable VMA: if this mapping is the frame's only user, make it
/// writable (reuse); else copy it into a new frame (two kmap_atomic slots) and drop a
/// reference. GUEST_INJECT=cow-always-copy (INJECT_COW_ALWAYS_COPY) never reuses.
func do_wp_page(_ mm: UInt32, _ pte: UnsafeMutablePointer<UInt32>, _ address: UInt32) -> FaultResult {
    let va = address & PAGE_MASK
    let old = pte.pointee >> PAGE_SHIFT
#if INJECT_COW_ALWAYS_COPY
    let reuse = false                  // injected bug: always copy, even the only user
#else
    let reuse = page(old).pointee.flags & PG_filecache == 0 && reuse_swap_page(old) && page(old).pointee.refcount == 1
#endif
    if reuse {
        pte.pointee |= _PAGE_RW
        flush_user_page(mm, va)
        MemStats.cowReuses &+= 1
        fault_event(kind: "cow-reuse", pid: fault_pid(), addr: address, pfn: old)
        return .ok
    }
    let orig = pte.pointee
    page(old).pointee.refcount &+= 1   // hold the frame: reclaim may unmap it while we allocate
    let new = alloc_user_page()
    page(old).pointee.refcount &-= 1
    if pte.pointee != orig {           // reclaim swapped it out: undo, the access faults again
        if new != NIL_PFN { page(new).pointee.mapcount = -1; free_pages(new, 0) }
        if page(old).pointee.refcount == 0 { panic("do_wp_page: frame lost") }
        return .ok
    }
    if new == NIL_PFN { return .oom }
    let src = kmap_atomic(old)
    let dst = kmap_atomic(new)
    memcpy_k(dst, src, PAGE_SIZE)
    kunmap_atomic(dst)
    kunmap_atomic(src)
    get_page_first(new)
    pte.pointee = (new << PAGE_SHIFT) | (pte.pointee & 0xFFF) | _PAGE_RW
    put_page(old)
    flush_user_page(mm, va)
    MemStats.cowCopies &+= 1
    fault_event(kind: "cow-copy", pid: fault_pid(), addr: address, pfn: new)
    return .ok
}

/// zap_page_range(mm, start, end): unmap every page in [start, end), dropping the
/// frames' references (rss goes down).
func zap_page_range(_ mm: UInt32, _ start: UInt32, _ end: UInt32) {
    var va = start
    while va < end {
        let pde = ptr(mmp(mm).pointee.pgd, UInt32.self)[Int(va >> PGDIR_SHIFT)]
        if pde & _PAGE_PRESENT == 0 {
            va = (va & ~(PGDIR_SIZE - 1)) &+ PGDIR_SIZE
            if va == 0 { break }
            continue
        }
        let pte = user_pte(mm, va, false)!
        if pte.pointee & _PAGE_PRESENT != 0 {
            put_page(pte.pointee >> PAGE_SHIFT)
            pte.pointee = 0
            mmp(mm).pointee.rss &-= 1
            flush_user_page(mm, va)
        } else if pte.pointee != 0 {
            swap_free(swp_slot(pte.pointee))
            pte.pointee = 0
            mmp(mm).pointee.swapEnts &-= 1
        }
        va &+= PAGE_SIZE
    }
}

/// change_protection(mm, start, end, flags): rewrite the present PTEs in [start, end)
/// for new VMA flags (a page shared after fork stays read-only: COW decides later).
func change_protection(_ mm: UInt32, _ start: UInt32, _ end: UInt32, _ flags: UInt32) {
    var va = start
    while va < end {
        if let pte = user_pte(mm, va, false), pte.pointee & _PAGE_PRESENT != 0 {
            let pfn = pte.pointee >> PAGE_SHIFT
            var prot = pte_prot(flags)
            if flags & VM_SHARED == 0 && page(pfn).pointee.refcount > 1 { prot &= ~_PAGE_RW }
            pte.pointee = (pfn << PAGE_SHIFT) | prot
            flush_user_page(mm, va)
        }
        va &+= PAGE_SIZE
    }
}

/// populate_range(mm, v): fault in every page of VMA v (shared anonymous memory must
/// exist before fork so both sides map the same frames). False on OOM.
func populate_range(_ mm: UInt32, _ v: UInt32) -> Bool {
    var va = vmap(v).pointee.start
    while va < vmap(v).pointee.end {
        if let pte = user_pte(mm, va, false), pte.pointee & _PAGE_PRESENT != 0 { va &+= PAGE_SIZE; continue }
        if handle_mm_fault(mm, v, va, false, fault: false) == .oom { return false }
        va &+= PAGE_SIZE
    }
    return true
}

/// dup_mm(old) -> a copy of address space old for fork, or 0 on OOM (nothing leaks):
/// the same VMAs; every present page mapped in both, private writable ones made
/// read-only in both (copy-on-write), shared ones left writable.
func dup_mm(_ old: UInt32) -> UInt32 {
    let m = mm_alloc()
    if m == 0 { return 0 }
    let o = mmp(old).pointee
    let keepPgd = mmp(m).pointee.pgd
    mmp(m).pointee = o
    mmp(m).pointee.pgd = keepPgd
    mmp(m).pointee.mmap = 0
    mmp(m).pointee.mapCount = 0
    mmp(m).pointee.totalVm = 0
    mmp(m).pointee.rss = 0
    mmp(m).pointee.ptPages = 0
    mmp(m).pointee.swapEnts = 0
    mmp(m).pointee.swapAddress = 0
    var v = o.mmap
    while v != 0 {
        let s = vmap(v).pointee
        if s.flags & VM_SHARED != 0 && !populate_range(old, v) { exit_mmap(m); return 0 }
        let n = vma_new(s.start, s.end, s.flags, s.inode, s.pgoff, s.fileEnd)
        if n == 0 { exit_mmap(m); return 0 }
        insert_vm_struct(m, n)
        var va = s.start
        while va < s.end {
            if let spte = user_pte(old, va, false), spte.pointee != 0 {
                // (allocating the child's page table may reclaim: read the parent's PTE after)
                guard let dpte = user_pte(m, va, true) else { exit_mmap(m); return 0 }
                if is_swap_pte(spte.pointee) {
                    swap_duplicate(swp_slot(spte.pointee))
                    dpte.pointee = spte.pointee
                    mmp(m).pointee.swapEnts &+= 1
                    va &+= PAGE_SIZE
                    continue
                }
                if spte.pointee == 0 { va &+= PAGE_SIZE; continue }
#if INJECT_NO_WP_ON_FORK
                // injected bug: private pages stay writable, parent and child share them
#else
                if s.flags & VM_SHARED == 0 { spte.pointee &= ~_PAGE_RW }
#endif
                get_page(spte.pointee >> PAGE_SHIFT)
                dpte.pointee = spte.pointee
                mmp(m).pointee.rss &+= 1
            }
            va &+= PAGE_SIZE
        }
        v = s.next
    }
    if x86_read_cr3() == __pa(o.pgd) { x86_write_cr3(__pa(o.pgd)) }   // flush the now read-only entries
    return m
}

/// exit_mmap(mm): unmap and free everything of mm: pages, VMAs, page tables, the page
/// directory and the mm itself. The caller must not be running on mm's page directory.
func exit_mmap(_ mm: UInt32) {
    var v = mmp(mm).pointee.mmap
    while v != 0 {
        let next = vmap(v).pointee.next
        zap_page_range(mm, vmap(v).pointee.start, vmap(v).pointee.end)
        remove_vma(mm, v)
        v = next
    }
    let pgd = ptr(mmp(mm).pointee.pgd, UInt32.self)
    for i in 0..<768 where pgd[i] & _PAGE_PRESENT != 0 {
        let pfn = pgd[i] >> PAGE_SHIFT
        pgd[i] = 0
        free_pages(pfn, 0)
        Pgtable.userPageTables &-= 1
    }
    free_pages(virt_to_pfn(mmp(mm).pointee.pgd), 0)
    kmem_cache_free(MmCaches.mm, mm)
}

/// expand_stack(mm, v, address) -> true if the stack VMA v (VM_GROWSDOWN) could grow
/// down to cover address within RLIMIT_STACK and without meeting the VMA below.
func expand_stack(_ mm: UInt32, _ v: UInt32, _ address: UInt32) -> Bool {
    let start = address & PAGE_MASK
    let s = vmap(v).pointee
    if s.end &- start > RLIMIT_STACK { return false }
    var p = mmp(mm).pointee.mmap
    while p != 0 && p != v {
        if vmap(p).pointee.end > start { return false }
        p = vmap(p).pointee.next
    }
    mmp(mm).pointee.totalVm &+= (s.start &- start) >> PAGE_SHIFT
    vmap(v).pointee.start = start
    return true
}
