// memlayout.swift: the virtual address map (3G/1G split, Linux i386 non-PAE) and its constants.

//  0xFFFFFFFF +----------------------------+
//             | (hole: one page)           |
//  FIXADDR_TOP = 0xFFFFF000 ---------------+
//             | fixmap: FIX_HOLE, then the |  fix_to_virt(i) = FIXADDR_TOP - i * PAGE_SIZE
//             | kmap_atomic slots          |
//  FIXADDR_START ------------------------- +
//             | (unused)                   |
//  PKMAP_BASE + 4 MiB ---------------------+
//             | persistent kmap window:    |  LAST_PKMAP = 1024 slots, one page table
//             | kmap()/kunmap()            |
//  PKMAP_BASE = 0xFF800000 ----------------+
//             | 2 pages gap                |
//  VMALLOC_END = PKMAP_BASE - 8 KiB -------+
//             | vmalloc areas, each with   |  page tables preallocated at boot, so the
//             | one unmapped guard page    |  kernel half of every page directory is fixed
//  VMALLOC_START --------------------------+  = (high_memory + 8 MiB) & ~(8 MiB - 1)
//             | 8 MiB hole (catches stray  |
//             | accesses past lowmem)      |
//  high_memory = PAGE_OFFSET + min(RAM, 896 MiB)
//             | direct map of low memory:  |  __va(p) = p + PAGE_OFFSET, 4 MiB PSE pages
//             | ZONE_NORMAL (16..896 MiB)  |  (4 KiB pages for a partial last 4 MiB)
//             | ZONE_DMA    (0..16 MiB)    |  kernel image at PAGE_OFFSET + 1 MiB
//  PAGE_OFFSET = 0xC0000000 ---------------+
//             | user space (3 GiB): text   |
//             | at 0x08048000, heap, mmap, |
//             | stack below 0xC0000000     |
//  0x00000000 +----------------------------+  not mapped: NULL dereferences fault
//
// Physical memory above 896 MiB is ZONE_HIGHMEM: never in the direct map, reached
// through kmap, kmap_atomic or vmalloc.

let PAGE_SHIFT: UInt32 = 12                   // 4 KiB pages
let PAGE_SIZE: UInt32 = 1 << PAGE_SHIFT       // bytes per page
let PAGE_MASK: UInt32 = ~(PAGE_SIZE - 1)      // clears the offset in a page
let PGDIR_SHIFT: UInt32 = 22                  // one page directory entry maps 4 MiB
let PGDIR_SIZE: UInt32 = 1 << PGDIR_SHIFT     // bytes per page directory entry
let PTRS_PER_PTE: UInt32 = 1024               // entries per page table / directory

let PAGE_OFFSET: UInt32 = 0xC000_0000         // start of the kernel's 1 GiB
let MAXMEM: UInt32 = 896 << 20                // most RAM the direct map covers
let MAX_DMA_PFN: UInt32 = (16 << 20) >> PAGE_SHIFT   // ZONE_DMA ends at 16 MiB
let MAX_LOW_PFN_LIMIT: UInt32 = MAXMEM >> PAGE_SHIFT // ZONE_NORMAL ends at 896 MiB

let VMALLOC_OFFSET: UInt32 = 8 << 20          // hole between lowmem and vmalloc
let FIXADDR_TOP: UInt32 = 0xFFFF_F000         // top of the fixmap (one page below 4 GiB)
let LAST_PKMAP: UInt32 = 1024                 // persistent kmap slots

// Fixmap slots (enum fixed_addresses): index i lives at FIXADDR_TOP - i * PAGE_SIZE.
let FIX_HOLE: UInt32 = 0                      // never mapped
let KM_TYPE_NR: UInt32 = 16                   // kmap_atomic nesting depth (one CPU)
let FIX_KMAP_BEGIN: UInt32 = 1                // first kmap_atomic slot
let FIX_KMAP_END: UInt32 = FIX_KMAP_BEGIN + KM_TYPE_NR - 1  // last kmap_atomic slot
let END_OF_FIXED_ADDRESSES: UInt32 = FIX_KMAP_END + 1       // number of fixmap slots
let FIXADDR_SIZE: UInt32 = END_OF_FIXED_ADDRESSES << PAGE_SHIFT
let FIXADDR_START: UInt32 = FIXADDR_TOP - FIXADDR_SIZE
let PKMAP_BASE: UInt32 = (FIXADDR_START - PAGE_SIZE * (LAST_PKMAP + 1)) & ~(PGDIR_SIZE - 1)
let VMALLOC_END: UInt32 = PKMAP_BASE - 2 * PAGE_SIZE

/// Layout: the addresses that depend on the amount of RAM, set by setup_memory.
struct Layout {
    static var maxPfn: UInt32 = 0         // first pfn past usable RAM (below 4 GiB)
    static var maxLowPfn: UInt32 = 0      // first pfn past the direct map
    static var highMemory: UInt32 = 0     // PAGE_OFFSET + (maxLowPfn << PAGE_SHIFT)
    static var vmallocStart: UInt32 = 0   // (highMemory + VMALLOC_OFFSET) & ~(VMALLOC_OFFSET - 1)
}

/// fix_to_virt(idx) -> the virtual address of fixmap slot idx.
@inline(__always) func fix_to_virt(_ idx: UInt32) -> UInt32 {
    if idx >= END_OF_FIXED_ADDRESSES { panic("fix_to_virt: bad fixmap index") }
    return FIXADDR_TOP &- (idx << PAGE_SHIFT)
}

/// __va(phys) -> the direct-map virtual address of a low-memory physical address.
@inline(__always) func __va(_ phys: UInt32) -> UInt32 { phys &+ PAGE_OFFSET }

/// __pa(virt) -> the physical address of a direct-map virtual address.
@inline(__always) func __pa(_ virt: UInt32) -> UInt32 { virt &- PAGE_OFFSET }

/// ptr(addr, T) -> a typed pointer to kernel virtual address addr. Panics on 0.
@inline(__always) func ptr<T>(_ addr: UInt32, _: T.Type) -> UnsafeMutablePointer<T> {
    guard let p = UnsafeMutablePointer<T>(bitPattern: UInt(addr)) else {
        panic("ptr: null address")
    }
    return p
}

/// physPtr(phys, T) -> a typed pointer to low physical memory through the direct map
/// (before paging_init only the first 64 MiB are mapped). Panics on 0.
@inline(__always) func physPtr<T>(_ phys: UInt32, _: T.Type) -> UnsafeMutablePointer<T> {
    if phys == 0 { panic("physPtr: null address") }
    return ptr(__va(phys), T.self)
}

/// addr(p) -> the address a pointer holds, as a 32-bit value.
@inline(__always) func addr<T>(_ p: UnsafeMutablePointer<T>) -> UInt32 {
    UInt32(truncatingIfNeeded: UInt(bitPattern: p))
}
