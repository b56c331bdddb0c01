// Inspect: the debugger's views of registers, descriptors, memory, page tables and the TLB.
import PCMachine
import X86CPU
import X86Decoder

extension Debugger {
    func info(_ w: [String]) -> String {
        guard let what = w.first else { return "info: registers breakpoints gdt idt ldt tss eflags tab" }
        switch what {
        case "registers", "reg", "r", "all-registers": return registers()
        case "breakpoints", "break", "b", "watchpoints":
            var lines = ["Num  Type    Address     Hits  Condition"]
            for b in breakpoints {
                lines.append("\(String(b.id).padded(4)) \(b.kind.rawValue.padded(7)) 0x\(hex(b.address, 8))  \(String(b.hits).padded(5)) \(b.condition ?? "")"
                             + (symbolize(b.address).map { " <\($0)>" } ?? ""))
            }
            for x in watchpoints {
                lines.append("\(String(x.id).padded(4)) \(x.access.rawValue.padded(7)) 0x\(hex(x.address, 8))  \(String(x.hits).padded(5)) len \(x.length)")
            }
            if !caughtVectors.isEmpty { lines.append("catch vectors: " + caughtVectors.sorted().map { "\($0)" }.joined(separator: " ")) }
            return lines.joined(separator: "\n")
        case "gdt", "ldt":
            let isGDT = what == "gdt"
            let limit = isGDT ? UInt32(cpu.gdtrLimit) : cpu.ldtrLimit
            let base = isGDT ? cpu.gdtrBase : cpu.ldtrBase
            var out = ["\(what.uppercased()) base 0x\(hex(base, 8)) limit 0x\(hex(limit, 4))"]
            var first = 0, last = Int(min(limit, 0xFFFF) / 8)
            if w.count > 1, let a = evaluate(w[1]) { first = Int(a); last = w.count > 2 ? Int(evaluate(w[2]) ?? a) : Int(a) }
            for i in first...max(first, min(last, first + 255)) {
                let sel = UInt16(truncatingIfNeeded: i * 8) | (isGDT ? 0 : 4)
                guard let (lo, hi) = cpu.peekDescriptor(sel) else { break }
                out.append("[0x\(hex(i * 8, 4))] \(hex(hi, 8)) \(hex(lo, 8))  \(describeDescriptor(lo, hi))")
            }
            return out.joined(separator: "\n")
        case "idt":
            var out = ["IDT base 0x\(hex(cpu.idtrBase, 8)) limit 0x\(hex(cpu.idtrLimit, 4))"]
            var first = 0, last = Int(cpu.idtrLimit / 8)
            if w.count > 1, let a = evaluate(w[1]) { first = Int(a); last = w.count > 2 ? Int(evaluate(w[2]) ?? a) : Int(a) }
            for v in first...max(first, min(last, 255)) {
                let b = cpu.peekLinear(cpu.idtrBase &+ UInt32(v * 8), count: 8)
                guard b.allSatisfy({ $0 != nil }) else { out.append("[0x\(hex(v, 2))] (not mapped)"); continue }
                let x = b.map { UInt32($0!) }
                let lo = x[0] | x[1] << 8 | x[2] << 16 | x[3] << 24, hi = x[4] | x[5] << 8 | x[6] << 16 | x[7] << 24
                if hi & 0x8000 == 0 && lo == 0 && hi == 0 { continue }
                out.append("[0x\(hex(v, 2))] \(describeDescriptor(lo, hi))")
            }
            return out.joined(separator: "\n")
        case "tss":
            let b = cpu.trBase
            func d(_ off: UInt32) -> UInt32 {
                let x = cpu.peekLinear(b &+ off, count: 4)
                return x.enumerated().reduce(0) { $0 | UInt32($1.element ?? 0) << (8 * UInt32($1.offset)) }
            }
            return "TR=0x\(hex(cpu.trSel, 4)) base 0x\(hex(b, 8)) limit 0x\(hex(cpu.trLimit, 4))\n"
                + "esp0=0x\(hex(d(4), 8)) ss0=0x\(hex(d(8) & 0xFFFF, 4))  esp1=0x\(hex(d(12), 8)) ss1=0x\(hex(d(16) & 0xFFFF, 4))"
                + "  esp2=0x\(hex(d(20), 8)) ss2=0x\(hex(d(24) & 0xFFFF, 4))\n"
                + "cr3=0x\(hex(d(28), 8)) eip=0x\(hex(d(32), 8)) eflags=0x\(hex(d(36), 8)) iomap=0x\(hex(d(100) >> 16, 4))"
        case "eflags": return "eflags 0x\(hex(cpu.eflags, 8)) \(flagNames(cpu.eflags))"
        case "tab", "mem":
            let cr3 = w.count > 1 ? (evaluate(w[1]) ?? cpu.cr3) : cpu.cr3
            return mappings(cr3: cr3)
        default: return "info: unknown subject '\(what)'"
        }
    }

