// vma.swift: struct mm_struct and the VMAs (vm_area_struct), a sorted list with find_vma, split and merge-free insert.

// vm_flags (Linux's VM_* bits, a subset).
let VM_READ: UInt32 = 1 << 0
let VM_WRITE: UInt32 = 1 << 1
let VM_EXEC: UInt32 = 1 << 2
let VM_SHARED: UInt32 = 1 << 3
let VM_GROWSDOWN: UInt32 = 1 << 8

let TASK_SIZE: UInt32 = PAGE_OFFSET               // user space ends at 3 GiB
let STACK_TOP: UInt32 = TASK_SIZE                 // no randomisation: deterministic
let MMAP_BASE: UInt32 = TASK_SIZE - (128 << 20)   // top-down mmap below a 128 MiB stack gap
let RLIMIT_STACK: UInt32 = 8 << 20                // the stack VMA grows to at most 8 MiB
let ELF_MIN_ADDR: UInt32 = 0x0804_8000            // nothing is mapped below this

/// MmStruct: struct mm_struct, one address space.
struct MmStruct {
    var pgd: UInt32          // page directory (lowmem virtual address)
    var mmap: UInt32         // first Vma (lowest address) or 0
    var mapCount: UInt32     // VMAs
    var startCode: UInt32    // text
    var endCode: UInt32
    var startData: UInt32    // initialised data
    var endData: UInt32
    var startBrk: UInt32     // heap
    var brk: UInt32
    var startStack: UInt32   // initial stack pointer area
    var mmapBase: UInt32     // top of the mmap area (it grows down from here)
    var totalVm: UInt32      // pages in VMAs
    var rss: UInt32          // pages mapped
    var exeInode: UInt32     // the executable (inode index + 1) for /proc/PID/maps
    var ptPages: UInt32      // page tables
    var swapEnts: UInt32     // swap PTEs (pages of this mm out in swap): VmSwap
    var swapAddress: UInt32  // where swap_out scans this mm next
}

/// Vma: struct vm_area_struct, [start, end) of one mapping.
struct Vma {
    var start: UInt32        // first byte (page aligned)
    var end: UInt32          // first byte past (page aligned)
    var flags: UInt32        // VM_*
    var inode: UInt32        // backing file (inode index + 1) or 0 for anonymous memory
    var pgoff: UInt32        // file offset (bytes) of start
    var fileEnd: UInt32      // file contents stop at this address (the rest reads as zero)
    var next: UInt32         // next Vma by address, or 0
}

/// MmCaches: slab caches of mm_struct and vm_area_struct.
struct MmCaches {
    static var mm = -1
    static var vma = -1
}

@inline(__always) func mmp(_ a: UInt32) -> UnsafeMutablePointer<MmStruct> { ptr(a, MmStruct.self) }
@inline(__always) func vmap(_ a: UInt32) -> UnsafeMutablePointer<Vma> { ptr(a, Vma.self) }

/// vma_init(): create the mm_struct and vm_area_struct caches.
func vma_init() {
    MmCaches.mm = kmem_cache_create("mm_struct", UInt32(MemoryLayout<MmStruct>.stride), 4)
    MmCaches.vma = kmem_cache_create("vm_area_struct", UInt32(MemoryLayout<Vma>.stride), 4)
}

/// mm_alloc() -> a new mm with an empty user half and the kernel half of
/// swapper_pg_dir, or 0 when out of memory.
func mm_alloc() -> UInt32 {
    let m = kmem_cache_alloc(MmCaches.mm)
    if m == 0 { return 0 }
    let pgd = __get_free_page(GFP_KERNEL)
    if pgd == 0 { kmem_cache_free(MmCaches.mm, m); return 0 }
    let d = ptr(pgd, UInt32.self)
    let s = ptr(Pgtable.swapperPgDir, UInt32.self)
    for i in 0..<1024 { d[i] = i >= 768 ? s[i] : 0 }
    page(virt_to_pfn(pgd)).pointee.flags |= PG_pgtable
    mmp(m).pointee = MmStruct(pgd: pgd, mmap: 0, mapCount: 0, startCode: 0, endCode: 0, startData: 0,
                              endData: 0, startBrk: 0, brk: 0, startStack: 0, mmapBase: MMAP_BASE,
                              totalVm: 0, rss: 0, exeInode: 0, ptPages: 0,
                              swapEnts: 0, swapAddress: 0)
    return m
}

