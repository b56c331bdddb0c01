// AddressSpaceMap: the `map` command — a picture of one 4 GiB virtual address space
// (user part, direct map, vmalloc, pkmap, fixmap) in the terminal and as an SVG file.
//
// The drawing code is pure: it takes a physical-read closure, CR3 and CR4.PSE, so tests
// can build page tables by hand. The page tables are read without side effects (no A/D
// updates, no TLB fills, no faults).
#if canImport(Glibc)
import Glibc
#endif
import PCMachine
import X86CPU

// MARK: the page tables, read once

/// A snapshot of the two-level page tables of one address space: the raw PDEs and, for
/// every 4 KiB page, its effective entry (physical frame | P, RW and U of PDE & PTE, G, PS).
public struct PageTableSnapshot {
    /// Physical address of the page directory (CR3 & ~0xFFF).
    public let directory: UInt32
    /// CR4.PSE: PDEs with PS set map 4 MiB pages.
    public let pse: Bool
    /// The 1024 raw PDEs.
    public private(set) var pdes: [UInt32]
    /// 1 << 20 effective page entries, 0 when not present. Flags: 0x1 P, 0x2 RW (PDE & PTE),
    /// 0x4 U (PDE & PTE), 0x80 part of a 4 MiB page, 0x100 G.
    public private(set) var pages: [UInt32]
    /// PDE indices whose page table lies outside physical memory (its pages count as absent).
    public private(set) var tablesOutsideRAM: [Int] = []

    public static let present: UInt32 = 0x1, writable: UInt32 = 0x2, user: UInt32 = 0x4
    public static let large: UInt32 = 0x80, global: UInt32 = 0x100

    /// Read the page directory at `cr3` through `read32` (physical, no side effects);
    /// nil when the directory itself lies outside the `physicalSize` bytes of RAM.
    public init?(cr3: UInt32, pse: Bool, physicalSize: UInt64, read32: (UInt32) -> UInt32) {
        directory = cr3 & 0xFFFF_F000
        self.pse = pse
        guard UInt64(directory) + 4096 <= physicalSize else { return nil }
        pdes = (0..<1024).map { read32(cr3 & 0xFFFF_F000 &+ UInt32($0 * 4)) }
        pages = [UInt32](repeating: 0, count: 1 << 20)
        for i in 0..<1024 {
            let pde = pdes[i]
            guard pde & 1 != 0 else { continue }
            if pse && pde & 0x80 != 0 {
                let flags = (pde & 0x107) | Self.large
                for k in 0..<1024 { pages[i << 10 | k] = ((pde & 0xFFC0_0000) &+ UInt32(k << 12)) | flags }
                continue
            }
            let table = pde & 0xFFFF_F000
            guard UInt64(table) + 4096 <= physicalSize else { tablesOutsideRAM.append(i); continue }
            for k in 0..<1024 {
                let pte = read32(table &+ UInt32(k * 4))
                guard pte & 1 != 0 else { continue }
                pages[i << 10 | k] = (pte & 0xFFFF_F000) | (pde & pte & 0x7) | (pte & 0x100)
            }
        }
    }

    /// The effective entry of the page holding `va` (0: not present).
    public func page(_ va: UInt32) -> UInt32 { pages[Int(va >> 12)] }

    /// Translate `va` (nil: not present).
    public func translate(_ va: UInt32) -> UInt32? {
        let e = page(va)
        return e & 1 == 0 ? nil : (e & 0xFFFF_F000) | (va & 0xFFF)
    }
}

/// How one present page is drawn: by who may touch it, whether it is writable and global.
public enum PageClass: Character, CaseIterable {
    case absent = "."
    case kernelRO = "k", kernelRW = "K", globalRO = "g", globalRW = "G"
    case userRO = "r", userRW = "w", userGlobalRO = "R", userGlobalRW = "W"

    public init(_ e: UInt32) {
        if e & 1 == 0 { self = .absent; return }
        let w = e & 2 != 0, g = e & 0x100 != 0
        if e & 4 != 0 { self = g ? (w ? .userGlobalRW : .userGlobalRO) : (w ? .userRW : .userRO) }
        else { self = g ? (w ? .globalRW : .globalRO) : (w ? .kernelRW : .kernelRO) }
    }

    public var meaning: String {
        switch self {
        case .absent: return "not present"
        case .kernelRO: return "kernel, read-only"
        case .kernelRW: return "kernel, writable"
        case .globalRO: return "kernel, read-only, global"
        case .globalRW: return "kernel, writable, global"
        case .userRO: return "user, read-only"
        case .userRW: return "user, writable"
        case .userGlobalRO: return "user, read-only, global"
        case .userGlobalRW: return "user, writable, global"
        }
    }

