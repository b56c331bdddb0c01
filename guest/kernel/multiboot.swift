// multiboot.swift: reading the multiboot v1 information structure the loader hands us.

let MULTIBOOT_BOOTLOADER_MAGIC: UInt32 = 0x2BADB002   // EAX at entry

// Flag bits of MultibootInfo.flags: which fields are valid.
let MBI_MEMORY: UInt32 = 1 << 0      // mem_lower, mem_upper
let MBI_CMDLINE: UInt32 = 1 << 2     // cmdline
let MBI_MODS: UInt32 = 1 << 3        // mods_count, mods_addr
let MBI_MMAP: UInt32 = 1 << 6        // mmap_length, mmap_addr

/// MultibootInfo: the fixed part of the structure at EBX (offsets per the v1 spec).
struct MultibootInfo {
    var flags: UInt32         // 0: validity bits (MBI_*)
    var memLower: UInt32      // 4: KiB of memory below 1 MiB
    var memUpper: UInt32      // 8: KiB of memory from 1 MiB up to the first hole
    var bootDevice: UInt32    // 12: BIOS boot device
    var cmdline: UInt32       // 16: physical address of the NUL-terminated command line
    var modsCount: UInt32     // 20: number of modules
    var modsAddr: UInt32      // 24: physical address of the first MultibootModule
    var syms0: UInt32         // 28: a.out / ELF symbol info (unused)
    var syms1: UInt32         // 32
    var syms2: UInt32         // 36
    var syms3: UInt32         // 40
    var mmapLength: UInt32    // 44: bytes of memory map
    var mmapAddr: UInt32      // 48: physical address of the first memory map entry
}

/// MultibootModule: one module (QEMU: one -initrd file).
struct MultibootModule {
    var modStart: UInt32      // first byte of the module
    var modEnd: UInt32        // first byte past the module
    var string: UInt32        // physical address of the module's command line
    var reserved: UInt32      // must be 0
}

/// MemoryRegion: one memory map entry, decoded (the raw entry is packed, 4-aligned).
struct MemoryRegion {
    var base: UInt64          // physical base
    var length: UInt64        // bytes
    var type: UInt32          // 1 = usable RAM, 2 = reserved, 3 = ACPI, 4 = NVS, 5 = bad
}

/// Boot: what kmain learned from the loader, for the rest of the kernel. The command
/// line and the memory map are copied into the early heap: the loader's copies lie in
/// memory the page allocator will hand out.
struct Boot {
    static var cmdline: UInt32 = 0     // virtual address of the copied command line, or 0
    static var mmap: UnsafeMutablePointer<MemoryRegion>? = nil   // copied memory map
    static var mmapCount = 0           // entries in Boot.mmap
    static var magic: UInt32 = 0       // EAX at entry
    static var infoAddr: UInt32 = 0    // EBX at entry
    static var info = MultibootInfo(flags: 0, memLower: 0, memUpper: 0, bootDevice: 0,
                                    cmdline: 0, modsCount: 0, modsAddr: 0, syms0: 0, syms1: 0,
                                    syms2: 0, syms3: 0, mmapLength: 0, mmapAddr: 0)
}

let EARLY_MAP_END: UInt32 = 64 << 20    // boot.S maps physical 0..64 MiB

