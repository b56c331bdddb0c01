// ELFImage: a bounds-checked parser for ELF32 little-endian i386 images (segments, sections, symbols).

/// A load error: which file, and one line saying what is wrong with it.
/// `description` reads "kernel.elf: not an ELF file".
public struct ImageLoadError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file name as the user gave it.
    public let file: String
    /// What is wrong, one line, without the file name.
    public let reason: String

    /// Contract: builds the error; nothing else.
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    /// "file: reason".
    public var description: String { "\(file): \(reason)" }
}

/// Hexadecimal rendering used in error messages ("0x100000").
@inline(__always)
func hex<T: BinaryInteger>(_ v: T) -> String { "0x" + String(v, radix: 16) }

/// A parsed ELF32 little-endian EM_386 file: header fields, program headers,
/// section headers and the symbol table. Parsing never traps: every malformed
/// input throws an `ImageLoadError`.
public struct ELFImage: Sendable {
    /// One program header (all types are kept; `isLoad` marks PT_LOAD).
    public struct ProgramHeader: Sendable, Equatable {
        public var type: UInt32      // p_type (1 = PT_LOAD)
        public var offset: UInt32    // p_offset: file offset of the segment's bytes
        public var vaddr: UInt32     // p_vaddr: virtual address
        public var paddr: UInt32     // p_paddr: physical (load) address
        public var filesz: UInt32    // p_filesz: bytes present in the file
        public var memsz: UInt32     // p_memsz: bytes in memory (the rest is zeroed bss)
        public var flags: UInt32     // p_flags: PF_X = 1, PF_W = 2, PF_R = 4
        public var align: UInt32     // p_align

        /// True for PT_LOAD.
        public var isLoad: Bool { type == ELFImage.ptLoad }
        /// True when PF_X is set.
        public var isExecutable: Bool { flags & 1 != 0 }
    }

    /// One section header with its name resolved through .shstrtab.
    public struct Section: Sendable, Equatable {
        public var name: String      // from the section-name string table ("" if none)
        public var type: UInt32      // sh_type (2 = SYMTAB, 3 = STRTAB, 8 = NOBITS)
        public var flags: UInt32     // sh_flags (2 = SHF_ALLOC, 4 = SHF_EXECINSTR)
        public var addr: UInt32      // sh_addr
        public var offset: UInt32    // sh_offset
        public var size: UInt32      // sh_size
        public var link: UInt32      // sh_link
        public var info: UInt32      // sh_info
        public var entsize: UInt32   // sh_entsize
    }

    /// Symbol types (the low nibble of st_info).
    public enum SymbolType: UInt8, Sendable {
        case notype = 0, object = 1, function = 2, section = 3, file = 4, common = 5, tls = 6
        case other = 15
    }

    /// One entry of .symtab.
    public struct Symbol: Sendable, Equatable {
        public var name: String          // from the linked string table
        public var value: UInt32         // st_value: the address for defined symbols
        public var size: UInt32          // st_size (0 for assembler labels)
        public var type: SymbolType      // ELF32_ST_TYPE(st_info)
        public var binding: UInt8        // ELF32_ST_BIND(st_info): 0 local, 1 global, 2 weak
        public var sectionIndex: UInt16  // st_shndx (0 = undefined, >= 0xFF00 reserved: ABS, COMMON)

        /// True for a symbol that names a code or data address: defined in a real
        /// section, of type NOTYPE, OBJECT or FUNC, with a non-empty name.
        public var isAddress: Bool {
            !name.isEmpty && sectionIndex != 0 && sectionIndex < 0xFF00
                && (type == .notype || type == .object || type == .function)
        }
    }

    static let ptLoad: UInt32 = 1
    static let shtSymtab: UInt32 = 2
    static let shtStrtab: UInt32 = 3
    static let shtNobits: UInt32 = 8

    /// The file name used in error messages.
    public let fileName: String
    /// e_type (2 = ET_EXEC).
    public let type: UInt16
    /// e_entry, the entry point as linked (a virtual address).
    public let entry: UInt32
    /// e_flags.
    public let flags: UInt32
    /// All program headers in file order.
    public let programHeaders: [ProgramHeader]
    /// All section headers in file order (empty for a file without them).
    public let sections: [Section]
    /// Every .symtab entry in table order (index 0, the null symbol, included).
    public let symbols: [Symbol]
    /// Address symbols (`isAddress`) sorted by value, for `symbolize`.
    private let byAddress: [Symbol]
    /// Name → symbol; a global definition wins over a local one of the same name.
    private let byName: [String: Symbol]

    /// The PT_LOAD program headers, in file order.
    public var loadSegments: [ProgramHeader] { programHeaders.filter(\.isLoad) }