    /// One line per delivered event, as `-d int` prints it.
    func formatInterrupt(_ e: InterruptEvent) -> String {
        var s = "int: icount=\(e.icount) vec=0x\(hex(e.vector, 2)) \(e.external ? "IRQ" : Fault.name(e.vector))"
        if let ec = e.errorCode { s += " err=0x\(hex(ec, 4))" }
        if e.vector == 14 { s += " cr2=0x\(hex(e.cr2, 8))" }
        return s + " cs:eip=\(hex(e.cs, 4)):\(hex(e.eip, 8)) cpl=\(e.cpl) esp=0x\(hex(e.esp, 8))"
    }

    func registers() -> String {
        var lines: [String] = []
        for r in Reg32.allCases {
            let v = cpu.reg32(r)
            lines.append("\("\(r)".padded(14)) 0x\(hex(v, 8))".padded(30) + "\(Int32(bitPattern: v))")
        }
        lines.append("eip".padded(14) + " 0x\(hex(cpu.eip, 8))".padded(16) + (symbolize(cpu.eip).map { "<\($0)>" } ?? ""))
        lines.append("eflags".padded(14) + " 0x\(hex(cpu.eflags, 8))".padded(16) + flagNames(cpu.eflags))
        for s in SegReg.allCases { lines.append("\(s)".padded(14) + " 0x\(hex(cpu.selector(s), 4))") }
        lines.append("cpl".padded(14) + " \(cpu.cpl)")
        lines.append("icount".padded(14) + " \(cpu.icount)")
        return lines.joined(separator: "\n")
    }

    func flagNames(_ f: UInt32) -> String {
        let names: [(UInt32, String)] = [(0x1, "CF"), (0x4, "PF"), (0x10, "AF"), (0x40, "ZF"), (0x80, "SF"), (0x100, "TF"),
                                         (0x200, "IF"), (0x400, "DF"), (0x800, "OF"), (0x4000, "NT"), (0x10000, "RF"),
                                         (0x20000, "VM"), (0x40000, "AC"), (0x200000, "ID")]
        return "[ " + names.filter { f & $0.0 != 0 }.map(\.1).joined(separator: " ") + " ] IOPL=\((f >> 12) & 3)"
    }

    func segmentRegisters() -> String {
        SegReg.allCases.map { s in
            let c = cpu.segmentCache(s)
            return "\(s): 0x\(hex(cpu.selector(s), 4)) base=0x\(hex(c.base, 8)) limit=0x\(hex(c.limit, 8)) attr=0x\(hex(c.attributes, 4)) \(describeAttributes(c.attributes))"
        }.joined(separator: "\n")
            + "\nldtr: 0x\(hex(cpu.ldtrSel, 4)) base=0x\(hex(cpu.ldtrBase, 8)) limit=0x\(hex(cpu.ldtrLimit, 8))"
            + "\ntr: 0x\(hex(cpu.trSel, 4)) base=0x\(hex(cpu.trBase, 8)) limit=0x\(hex(cpu.trLimit, 8))"
            + "\ngdtr: base=0x\(hex(cpu.gdtrBase, 8)) limit=0x\(hex(cpu.gdtrLimit, 4))"
            + "\nidtr: base=0x\(hex(cpu.idtrBase, 8)) limit=0x\(hex(cpu.idtrLimit, 4))"
    }