/// multiboot_init(magic, info): check the magic, copy the info structure, the command
/// line and the memory map (all must lie in the first 64 MiB, which boot.S maps).
/// Panics if we were not booted by a multiboot loader.
func multiboot_init(_ magic: UInt32, _ info: UInt32) {
    Boot.magic = magic
    Boot.infoAddr = info
    if magic != MULTIBOOT_BOOTLOADER_MAGIC { panic("multiboot_init: bad bootloader magic") }
    if info == 0 || info >= EARLY_MAP_END { panic("multiboot_init: no reachable info structure") }
    Boot.info = physPtr(info, MultibootInfo.self).pointee
    if Boot.info.flags & MBI_CMDLINE != 0 && Boot.info.cmdline != 0 {
        if Boot.info.cmdline >= EARLY_MAP_END { panic("multiboot_init: command line out of reach") }
        let src = physPtr(Boot.info.cmdline, UInt8.self)
        var n = 0
        while n < 1023 && src[n] != 0 { n += 1 }
        let dst = ptr(early_alloc(UInt32(n + 1), 4), UInt8.self)
        for i in 0..<n { dst[i] = src[i] }
        dst[n] = 0
        Boot.cmdline = addr(dst)
    }
    if Boot.info.flags & MBI_MMAP != 0 {
        if Boot.info.mmapAddr >= EARLY_MAP_END { panic("multiboot_init: memory map out of reach") }
        var count = 0
        var p = Boot.info.mmapAddr
        let end = p &+ Boot.info.mmapLength
        while p < end {
            let size = physPtr(p, UInt32.self)[0]
            if size < 20 { panic("multiboot_init: short memory map entry") }
            p &+= size &+ 4
            count += 1
        }
        let regions = ptr(early_alloc(UInt32(count * MemoryLayout<MemoryRegion>.stride), 8), MemoryRegion.self)
        p = Boot.info.mmapAddr
        for i in 0..<count {
            let w = physPtr(p, UInt32.self)           // size, base lo/hi, length lo/hi, type
            regions[i] = MemoryRegion(base: UInt64(w[1]) | (UInt64(w[2]) << 32),
                                      length: UInt64(w[3]) | (UInt64(w[4]) << 32), type: w[5])
            p &+= w[0] &+ 4
        }
        Boot.mmap = regions
        Boot.mmapCount = count
    }
}

/// mmap_foreach(body): call body(index, region) for each memory map entry, in order.
/// Does nothing when the loader gave no map.
func mmap_foreach(_ body: (Int, MemoryRegion) -> Void) {
    guard let m = Boot.mmap else { return }
    for i in 0..<Boot.mmapCount { body(i, m[i]) }
}

/// module_at(i) -> the i-th module descriptor. Panics if i is out of range.
func module_at(_ i: UInt32) -> MultibootModule {
    if Boot.info.flags & MBI_MODS == 0 || i >= Boot.info.modsCount { panic("module_at: no such module") }
    return physPtr(Boot.info.modsAddr &+ i &* 16, MultibootModule.self).pointee
}

/// cmdline_addr() -> virtual address of (the copy of) the command line, or 0 if none.
func cmdline_addr() -> UInt32 {
    Boot.cmdline
}

/// cmdline_has(word) -> true if the command line holds word as a whole
/// space-separated word (e.g. "test=buddy").
func cmdline_has(_ word: StaticString) -> Bool {
    let line = cmdline_addr()
    if line == 0 { return false }
    let s = ptr(line, UInt8.self)
    let k = word.utf8Start
    let klen = word.utf8CodeUnitCount
    var i = 0
    while s[i] != 0 {
        if i == 0 || s[i - 1] == 0x20 {
            var j = 0
            while j < klen && s[i + j] == k[j] { j += 1 }
            if j == klen && (s[i + j] == 0 || s[i + j] == 0x20) { return true }
        }
        i += 1
    }
    return false
}

/// cmdline_param(key) -> the decimal value of "key=N" in the command line (key includes
/// the "="), or nil if absent or not a number. Keys match at the start of a word.
func cmdline_param(_ key: StaticString) -> UInt32? {
    let line = cmdline_addr()
    if line == 0 { return nil }
    let s = ptr(line, UInt8.self)
    let k = key.utf8Start
    let klen = key.utf8CodeUnitCount
    var i = 0
    while s[i] != 0 {
        if i == 0 || s[i - 1] == 0x20 {
            var j = 0
            while j < klen && s[i + j] == k[j] { j += 1 }
            if j == klen {
                var v: UInt32 = 0
                var n = 0
                var c = s[i + j]
                while c >= 0x30 && c <= 0x39 {
                    v = v &* 10 &+ UInt32(c &- 0x30)
                    n += 1
                    c = s[i + j + n]
                }
                if n > 0 && (c == 0 || c == 0x20) { return v }
                return nil
            }
        }
        i += 1
    }
    return nil
}
