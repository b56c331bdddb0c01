// Debugger: protocol-agnostic run control — breakpoints, watchpoints, catchpoints, stepping.
import PCMachine
import X86CPU
import X86Decoder
#if canImport(Glibc)
import Glibc
#endif

/// A breakpoint: on a virtual (CS-relative) address, a linear address, or a physical
/// address (hit through any mapping).
public struct Breakpoint: Sendable {
    public enum Kind: String, Sendable { case virtual = "break", linear = "lbreak", physical = "pbreak" }
    public var id: Int
    public var kind: Kind
    public var address: UInt32
    public var hits = 0
    /// Optional condition: `$reg OP value` (OP one of == != < > <= >=).
    public var condition: String?
}

/// A watchpoint on `length` bytes: virtual/linear (`watch`, `rwatch`, `awatch`) or physical (`pwatch`).
public struct Watchpoint: Sendable {
    public enum Access: String, Sendable { case write = "watch", read = "rwatch", access = "awatch", physical = "pwatch" }
    public var id: Int
    public var access: Access
    public var address: UInt32
    public var length: UInt32
    public var hits = 0
}

/// Why the debugger stopped the guest.
public enum DebugStop: Equatable, Sendable {
    case stepped
    case breakpoint(Int, UInt32)
    case watchpoint(Int, linear: UInt32, physical: UInt32, write: Bool)
    case caughtVector(UInt8, errorCode: UInt32?, cr2: UInt32, cs: UInt16, eip: UInt32, cpl: UInt8)
    case caughtCR3(UInt32)
    case caughtSyscall(UInt32, eip: UInt32)
    case interrupted
    case reachedCount(UInt64)
    case exited(MachineExit)
}

/// Run control and inspection of a `Machine` for front ends (the REPL, the GDB stub).
public final class Debugger {
    public let machine: Machine
    public var cpu: CPU { machine.cpu }
    public internal(set) var breakpoints: [Breakpoint] = []
    public internal(set) var watchpoints: [Watchpoint] = []
    /// Vectors that stop the guest when delivered (`catch vector`).
    public internal(set) var caughtVectors = Set<UInt8>()
    public var catchCR3 = false
    /// `catch syscall [N…]`: nil = off, empty = every INT 0x80, else these EAX values.
    public var caughtSyscalls: Set<UInt32>?
    /// `catch vector N if COND`: conditions per vector ($err, $cr2, $cpl and registers).
    public var catchConditions: [UInt8: String] = [:]
    /// $err, $cr2, $vector, $cpl of the event being delivered (for catch conditions).
    var eventValues: [String: UInt32] = [:]
    /// `log int,mmu`: print events as they happen.
    public var logInterrupts = false, logMMU = false
    /// `trace on [FILE]`: every executed instruction.
    var traceSink: UnsafeMutablePointer<FILE>?
    /// Where live logs and traces go (the REPL prints them).
    public var emit: (String) -> Void = { print($0) }
    /// Set from another context (a SIGINT handler, a gdb Ctrl-C) to stop a running guest.
    public var interruptRequested: () -> Bool = { false }
    /// Extra ELF images for symbols (`add-symbol-file`).
    public private(set) var extraSymbols: [ELFImage] = []
    /// The machine has exited: no more running.
    public internal(set) var exited: MachineExit?

    /// Named snapshots (`snapshot save NAME`).
    public internal(set) var snapshots: [String: MachineSnapshot] = [:]
    /// The machine at the debugger's start: reverse execution replays from here.
    public internal(set) var origin: MachineSnapshot?
    /// Automatic checkpoints taken while running, to bound re-execution.
    var checkpoints: [MachineSnapshot] = []
    static let checkpointInterval: UInt64 = 50_000_000

    /// Mangled → readable names (filled on first use).
    var demangled: [String: String]?

    var nextID = 1
    var pendingStop: DebugStop?
    var skipBreakOnce = false
    var tempBreak: UInt32?

