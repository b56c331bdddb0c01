// bootmem.swift: the boot-time physical allocator (a bump pointer) and the RAM layout from the memory map.

/// Bootmem: physical pages handed out before the buddy allocator exists. They stay
/// reserved for good (mem_map, swapper_pg_dir, the kernel's page tables).
struct Bootmem {
    static var start: UInt32 = 0      // first physical byte bootmem owns
    static var next: UInt32 = 0       // next free physical byte (page aligned)
    static var limit: UInt32 = 0      // end of the usable region bootmem lives in
    static var done = false           // set by mem_init: no more bootmem allocations
}

/// region_usable_end(p) -> the end of the usable memory map region holding physical
/// address p, or 0 if p is not in usable RAM.
func region_usable_end(_ p: UInt32) -> UInt32 {
    var end: UInt64 = 0
    mmap_foreach { _, r in
        if r.type == 1 && r.base <= UInt64(p) && UInt64(p) < r.base &+ r.length {
            end = r.base &+ r.length
        }
    }
    return end > 0xFFFF_F000 ? 0xFFFF_F000 : UInt32(end)
}

/// setup_memory(): find max_pfn (end of usable RAM below 4 GiB) and max_low_pfn (end
/// of the direct map), set high_memory and VMALLOC_START, and start bootmem after
/// the kernel image and the boot modules. Panics without a memory map.
func setup_memory() {
    if Boot.mmap == nil { panic("setup_memory: the loader gave no memory map") }
    var top: UInt64 = 0
    mmap_foreach { _, r in
        if r.type == 1 {
            var end = r.base &+ r.length
            if end > 0x1_0000_0000 { end = 0x1_0000_0000 }
            if end > top && r.base < 0x1_0000_0000 { top = end }
        }
    }
    Layout.maxPfn = UInt32(truncatingIfNeeded: top >> UInt64(PAGE_SHIFT))
    Layout.maxLowPfn = Layout.maxPfn < MAX_LOW_PFN_LIMIT ? Layout.maxPfn : MAX_LOW_PFN_LIMIT
    Layout.highMemory = PAGE_OFFSET &+ (Layout.maxLowPfn << PAGE_SHIFT)
    Layout.vmallocStart = (Layout.highMemory &+ VMALLOC_OFFSET) & ~(VMALLOC_OFFSET &- 1)

    var start = __pa(kernel_end_addr())
    if Boot.info.flags & MBI_MODS != 0 {
        for i in 0..<Boot.info.modsCount {
            let m = module_at(i)
            if m.modEnd > start { start = m.modEnd }
        }
    }
    start = (start &+ PAGE_SIZE &- 1) & PAGE_MASK
    let end = region_usable_end(start)
    if end == 0 { panic("setup_memory: no usable RAM after the kernel") }
    Bootmem.start = start
    Bootmem.next = start
    Bootmem.limit = end < EARLY_MAP_END ? end : EARLY_MAP_END
}

/// alloc_bootmem_pages(bytes) -> the virtual (direct-map) address of bytes rounded up
/// to whole pages, zeroed. Panics if bootmem is closed or exhausted.
func alloc_bootmem_pages(_ bytes: UInt32) -> UInt32 {
    if Bootmem.done { panic("alloc_bootmem_pages: bootmem is closed") }
    let size = (bytes &+ PAGE_SIZE &- 1) & PAGE_MASK
    if size > Bootmem.limit &- Bootmem.next { panic("alloc_bootmem_pages: out of early memory") }
    let p = Bootmem.next
    Bootmem.next &+= size
    memset_words(__va(p), 0, size)
    return __va(p)
}

/// memset_words(va, v, bytes): fill bytes (a multiple of 4) at virtual va with the word v.
func memset_words(_ va: UInt32, _ v: UInt32, _ bytes: UInt32) {
    let w = ptr(va, UInt32.self)
    for i in 0..<Int(bytes >> 2) { w[i] = v }
}