    var color: String {
        switch self {
        case .absent: return "#eceff1"
        case .kernelRO: return "#64b5f6"
        case .kernelRW: return "#1565c0"
        case .globalRO: return "#81c784"
        case .globalRW: return "#2e7d32"
        case .userRO: return "#ffb74d"
        case .userRW: return "#e65100"
        case .userGlobalRO: return "#f06292"
        case .userGlobalRW: return "#ad1457"
        }
    }
}

// MARK: the Linux layout

/// The regions of a Linux i386 (3G/1G, non-PAE) address space and how each boundary was found.
public struct LinuxLayout {
    public var pageOffset: UInt32 = 0xC000_0000
    public var highMemory: UInt32
    public var vmallocStart: UInt32
    public var vmallocEnd: UInt32
    public var pkmapBase: UInt32
    public var pkmapEnd: UInt32
    public var fixaddrStart: UInt32
    public var fixaddrTop: UInt32 = 0xFFFF_F000
    /// One line per boundary: its value and how it was found.
    public var notes: [String] = []

    /// Boundaries that may be given instead of derived (e.g. from kernel symbols or the
    /// command line); `source` says where each came from.
    public struct Hints {
        public var highMemory: (UInt32, String)?
        public var vmallocStart: (UInt32, String)?
        public var pkmapBase: (UInt32, String)?
        public var fixaddrStart: (UInt32, String)?
        public init(highMemory: (UInt32, String)? = nil, vmallocStart: (UInt32, String)? = nil,
                    pkmapBase: (UInt32, String)? = nil, fixaddrStart: (UInt32, String)? = nil) {
            self.highMemory = highMemory; self.vmallocStart = vmallocStart
            self.pkmapBase = pkmapBase; self.fixaddrStart = fixaddrStart
        }
    }

    public struct Region {
        public var name: String
        public var start: UInt64
        public var end: UInt64          // exclusive
        public var color: String
    }

    static let mib4: UInt32 = 4 << 20

    /// Derive the layout from the mappings, preferring `hints` where given.
    public init(_ s: PageTableSnapshot, hints: Hints = Hints()) {
        let po = pageOffset
        // high_memory: the end of the direct map, the run of present supervisor pages
        // from PAGE_OFFSET mapping physical (va - PAGE_OFFSET).
        var va = UInt64(po)
        while va < 0x1_0000_0000 {
            let e = s.page(UInt32(va))
            if e & 1 == 0 || e & 4 != 0 || e & 0xFFFF_F000 != UInt32(va) &- po { break }
            va += 4096
        }
        let scanned = UInt32(min(va, 0xFFFF_F000))
        if let (h, src) = hints.highMemory {
            highMemory = h
            notes.append("high_memory   0x\(hex(h, 8))  \(src)"
                         + (h == scanned ? "" : "; the mappings say 0x\(hex(scanned, 8))"))
        } else {
            highMemory = scanned
            notes.append("high_memory   0x\(hex(scanned, 8))  end of the direct map: present supervisor pages from PAGE_OFFSET"
                         + " with physical = virtual - 0xc0000000" + (scanned == po ? " (none found)" : ""))
        }
        // VMALLOC_START: Linux's rounding of high_memory + VMALLOC_OFFSET (8 MiB)
        let formula = UInt32(min((UInt64(highMemory) + 0x80_0000) & ~UInt64(0x7F_FFFF), 0xFFFF_F000))
        if let (v, src) = hints.vmallocStart {
            vmallocStart = v
            notes.append("VMALLOC_START 0x\(hex(v, 8))  \(src)")
        } else {
            vmallocStart = formula
            notes.append("VMALLOC_START 0x\(hex(formula, 8))  (high_memory + 8 MiB) & ~(8 MiB - 1), Linux's formula")
        }
        // FIXADDR_START: the lowest mapped page below FIXADDR_TOP in the top page table, or
        // the guest's memlayout (FIX_HOLE + 16 kmap_atomic slots = 17 pages below FIXADDR_TOP)
        let defaultFix = fixaddrTop &- 17 * 4096
        if let (f, src) = hints.fixaddrStart {
            fixaddrStart = f
            notes.append("FIXADDR_START 0x\(hex(f, 8))  \(src)")
        } else {
            var lowest: UInt32?
            var a = fixaddrTop &- 4096
            while a >= 0xFFC0_0000 {
                if s.page(a) & 1 != 0 && s.page(a) & 0x80 == 0 { lowest = a }
                a &-= 4096
            }
            if let l = lowest, l < defaultFix {
                fixaddrStart = l
                notes.append("FIXADDR_START 0x\(hex(l, 8))  lowest mapped 4 KiB page below FIXADDR_TOP in the top page table")
            } else {
                fixaddrStart = defaultFix
                notes.append("FIXADDR_START 0x\(hex(defaultFix, 8))  FIXADDR_TOP - 17 pages (guest memlayout: FIX_HOLE + 16 kmap_atomic slots)"
                             + (lowest.map { "; lowest mapped slot 0x\(hex($0, 8))" } ?? ""))
            }
        }
        // PKMAP_BASE: Linux's (FIXADDR_START - (LAST_PKMAP + 1) pages) & PMD_MASK, LAST_PKMAP = 1024
        if let (p, src) = hints.pkmapBase {
            pkmapBase = p
            notes.append("PKMAP_BASE    0x\(hex(p, 8))  \(src)")
        } else {
            pkmapBase = (fixaddrStart &- 1025 * 4096) & ~(Self.mib4 - 1)
            let pde = s.pdes[Int(pkmapBase >> 22)]
            let table = pde & 1 != 0 && !(s.pse && pde & 0x80 != 0)
            notes.append("PKMAP_BASE    0x\(hex(pkmapBase, 8))  (FIXADDR_START - 1025 pages) & ~(4 MiB - 1), Linux's formula"
                         + (table ? "; its page table is present" : "; its page table is NOT present"))
        }
        pkmapEnd = pkmapBase &+ Self.mib4
        vmallocEnd = pkmapBase &- 2 * 4096
        notes.append("VMALLOC_END   0x\(hex(vmallocEnd, 8))  PKMAP_BASE - 2 pages")
        notes.append("FIXADDR_TOP   0x\(hex(fixaddrTop, 8))  Linux i386 constant (one page below 4 GiB)")
        // keep the boundaries in order whatever the hints said
        let ordered = [pageOffset, highMemory, vmallocStart, vmallocEnd, pkmapBase, pkmapEnd, fixaddrStart, fixaddrTop]
        var fixed = ordered
        for i in 1..<fixed.count where fixed[i] < fixed[i - 1] { fixed[i] = fixed[i - 1] }
        if fixed != ordered { notes.append("(boundaries out of order were raised to keep the regions in address order)") }
        (highMemory, vmallocStart, vmallocEnd, pkmapBase, pkmapEnd, fixaddrStart) = (fixed[1], fixed[2], fixed[3], fixed[4], fixed[5], fixed[6])
    }

