// MultibootLoader: loads a multiboot v1 kernel, its modules and boot information the way QEMU 7.2 `-kernel` does.
//
// Behaviour mirrored from QEMU 7.2 hw/i386/multiboot.c, its multiboot option ROM and
// SeaBIOS (values measured with a probe kernel on qemu-system-i386 7.2, see
// MultibootLoaderTests): the kernel buffer starts at the lowest load address; the module
// descriptors, the module and kernel command lines and the boot loader name "qemu"
// follow on the next page boundary after the kernel; each module starts on its own page
// after that; the e820 memory map sits at 0x9000 and the 88-byte info structure at 0x9500.

import X86CPU

/// One multiboot module, as one element of QEMU's `-initrd a,b,c` list.
public struct MultibootModule: Sendable {
    /// The module's command line as QEMU passes it: the file name as given, followed
    /// by its arguments after a space ("initrd.img root=/dev/ram"). The guest sees it verbatim.
    public var commandLine: String
    /// The file's contents.
    public var bytes: [UInt8]

    /// Contract: stores the two values.
    public init(commandLine: String, bytes: [UInt8]) {
        self.commandLine = commandLine
        self.bytes = bytes
    }
}

/// One entry of the multiboot memory map (e820 layout).
public struct MemoryMapEntry: Sendable, Equatable {
    public var base: UInt64    // first byte
    public var length: UInt64  // bytes
    public var type: UInt32    // 1 = available RAM, 2 = reserved

    /// Contract: stores the three values.
    public init(base: UInt64, length: UInt64, type: UInt32) {
        self.base = base
        self.length = length
        self.type = type
    }
}

/// Where a loaded module ended up.
public struct LoadedModule: Sendable, Equatable {
    public var start: UInt32        // mod_start
    public var end: UInt32          // mod_end (exclusive, start + file size, as QEMU)
    public var commandLine: UInt32  // physical address of the module's command line
}

/// The machine state a multiboot kernel starts in, plus what was loaded where.
///
/// Multiboot specifies: EAX = 0x2BADB002, EBX = physical address of the info structure,
/// EIP = entry; CS a flat 32-bit code segment and DS/ES/FS/GS/SS flat data segments
/// (base 0, limit 4 GiB), CR0.PE = 1 and PG = 0, EFLAGS.IF = 0 and VM = 0, A20 enabled.
public struct MultibootBootState: Sendable {
    /// 0x2BADB002.
    public var eax: UInt32
    /// Physical address of the multiboot info structure (0x9500 under QEMU).
    public var ebx: UInt32
    /// Physical entry point.
    public var eip: UInt32
    /// The kernel's ELF image (for symbols); nil for a non-ELF a.out-kludge kernel.
    public var elf: ELFImage?
    /// Physical range of the kernel image as loaded: [kernelStart, kernelEnd), bss included.
    public var kernelStart: UInt32
    public var kernelEnd: UInt32
    /// End (exclusive, page aligned) of everything the loader wrote after the kernel:
    /// module descriptors, command lines, the loader name and the modules.
    public var loadEnd: UInt32
    /// Address of the kernel command line string ("<file name> <append>").
    public var commandLineAddress: UInt32
    /// The modules, in order.
    public var modules: [LoadedModule]
    /// The memory map handed to the kernel (at 0x9000).
    public var memoryMap: [MemoryMapEntry]
    /// mem_lower and mem_upper in KiB.
    public var memLower: UInt32
    public var memUpper: UInt32

    /// The other registers exactly as QEMU 7.2 + SeaBIOS leave them at the kernel entry
    /// (measured; multiboot calls them undefined). Use them for bit-identical runs.
    public var qemuECX: UInt32 { eip }                                   // the option ROM jumps through ECX
    public var qemuEDX: UInt32 { (memUpper & 0xFFFF_0000) | 0x0511 }     // fw_cfg data port left in DX
    public var qemuESI: UInt32 { 0 }
    public var qemuEDI: UInt32 { 0x1000 }
    public var qemuESP: UInt32 { 0x6F08 }                                // SeaBIOS's stack
    public var qemuEBP: UInt32 { 0 }
    public var qemuEFLAGS: UInt32 { 0x0000_0006 }                        // reserved bit 1 + PF
    public var qemuCR0: UInt32 { 0x0000_0011 }                           // PE + ET
    public var qemuCS: UInt16 { 0x08 }                                   // GDT entry 1: flat 32-bit code
    public var qemuDataSelector: UInt16 { 0x10 }                         // DS = ES = FS = GS = SS, GDT entry 2
}

