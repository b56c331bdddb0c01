// early.swift: the early allocator: a bump arena in .bss behind posix_memalign/free.

/// EarlyHeap: bump allocation from [start, end); frees are counted, and the arena is
/// reset once every allocation has been freed. Replaced by buddy + slab later.
struct EarlyHeap {
    static var start: UInt32 = 0       // arena base (set by early_heap_init)
    static var end: UInt32 = 0         // first byte past the arena
    static var next: UInt32 = 0        // next free byte
    static var live: UInt32 = 0        // allocations not yet freed
    static var total: UInt32 = 0       // allocations ever made
    static var highWater: UInt32 = 0   // most bytes ever in use
}

/// early_heap_init(): take the arena the linker script reserved in .bss.
func early_heap_init() {
    EarlyHeap.start = early_heap_start_addr()
    EarlyHeap.end = early_heap_end_addr()
    EarlyHeap.next = EarlyHeap.start
}

/// early_alloc(size, align) -> address of `size` bytes aligned to `align` (a power of
/// two), or 0 when the arena is exhausted. Memory is not zeroed.
func early_alloc(_ size: UInt32, _ align: UInt32) -> UInt32 {
    if EarlyHeap.start == 0 { panic("early_alloc: heap not initialized") }
    if align == 0 || align & (align &- 1) != 0 { panic("early_alloc: bad alignment") }
    let a = align < 8 ? 8 : align
    let p = (EarlyHeap.next &+ a &- 1) & ~(a &- 1)
    if p < EarlyHeap.next || size > EarlyHeap.end &- p { return 0 }
    EarlyHeap.next = p &+ (size == 0 ? 1 : size)
    EarlyHeap.live &+= 1
    EarlyHeap.total &+= 1
    let used = EarlyHeap.next &- EarlyHeap.start
    if used > EarlyHeap.highWater { EarlyHeap.highWater = used }
    return p
}

/// early_free(addr): release an allocation (0 is ignored). The bytes come back only
/// when nothing is live any more. Panics on an address outside the arena.
func early_free(_ addr: UInt32) {
    if addr == 0 { return }
    if addr < EarlyHeap.start || addr >= EarlyHeap.next { panic("early_free: not an early-heap address") }
    if EarlyHeap.live == 0 { panic("early_free: double free") }
    EarlyHeap.live &-= 1
    if EarlyHeap.live == 0 { EarlyHeap.next = EarlyHeap.start }
}