    /// The regions in address order, covering 0 .. 4 GiB (empty ones left out).
    public var regions: [Region] {
        let r: [Region] = [
            Region(name: "user", start: 0, end: UInt64(pageOffset), color: "#d6eaff"),
            Region(name: "direct map", start: UInt64(pageOffset), end: UInt64(highMemory), color: "#d9f2d0"),
            Region(name: "vmalloc hole", start: UInt64(highMemory), end: UInt64(vmallocStart), color: "#f5f5f5"),
            Region(name: "vmalloc", start: UInt64(vmallocStart), end: UInt64(vmallocEnd), color: "#fff3c4"),
            Region(name: "pkmap gap", start: UInt64(vmallocEnd), end: UInt64(pkmapBase), color: "#f5f5f5"),
            Region(name: "pkmap", start: UInt64(pkmapBase), end: UInt64(pkmapEnd), color: "#f6d5ef"),
            Region(name: "unused", start: UInt64(pkmapEnd), end: UInt64(fixaddrStart), color: "#f5f5f5"),
            Region(name: "fixmap", start: UInt64(fixaddrStart), end: UInt64(fixaddrTop), color: "#ffdcc7"),
            Region(name: "top hole", start: UInt64(fixaddrTop), end: 0x1_0000_0000, color: "#f5f5f5"),
        ]
        return r.filter { $0.end > $0.start }
    }
}

// MARK: counting

/// Per-region counts of present 4 KiB pages (4 MiB pages count as 1024).
public struct RegionSummary: Equatable {
    public var mapped = 0, writable = 0, user = 0, global = 0, large = 0
    /// Runs of consecutive present pages (vmalloc: areas, each ended by its guard page).
    public var runs = 0

    public init() {}

    public init(_ s: PageTableSnapshot, from start: UInt64, to end: UInt64) {
        var inRun = false
        var p = Int(start >> 12)
        let last = Int((end + 4095) >> 12)
        while p < last {
            // skip absent page tables quickly
            if p & 1023 == 0, s.pdes[p >> 10] & 1 == 0 { inRun = false; p += 1024; continue }
            let e = s.pages[p]
            if e & 1 != 0 {
                mapped += 1
                if e & 2 != 0 { writable += 1 }
                if e & 4 != 0 { user += 1 }
                if e & 0x100 != 0 { global += 1 }
                if e & 0x80 != 0 { large += 1 }
                if !inRun { runs += 1; inRun = true }
            } else { inRun = false }
            p += 1
        }
    }
}

// MARK: drawing

/// The map of one address space: terminal text and SVG.
public struct AddressSpaceMap {
    public let snapshot: PageTableSnapshot
    public let layout: LinuxLayout
    /// Text printed above the map (what address space this is).
    public var title: String