    /// True when `bytes` starts with the ELF magic "\x7FELF".
    /// Contract: pure; never traps for any input.
    public static func hasELFMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x7F && bytes[1] == 0x45 && bytes[2] == 0x4C && bytes[3] == 0x46
    }

    /// Parse `bytes` as an ELF32 little-endian EM_386 file named `fileName`.
    /// Contract: returns a fully validated image (every program header, section and
    /// symbol lies inside the file) or throws one `ImageLoadError`; never traps.
    public init(bytes: [UInt8], fileName: String) throws(ImageLoadError) {
        self.fileName = fileName
        let r = ByteReader(bytes: bytes, fileName: fileName)
        func fail(_ reason: String) -> ImageLoadError { ImageLoadError(file: fileName, reason: reason) }

        guard ELFImage.hasELFMagic(bytes) else { throw fail("not an ELF file") }
        guard bytes.count >= 20 else { throw fail("truncated ELF header (\(bytes.count) bytes)") }
        let elfClass = bytes[4], dataEncoding = bytes[5]
        let machine = UInt16(bytes[18]) | UInt16(bytes[19]) << 8
        guard elfClass == 1, machine == 3 else {
            throw fail("not a 32-bit x86 ELF (class \(elfClass), machine \(machine))")
        }
        guard dataEncoding == 1 else { throw fail("not a little-endian ELF (data encoding \(dataEncoding))") }
        guard bytes.count >= 52 else { throw fail("truncated ELF header (\(bytes.count) bytes, need 52)") }

        type = r.u16(16)
        entry = r.u32(24)
        let phoff = r.u32(28), shoff = r.u32(32)
        flags = r.u32(36)
        let phentsize = r.u16(42), phnum = r.u16(44)
        let shentsize = r.u16(46), shnum = r.u16(48), shstrndx = r.u16(50)

        // Program headers.
        var phdrs: [ProgramHeader] = []
        if phnum > 0 {
            guard phentsize >= 32 else { throw fail("program header size \(phentsize) is smaller than 32") }
            guard r.fits(UInt64(phoff), UInt64(phnum) * UInt64(phentsize)) else {
                throw fail("program header table (\(phnum) entries at offset \(hex(phoff))) extends past end of file")
            }
            for i in 0..<Int(phnum) {
                let o = Int(phoff) + i * Int(phentsize)
                let ph = ProgramHeader(type: r.u32(o), offset: r.u32(o + 4), vaddr: r.u32(o + 8),
                                       paddr: r.u32(o + 12), filesz: r.u32(o + 16), memsz: r.u32(o + 20),
                                       flags: r.u32(o + 24), align: r.u32(o + 28))
                if ph.isLoad {
                    guard r.fits(UInt64(ph.offset), UInt64(ph.filesz)) else {
                        throw fail("program header \(i) extends past end of file")
                    }
                    guard ph.filesz <= ph.memsz else {
                        throw fail("program header \(i): file size \(hex(ph.filesz)) exceeds memory size \(hex(ph.memsz))")
                    }
                    guard UInt64(ph.paddr) + UInt64(ph.memsz) <= 1 << 32,
                          UInt64(ph.vaddr) + UInt64(ph.memsz) <= 1 << 32 else {
                        throw fail("program header \(i): segment at \(hex(ph.paddr)) of \(hex(ph.memsz)) bytes wraps past 4 GiB")
                    }
                }
                phdrs.append(ph)
            }
        }
        programHeaders = phdrs

        // Section headers.
        var raw: [Section] = []
        if shnum > 0 {
            guard shentsize >= 40 else { throw fail("section header size \(shentsize) is smaller than 40") }
            guard r.fits(UInt64(shoff), UInt64(shnum) * UInt64(shentsize)) else {
                throw fail("section header table (\(shnum) entries at offset \(hex(shoff))) extends past end of file")
            }
            for i in 0..<Int(shnum) {
                let o = Int(shoff) + i * Int(shentsize)
                let s = Section(name: "", type: r.u32(o + 4), flags: r.u32(o + 8), addr: r.u32(o + 12),
                                offset: r.u32(o + 16), size: r.u32(o + 20), link: r.u32(o + 24),
                                info: r.u32(o + 28), entsize: r.u32(o + 36))
                if s.type != ELFImage.shtNobits && s.type != 0 {
                    guard r.fits(UInt64(s.offset), UInt64(s.size)) else {
                        throw fail("section \(i) extends past end of file")
                    }
                }
                raw.append(s)
            }
            // Names through the section-name string table (index 0 = SHN_UNDEF: no names).
            if shstrndx != 0 {
                guard Int(shstrndx) < raw.count, raw[Int(shstrndx)].type == ELFImage.shtStrtab else {
                    throw fail("section name table index \(shstrndx) is not a string table")
                }
                let names = raw[Int(shstrndx)]
                for i in raw.indices {
                    let nameOff = r.u32(Int(shoff) + i * Int(shentsize))
                    raw[i].name = try r.string(in: names, at: nameOff, what: "section \(i) name")
                }
            }
        }
        sections = raw

        // Symbol table: the first SHT_SYMTAB section and the string table it links to.
        var syms: [Symbol] = []
        if let si = raw.firstIndex(where: { $0.type == ELFImage.shtSymtab }) {
            let st = raw[si]
            let entsize = st.entsize == 0 ? 16 : st.entsize
            guard entsize >= 16 else { throw fail("symbol table entry size \(entsize) is smaller than 16") }
            guard Int(st.link) < raw.count, raw[Int(st.link)].type == ELFImage.shtStrtab else {
                throw fail("symbol table links to section \(st.link), which is not a string table")
            }
            let strtab = raw[Int(st.link)]
            let count = Int(st.size / entsize)
            syms.reserveCapacity(count)
            for i in 0..<count {
                let o = Int(st.offset) + i * Int(entsize)
                let info = r.u8(o + 12)
                syms.append(Symbol(name: try r.string(in: strtab, at: r.u32(o), what: "symbol \(i) name"),
                                   value: r.u32(o + 4), size: r.u32(o + 8),
                                   type: SymbolType(rawValue: info & 0xF) ?? .other,
                                   binding: info >> 4, sectionIndex: r.u16(o + 14)))
            }
        }
        symbols = syms

        // Lookup structures. Sort by address; at equal addresses prefer sized, then global.
        byAddress = syms.filter(\.isAddress).sorted { a, b in
            if a.value != b.value { return a.value < b.value }
            if (a.size == 0) != (b.size == 0) { return a.size == 0 }
            return a.binding == 0 && b.binding != 0
        }
        var names: [String: Symbol] = [:]
        for s in syms where !s.name.isEmpty && s.sectionIndex != 0 && s.type != .section && s.type != .file {
            if let old = names[s.name], old.binding != 0 || s.binding == 0 { continue }
            names[s.name] = s
        }
        byName = names
    }

    /// The defined symbol called `name` (a global one if there are several).
    /// Contract: pure lookup; nil when no defined symbol has that name.
    public func symbol(named name: String) -> Symbol? { byName[name] }

    /// The symbol that contains `address`, and the offset of `address` in it.
    /// Contract: takes the nearest address symbol at or below `address`; a sized symbol
    /// contains [value, value+size); a zero-sized one (an assembler label) extends to
    /// the end of its section. Nil when no symbol covers `address`.
    public func symbolize(_ address: UInt32) -> (symbol: Symbol, offset: UInt32)? {
        // Binary search: last index with value <= address.
        var lo = 0, hi = byAddress.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if byAddress[mid].value <= address { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let s = byAddress[lo - 1]
        let offset = address &- s.value
        if s.size > 0 {
            return offset < s.size ? (s, offset) : nil
        }
        let si = Int(s.sectionIndex)
        if si < sections.count {
            let sec = sections[si]
            guard UInt64(address) < UInt64(sec.addr) + UInt64(sec.size) else { return nil }
        }
        return (s, offset)
    }

    /// "name" or "name+0x1c" for `address`, nil when no symbol covers it.
    /// Contract: formatting of `symbolize`.
    public func describe(_ address: UInt32) -> String? {
        guard let (s, off) = symbolize(address) else { return nil }
        return off == 0 ? s.name : "\(s.name)+\(hex(off))"
    }
}