    /// Decoded cache attributes ("code, read, 32-bit, DPL 0, present").
    func describeAttributes(_ a: UInt32) -> String {
        if a == 0 { return "(null: unusable)" }
        var p: [String] = []
        if a & 0x10 == 0 { p.append("system type \(a & 0xF)") }
        else if a & 0x8 != 0 { p.append("code"); if a & 2 != 0 { p.append("read") }; if a & 4 != 0 { p.append("conforming") } }
        else { p.append("data"); p.append(a & 2 != 0 ? "rw" : "ro"); if a & 4 != 0 { p.append("expand-down") } }
        if a & 1 != 0 { p.append("accessed") }
        p.append(a & 0x4000 != 0 ? "32-bit" : "16-bit")
        p.append("DPL \((a >> 5) & 3)")
        if a & 0x80 == 0 { p.append("not present") }
        return "(" + p.joined(separator: ", ") + ")"
    }

    /// One descriptor (segment, system, or gate), decoded.
    func describeDescriptor(_ lo: UInt32, _ hi: UInt32) -> String {
        let type = (hi >> 8) & 0xF, s = hi & 0x1000 != 0, dpl = (hi >> 13) & 3, present = hi & 0x8000 != 0
        if !s {
            let names: [UInt32: String] = [1: "TSS16 avail", 2: "LDT", 3: "TSS16 busy", 4: "call gate16", 5: "task gate",
                                           6: "int gate16", 7: "trap gate16", 9: "TSS32 avail", 11: "TSS32 busy",
                                           12: "call gate32", 14: "int gate32", 15: "trap gate32"]
            let name = names[type] ?? "reserved system type \(type)"
            if [4, 5, 6, 7, 12, 14, 15].contains(type) {
                let off = (hi & 0xFFFF_0000) | (lo & 0xFFFF)
                return "\(name) sel=0x\(hex(lo >> 16, 4)) off=0x\(hex(off, 8))" + (symbolize(off).map { " <\($0)>" } ?? "")
                    + " DPL \(dpl)" + (present ? "" : " not present")
            }
        }
        if lo == 0 && hi == 0 { return "null" }
        let base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF00_0000)
        var limit = (lo & 0xFFFF) | (hi & 0xF_0000)
        if hi & 0x80_0000 != 0 { limit = (limit << 12) | 0xFFF }
        return "base=0x\(hex(base, 8)) limit=0x\(hex(limit, 8)) " + describeAttributes((hi >> 8) & 0xF0FF)
    }

    func controlRegisters() -> String {
        func names(_ v: UInt32, _ bits: [(Int, String)]) -> String { bits.filter { v & (1 << $0.0) != 0 }.map(\.1).joined(separator: " ") }
        return "CR0=0x\(hex(cpu.cr0, 8)): " + names(cpu.cr0, [(31, "PG"), (30, "CD"), (29, "NW"), (18, "AM"), (16, "WP"), (5, "NE"), (4, "ET"), (3, "TS"), (2, "EM"), (1, "MP"), (0, "PE")])
            + "\nCR2=0x\(hex(cpu.cr2, 8)) (last page-fault address)"
            + "\nCR3=0x\(hex(cpu.cr3, 8)): page directory at 0x\(hex(cpu.cr3 & 0xFFFF_F000, 8))" + (cpu.cr3 & 0x18 != 0 ? " " + names(cpu.cr3, [(4, "PCD"), (3, "PWT")]) : "")
            + "\nCR4=0x\(hex(cpu.cr4, 8)): " + names(cpu.cr4, [(8, "PCE"), (7, "PGE"), (4, "PSE"), (3, "DE"), (2, "TSD")])
    }

    /// x/NFU and xp/NFU.
    func examine(_ format: String, _ arg: String, physical: Bool) -> String {
        var count = 1, fmt: Character = "x", unit = 4
        var digits = ""
        for ch in format {
            if ch.isNumber { digits.append(ch) }
            else if "xduci s".contains(ch) { fmt = ch }
            else if ch == "b" { unit = 1 } else if ch == "h" { unit = 2 } else if ch == "w" { unit = 4 }
        }
        if let n = Int(digits) { count = min(n, 4096) }
        guard let addr = evaluate(arg.isEmpty ? "$eip" : arg) else { return "x: bad address '\(arg)'" }
        if fmt == "i" {
            return disassemble(addr, count: count)
        }
        if fmt == "c" || fmt == "s" { unit = 1 }
        let lin = physical ? addr : cpu.segmentCache(.ds).base &+ addr
        let bytes: [UInt8?] = physical ? (0..<(count * unit)).map { k in
            let pa = lin &+ UInt32(k)
            return UInt64(pa) < cpu.memory.size ? cpu.memory.load8(pa) : nil
        } : cpu.peekLinear(lin, count: count * unit)
        var lines: [String] = []
        let perLine = max(1, 16 / unit)
        var k = 0
        while k < count {
            let a = addr &+ UInt32(k * unit)
            var line = "0x\(hex(a, 8)):"
            for j in k..<min(count, k + perLine) {
                let chunk = bytes[(j * unit)..<(j * unit + unit)]
                if chunk.contains(where: { $0 == nil }) { line += " (not mapped)"; break }
                let v = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element!) << (8 * UInt32($1.offset)) }
                switch fmt {
                case "d": line += " \(unit == 1 ? Int(Int8(truncatingIfNeeded: v)) : unit == 2 ? Int(Int16(truncatingIfNeeded: v)) : Int(Int32(bitPattern: v)))"
                case "u": line += " \(v)"
                case "c", "s": line += " " + (v >= 0x20 && v < 0x7F ? "'\(Character(UnicodeScalar(UInt8(v))))'" : "\\x\(hex(v, 2))")
                default: line += " 0x\(hex(v, unit * 2))"
                }
            }
            lines.append(line)
            k += perLine
        }
        return lines.joined(separator: "\n")
    }

    func setCommand(_ arg: String) -> String {
        let parts = arg.components(separatedBy: "=")
        guard parts.count == 2, let v = evaluate(parts[1]) else { return "set: use 'set $reg = V' or 'set *ADDR = V'" }
        let lhs = parts[0].trimmed()
        if lhs.hasPrefix("$") {
            return setRegister(String(lhs.dropFirst()).lowercased(), v) ? "" : "set: unknown register or rejected value '\(lhs)'"
        }
        if lhs.hasPrefix("*"), let a = evaluate(String(lhs.dropFirst())) {
            let bytes = (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) }
            return writeVirtual(a, bytes) ? "" : "set: 0x\(hex(a, 8)) is not mapped"
        }
        return "set: use 'set $reg = V' or 'set *ADDR = V'"
    }

    func pteFlags(_ e: UInt32, pde: Bool) -> String {
        var f = [e & 1 != 0 ? "P" : "-", e & 2 != 0 ? "RW" : "RO", e & 4 != 0 ? "U" : "S"]
        if e & 0x8 != 0 { f.append("PWT") }
        if e & 0x10 != 0 { f.append("PCD") }
        if e & 0x20 != 0 { f.append("A") }
        if e & 0x40 != 0 { f.append("D") }
        if pde && e & 0x80 != 0 { f.append("PS") }
        if e & 0x100 != 0 { f.append("G") }
        return f.joined(separator: " ")
    }

    /// `page VA`: both levels of the walk, decoded.
    public func pageWalk(_ va: UInt32) -> String {
        let lin = va
        if !cpu.pagingEnabled { return "paging is off: linear 0x\(hex(lin, 8)) = physical 0x\(hex(lin, 8))" }
        let pdeAddr = (cpu.cr3 & 0xFFFF_F000) | ((lin >> 20) & 0xFFC)
        let pde = cpu.memory.load32(pdeAddr)
        var out = "linear 0x\(hex(lin, 8)): PDE[\(lin >> 22)] at phys 0x\(hex(pdeAddr, 8)) = 0x\(hex(pde, 8)) \(pteFlags(pde, pde: true))"
        if pde & 1 == 0 { return out + "\n  not present: an access faults (#PF)" }
        if pde & 0x80 != 0 && cpu.cr4 & 0x10 != 0 {
            let pa = (pde & 0xFFC0_0000) | (lin & 0x3F_FFFF)
            return out + "\n  4 MiB page: physical 0x\(hex(pa, 8))"
        }
        let pteAddr = (pde & 0xFFFF_F000) | ((lin >> 10) & 0xFFC)
        let pte = cpu.memory.load32(pteAddr)
        if pte & 1 == 0 && pte != 0 {
            // P = 0: the CPU ignores bits 31..1, which belong to the OS (Linux keeps a swap
            // entry there; the swift86 guest writes slot << 8 | 0x2)
            out += "\n  PTE[\((lin >> 12) & 0x3FF)] at phys 0x\(hex(pteAddr, 8)) = 0x\(hex(pte, 8)) not present"
            let swap = pte & 0xFE == 0x2 ? ": swift86 guest swap entry, slot \(pte >> 8)" : ""
            return out + "\n  not present: an access faults (#PF); bits 31..1 are the OS's\(swap)"
        }
        out += "\n  PTE[\((lin >> 12) & 0x3FF)] at phys 0x\(hex(pteAddr, 8)) = 0x\(hex(pte, 8)) \(pteFlags(pte, pde: false))"
        if pte & 1 == 0 { return out + "\n  not present: an access faults (#PF)" }
        let eff = pde & pte
        return out + "\n  physical 0x\(hex((pte & 0xFFFF_F000) | (lin & 0xFFF), 8)), effective \(eff & 2 != 0 ? "RW" : "RO") \(eff & 4 != 0 ? "user" : "supervisor")"
    }

    /// `info tab`: every mapping of a page directory, merged into ranges (like QEMU's `info mem`).
    public func mappings(cr3: UInt32) -> String {
        var out: [String] = []
        var runStart: UInt32 = 0, runPhys: UInt32 = 0, runLen: UInt64 = 0, runFlags: UInt32 = 0
        func flush() {
            guard runLen > 0 else { return }
            let end = UInt64(runStart) + runLen
            let fl = (runFlags & 4 != 0 ? "u" : "-") + (runFlags & 2 != 0 ? "rw" : "r-") + (runFlags & 0x100 != 0 ? " G" : "  ")
            out.append("\(hex(runStart, 8))-\(hex(end, 8)) \(hex(runLen, 8)) \(fl) phys \(hex(runPhys, 8))")
            runLen = 0
        }
        func add(_ lin: UInt32, _ pa: UInt32, _ len: UInt64, _ flags: UInt32) {
            let f = flags & 0x106
            if runLen > 0 && UInt64(runStart) + runLen == UInt64(lin) && f == runFlags && UInt64(runPhys) + runLen == UInt64(pa) {
                runLen += len
            } else { flush(); runStart = lin; runPhys = pa; runLen = len; runFlags = f }
        }
        let pd = cr3 & 0xFFFF_F000
        for i in 0..<1024 {
            let pde = cpu.memory.load32(pd &+ UInt32(i * 4))
            guard pde & 1 != 0 else { flush(); continue }
            let lin = UInt32(i) << 22
            if pde & 0x80 != 0 && cpu.cr4 & 0x10 != 0 { add(lin, pde & 0xFFC0_0000, 1 << 22, pde); continue }
            for j in 0..<1024 {
                let pte = cpu.memory.load32((pde & 0xFFFF_F000) &+ UInt32(j * 4))
                guard pte & 1 != 0 else { flush(); continue }
                add(lin | UInt32(j) << 12, pte & 0xFFFF_F000, 4096, (pde & pte & 6) | (pte & 0x100))
            }
        }
        flush()
        return out.isEmpty ? "no mappings" : (["linear range      size     flags phys"] + out).joined(separator: "\n")
    }

    /// `tlb`: the emulated TLB.
    public func tlbListing(page: UInt32? = nil) -> String {
        var e = cpu.tlbEntries()
        if let p = page {
            e = e.filter { $0.linear == p & ~0xFFF }
            if e.isEmpty { return "no TLB entry for linear page 0x\(hex(p & ~0xFFF, 8))" }
        }
        if e.isEmpty { return "TLB empty" }
        return (["linear    -> physical  flags              hits without a walk"] + e.map { t in
            let acc = [t.supervisorRead ? "sr" : "", t.supervisorWrite ? "sw" : "", t.userRead ? "ur" : "", t.userWrite ? "uw" : ""]
                .filter { !$0.isEmpty }.joined(separator: ",")
            return "\(hex(t.linear, 8)) -> \(hex(t.physical, 8))  \(pteFlags(t.attributes, pde: false).padded(18)) \(acc)"
        }).joined(separator: "\n") + "\n\(e.count) entries"
    }

    /// Disassemble `count` instructions at virtual `addr`.
    public func disassemble(_ addr: UInt32, count: Int) -> String {
        let lin = cpu.segmentCache(.cs).base &+ addr
        let raw = cpu.peekLinear(lin, count: count * 15)
        let known = raw.prefix { $0 != nil }.map { $0! }
        if known.isEmpty { return "0x\(hex(addr, 8)): (not mapped)" }
        let code32 = cpu.segmentCache(.cs).attributes & 0x4000 != 0
        return Disassembler.disassemble(known, at: addr, code32: code32, symbolize: { [unowned self] a in self.symbolize(a) })
            .prefix(count).map { l in
                (l.address == cpu.eip ? "=> " : "   ") + "0x\(hex(l.address, 8))"
                    + (symbolize(l.address).map { " <\($0)>" } ?? "") + ": " + l.text
            }.joined(separator: "\n")
    }

    /// `bt`: follow saved frame pointers from EBP.
    /// In the kernel (CPL 0) the chain is followed up to the trap frame at the top of the
    /// kernel stack (TSS.ESP0): when it holds a user-mode return (CS.RPL = 3), the user
    /// EIP is shown and the walk goes on through the user's frame pointers (the first
    /// kernel frame saved the user's EBP).
    public func backtrace() -> String {
        var lines = ["#0  0x\(hex(cpu.eip, 8))" + (symbolize(cpu.eip).map { " in \($0)" } ?? "")]
        var ebp = cpu.reg32(.ebp)
        var depth = 1
        var crossed = cpu.cpl == 3
        // the user-mode frame pushed by the CPU on entry: EIP CS EFLAGS ESP SS below esp0
        func userFrame() -> (eip: UInt32, esp: UInt32)? {
            guard cpu.cpl == 0, cpu.trBase != 0,
                  let esp0 = readLinear32(cpu.trBase &+ 4),
                  let cs = readLinear32(esp0 &- 16), cs & 3 == 3,
                  let eip = readLinear32(esp0 &- 20), let esp = readLinear32(esp0 &- 8) else { return nil }
            return (eip, esp)
        }
        while depth < 64 {
            let toUser = !crossed && (ebp == 0 || ebp < 0xC000_0000)
            if toUser, let f = userFrame() {
                lines.append("    --- trap from user mode (frame at TSS.ESP0) ---")
                lines.append("#\(depth)  0x\(hex(f.eip, 8))" + (symbolize(f.eip).map { " in \($0)" } ?? "") + "  [user]")
                depth += 1
                crossed = true
                continue
            }
            guard ebp != 0, let ret = readVirtual32(ebp &+ 4), let next = readVirtual32(ebp) else { break }
            lines.append("#\(depth)  0x\(hex(ret, 8))" + (symbolize(ret).map { " in \($0)" } ?? "") + (crossed && cpu.cpl == 0 ? "  [user]" : ""))
            depth += 1
            if next <= ebp && !(ebp >= 0xC000_0000 && next < 0xC000_0000) { break }
            ebp = next
        }
        return lines.joined(separator: "\n")
    }

    /// A dword at a linear address, without side effects.
    func readLinear32(_ lin: UInt32) -> UInt32? {
        let b = cpu.peekLinear(lin, count: 4)
        guard b.allSatisfy({ $0 != nil }) else { return nil }
        return b.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element!) << (8 * UInt32($1.offset)) }
    }
}