    public init(snapshot: PageTableSnapshot, layout: LinuxLayout, title: String) {
        self.snapshot = snapshot; self.layout = layout; self.title = title
    }

    /// Read the page tables at `cr3` and derive the layout; nil when CR3 points outside RAM.
    public init?(cr3: UInt32, cr4: UInt32, physicalSize: UInt64, read32: (UInt32) -> UInt32,
                 hints: LinuxLayout.Hints = LinuxLayout.Hints()) {
        guard let s = PageTableSnapshot(cr3: cr3, pse: cr4 & 0x10 != 0, physicalSize: physicalSize, read32: read32) else { return nil }
        snapshot = s
        layout = LinuxLayout(s, hints: hints)
        title = "Address space of CR3=0x\(hex(cr3, 8)) (page directory at phys 0x\(hex(s.directory, 8)), CR4.PSE \(s.pse ? "on" : "off"))"
    }

    /// The character for one 4 MiB slot of the overview.
    public func overviewCell(_ pdeIndex: Int) -> Character {
        let s = snapshot
        let pde = s.pdes[pdeIndex]
        if pde & 1 == 0 { return "." }
        if s.pse && pde & 0x80 != 0 { return pde & 4 != 0 ? "@" : "#" }
        var counts = [Character: Int]()
        for k in 0..<1024 {
            let e = s.pages[pdeIndex << 10 | k]
            if e & 1 != 0 { counts[PageClass(e).rawValue, default: 0] += 1 }
        }
        guard let best = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else { return "-" }
        return best.key
    }

    /// Region holding `va`.
    func region(at va: UInt64) -> LinuxLayout.Region? { layout.regions.first { $0.start <= va && va < $0.end } }

    /// The terminal picture: overview (4 MiB per character, 256 MiB per row), zooms of the
    /// interesting regions (4 KiB per character), the legend and a per-region summary.
    public func text(maxZoomRows: Int = 40) -> String {
        var out = [title, ""]
        out.append("Overview: one character per 4 MiB, 256 MiB per row, from address 0 up")
        let regions = layout.regions
        for row in 0..<16 {
            let base = UInt64(row) << 28, end = base + (1 << 28)
            var line = "0x\(hex(UInt32(base), 8))  "
            for c in 0..<64 { line.append(overviewCell(row * 64 + c)) }
            var labels: [String] = []
            for r in regions where r.start < end && r.end > base {
                labels.append(r.start >= base ? "\(r.name)@\(hex(UInt32(r.start), 8))" : r.name)
            }
            out.append(line + "  " + labels.joined(separator: " | "))
        }
        out.append("  . no page table   - page table, nothing present   # 4 MiB kernel page   @ 4 MiB user page")
        out.append("  otherwise the most common kind of 4 KiB page in that 4 MiB (letters below)")
        // zooms
        for r in regions where r.name != "direct map" {
            let z = zoomText(r, maxRows: maxZoomRows)
            if !z.isEmpty { out.append(""); out.append(contentsOf: z) }
        }
        out.append("")
        out.append("Pages: " + PageClass.allCases.map { "\($0.rawValue) \($0.meaning)" }.joined(separator: "; "))
        out.append("")
        out.append("Layout (how each boundary was found):")
        out.append(contentsOf: layout.notes.map { "  " + $0 })
        if !snapshot.tablesOutsideRAM.isEmpty {
            out.append("  page tables outside RAM (pages counted as absent) for PDEs "
                       + snapshot.tablesOutsideRAM.map(String.init).joined(separator: " "))
        }
        out.append("")
        out.append("region        start      end        size       mapped(4K)  writable  user      global    4M-backed runs")
        for r in regions {
            let c = RegionSummary(snapshot, from: r.start, to: r.end)
            let endText = r.end == 0x1_0000_0000 ? "100000000" : "0x" + hex(UInt32(r.end), 8)
            out.append(r.name.padded(13) + " 0x\(hex(UInt32(r.start), 8)) " + endText.padded(10) + " "
                       + sizeText(r.end - r.start).padded(10) + " " + String(c.mapped).padded(11) + " "
                       + String(c.writable).padded(9) + " " + String(c.user).padded(9) + " " + String(c.global).padded(9)
                       + " " + String(c.large).padded(9) + " \(c.runs)")
        }
        return out.joined(separator: "\n")
    }