/// Little-endian field reads at offsets the caller has already bounds-checked,
/// plus checked range tests and NUL-terminated string extraction.
struct ByteReader {
    let bytes: [UInt8]
    let fileName: String

    /// True when [offset, offset+count) lies inside the file. Contract: no overflow (64-bit math on 32-bit inputs).
    func fits(_ offset: UInt64, _ count: UInt64) -> Bool { offset + count <= UInt64(bytes.count) }

    /// Byte at `o`, or 0 when out of range. Contract: never traps.
    func u8(_ o: Int) -> UInt8 { o >= 0 && o < bytes.count ? bytes[o] : 0 }
    /// 16-bit little-endian value at `o` (out-of-range bytes read as 0). Contract: never traps.
    func u16(_ o: Int) -> UInt16 { UInt16(u8(o)) | UInt16(u8(o + 1)) << 8 }
    /// 32-bit little-endian value at `o` (out-of-range bytes read as 0). Contract: never traps.
    func u32(_ o: Int) -> UInt32 { UInt32(u16(o)) | UInt32(u16(o + 2)) << 16 }

    /// The NUL-terminated string at `offset` inside string-table section `table`.
    /// Contract: throws when the offset is past the table or the string is unterminated.
    func string(in table: ELFImage.Section, at offset: UInt32, what: String) throws(ImageLoadError) -> String {
        guard offset < table.size else {
            throw ImageLoadError(file: fileName, reason: "\(what) (offset \(hex(offset))) lies past its string table")
        }
        let start = Int(table.offset) + Int(offset), end = Int(table.offset) + Int(table.size)
        var i = start
        while i < end && bytes[i] != 0 { i += 1 }
        guard i < end else {
            throw ImageLoadError(file: fileName, reason: "\(what) (offset \(hex(offset))) is not NUL-terminated")
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }
}
