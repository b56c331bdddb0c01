// runtime.swift: C symbols the embedded Swift runtime needs: allocation and putchar.

/// posix_memalign(out, align, size) -> 0 and *out = block, or 12 (ENOMEM) with *out
/// untouched; 22 (EINVAL) if align is not a power of two multiple of the pointer size.
@_cdecl("posix_memalign")
func posix_memalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ align: Int, _ size: Int) -> Int32 {
    if align < 4 || align & (align - 1) != 0 { return 22 }
    if size < 0 || size > Int(UInt32.max >> 1) { return 12 }
    let p = early_alloc(UInt32(size), UInt32(align))
    if p == 0 { return 12 }
    out.pointee = UnsafeMutableRawPointer(bitPattern: UInt(p))
    return 0
}

/// kmem_early_free(ptr): C free(), reached through the `free` trampoline in string.S.
@_cdecl("kmem_early_free")
func kmem_early_free(_ ptr: UnsafeMutableRawPointer?) {
    guard let ptr else { return }
    early_free(UInt32(UInt(bitPattern: ptr)))
}

/// putchar(c) -> c: write one byte to the console (used by Swift's print).
@_cdecl("putchar")
func putchar(_ c: Int32) -> Int32 {
    Console.putc(UInt8(truncatingIfNeeded: c))
    return c
}