    /// 4 KiB per character, 64 pages (256 KiB) per row; rows with nothing present are elided.
    func zoomText(_ r: LinuxLayout.Region, maxRows: Int) -> [String] {
        let c = RegionSummary(snapshot, from: r.start, to: r.end)
        let always = r.name == "pkmap" || r.name == "fixmap" || r.name == "vmalloc"
        if c.mapped == 0 && !always { return [] }
        var out = ["\(r.name) 0x\(hex(UInt32(r.start), 8))-0x\(hex(UInt32(truncatingIfNeeded: r.end), 8)): one character per 4 KiB page, 256 KiB per row"
                   + (c.mapped == 0 ? ": nothing mapped" : "")]
        if c.mapped == 0 { return out }
        let rowBytes: UInt64 = 64 * 4096
        var row = r.start & ~(rowBytes - 1)
        var rows = 0, skippedFrom: UInt64?
        var hidden = 0
        var previous: String?, repeats = 0
        /// Rows identical to the one above are counted, not printed.
        func flushRepeats() {
            guard repeats > 0 else { return }
            if rows < maxRows { out.append("            ... \(repeats) more row\(repeats == 1 ? "" : "s") the same") }
            rows += 1
            repeats = 0
        }
        while row < r.end {
            // whole absent page tables: jump
            if row & 0x3F_FFFF == 0, snapshot.pdes[Int(row >> 22)] & 1 == 0 {
                if skippedFrom == nil { skippedFrom = row }
                row += 4 << 20; continue
            }
            var line = ""
            var any = false
            for k in 0..<64 {
                let va = row + UInt64(k) * 4096
                if va < r.start || va >= r.end { line.append(" "); continue }
                let e = snapshot.pages[Int(va >> 12)]
                if e & 1 != 0 { any = true }
                line.append(PageClass(e).rawValue)
            }
            if any {
                if let s = skippedFrom {
                    flushRepeats()
                    if rows < maxRows { out.append("            ... 0x\(hex(UInt32(s), 8))-0x\(hex(UInt32(truncatingIfNeeded: row), 8)) nothing mapped") }
                    skippedFrom = nil
                    previous = nil
                }
                if line == previous { repeats += 1; row += rowBytes; continue }
                flushRepeats()
                if rows < maxRows { out.append("0x\(hex(UInt32(row), 8))  " + line) } else { hidden += 1 }
                rows += 1
                previous = line
            } else if skippedFrom == nil { flushRepeats(); previous = nil; skippedFrom = row }
            row += rowBytes
        }
        flushRepeats()
        if hidden > 0 { out.append("            ... and \(hidden) more rows with mappings (the SVG shows them all)") }
        return out
    }

    // MARK: SVG