/// The multiboot v1 loader (QEMU 7.2 `-kernel` semantics).
public enum MultibootLoader {
    /// Multiboot header magic, found in the first 8 KiB of the image.
    public static let headerMagic: UInt32 = 0x1BAD_B002
    /// The value a multiboot loader leaves in EAX.
    public static let bootMagic: UInt32 = 0x2BAD_B002
    /// Where QEMU's option ROM writes the memory map.
    public static let memoryMapAddress: UInt32 = 0x9000
    /// Where QEMU's option ROM writes the 88-byte info structure.
    public static let infoAddress: UInt32 = 0x9500
    /// Size of the info structure QEMU writes.
    public static let infoSize = 88
    /// The boot loader name QEMU reports.
    public static let bootLoaderName = "qemu"
    /// QEMU's boot_device value (no -boot support: BIOS drive 0x80, no partitions).
    public static let bootDevice: UInt32 = 0x8000_FFFF
    /// KiB of conventional memory SeaBIOS reports through INT 12h (EBDA at 0x9FC00).
    public static let memLowerKiB: UInt32 = 639

    /// Info-structure flags QEMU sets: mem, boot_device, cmdline, mods, mmap, boot_loader_name.
    public static let infoFlags: UInt32 = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 9

    /// The header flag selecting the a.out kludge (addresses taken from the header).
    static let flagAoutKludge: UInt32 = 1 << 16
    static let pageSize: UInt64 = 4096

    /// The memory map SeaBIOS under QEMU 7.2 (i440fx) reports for `ramSize` bytes of RAM.
    ///
    /// Measured for -m 2M, 16M, 128M, 512M, 1G, 3583M: conventional memory up to the
    /// EBDA, the EBDA, the BIOS area 0xF0000, RAM from 1 MiB up to 128 KiB below the top
    /// of RAM, those 128 KiB reserved by SeaBIOS, and the 256 KiB BIOS flash below 4 GiB.
    /// QEMU moves RAM above 3.5 GiB beyond 4 GiB (keeping 3 GiB below); swift86's RAM is
    /// one flat block (at most 3840 MiB), so for those sizes this map describes the flat
    /// RAM with the same rule instead — truthful for swift86, different from QEMU.
    /// Contract: pure; entries in ascending address order, never overlapping.
    public static func memoryMap(ramSize: UInt64) -> [MemoryMapEntry] {
        var map = [
            MemoryMapEntry(base: 0, length: 0x9FC00, type: 1),
            MemoryMapEntry(base: 0x9FC00, length: 0x400, type: 2),
            MemoryMapEntry(base: 0xF0000, length: 0x10000, type: 2),
        ]
        let top = ramSize, reservedTop: UInt64 = 0x20000
        if top > 0x100000 {
            let ramEnd = top >= 0x100000 + reservedTop ? top - reservedTop : 0x100000
            if ramEnd > 0x100000 { map.append(MemoryMapEntry(base: 0x100000, length: ramEnd - 0x100000, type: 1)) }
            map.append(MemoryMapEntry(base: ramEnd, length: top - ramEnd, type: 2))
        }
        map.append(MemoryMapEntry(base: 0xFFFC_0000, length: 0x40000, type: 2))
        return map
    }

    /// mem_upper as QEMU's option ROM computes it from the map: KiB of available RAM
    /// contiguous from 1 MiB (extending through adjacent or overlapping type-1 regions below 4 GiB).
    /// Contract: pure.
    public static func memUpper(from map: [MemoryMapEntry]) -> UInt32 {
        var end: UInt64 = 0x100000
        var changed = true
        while changed {
            changed = false
            for e in map where e.type == 1 && e.base >> 32 == 0 && e.base <= end && end < e.base &+ e.length {
                end = e.base &+ e.length
                changed = true
            }
        }
        return UInt32(truncatingIfNeeded: (end - 0x100000) >> 10)
    }