    public init(machine: Machine) {
        self.machine = machine
        let previous = machine.cpu.onInterrupt
        machine.cpu.onInterrupt = { [unowned self] e in
            previous?(e)
            if self.logInterrupts { self.emit(self.formatInterrupt(e)) }
            if e.software && e.vector == 0x80, let want = self.caughtSyscalls, self.pendingStop == nil,
               want.isEmpty || want.contains(self.cpu.reg32(.eax)) {
                self.pendingStop = .caughtSyscall(self.cpu.reg32(.eax), eip: e.eip)
                self.cpu.requestStop()
            }
            self.eventValues = ["err": e.errorCode ?? 0, "cr2": e.cr2, "vector": UInt32(e.vector), "cpl": UInt32(e.cpl)]
            if self.caughtVectors.contains(e.vector) && self.pendingStop == nil
                && self.conditionHolds(self.catchConditions[e.vector]) {
                self.pendingStop = .caughtVector(e.vector, errorCode: e.errorCode, cr2: e.cr2, cs: e.cs, eip: e.eip, cpl: e.cpl)
                self.cpu.requestStop()
            }
        }
        let previousMMU = machine.cpu.onMMUEvent
        machine.cpu.onMMUEvent = { [unowned self] s in
            previousMMU?(s)
            if self.logMMU { self.emit("mmu: \(s)") }
            if self.catchCR3, case .cr3Write = s, self.pendingStop == nil {
                self.pendingStop = .caughtCR3(self.cpu.cr3)
                self.cpu.requestStop()
            }
        }
        installHooks()
        origin = machine.saveSnapshot()
    }

    // MARK: breakpoints and watchpoints

    /// Add a breakpoint; returns its number.
    @discardableResult
    public func addBreakpoint(_ kind: Breakpoint.Kind, _ address: UInt32, condition: String? = nil) -> Int {
        breakpoints.append(Breakpoint(id: nextID, kind: kind, address: address, condition: condition))
        nextID += 1
        installHooks()
        return nextID - 1
    }

    /// Add a watchpoint; returns its number.
    @discardableResult
    public func addWatchpoint(_ access: Watchpoint.Access, _ address: UInt32, length: UInt32) -> Int {
        watchpoints.append(Watchpoint(id: nextID, access: access, address: address, length: max(1, length)))
        nextID += 1
        installHooks()
        return nextID - 1
    }

    /// Delete breakpoint/watchpoint `id`, or all when nil. Returns false when `id` is unknown.
    @discardableResult
    public func delete(_ id: Int?) -> Bool {
        guard let id else { breakpoints = []; watchpoints = []; installHooks(); return true }
        let before = breakpoints.count + watchpoints.count
        breakpoints.removeAll { $0.id == id }
        watchpoints.removeAll { $0.id == id }
        installHooks()
        return breakpoints.count + watchpoints.count != before
    }

    /// Remove breakpoints matching kind and address (the GDB stub's z packets).
    public func removeBreakpoint(_ kind: Breakpoint.Kind, _ address: UInt32) -> Bool {
        let n = breakpoints.count
        breakpoints.removeAll { $0.kind == kind && $0.address == address }
        installHooks()
        return breakpoints.count != n
    }
    public func removeWatchpoint(_ access: Watchpoint.Access, _ address: UInt32) -> Bool {
        let n = watchpoints.count
        watchpoints.removeAll { $0.access == access && $0.address == address }
        installHooks()
        return watchpoints.count != n
    }

    public func catchVector(_ v: UInt8, on: Bool = true) { if on { caughtVectors.insert(v) } else { caughtVectors.remove(v) } }

    public func addSymbols(_ elf: ELFImage) { extraSymbols.append(elf); demangled = nil }

