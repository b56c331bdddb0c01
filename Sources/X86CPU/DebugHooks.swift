// DebugHooks: what a debugger needs from the CPU — instruction-granular stops, memory
// access hooks (watchpoints), and side-effect-free views of the TLB and descriptor tables.

/// One emulated TLB entry as the debugger lists it.
public struct TLBEntry: Sendable {
    public var linear: UInt32
    public var physical: UInt32
    /// Combined PDE/PTE bits: P(0) RW(1) US(2) A(5) D(6) PS(7) G(8).
    public var attributes: UInt32
    /// Which accesses hit without a walk: supervisor read/write, user read/write.
    public var supervisorRead: Bool, supervisorWrite: Bool, userRead: Bool, userWrite: Bool
}

extension CPU {
    /// The valid TLB entries, sorted by linear address.
    public func tlbEntries() -> [TLBEntry] {
        tlb.validEntries().map {
            TLBEntry(linear: $0.linear, physical: $0.phys, attributes: $0.attrs,
                     supervisorRead: $0.sr, supervisorWrite: $0.sw, userRead: $0.ur, userWrite: $0.uw)
        }
    }

    /// Install or remove the debugger's per-instruction check. While set, blocks run one
    /// instruction at a time and `check` is called before each instruction with the
    /// linear address of CS:EIP; returning true stops `run(until:)` with `.debugEvent`
    /// before that instruction executes.
    public func setInstructionCheck(_ check: ((UInt32) -> Bool)?) {
        instructionCheck = check
    }

    /// Install or remove the memory-access hook (watchpoints). While set, the TLB keeps no
    /// entries, so every load and store takes the slow path and calls `hook(linear,
    /// physical, size, isWrite)` after the access; returning true stops the run after
    /// the current instruction (`.stopped`).
    public func setMemoryHook(_ hook: ((UInt32, UInt32, Int, Bool) -> Bool)?) {
        memoryHook = hook
        tlb.flushAll(keepGlobal: false)
    }

    /// Called from the slow paths when a memory hook is installed.
    @inline(never) func reportAccess(_ lin: UInt32, _ pa: UInt32, _ size: Int, write: Bool) {
        if let h = memoryHook, h(lin, pa, size, write) { pendingEvents |= Event.stop }
    }

    /// Read a descriptor of the GDT (or LDT for TI=1) without side effects: (low, high) dwords.
    public func peekDescriptor(_ selector: UInt16) -> (UInt32, UInt32)? {
        let idx = UInt32(selector & 0xFFF8)
        let (base, limit) = selector & 4 != 0 ? (ldtrBase, ldtrLimit) : (gdtrBase, UInt32(gdtrLimit))
        guard idx &+ 7 <= limit else { return nil }
        let b = peekLinear(base &+ idx, count: 8)
        guard b.allSatisfy({ $0 != nil }) else { return nil }
        let v = b.map { UInt32($0!) }
        return (v[0] | v[1] << 8 | v[2] << 16 | v[3] << 24, v[4] | v[5] << 8 | v[6] << 16 | v[7] << 24)
    }

    /// Write a control register from the debugger (`set $cr3 = …`), with the same effects
    /// (TLB flushes) as MOV CRn; returns false for a value the CPU would reject.
    public func debugSetControlRegister(_ n: Int, _ v: UInt32) -> Bool {
        do {
            switch n {
            case 0: try writeCR0(v)
            case 2: cr2 = v
            case 3: cr3 = v & 0xFFFF_F018; flushTLB(keepGlobal: cr4 & 0x80 != 0, reason: "debugger cr3 write")
            case 4: try writeCR4(v)
            default: return false
            }
            return true
        } catch { return false }
    }
}