    /// Split a QEMU `-initrd` argument into module command lines the way QEMU does:
    /// elements are separated by ",", and ",," stands for a literal comma.
    /// Contract: pure; "" gives no modules.
    public static func splitInitrdList(_ list: String) -> [String] {
        var result: [String] = []
        var current: [UInt8] = []
        let b = Array(list.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: ",") {
                if i + 1 < b.count && b[i + 1] == UInt8(ascii: ",") {
                    current.append(b[i]); i += 2; continue
                }
                result.append(String(decoding: current, as: UTF8.self)); current = []
                i += 1
                continue
            }
            current.append(b[i]); i += 1
        }
        if !current.isEmpty || (!b.isEmpty && b.last != UInt8(ascii: ",")) {
            result.append(String(decoding: current, as: UTF8.self))
        }
        return result
    }

    /// The file name part of a module command line (up to the first space), the file QEMU opens.
    /// Contract: pure.
    public static func fileName(ofModule commandLine: String) -> String {
        String(commandLine.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// The multiboot header found in an image.
    public struct Header: Sendable, Equatable {
        public var offset: Int           // file offset of the magic (4-byte aligned, < 8192 - 48)
        public var flags: UInt32
        public var headerAddr: UInt32    // a.out kludge fields (valid with flag bit 16)
        public var loadAddr: UInt32
        public var loadEndAddr: UInt32
        public var bssEndAddr: UInt32
        public var entryAddr: UInt32
    }

    /// Find the multiboot header as QEMU does: the first 4-byte aligned offset below
    /// 8192 - 48 holding the magic with a valid checksum (magic + flags + checksum == 0).
    /// Contract: pure; bytes past the end of a short image read as zero (QEMU reads into a
    /// zeroed 8 KiB buffer); nil when there is no header.
    public static func findHeader(_ image: [UInt8]) -> Header? {
        let r = ByteReader(bytes: image, fileName: "")
        var i = 0
        while i < 8192 - 48 && i + 4 <= image.count {
            if r.u32(i) == headerMagic {
                let flags = r.u32(i + 4)
                if headerMagic &+ flags &+ r.u32(i + 8) == 0 {
                    return Header(offset: i, flags: flags, headerAddr: r.u32(i + 12), loadAddr: r.u32(i + 16),
                                  loadEndAddr: r.u32(i + 20), bssEndAddr: r.u32(i + 24), entryAddr: r.u32(i + 28))
                }
            }
            i += 4
        }
        return nil
    }

    /// A piece of the kernel image: `count` bytes at physical `address`, of which the
    /// first `bytes.count` come from the file and the rest are zero.
    struct Piece {
        var address: UInt32
        var fileRange: Range<Int>
        var memSize: UInt64
    }

    /// Load `image` (named `fileName`, as on QEMU's command line) into `memory` with
    /// kernel command line `commandLine` (QEMU `-append`) and `modules` (QEMU `-initrd`),
    /// and return the entry state.
    ///
    /// Contract: either throws one `ImageLoadError` and leaves `memory` untouched, or
    /// writes the memory map (0x9000), the info structure (0x9500), the kernel image
    /// (gaps and bss zeroed), module descriptors, command lines, loader name and modules
    /// (page padding zeroed), and returns the registers a multiboot kernel starts with.
    public static func load(image: [UInt8], fileName: String, memory: PhysicalMemory,
                            commandLine: String, modules: [MultibootModule]) throws(ImageLoadError) -> MultibootBootState {
        func fail(_ reason: String) -> ImageLoadError { ImageLoadError(file: fileName, reason: reason) }
        let ramSize = memory.size
        func ramText() -> String {
            ramSize % (1 << 20) == 0 ? "\(ramSize >> 20) MiB" : "\(ramSize >> 10) KiB"
        }

        guard let header = findHeader(image) else { throw fail("no multiboot header in the first 8 KiB") }

        var pieces: [Piece] = []
        let loadAddr: UInt32, kernelSize: UInt64, entry: UInt32
        var elf: ELFImage? = nil

        if header.flags & flagAoutKludge == 0 {
            // ELF path: QEMU rejects x86-64 by e_machine, then its ELF loader places every
            // PT_LOAD segment at p_paddr.
            if image.count >= 20, image[18] == 62, image[19] == 0 {
                throw fail("cannot load an x86-64 image, give a 32-bit one")
            }
            guard ELFImage.hasELFMagic(image) else {
                throw fail("not an ELF file, and the multiboot header has no load addresses (flag bit 16 clear)")
            }
            let e = try ELFImage(bytes: image, fileName: fileName)
            elf = e
            var low: UInt64 = .max, high: UInt64 = 0
            var entryPoint = e.entry
            for (i, ph) in e.programHeaders.enumerated() where ph.isLoad && ph.memsz > 0 {
                let start = UInt64(ph.paddr), end = start + UInt64(ph.memsz)
                guard end <= ramSize else {
                    throw fail("segment \(hex(start)) – \(hex(end)) (program header \(i)) lies outside RAM (\(ramText()))")
                }
                // The entry is virtual; QEMU translates it through the executable segment containing it.
                if ph.vaddr != ph.paddr && ph.isExecutable && e.entry >= ph.vaddr
                    && UInt64(e.entry) < UInt64(ph.vaddr) + UInt64(ph.filesz) {
                    entryPoint = e.entry - ph.vaddr + ph.paddr
                }
                pieces.append(Piece(address: ph.paddr,
                                    fileRange: Int(ph.offset)..<Int(ph.offset) + Int(ph.filesz),
                                    memSize: UInt64(ph.memsz)))
                low = min(low, start)
                high = max(high, end)
            }
            guard !pieces.isEmpty else { throw fail("no loadable segments (no PT_LOAD program header)") }
            loadAddr = UInt32(low)
            kernelSize = high - low
            entry = entryPoint
        } else {
            // a.out kludge: the header says where the file goes.
            let h = header
            guard h.headerAddr >= h.loadAddr else {
                throw fail("invalid multiboot load_addr \(hex(h.loadAddr)) (above header_addr \(hex(h.headerAddr)))")
            }
            guard UInt64(h.headerAddr - h.loadAddr) <= UInt64(h.offset) else {
                throw fail("invalid multiboot header_addr \(hex(h.headerAddr)) (the load address would lie before the file)")
            }
            let textOffset = UInt64(h.offset) - UInt64(h.headerAddr - h.loadAddr)
            let loadSize: UInt64
            if h.loadEndAddr != 0 {
                guard h.loadEndAddr >= h.loadAddr else {
                    throw fail("invalid multiboot load_end_addr \(hex(h.loadEndAddr)) (below load_addr \(hex(h.loadAddr)))")
                }
                loadSize = UInt64(h.loadEndAddr - h.loadAddr)
            } else {
                loadSize = UInt64(image.count) - textOffset
            }
            guard UInt64(h.loadAddr) + loadSize <= 0xFFFF_FFFF else {
                throw fail("kernel does not fit in the 32-bit address space")
            }
            var size = loadSize
            if h.bssEndAddr != 0 {
                guard UInt64(h.bssEndAddr) >= UInt64(h.loadAddr) + loadSize else {
                    throw fail("invalid multiboot bss_end_addr \(hex(h.bssEndAddr)) (below the end of the loaded image)")
                }
                size = UInt64(h.bssEndAddr - h.loadAddr)
            }
            guard textOffset + loadSize <= UInt64(image.count) else {
                throw fail("multiboot load_end_addr \(hex(h.loadEndAddr)) lies past the end of the file")
            }
            let end = UInt64(h.loadAddr) + size
            guard end <= ramSize else {
                throw fail("segment \(hex(h.loadAddr)) – \(hex(end)) lies outside RAM (\(ramText()))")
            }
            pieces.append(Piece(address: h.loadAddr,
                                fileRange: Int(textOffset)..<Int(textOffset + loadSize), memSize: size))
            loadAddr = h.loadAddr
            kernelSize = size
            entry = h.entryAddr
            elf = try? ELFImage(bytes: image, fileName: fileName)
        }

        // Layout after the kernel, in QEMU's order (all offsets from loadAddr).
        func pageAlign(_ v: UInt64) -> UInt64 { (v + pageSize - 1) & ~(pageSize - 1) }
        let nameBytes = Array(fileName.utf8), appendBytes = Array(commandLine.utf8)
        let modLines = modules.map { Array($0.commandLine.utf8) }
        // QEMU sizes the string area from the raw -initrd argument: the lines joined by
        // "," with each literal comma doubled.
        var cmdlineLen = UInt64(nameBytes.count + 1 + appendBytes.count + 1)
        if !modules.isEmpty {
            let raw = modLines.reduce(0) { $0 + $1.count + $1.filter { $0 == UInt8(ascii: ",") }.count }
            cmdlineLen += UInt64(raw + modules.count - 1 + 1)
        }
        let offsetModInfo = pageAlign(kernelSize)
        let offsetCmdlines = offsetModInfo + 16 * UInt64(modules.count)
        let offsetLoaderName = offsetCmdlines + cmdlineLen
        var bufSize = pageAlign(offsetLoaderName + UInt64(bootLoaderName.utf8.count + 1))
        var moduleOffsets: [UInt64] = []
        for m in modules {
            moduleOffsets.append(bufSize)
            bufSize = pageAlign(bufSize + UInt64(m.bytes.count))
        }
        let base = UInt64(loadAddr)
        guard base + bufSize <= ramSize else {
            throw fail("multiboot information and modules \(hex(base + offsetModInfo)) – \(hex(base + bufSize)) lie outside RAM (\(ramText()))")
        }

        // Everything is validated; write. QEMU's option ROM writes the info structure and
        // the memory map first, then copies the kernel buffer (which wins on overlap).
        let map = memoryMap(ramSize: ramSize)
        var mapBytes: [UInt8] = []
        for e in map {
            appendLE(&mapBytes, UInt32(20)); appendLE(&mapBytes, e.base); appendLE(&mapBytes, e.length)
            appendLE(&mapBytes, e.type)
        }
        let memUpperKiB = memUpper(from: map)

        // Strings: module command lines, then the kernel's "<file> <append>", then the loader name.
        var cursor = base + offsetCmdlines
        var moduleLineAddrs: [UInt32] = []
        var strings: [(UInt64, [UInt8])] = []
        for line in modLines {
            moduleLineAddrs.append(UInt32(truncatingIfNeeded: cursor))
            strings.append((cursor, line + [0]))
            cursor += UInt64(line.count + 1)
        }
        let kernelLineAddr = UInt32(truncatingIfNeeded: cursor)
        strings.append((cursor, nameBytes + [UInt8(ascii: " ")] + appendBytes + [0]))
        let loaderNameAddr = UInt32(truncatingIfNeeded: base + offsetLoaderName)
        strings.append((base + offsetLoaderName, Array(bootLoaderName.utf8) + [0]))

        var loaded: [LoadedModule] = []
        var modInfo: [UInt8] = []
        for (k, m) in modules.enumerated() {
            let start = UInt32(truncatingIfNeeded: base + moduleOffsets[k])
            let lm = LoadedModule(start: start, end: start &+ UInt32(truncatingIfNeeded: m.bytes.count),
                                  commandLine: moduleLineAddrs[k])
            loaded.append(lm)
            appendLE(&modInfo, lm.start); appendLE(&modInfo, lm.end); appendLE(&modInfo, lm.commandLine)
            appendLE(&modInfo, UInt32(0))
        }

        var info = [UInt8](repeating: 0, count: infoSize)
        func put(_ off: Int, _ v: UInt32) {
            info[off] = UInt8(truncatingIfNeeded: v); info[off + 1] = UInt8(truncatingIfNeeded: v >> 8)
            info[off + 2] = UInt8(truncatingIfNeeded: v >> 16); info[off + 3] = UInt8(truncatingIfNeeded: v >> 24)
        }
        put(0, infoFlags)
        put(4, memLowerKiB)
        put(8, memUpperKiB)
        put(12, bootDevice)
        put(16, kernelLineAddr)
        put(20, UInt32(modules.count))
        put(24, UInt32(truncatingIfNeeded: base + offsetModInfo))
        put(44, UInt32(mapBytes.count))
        put(48, memoryMapAddress)
        put(64, loaderNameAddr)

        memory.write(mapBytes, at: memoryMapAddress)
        memory.write(info, at: infoAddress)

        // The kernel buffer: zero it whole (gaps, bss, page padding), then fill it.
        memory.zero(at: loadAddr, count: Int(bufSize))
        image.withUnsafeBytes { raw in
            for p in pieces where !p.fileRange.isEmpty {
                memory.write(UnsafeRawBufferPointer(rebasing: raw[p.fileRange]), at: p.address)
            }
        }
        memory.write(modInfo, at: UInt32(truncatingIfNeeded: base + offsetModInfo))
        for (addr, s) in strings { memory.write(s, at: UInt32(truncatingIfNeeded: addr)) }
        for (k, m) in modules.enumerated() { memory.write(m.bytes, at: loaded[k].start) }

        return MultibootBootState(eax: bootMagic, ebx: infoAddress, eip: entry, elf: elf,
                                  kernelStart: loadAddr, kernelEnd: UInt32(truncatingIfNeeded: base + kernelSize),
                                  loadEnd: UInt32(truncatingIfNeeded: base + bufSize),
                                  commandLineAddress: kernelLineAddr, modules: loaded, memoryMap: map,
                                  memLower: memLowerKiB, memUpper: memUpperKiB)
    }

    /// Append `v` little-endian to `out`. Contract: appends exactly MemoryLayout<T>.size bytes.
    static func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        for i in 0..<(T.bitWidth / 8) { out.append(UInt8(truncatingIfNeeded: v >> (i * 8))) }
    }
}