    /// Install the CPU hooks the current breakpoints/watchpoints need (none when none):
    /// the interpreter runs at full speed when nothing is set.
    func installHooks() {
        if breakpoints.isEmpty && tempBreak == nil && traceSink == nil {
            cpu.setInstructionCheck(nil)
        } else {
            cpu.setInstructionCheck { [unowned self] lin in self.checkBreakpoints(lin) }
        }
        if watchpoints.isEmpty {
            cpu.setMemoryHook(nil)
        } else {
            cpu.setMemoryHook { [unowned self] lin, pa, size, write in self.checkWatch(lin, pa, size, write) }
        }
    }

    func checkBreakpoints(_ lin: UInt32) -> Bool {
        if let t = traceSink { fputs(currentLine() + "\n", t) }
        if skipBreakOnce { skipBreakOnce = false; return false }
        if let t = tempBreak, t == lin { tempBreak = nil; installHooks(); pendingStop = .stepped; return true }
        let csBase = cpu.segmentCache(.cs).base
        for i in breakpoints.indices {
            let b = breakpoints[i]
            let hit: Bool
            switch b.kind {
            case .virtual: hit = csBase &+ b.address == lin
            case .linear: hit = b.address == lin
            case .physical: hit = cpu.peekTranslate(lin) == b.address
            }
            if hit && conditionHolds(b.condition) {
                breakpoints[i].hits += 1
                pendingStop = .breakpoint(b.id, cpu.eip)
                return true
            }
        }
        return false
    }

    func checkWatch(_ lin: UInt32, _ pa: UInt32, _ size: Int, _ write: Bool) -> Bool {
        for i in watchpoints.indices {
            let w = watchpoints[i]
            let a = w.access == .physical ? pa : lin
            let overlaps = UInt64(a) < UInt64(w.address) + UInt64(w.length) && UInt64(w.address) < UInt64(a) + UInt64(size)
            guard overlaps else { continue }
            let wanted: Bool
            switch w.access {
            case .write, .physical: wanted = write || w.access == .physical && write
            case .read: wanted = !write
            case .access: wanted = true
            }
            if wanted && pendingStop == nil {
                watchpoints[i].hits += 1
                pendingStop = .watchpoint(w.id, linear: lin, physical: pa, write: write)
                return true
            }
        }
        return false
    }