    /// A self-contained SVG: the whole 4 GiB as a vertical bar (high addresses on top),
    /// regions colored and labeled, and zoomed strips (4 KiB per cell) of the user part,
    /// vmalloc (guard pages are the gaps), pkmap and fixmap, with <title> tooltips.
    public func svg() -> String {
        var body: [String] = []
        let barTop = 60.0, barHeight = 1024.0     // one pixel per 4 MiB
        let regionX = 110.0, regionW = 40.0, mapX = 150.0, mapW = 40.0
        func y(_ va: UInt64) -> Double { barTop + barHeight - Double(va) / Double(1 << 22) }
        body.append(##"<text x="20" y="28" font-size="16" font-weight="bold">\##(xml(title))</text>"##)
        body.append(##"<text x="20" y="48" font-size="12">Left: the whole 4 GiB, 1 px per 4 MiB (region, then mappings). Right: zoomed strips, one cell per 4 KiB page. Hover for addresses and flags.</text>"##)
        // region column
        for r in layout.regions {
            let y0 = y(r.end), h = max(y(r.start) - y0, 0.5)
            let c = RegionSummary(snapshot, from: r.start, to: r.end)
            body.append(##"<rect x="\##(regionX)" y="\##(fmt(y0))" width="\##(regionW)" height="\##(fmt(h))" fill="\##(r.color)" stroke="#90a4ae" stroke-width="0.3"><title>\##(xml(r.name)) 0x\##(hex(UInt32(r.start), 8))-0x\##(hex(UInt32(truncatingIfNeeded: r.end &- 1), 8)) (\##(sizeText(r.end - r.start))): \##(c.mapped) pages present, \##(c.writable) writable, \##(c.user) user, \##(c.global) global</title></rect>"##)
        }
        // mapping column: runs of PDEs with the same overview cell
        var i = 0
        while i < 1024 {
            let cell = overviewCell(i)
            var j = i + 1
            while j < 1024 && overviewCell(j) == cell { j += 1 }
            if cell != "." {
                let start = UInt64(i) << 22, end = UInt64(j) << 22
                let color = cell == "#" ? PageClass.globalRW.color : cell == "@" ? PageClass.userRW.color
                    : cell == "-" ? "#cfd8dc" : (PageClass(rawValue: cell)?.color ?? "#000")
                let what = cell == "#" ? "4 MiB kernel pages" : cell == "@" ? "4 MiB user pages"
                    : cell == "-" ? "page tables with no page present" : "page tables, mostly \(PageClass(rawValue: cell)?.meaning ?? "?") pages"
                let c = RegionSummary(snapshot, from: start, to: end)
                body.append(##"<rect x="\##(mapX)" y="\##(fmt(y(end)))" width="\##(mapW)" height="\##(fmt(max(y(start) - y(end), 1.5)))" fill="\##(color)"><title>0x\##(hex(UInt32(start), 8))-0x\##(hex(UInt32(truncatingIfNeeded: end &- 1), 8)): \##(what); \##(c.mapped) 4 KiB pages present</title></rect>"##)
            }
            i = j
        }
        body.append(##"<rect x="\##(regionX)" y="\##(barTop)" width="\##(regionW + mapW)" height="\##(barHeight)" fill="none" stroke="#37474f"/>"##)
        body.append(##"<text x="\##(regionX + regionW / 2)" y="\##(barTop - 4)" font-size="9" text-anchor="middle">region</text>"##)
        body.append(##"<text x="\##(mapX + mapW / 2)" y="\##(barTop - 4)" font-size="9" text-anchor="middle">mapped</text>"##)
        // labels: region name at the right, start address at the left; pushed apart when crowded
        var labelY: [Double] = []
        var lastY = -1e9
        for r in layout.regions.reversed() {           // top to bottom
            let mid = (y(r.end) + y(r.start)) / 2
            let want = max(mid + 4, lastY + 12)
            labelY.append(want); lastY = want
        }
        for (k, r) in layout.regions.reversed().enumerated() {
            let ly = labelY[k], mid = (y(r.end) + y(r.start)) / 2
            body.append(##"<line x1="\##(mapX + mapW)" y1="\##(fmt(mid))" x2="\##(mapX + mapW + 14)" y2="\##(fmt(ly - 4))" stroke="#90a4ae" stroke-width="0.5"/>"##)
            body.append(##"<text x="\##(mapX + mapW + 16)" y="\##(fmt(ly))" font-size="10">\##(xml(r.name)) (\##(sizeText(r.end - r.start)))</text>"##)
        }
        var addrY: [Double] = []
        lastY = -1e9
        let bounds = Array(Set(layout.regions.map(\.start) + [0x1_0000_0000])).sorted(by: >)
        for b in bounds { let want = max(y(b) + 3, lastY + 11); addrY.append(want); lastY = want }
        for (k, b) in bounds.enumerated() {
            body.append(##"<line x1="\##(regionX - 6)" y1="\##(fmt(y(b)))" x2="\##(regionX)" y2="\##(fmt(y(b)))" stroke="#37474f" stroke-width="0.6"/>"##)
            body.append(##"<text x="\##(regionX - 8)" y="\##(fmt(addrY[k]))" font-size="9" font-family="monospace" text-anchor="end">\##(b == 0x1_0000_0000 ? "4 GiB" : "0x" + hex(UInt32(b), 8))</text>"##)
        }
        // zoomed strips
        let zx = 330.0, cell = 3.0, perRow = 256, rowH = 9.0
        var zy = 70.0
        for r in layout.regions where r.name != "direct map" {
            let c = RegionSummary(snapshot, from: r.start, to: r.end)
            let always = r.name == "pkmap" || r.name == "fixmap" || r.name == "vmalloc"
            if c.mapped == 0 && !always { continue }
            body.append(##"<text x="\##(zx)" y="\##(fmt(zy))" font-size="12" font-weight="bold">\##(xml(r.name)) 0x\##(hex(UInt32(r.start), 8))-0x\##(hex(UInt32(truncatingIfNeeded: r.end &- 1), 8)): \##(c.mapped) pages, \##(c.runs) runs\##(c.mapped == 0 ? " (nothing mapped)" : "") — 1 MiB per row, one cell per 4 KiB</text>"##)
            zy += 6
            if c.mapped == 0 { zy += 18; continue }
            let rowBytes = UInt64(perRow) * 4096
            var row = r.start & ~(rowBytes - 1)
            var skipped: UInt64?
            var drawn = 0
            while row < r.end && drawn < 400 {
                if row & 0x3F_FFFF == 0, snapshot.pdes[Int(row >> 22)] & 1 == 0 {
                    if skipped == nil { skipped = row }
                    row += 4 << 20; continue
                }
                let first = Int(max(row, r.start) >> 12), last = Int(min(row + rowBytes, r.end) >> 12)
                if !(first..<last).contains(where: { snapshot.pages[$0] & 1 != 0 }) {
                    if skipped == nil { skipped = row }
                    row += rowBytes; continue
                }
                if let s = skipped {
                    body.append(##"<text x="\##(zx + 90)" y="\##(fmt(zy + 8))" font-size="9" fill="#607d8b">… 0x\##(hex(UInt32(s), 8))-0x\##(hex(UInt32(truncatingIfNeeded: row &- 1), 8)) (\##(sizeText(row - s))) nothing mapped</text>"##)
                    zy += 11; skipped = nil
                }
                body.append(##"<text x="\##(zx)" y="\##(fmt(zy + rowH - 1))" font-size="9" font-family="monospace">0x\##(hex(UInt32(row), 8))</text>"##)
                let gx = zx + 70
                let x0 = gx + Double(first - Int(row >> 12)) * cell
                body.append(##"<rect x="\##(fmt(x0))" y="\##(fmt(zy))" width="\##(fmt(Double(last - first) * cell))" height="\##(rowH - 1)" fill="\##(PageClass.absent.color)"/>"##)
                var p = first
                while p < last {
                    let e = snapshot.pages[p]
                    guard e & 1 != 0 else { p += 1; continue }
                    var q = p + 1
                    while q < last && snapshot.pages[q] & 0x1FF == e & 0x1FF
                            && snapshot.pages[q] & 0xFFFF_F000 == (e & 0xFFFF_F000) &+ UInt32((q - p) << 12) { q += 1 }
                    let cls = PageClass(e)
                    let va = UInt32(p << 12), vend = UInt32(truncatingIfNeeded: (q << 12) - 1)
                    let pa = e & 0xFFFF_F000
                    body.append(##"<rect x="\##(fmt(gx + Double(p - Int(row >> 12)) * cell))" y="\##(fmt(zy))" width="\##(fmt(Double(q - p) * cell))" height="\##(rowH - 1)" fill="\##(cls.color)"><title>0x\##(hex(va, 8))-0x\##(hex(vend, 8)) (\##(q - p) page\##(q - p == 1 ? "" : "s")) -&gt; phys 0x\##(hex(pa, 8))-0x\##(hex(pa &+ UInt32((q - p) << 12) &- 1, 8)): \##(flagText(e))</title></rect>"##)
                    p = q
                }
                zy += rowH + 1
                drawn += 1
                row += rowBytes
            }
            if drawn >= 400 {
                body.append(##"<text x="\##(zx + 90)" y="\##(fmt(zy + 8))" font-size="9" fill="#b71c1c">… more rows left out</text>"##)
                zy += 11
            }
            zy += 22
        }
        // legend
        var ly = max(zy, 200) + 10
        body.append(##"<text x="\##(zx)" y="\##(fmt(ly))" font-size="12" font-weight="bold">Pages</text>"##)
        ly += 6
        for (k, c) in PageClass.allCases.enumerated() {
            let lx = zx + Double(k % 3) * 240, yy = ly + Double(k / 3) * 16
            body.append(##"<rect x="\##(fmt(lx))" y="\##(fmt(yy))" width="12" height="10" fill="\##(c.color)" stroke="#90a4ae" stroke-width="0.3"/>"##)
            body.append(##"<text x="\##(fmt(lx + 16))" y="\##(fmt(yy + 9))" font-size="10">\##(c.rawValue) \##(xml(c.meaning))</text>"##)
        }
        ly += 16 * 3 + 14
        body.append(##"<text x="\##(zx)" y="\##(fmt(ly))" font-size="12" font-weight="bold">Layout (how each boundary was found)</text>"##)
        for n in layout.notes {
            ly += 14
            body.append(##"<text x="\##(zx)" y="\##(fmt(ly))" font-size="10" font-family="monospace" xml:space="preserve">\##(xml(n))</text>"##)
        }
        let height = max(barTop + barHeight + 30, ly + 30)
        let width = zx + 70 + Double(perRow) * cell + 40
        return ##"<?xml version="1.0" encoding="UTF-8"?>"## + "\n"
            + ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(fmt(width))" height="\##(fmt(height))" viewBox="0 0 \##(fmt(width)) \##(fmt(height))" font-family="sans-serif">"## + "\n"
            + ##"<rect width="100%" height="100%" fill="white"/>"## + "\n"
            + body.joined(separator: "\n") + "\n</svg>\n"
    }

    func flagText(_ e: UInt32) -> String {
        var f = [e & 2 != 0 ? "writable" : "read-only", e & 4 != 0 ? "user" : "supervisor"]
        if e & 0x100 != 0 { f.append("global") }
        if e & 0x80 != 0 { f.append("in a 4 MiB page") }
        return f.joined(separator: ", ")
    }
}

// MARK: small helpers

/// "4 GiB", "896 MiB", "8 KiB", "12 bytes".
func sizeText(_ n: UInt64) -> String {
    if n >= 1 << 30 && n % (1 << 30) == 0 { return "\(n >> 30) GiB" }
    if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
    if n >= 1 << 20 { return "\(n >> 20).\(((n % (1 << 20)) * 10) >> 20) MiB" }
    if n >= 1 << 10 && n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
    return "\(n) bytes"
}

/// Escape text for XML content and attributes.
func xml(_ s: String) -> String {
    var o = ""
    for ch in s {
        switch ch {
        case "&": o += "&amp;"
        case "<": o += "&lt;"
        case ">": o += "&gt;"
        case "\"": o += "&quot;"
        default: o.append(ch)
        }
    }
    return o
}

/// A coordinate with at most two decimals.
func fmt(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    if r == r.rounded() { return String(Int(r)) }
    return String(r)
}

/// Write `text` to `path`; nil on success, else the error.
func writeTextFile(_ path: String, _ text: String) -> String? {
    guard let f = fopen(path, "w") else { return String(cString: strerror(errno)) }
    var bytes = Array(text.utf8)
    let n = bytes.withUnsafeMutableBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    let closed = fclose(f)
    if n != bytes.count || closed != 0 { return "write failed" }
    bytes.removeAll()
    return nil
}

// MARK: the command

extension Debugger {
    /// `map [CR3] [--svg FILE] [--high-memory ADDR]`: parse the words after `map`.
    public func mapCommand(_ words: [String]) -> String {
        var cr3: UInt32?, svg: String?, high: UInt32?
        var k = 0
        while k < words.count {
            let w = words[k]
            switch w {
            case "--svg":
                guard k + 1 < words.count else { return "map: --svg needs a file name" }
                svg = words[k + 1]; k += 2
            case "--high-memory", "--high_memory":
                guard k + 1 < words.count, let v = evaluate(words[k + 1]) else { return "map: --high-memory needs an address" }
                high = v; k += 2
            default:
                guard cr3 == nil, let v = evaluate(w) else { return "map: bad argument '\(w)' (usage: map [CR3] [--svg FILE] [--high-memory ADDR])" }
                cr3 = v; k += 1
            }
        }
        return addressSpaceMap(cr3: cr3, svgPath: svg, highMemory: high)
    }

    /// Draw the address space of the page directory at `cr3` (default: the current CR3):
    /// returns the terminal picture and writes an SVG to `svgPath` when given.
    /// Boundaries come from `highMemory` when given, else from the kernel's symbols
    /// (`high_memory`/`Layout.highMemory`, `Layout.vmallocStart`) when set, else from the mappings.
    public func addressSpaceMap(cr3: UInt32?, svgPath: String?, highMemory: UInt32? = nil) -> String {
        let mem = cpu.memory
        let read32: (UInt32) -> UInt32 = { a in mem.contains(a, count: 4) ? mem.load32(a) : 0 }
        let root = cr3 ?? cpu.cr3
        if cr3 == nil && !cpu.pagingEnabled && root & 0xFFFF_F000 == 0 {
            return "map: paging is off (CR0.PG clear) and CR3 is 0: no page tables yet (give a CR3 to draw one anyway)"
        }
        guard let snap = PageTableSnapshot(cr3: root, pse: cpu.cr4 & 0x10 != 0, physicalSize: mem.size, read32: read32) else {
            return "map: page directory 0x\(hex(root & 0xFFFF_F000, 8)) lies outside RAM (\(mem.size >> 20) MiB)"
        }
        var hints = LinuxLayout.Hints()
        var symbolNotes: [String] = []
        /// The dword value of a kernel variable, read through this address space's mappings.
        func kernelVariable(_ names: [String]) -> (UInt32, String)? {
            for n in names {
                guard let a = address(ofSymbol: n) else { continue }
                guard let pa = snap.translate(a), a & 0xFFF <= 0xFFC else { symbolNotes.append("kernel symbol \(n) at 0x\(hex(a, 8)) is not mapped here"); continue }
                let v = read32(pa)
                guard v >= 0xC000_0000 && v < 0xFFC0_0000 else {
                    symbolNotes.append("kernel symbol \(n) = 0x\(hex(v, 8)): not set yet, derived instead"); continue
                }
                return (v, "kernel symbol \(n) (at 0x\(hex(a, 8)))")
            }
            return nil
        }
        if let h = highMemory { hints.highMemory = (h, "given with --high-memory") }
        else { hints.highMemory = kernelVariable(["high_memory", "highMemory"]) }
        hints.vmallocStart = kernelVariable(["vmallocStart"])
        guard var map = AddressSpaceMap(cr3: root, cr4: cpu.cr4, physicalSize: mem.size, read32: read32, hints: hints) else {
            return "map: page directory outside RAM"
        }
        if !cpu.pagingEnabled { map.title += "\n(paging is off: CR0.PG is clear; these tables are not in use)" }
        var text = map.text()
        if !symbolNotes.isEmpty { text += "\n" + symbolNotes.map { "  (\($0))" }.joined(separator: "\n") }
        if let path = svgPath {
            if let err = writeTextFile(path, map.svg()) { text += "\nmap: cannot write \(path): \(err)" }
            else { text += "\nSVG written to \(path)" }
        }
        return text
    }
}
