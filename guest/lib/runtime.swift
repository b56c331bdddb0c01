// runtime.swift: C symbols the embedded Swift runtime needs: allocation and putchar.

/// RuntimeHeap: allocations the Swift runtime made through posix_memalign/free.
struct RuntimeHeap {
    static var live: UInt32 = 0     // blocks not yet freed
    static var total: UInt32 = 0    // blocks ever allocated
}

/// posix_memalign(out, align, size) -> 0 and *out = block, or 12 (ENOMEM) with *out
/// untouched; 22 (EINVAL) if align is not a power of two multiple of the pointer size.
/// Served by kmalloc once the slab allocator is up (kmalloc blocks are aligned to
/// their size class, so asking for max(size, align) bytes suffices), before that by
/// the early bump arena.
@_cdecl("posix_memalign")
func posix_memalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ align: Int, _ size: Int) -> Int32 {
    if align < 4 || align & (align - 1) != 0 { return 22 }
    if size < 0 || size > Int(UInt32.max >> 1) { return 12 }
    var p: UInt32 = 0
    if Slab.ready {
        if align > Int(PAGE_SIZE) { return 22 }
        p = kmalloc(UInt32(max(size, align)), GFP_KERNEL)
    } else {
        p = early_alloc(UInt32(size), UInt32(align))
    }
    if p == 0 { return 12 }
    RuntimeHeap.live &+= 1
    RuntimeHeap.total &+= 1
    out.pointee = UnsafeMutableRawPointer(bitPattern: UInt(p))
    return 0
}

/// kmem_early_free(ptr): C free(), reached through the `free` trampoline in string.S:
/// early-arena blocks go back to the arena, everything else to kfree.
@_cdecl("kmem_early_free")
func kmem_early_free(_ ptr: UnsafeMutableRawPointer?) {
    guard let ptr else { return }
    let a = UInt32(UInt(bitPattern: ptr))
    RuntimeHeap.live &-= 1
    if a >= EarlyHeap.start && a < EarlyHeap.end { early_free(a) } else { kfree(a) }
}

/// putchar(c) -> c: write one byte to the console (used by Swift's print).
@_cdecl("putchar")
func putchar(_ c: Int32) -> Int32 {
    Console.putc(UInt8(truncatingIfNeeded: c))
    return c
}