    /// Evaluate a `$reg OP value` condition (nil: always true; unparsable: true).
    func conditionHolds(_ c: String?) -> Bool {
        guard let c else { return true }
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            let parts = c.components(separatedBy: op)
            if parts.count == 2, let l = evaluate(parts[0]), let r = evaluate(parts[1]) {
                switch op {
                case "==": return l == r
                case "!=": return l != r
                case "<=": return l <= r
                case ">=": return l >= r
                case "<": return l < r
                default: return l > r
                }
            }
        }
        return true
    }

    // MARK: run control

    /// Execute `count` instructions (interrupts that arrive are delivered as they would be).
    public func stepInstructions(_ count: Int = 1) -> DebugStop {
        if let e = exited { return .exited(e) }
        pendingStop = nil
        for _ in 0..<max(count, 1) {
            skipBreakOnce = true
            if let e = machine.step(maxSlice: 1) { exited = e; return .exited(e) }
            if let s = pendingStop, s != .stepped { return s }
            if interruptRequested() { return .interrupted }
        }
        return .stepped
    }

    /// Run until a breakpoint, watchpoint, catchpoint, Ctrl-C, the instruction count
    /// `untilCount`, or the end of the machine.
    /// `skipFirst`: do not stop on a breakpoint at the current instruction (resuming from it).
    public func resume(untilCount: UInt64? = nil, skipFirst: Bool = true) -> DebugStop {
        if let e = exited { return .exited(e) }
        pendingStop = nil
        skipBreakOnce = skipFirst
        while true {
            var slice: UInt64 = 1_000_000
            if let u = untilCount {
                if cpu.icount >= u { return .reachedCount(cpu.icount) }
                slice = min(slice, u - cpu.icount)
            }
            if let e = machine.step(maxSlice: slice) { exited = e; return .exited(e) }
            if let s = pendingStop { pendingStop = nil; return s }
            let lastCheckpoint = checkpoints.last?.icount ?? origin?.icount ?? 0
            if cpu.icount >= lastCheckpoint + Debugger.checkpointInterval && checkpoints.count < 64 {
                checkpoints.append(machine.saveSnapshot())
            }
            if interruptRequested() { return .interrupted }
        }
    }

    /// Run until linear address `lin` is about to execute (a temporary breakpoint).
    public func runUntil(linear lin: UInt32) -> DebugStop {
        tempBreak = lin
        installHooks()
        let s = resume()
        tempBreak = nil
        installHooks()
        return s
    }

    /// Step over a CALL (or step one instruction otherwise).
    public func next() -> DebugStop {
        let lin = cpu.segmentCache(.cs).base &+ cpu.eip
        let bytes = cpu.peekLinear(lin, count: 15).map { $0 ?? 0 }
        let line = Disassembler.disassemble(bytes, at: cpu.eip).first
        if let l = line, l.text.hasPrefix("call") || l.text.hasPrefix("lcall") {
            return runUntil(linear: lin &+ UInt32(l.length))
        }
        return stepInstructions(1)
    }

    /// Run until the current function returns (frame pointer convention: [EBP+4]).
    public func finish() -> DebugStop {
        let ebp = cpu.reg32(.ebp)
        guard let ret = readVirtual32(ebp &+ 4) else { return stepInstructions(1) }
        return runUntil(linear: cpu.segmentCache(.cs).base &+ ret)
    }

    // MARK: inspection helpers

    /// Read a dword at a DS-relative virtual address without side effects.
    public func readVirtual32(_ addr: UInt32) -> UInt32? {
        let b = cpu.peekLinear(cpu.segmentCache(.ds).base &+ addr, count: 4)
        guard b.allSatisfy({ $0 != nil }) else { return nil }
        return b.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element!) << (8 * UInt32($1.offset)) }
    }

    /// Symbol for an address from the kernel and extra images: "name+0x1c".
    /// Swift names are shown demangled ("kmain(_:_:)+0x1c") when swift-demangle exists.
    /// When several images cover an address (a kernel label and a user program), the
    /// nearest symbol wins.
    public func symbolize(_ addr: UInt32) -> String? {
        var best: (String, UInt32)?
        for e in (machine.boot?.elf.map { [$0] } ?? []) + extraSymbols {
            if let (sym, off) = e.symbolize(addr), !sym.name.isEmpty, best == nil || off < best!.1 {
                best = (sym.name, off)
            }
        }
        guard let (n, off) = best else { return nil }
        let name = readable(n)
        return off == 0 ? name : "\(name)+0x\(String(off, radix: 16))"
    }

    /// Address of a symbol in the kernel or extra images.
    /// A plain identifier also finds an Embedded Swift function by its mangled name
    /// (`kmain` → `$e6Kernel5kmain…`), the first such symbol in address order.
    public func address(ofSymbol name: String) -> UInt32? {
        let images = (machine.boot?.elf.map { [$0] } ?? []) + extraSymbols
        for e in images { if let s = e.symbol(named: name) { return s.value } }
        let mangled = "\(name.utf8.count)\(name)"
        for e in images {
            let candidates = e.symbols.filter { $0.isAddress && $0.name.hasPrefix("$") && $0.name.contains(mangled) }
            if let best = candidates.min(by: { $0.name.count < $1.name.count }) { return best.value }
        }
        return nil
    }

    /// Evaluate an address expression: number (0x… hex, decimal), `$reg`, symbol, and
    /// sums/differences of those (`kmain+0x10`, `$esp+8`).
    public func evaluate(_ text: String) -> UInt32? {
        let t = text.trimmed()
        if t.isEmpty { return nil }
        // split on + and - (not a leading sign)
        var terms: [(Bool, String)] = []
        var cur = ""
        var neg = false
        var depth = 0
        for (i, ch) in t.enumerated() {
            if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
            if (ch == "+" || ch == "-") && i > 0 && depth == 0 {
                terms.append((neg, cur)); cur = ""; neg = ch == "-"
            } else { cur.append(ch) }
        }
        terms.append((neg, cur))
        var sum: UInt32 = 0
        for (n, term) in terms {
            guard let v = evaluateTerm(term.trimmed()) else { return nil }
            sum = n ? sum &- v : sum &+ v
        }
        return sum
    }

    func evaluateTerm(_ t: String) -> UInt32? {
        if t.hasPrefix("$") {
            let name = String(t.dropFirst()).lowercased()
            return registerValue(name)
        }
        if t.hasPrefix("*") { return evaluate(String(t.dropFirst())).flatMap { readVirtual32($0) } }
        if t.hasPrefix("(") && t.hasSuffix(")") { return evaluate(String(t.dropFirst().dropLast())) }
        if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt32(t.dropFirst(2), radix: 16) }
        if let v = UInt32(t) { return v }
        if let a = address(ofSymbol: t) { return a }
        return nil
    }

    /// Value of a register by name (eax…edi, ax…, al…, eip, eflags, cs…gs, cr0…cr4).
    public func registerValue(_ name: String) -> UInt32? {
        if let v = eventValues[name] { return v }
        let r32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
        if let i = r32.firstIndex(of: name) { return cpu.reg32(Reg32(rawValue: i)!) }
        let r16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
        if let i = r16.firstIndex(of: name) { return cpu.reg32(Reg32(rawValue: i)!) & 0xFFFF }
        let r8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"]
        if let i = r8.firstIndex(of: name) {
            let v = cpu.reg32(Reg32(rawValue: i & 3)!)
            return i < 4 ? v & 0xFF : (v >> 8) & 0xFF
        }
        let segs = ["es", "cs", "ss", "ds", "fs", "gs"]
        if let i = segs.firstIndex(of: name) { return UInt32(cpu.selector(SegReg(rawValue: i)!)) }
        switch name {
        case "eip", "pc": return cpu.eip
        case "eflags": return cpu.eflags
        case "cr0": return cpu.cr0
        case "cr2": return cpu.cr2
        case "cr3": return cpu.cr3
        case "cr4": return cpu.cr4
        case "icount": return UInt32(truncatingIfNeeded: cpu.icount)
        default: return nil
        }
    }

    /// Set a register by name; false when unknown.
    public func setRegister(_ name: String, _ v: UInt32) -> Bool {
        let r32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
        if let i = r32.firstIndex(of: name) { cpu.setReg32(Reg32(rawValue: i)!, v); return true }
        switch name {
        case "eip", "pc": cpu.eip = v; return true
        case "eflags": cpu.eflags = v; return true
        case "cr0": return cpu.debugSetControlRegister(0, v)
        case "cr2": return cpu.debugSetControlRegister(2, v)
        case "cr3": return cpu.debugSetControlRegister(3, v)
        case "cr4": return cpu.debugSetControlRegister(4, v)
        default: return false
        }
    }

    /// Write bytes at a virtual (DS-relative) address through the page tables, without
    /// faults; returns false if any byte is unmapped.
    public func writeVirtual(_ addr: UInt32, _ bytes: [UInt8]) -> Bool {
        let base = cpu.segmentCache(.ds).base &+ addr
        var phys: [UInt32] = []
        for k in 0..<bytes.count {
            guard let pa = cpu.peekTranslate(base &+ UInt32(k)) else { return false }
            phys.append(pa)
        }
        for (k, pa) in phys.enumerated() { cpu.pokePhysical(pa, [bytes[k]]) }
        return true
    }
}