/// find_vma(mm, a) -> the first VMA with end > a (it may start above a), or 0.
func find_vma(_ mm: UInt32, _ a: UInt32) -> UInt32 {
    var v = mmp(mm).pointee.mmap
    while v != 0 {
        if vmap(v).pointee.end > a { return v }
        v = vmap(v).pointee.next
    }
    return 0
}

/// vma_new(start, end, flags, inode, pgoff, fileEnd) -> a new unlinked VMA, or 0.
func vma_new(_ start: UInt32, _ end: UInt32, _ flags: UInt32, _ inode: UInt32, _ pgoff: UInt32, _ fileEnd: UInt32) -> UInt32 {
    let v = kmem_cache_alloc(MmCaches.vma)
    if v == 0 { return 0 }
    vmap(v).pointee = Vma(start: start, end: end, flags: flags, inode: inode, pgoff: pgoff, fileEnd: fileEnd, next: 0)
    return v
}

/// insert_vm_struct(mm, v): link v into mm's list in address order (it must not
/// overlap another VMA) and count its pages in total_vm.
func insert_vm_struct(_ mm: UInt32, _ v: UInt32) {
    let m = mmp(mm)
    var prev: UInt32 = 0
    var cur = m.pointee.mmap
    while cur != 0 && vmap(cur).pointee.start < vmap(v).pointee.start {
        prev = cur
        cur = vmap(cur).pointee.next
    }
    vmap(v).pointee.next = cur
    if prev == 0 { m.pointee.mmap = v } else { vmap(prev).pointee.next = v }
    m.pointee.mapCount &+= 1
    m.pointee.totalVm &+= (vmap(v).pointee.end &- vmap(v).pointee.start) >> PAGE_SHIFT
}

/// remove_vma(mm, v): unlink v (its pages must be unmapped already) and free it.
func remove_vma(_ mm: UInt32, _ v: UInt32) {
    let m = mmp(mm)
    if m.pointee.mmap == v {
        m.pointee.mmap = vmap(v).pointee.next
    } else {
        var p = m.pointee.mmap
        while p != 0 && vmap(p).pointee.next != v { p = vmap(p).pointee.next }
        if p == 0 { panic("remove_vma: not in the list") }
        vmap(p).pointee.next = vmap(v).pointee.next
    }
    m.pointee.mapCount &-= 1
    m.pointee.totalVm &-= (vmap(v).pointee.end &- vmap(v).pointee.start) >> PAGE_SHIFT
    kmem_cache_free(MmCaches.vma, v)
}

/// split_vma(mm, v, at) -> true if v was split into [start, at) and a new [at, end)
/// linked after it; false when out of memory. `at` must lie strictly inside v.
func split_vma(_ mm: UInt32, _ v: UInt32, _ at: UInt32) -> Bool {
    let o = vmap(v).pointee
    let n = vma_new(at, o.end, o.flags, o.inode, o.pgoff &+ (at &- o.start), o.fileEnd)
    if n == 0 { return false }
    vmap(v).pointee.end = at
    vmap(n).pointee.next = o.next
    vmap(v).pointee.next = n
    mmp(mm).pointee.mapCount &+= 1
    return true
}

/// get_unmapped_area(mm, len) -> the highest page-aligned hole of len bytes below
/// mmap_base and above the highest of brk and ELF_MIN_ADDR (top-down allocator), or 0.
func get_unmapped_area(_ mm: UInt32, _ len: UInt32) -> UInt32 {
    let m = mmp(mm).pointee
    var top = m.mmapBase
    while top >= len {
        let cand = top &- len
        if cand < max(m.brk, ELF_MIN_ADDR) { return 0 }
        // The highest VMA that starts below top: does it overlap [cand, top)?
        var v = m.mmap
        var clash: UInt32 = 0
        while v != 0 {
            let s = vmap(v).pointee
            if s.start < top && s.end > cand { clash = v }
            v = s.next
        }
        if clash == 0 { return cand }
        top = vmap(clash).pointee.start
    }
    return 0
}
